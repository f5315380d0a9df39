//! Commands a [`ConnectionActor`](crate::ConnectionActor) accepts.
//!
//! The outbound message type is named `Send`, as in the design. Import this module and
//! write `message::Send` rather than importing `Send` by name: a type called `Send`
//! in scope would shadow the prelude's `Send` trait.

mod batch;
mod close;
mod reply;
mod send;
mod status;
mod subscribe;

pub use batch::{BatchReply, BatchReport, SendBatch};
pub(crate) use batch::{BatchSlot, Orphans};
pub use close::Close;
pub(crate) use reply::ReplySlot;
pub use send::{Delivery, Send, SendReply};
pub use status::GetStatus;
pub use subscribe::{
    SubscribeIncoming, SubscribeIncomingBatch, SubscribeState, SubscribeUndelivered,
    UnsubscribeIncoming, UnsubscribeIncomingBatch, UnsubscribeState, UnsubscribeUndelivered,
};
