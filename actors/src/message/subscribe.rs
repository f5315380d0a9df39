use actix::{Message, Recipient};

use crate::{Incoming, IncomingBatch, StateChanged, Undelivered};

/// Subscribe an actor to every state change, from the next one on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeState(pub Recipient<StateChanged>);

/// Subscribe an actor to every incoming message, from the next one on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeIncoming(pub Recipient<Incoming>);

/// Subscribe an actor to every incoming message, from the next one on, in batches: one
/// [`IncomingBatch`] per read of the socket.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeIncomingBatch(pub Recipient<IncomingBatch>);

/// Subscribe an actor to buffered messages that will never be sent.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeUndelivered(pub Recipient<Undelivered>);
