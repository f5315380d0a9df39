/// What happens to messages that were written to a link which then died before the
/// server confirmed them.
///
/// tether confirms writes with WebSocket pings: a server answers a Ping with a Pong
/// echoing its payload, and reads frames in order, so the Pong for a ping proves that
/// every frame written before that ping reached the server. "Confirmed" therefore means
/// read by the server's WebSocket layer, not processed by its application.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeliveryMode {
    /// Never written twice. Messages unconfirmed when the link dies are handed back
    /// (to their waiting sender, or to the undelivered subscribers): each of them may or
    /// may not have reached the server.
    #[default]
    AtMostOnce,
    /// Never lost while the connection lives. Messages unconfirmed when the link dies go
    /// back to the front of the buffer, in order, and are written again after the
    /// reconnect, so the server may see some twice: receivers that need exactly-once
    /// drop duplicates by a sequence number of their own.
    AtLeastOnce,
}
