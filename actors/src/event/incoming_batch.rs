use actix::Message;

use crate::{ConnectionId, Payload};

/// Every whole message decoded from one read of the socket, in order, published to
/// every batch subscriber (`ConnectionBuilder::on_incoming_batch`,
/// [`SubscribeIncomingBatch`](crate::message::SubscribeIncomingBatch)).
///
/// One mailbox envelope for many messages: the fast path for small messages. At most
/// [`MAX_MESSAGES`](Self::MAX_MESSAGES) messages and, unless a single message is larger,
/// [`MAX_BYTES`](Self::MAX_BYTES) of payload per batch. Back-pressure and order are those
/// of [`Incoming`](crate::Incoming): a batch waits for room in a full mailbox, later
/// batches wait behind it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct IncomingBatch {
    /// The connection that received them.
    pub connection: ConnectionId,
    /// The messages, oldest first; never empty.
    pub messages: Vec<Payload>,
}

impl IncomingBatch {
    /// Most messages in one batch.
    pub const MAX_MESSAGES: usize = 64;
    /// Most payload bytes in one batch (a single larger message comes alone).
    pub const MAX_BYTES: usize = 1024 * 1024;
}
