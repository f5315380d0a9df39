//! Subscribing actors to a connection's events, and unsubscribing them.

use actix::{Context, Handler};

use super::ConnectionActor;
use crate::message::{
    SubscribeIncoming, SubscribeIncomingBatch, SubscribeState, SubscribeUndelivered,
    UnsubscribeIncoming, UnsubscribeIncomingBatch, UnsubscribeState, UnsubscribeUndelivered,
};

impl Handler<SubscribeState> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, SubscribeState(recipient): SubscribeState, _ctx: &mut Context<Self>) {
        self.subscribers.subscribe_state(recipient);
    }
}

impl Handler<SubscribeIncoming> for ConnectionActor {
    type Result = ();

    fn handle(
        &mut self,
        SubscribeIncoming(recipient): SubscribeIncoming,
        _ctx: &mut Context<Self>,
    ) {
        self.subscribers.subscribe_incoming(recipient);
    }
}

impl Handler<SubscribeIncomingBatch> for ConnectionActor {
    type Result = ();

    fn handle(
        &mut self,
        SubscribeIncomingBatch(recipient): SubscribeIncomingBatch,
        _ctx: &mut Context<Self>,
    ) {
        self.subscribers.subscribe_incoming_batch(recipient);
    }
}

impl Handler<UnsubscribeIncomingBatch> for ConnectionActor {
    type Result = bool;

    fn handle(
        &mut self,
        UnsubscribeIncomingBatch(recipient): UnsubscribeIncomingBatch,
        _ctx: &mut Context<Self>,
    ) -> bool {
        self.subscribers.unsubscribe_incoming_batch(&recipient)
    }
}

impl Handler<SubscribeUndelivered> for ConnectionActor {
    type Result = ();

    fn handle(
        &mut self,
        SubscribeUndelivered(recipient): SubscribeUndelivered,
        _ctx: &mut Context<Self>,
    ) {
        self.subscribers.subscribe_undelivered(recipient);
    }
}

impl Handler<UnsubscribeState> for ConnectionActor {
    type Result = bool;

    fn handle(
        &mut self,
        UnsubscribeState(recipient): UnsubscribeState,
        _ctx: &mut Context<Self>,
    ) -> bool {
        self.subscribers.unsubscribe_state(&recipient)
    }
}

impl Handler<UnsubscribeIncoming> for ConnectionActor {
    type Result = bool;

    fn handle(
        &mut self,
        UnsubscribeIncoming(recipient): UnsubscribeIncoming,
        _ctx: &mut Context<Self>,
    ) -> bool {
        self.subscribers.unsubscribe_incoming(&recipient)
    }
}

impl Handler<UnsubscribeUndelivered> for ConnectionActor {
    type Result = bool;

    fn handle(
        &mut self,
        UnsubscribeUndelivered(recipient): UnsubscribeUndelivered,
        _ctx: &mut Context<Self>,
    ) -> bool {
        self.subscribers.unsubscribe_undelivered(&recipient)
    }
}
