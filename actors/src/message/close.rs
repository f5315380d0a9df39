use actix::Message;
use tether::ConnectionState;

/// Close the connection for good.
///
/// When Connected, the buffered messages are written first and the server is asked to
/// confirm everything written (a ping); then a close frame with code 1000 (normal
/// closure) goes out, and tether waits up to a second for the server to answer it. The
/// whole close is bounded by `close_timeout` (plus that second), whatever the server or
/// a stuck subscriber does: what is not written or confirmed by then is handed back as
/// usual. When not connected, the buffered messages are handed back at once (to their
/// waiting senders, or to undelivered subscribers).
///
/// The connection then stays in `Closed`: it never reconnects, and every later `Outgoing` is
/// answered with [`DeliveryError::Closed`](crate::DeliveryError::Closed). The reply is the
/// terminal state: `Closed`, or `Failed` if the connection had already given up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "ConnectionState")]
pub struct Close;
