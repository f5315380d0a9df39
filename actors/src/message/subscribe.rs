use actix::{Message, Recipient};

use crate::{Incoming, IncomingBatch, StateChanged, Undelivered};

/// Subscribe an actor to every state change, from the next one on.
///
/// Subscribing an actor that is already subscribed changes nothing: it still receives
/// each event once.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeState(pub Recipient<StateChanged>);

/// Subscribe an actor to every incoming message, from the next one on.
///
/// Subscribing an actor that is already subscribed changes nothing: it still receives
/// each message once.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeIncoming(pub Recipient<Incoming>);

/// Subscribe an actor to every incoming message, from the next one on, in batches: one
/// [`IncomingBatch`] per read of the socket.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeIncomingBatch(pub Recipient<IncomingBatch>);

/// Subscribe an actor to buffered messages that will never be sent.
///
/// Subscribing an actor that is already subscribed changes nothing: it still receives
/// each event once.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscribeUndelivered(pub Recipient<Undelivered>);

/// Stop sending state changes to an actor. Answers whether it was subscribed.
///
/// The recipient is recognised by its actor, so any `Recipient` of the same actor's
/// address unsubscribes it, also one subscribed with
/// [`ConnectionBuilder::on_state`](crate::ConnectionBuilder::on_state).
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct UnsubscribeState(pub Recipient<StateChanged>);

/// Stop sending incoming messages to an actor. Answers whether it was subscribed.
///
/// Messages already handed to its mailbox still arrive.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct UnsubscribeIncoming(pub Recipient<Incoming>);

/// Stop sending batches of incoming messages to an actor. Answers whether it was
/// subscribed.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct UnsubscribeIncomingBatch(pub Recipient<IncomingBatch>);

/// Stop sending undelivered messages to an actor. Answers whether it was subscribed.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct UnsubscribeUndelivered(pub Recipient<Undelivered>);
