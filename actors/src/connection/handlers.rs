//! The commands the actor accepts.

use std::time::Instant;

use actix::{AsyncContext, Context, Handler, MessageResult, ResponseFuture};
use tether::ConnectionState;
use tokio::sync::oneshot;

use super::outbound::Outbound;
use super::ConnectionActor;
use crate::message::{
    self, Close, Delivery, GetStatus, ReplySlot, SendReply, SubscribeIncoming, SubscribeState,
    SubscribeUndelivered,
};
use crate::{DisconnectReason, SendError, Status};

impl Handler<message::Send> for ConnectionActor {
    type Result = SendReply;

    fn handle(&mut self, send: message::Send, _ctx: &mut Context<Self>) -> SendReply {
        let wants_confirmation = send.wants_confirmation();
        let payload = send.into_payload();
        match self.machine.state() {
            ConnectionState::Failed => return SendReply::now(Err(SendError::Failed(payload))),
            ConnectionState::Closed => return SendReply::now(Err(SendError::Closed(payload))),
            _ if self.closing.is_some() => return SendReply::now(Err(SendError::Closed(payload))),
            _ => {}
        }
        let connected = self.link.is_some();
        let (item, reply) = if connected || wants_confirmation {
            let slot = ReplySlot::default();
            let item = Outbound::awaiting(payload, slot.clone(), wants_confirmation);
            (item.buffered_if(!connected), SendReply::later(slot))
        } else {
            (
                Outbound::buffered(payload),
                SendReply::now(Ok(Delivery::Buffered)),
            )
        };
        match self.outbox.accept(item) {
            Ok(evicted) => {
                match self.link.as_mut() {
                    Some(link) => link.wake_writer(),
                    None => self.counters.buffered += 1,
                }
                self.settle_evicted(evicted);
                reply
            }
            Err(full) => {
                self.counters.rejected += 1;
                let reason = full.reason();
                let message = full.into_inner().into_payload();
                SendReply::now(Err(SendError::BufferFull { message, reason }))
            }
        }
    }
}

impl Handler<Close> for ConnectionActor {
    type Result = ResponseFuture<ConnectionState>;

    fn handle(&mut self, _close: Close, ctx: &mut Context<Self>) -> Self::Result {
        let state = self.machine.state();
        if state.is_terminal() {
            return Box::pin(async move { state });
        }
        let (tx, rx) = oneshot::channel();
        if let Some(waiters) = self.closing.as_mut() {
            waiters.push(tx);
        } else if let Some(link) = self.link.as_mut() {
            // The writer finishes the buffer, then sends the close frame; the timer
            // bounds how long that may take.
            link.wake_writer();
            self.closing = Some(vec![tx]);
            ctx.run_later(self.config.close_timeout(), |act, ctx| {
                act.close_expired(ctx)
            });
        } else {
            self.closing = Some(vec![tx]);
            self.finish(
                ctx,
                ConnectionState::Closed,
                DisconnectReason::CloseRequested,
            );
        }
        Box::pin(async move { rx.await.unwrap_or(ConnectionState::Closed) })
    }
}

impl Handler<GetStatus> for ConnectionActor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _query: GetStatus, _ctx: &mut Context<Self>) -> Self::Result {
        self.machine.refresh(Instant::now());
        MessageResult(Status {
            connection: self.id,
            name: self.name.clone(),
            state: self.machine.state(),
            attempt: self.machine.attempts(),
            next_delay: self.attempts.next_delay(),
            buffered: self.outbox.buffered(),
            buffered_bytes: self.outbox.buffered_bytes(),
            unconfirmed: self.outbox.unconfirmed(),
            round_trip: self
                .link
                .as_mut()
                .and_then(|link| link.liveness().round_trip()),
            counters: self.counters,
        })
    }
}

impl Handler<SubscribeState> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, SubscribeState(recipient): SubscribeState, _ctx: &mut Context<Self>) {
        self.subscribers.state.push(recipient);
    }
}

impl Handler<SubscribeIncoming> for ConnectionActor {
    type Result = ();

    fn handle(
        &mut self,
        SubscribeIncoming(recipient): SubscribeIncoming,
        _ctx: &mut Context<Self>,
    ) {
        self.subscribers.incoming.push(recipient);
    }
}

impl Handler<SubscribeUndelivered> for ConnectionActor {
    type Result = ();

    fn handle(
        &mut self,
        SubscribeUndelivered(recipient): SubscribeUndelivered,
        _ctx: &mut Context<Self>,
    ) {
        self.subscribers.undelivered.push(recipient);
    }
}
