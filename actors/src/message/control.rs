use actix::Message;

/// Bring a `Closed` or `Failed` connection back to life: it connects again at once,
/// with its subscribers, buffer settings and configuration, and with the attempt
/// counter and backoff reset. The state goes `Closed`/`Failed` → `Disconnected` →
/// `Connecting` (both published).
///
/// The reply says whether it was reopened: `false` if the connection was not in a
/// terminal state (nothing changes then).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "bool")]
pub struct Reopen;

/// Connect again now:
/// - while Reconnecting, the backoff wait is cut short and the attempt starts at once;
/// - while a link is up (Connected, or Connecting during the setup of
///   [`on_connect`](crate::ConnectionBuilder::on_connect)), it is closed with code 1000
///   and replaced at once, without a backoff wait. The link's end is published as
///   [`DisconnectReason::ReconnectRequested`](crate::DisconnectReason::ReconnectRequested)
///   (never judged by the retry policy, and not counted as a reconnect attempt, so it
///   cannot use up `max_reconnect_attempts`); messages are handled as for any lost link.
///
/// The reply says whether anything was done: `false` while a handshake is already
/// under way, and in `Closed` or `Failed` (use [`Reopen`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "bool")]
pub struct Reconnect;

/// Answered once the connection is Connected (at once if it is), or with the terminal
/// state if it ends first. The handle's [`Connection::connected`](crate::Connection::connected)
/// uses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "Result<(), tether::ConnectionState>")]
pub struct WaitConnected;
