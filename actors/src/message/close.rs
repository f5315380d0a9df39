use actix::Message;
use tether::ConnectionState;

/// Close the connection for good.
///
/// When Connected, the buffered messages are written first and the server is asked to
/// confirm everything written (a ping); then a close frame with code 1000 (normal
/// closure) goes out, and the reply comes once it was written (or could not be, within a
/// second). A server that stops answering is caught by the heartbeat, which bounds the
/// wait; messages still unconfirmed then are handed back as usual. When not connected,
/// the buffered messages are handed back at once (to their waiting senders, or to
/// undelivered subscribers).
///
/// The connection then stays in `Closed`: it never reconnects, and every later `Send` is
/// answered with [`SendError::Closed`](crate::SendError::Closed). The reply is the
/// terminal state: `Closed`, or `Failed` if the connection had already given up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "ConnectionState")]
pub struct Close;
