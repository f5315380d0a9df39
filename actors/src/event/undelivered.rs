use std::sync::Arc;

use actix::Message;

use crate::{ConnectionId, Payload};

/// A message that will not be sent (again), published to undelivered subscribers.
///
/// It travels through the subscriber's mailbox, while the reply to its `Outgoing` travels
/// on its own channel: the two are not ordered against each other. A subscriber may see
/// a message reported `Unconfirmed` before its sender sees the reply `Sent`; to match
/// them, carry an id of your own in the payload.
///
/// A message whose sender still waits for the reply of its `Outgoing` gets its answer there
/// instead; this event is for messages whose `Outgoing` was already answered
/// [`Delivery::Buffered`](crate::message::Delivery::Buffered).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Undelivered {
    /// The connection that held it.
    pub connection: ConnectionId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// The message.
    pub payload: Payload,
    /// Why it will not be sent.
    pub reason: UndeliveredReason,
}

/// Why a buffered message will not be sent.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UndeliveredReason {
    /// Evicted by a newer message under `OverflowPolicy::DropOldest`.
    Evicted,
    /// The connection was closed on request while the message was buffered.
    Closed,
    /// The connection gave up for good while the message was buffered.
    Failed,
    /// At-most-once mode: written, but the link died before the server confirmed it.
    /// It may or may not have arrived. Also, in either mode, a message written and
    /// unconfirmed when the connection ended (closed, timed out closing, or abandoned).
    Unconfirmed,
    /// Never written: the connection actor ended without `Close` (its last address was
    /// dropped, or its system stopped).
    Abandoned,
    /// Refused because the buffer was full, in a `OutgoingBatch` whose sender had stopped
    /// waiting for the report.
    Refused,
    /// Durable mode: the message could not be written to the durable store (the disk is
    /// full, say), in an `OutgoingBatch` whose sender had stopped waiting.
    NotPersisted,
}
