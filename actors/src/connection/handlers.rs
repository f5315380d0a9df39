//! The commands the actor accepts.

use std::time::Instant;

use actix::{Context, Handler, MessageResult, ResponseFuture};
use tether::ConnectionState;
use tokio::sync::oneshot;

use super::outbound::Outbound;
use super::ConnectionActor;
use crate::message::{self, Close, Delivery, GetStatus, ReplySlot, SendReply};
use crate::{DisconnectReason, SendError, Status, UndeliveredReason};

impl Handler<message::Send> for ConnectionActor {
    type Result = SendReply;

    fn handle(&mut self, send: message::Send, _ctx: &mut Context<Self>) -> SendReply {
        let wants_confirmation = send.wants_confirmation();
        let payload = send.into_payload();
        match self.machine.state() {
            ConnectionState::Failed => return SendReply::now(Err(SendError::Failed(payload))),
            ConnectionState::Closed => return SendReply::now(Err(SendError::Closed(payload))),
            _ if self.closing => return SendReply::now(Err(SendError::Closed(payload))),
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
        match self.buffer.push(item) {
            Ok(evicted) => {
                match self.link.as_mut() {
                    Some(link) => link.wake_writer(),
                    None => self.counters.buffered += 1,
                }
                for old in evicted {
                    self.counters.evicted += 1;
                    if let Some(payload) = old.reject(SendError::Evicted) {
                        self.publish_undelivered(payload, UndeliveredReason::Evicted);
                    }
                }
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
        self.close_waiters.push(tx);
        match self.link.as_mut() {
            Some(link) => {
                // The writer finishes the buffer, then sends the close frame.
                self.closing = true;
                link.wake_writer();
            }
            None => self.finish(
                ctx,
                ConnectionState::Closed,
                DisconnectReason::CloseRequested,
            ),
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
            state: self.machine.state(),
            attempt: self.machine.attempts(),
            next_delay: self.next_delay,
            buffered: self.buffer.len(),
            buffered_bytes: self.buffer.bytes(),
            unconfirmed: self.window.len(),
            counters: self.counters,
        })
    }
}
