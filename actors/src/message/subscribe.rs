use actix::{Message, Recipient};

use crate::{Incoming, StateChanged, Undelivered};

/// Subscribe an actor to every state change, from the next one on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeState(pub Recipient<StateChanged>);

/// Subscribe an actor to every incoming message, from the next one on.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeIncoming(pub Recipient<Incoming>);

/// Subscribe an actor to buffered messages that will never be sent.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeUndelivered(pub Recipient<Undelivered>);
