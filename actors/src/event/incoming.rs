use actix::Message;

use crate::{ConnectionId, Payload};

/// One whole message received from the server, published to every message subscriber.
///
/// Fragmented messages are reassembled first; text is checked to be valid UTF-8.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Incoming {
    /// The connection that received it.
    pub connection: ConnectionId,
    /// The message.
    pub payload: Payload,
}
