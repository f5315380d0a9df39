//! The commands the actor accepts.

use std::time::Instant;

use actix::{Context, Handler, MessageResult};
use tether::{ConnectionState, OverflowPolicy};

use super::outbound::{Outbound, Reply};
use super::ConnectionActor;
use crate::message::{
    self, BatchReply, BatchSlot, Delivery, GetStatus, OutgoingBatch, OutgoingReply, ReplySlot,
};
use crate::{DeliveryError, Payload, Status};

/// Undelivered events that may wait for full subscriber mailboxes before `DropOldest`
/// stops evicting.
const MAX_UNDELIVERED_BACKLOG: usize = 64;

impl Handler<message::Outgoing> for ConnectionActor {
    type Result = OutgoingReply;

    fn handle(&mut self, send: message::Outgoing, ctx: &mut Context<Self>) -> OutgoingReply {
        let wants_confirmation = send.wants_confirmation();
        let payload = send.into_payload();
        if let Some(refusal) = self.refusal() {
            return OutgoingReply::refused(refusal(payload), &self.orphans);
        }
        let connected = self.is_ready();
        let durable = self.journal.is_durable();
        if !(connected || wants_confirmation || durable) {
            // Nobody needs to wait: the answer is known now.
            return match self.admit(Outbound::buffered(payload)) {
                Ok(()) => OutgoingReply::now(Delivery::Buffered),
                Err(refused) => OutgoingReply::refused(refused, &self.orphans),
            };
        }
        let slot = ReplySlot::default();
        let item = Outbound::awaiting(payload, Reply::One(slot.clone()), wants_confirmation)
            .buffered_if(!connected);
        match self.admit(item) {
            Ok(()) => {
                // Durable mode: answered once on disk, at the end of this drain.
                self.schedule_commit(ctx);
                OutgoingReply::later(slot)
            }
            Err(refused) => OutgoingReply::refused(refused, &self.orphans),
        }
    }
}

impl Handler<OutgoingBatch> for ConnectionActor {
    type Result = BatchReply;

    fn handle(&mut self, batch: OutgoingBatch, ctx: &mut Context<Self>) -> BatchReply {
        let wants_confirmation = batch.wants_confirmation();
        let payloads = batch.into_payloads();
        let slot = BatchSlot::new(payloads.len(), self.orphans.clone());
        let refusal = self.refusal();
        let connected = self.is_ready();
        let durable = self.journal.is_durable();
        for (index, payload) in payloads.into_iter().enumerate() {
            if let Some(refusal) = refusal {
                slot.answer(index, Err(refusal(payload)));
                continue;
            }
            let answered_now = !(connected || wants_confirmation || durable);
            let item = if answered_now {
                Outbound::buffered(payload)
            } else {
                Outbound::awaiting(
                    payload,
                    Reply::Batch(slot.clone(), index),
                    wants_confirmation,
                )
                .buffered_if(!connected)
            };
            match self.admit(item) {
                Ok(()) if answered_now => slot.answer(index, Ok(Delivery::Buffered)),
                Ok(()) => {}
                Err(refused) => slot.answer(index, Err(refused)),
            }
        }
        // Durable mode: the batch is committed with everything else this mailbox drain
        // accepts, in one commit, before any of it is answered or written.
        self.schedule_commit(ctx);
        self.settle_orphans();
        BatchReply::new(slot)
    }
}

impl ConnectionActor {
    /// How a `Outgoing` is refused in this state, if it is: closed, closing or failed.
    fn refusal(&self) -> Option<fn(Payload) -> DeliveryError> {
        match self.machine.state() {
            ConnectionState::Failed => Some(DeliveryError::Failed),
            ConnectionState::Closed => Some(DeliveryError::Closed),
            _ if self.closing.is_some() => Some(DeliveryError::Closed),
            _ => None,
        }
    }

    /// Takes a message into the outbox and wakes the writer; a full buffer refuses it,
    /// handing it back.
    fn admit(&mut self, mut item: Outbound) -> Result<(), DeliveryError> {
        let seq = self.journal.stage(item.payload());
        item.set_seq(seq);
        // Under `DropOldest`, an eviction is reported to the undelivered subscribers;
        // while they are this far behind, the new message is refused instead, so that
        // the sender learns and nothing piles up unseen.
        let evicting = self.config.overflow_policy() == OverflowPolicy::DropOldest
            && self.subscribers.undelivered_backlog() >= MAX_UNDELIVERED_BACKLOG;
        let accepted = if evicting {
            self.outbox
                .accept_without_eviction(item)
                .map(|()| Vec::new())
        } else {
            self.outbox.accept(item)
        };
        match accepted {
            Ok(evicted) => {
                if !self.is_ready() {
                    self.counters.buffered += 1;
                }
                if let Some(link) = self.link.as_mut() {
                    link.wake_writer();
                }
                self.settle_evicted(evicted);
                Ok(())
            }
            Err(full) => {
                self.journal.discard(&[seq]);
                self.counters.rejected += 1;
                let reason = full.reason();
                let message = full.into_inner().into_payload();
                Err(DeliveryError::BufferFull { message, reason })
            }
        }
    }
}

impl Handler<GetStatus> for ConnectionActor {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _query: GetStatus, _ctx: &mut Context<Self>) -> Self::Result {
        self.machine.refresh(Instant::now());
        MessageResult(Status {
            connection: self.id,
            name: self.name.clone(),
            endpoint: self.dialer.endpoint().clone(),
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
