//! Commands a [`ConnectionActor`](crate::ConnectionActor) accepts.
//!
//! Outbound messages are [`Outgoing`] (one) and [`OutgoingBatch`] (many in one mailbox
//! envelope), the counterparts of the inbound events [`Incoming`](crate::Incoming) and
//! [`IncomingBatch`](crate::IncomingBatch).

mod close;
mod outgoing;
mod outgoing_batch;
mod reply;
mod status;
mod subscribe;

pub use close::Close;
pub use outgoing::{Delivery, Outgoing, OutgoingReply};
pub use outgoing_batch::{BatchReply, BatchReport, OutgoingBatch};
pub(crate) use outgoing_batch::{BatchSlot, Orphans};
pub(crate) use reply::ReplySlot;
pub use status::GetStatus;
pub use subscribe::{
    SubscribeIncoming, SubscribeIncomingBatch, SubscribeState, SubscribeUndelivered,
    UnsubscribeIncoming, UnsubscribeIncomingBatch, UnsubscribeState, UnsubscribeUndelivered,
};

/// The former name of [`Outgoing`]: it shadowed the prelude's `Send` trait when imported.
#[deprecated(since = "0.2.0", note = "renamed to `message::Outgoing`")]
pub type Send = Outgoing;

/// The former name of [`OutgoingBatch`].
#[deprecated(since = "0.2.0", note = "renamed to `message::OutgoingBatch`")]
pub type SendBatch = OutgoingBatch;

/// The former name of [`OutgoingReply`].
#[deprecated(since = "0.2.0", note = "renamed to `message::OutgoingReply`")]
pub type SendReply = OutgoingReply;
