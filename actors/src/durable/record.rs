//! One stored message.

use crate::Payload;

/// One outbound message as the durable store keeps it: its sequence number and its
/// content.
///
/// The sequence number orders the outbox: [`DurableStore::load`](super::DurableStore::load)
/// returns records by ascending `seq`, and the confirmed ones are removed by it
/// ([`remove_through`](super::DurableStore::remove_through)). It is the caller's id for
/// the message, unique within one store; [`DurableStore::next_seq`](super::DurableStore::next_seq)
/// gives the first one never used, across restarts.
///
/// The kind of the message (text or binary) is the [`Payload`] variant, and is stored
/// with it: a text record comes back as text.
///
/// ```
/// use tether_actix::durable::Record;
/// use tether_actix::Payload;
///
/// let record = Record::new(7, Payload::text("hello"));
/// assert_eq!(record.seq, 7);
/// assert_eq!(record.payload.as_text(), Some("hello"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The message's sequence number: its order in the outbox and its id in the store.
    pub seq: u64,
    /// The message itself, text or binary.
    pub payload: Payload,
}

impl Record {
    /// A record of `payload` under sequence number `seq`.
    pub fn new(seq: u64, payload: Payload) -> Self {
        Self { seq, payload }
    }
}
