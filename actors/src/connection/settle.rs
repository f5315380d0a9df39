//! What happens to the messages of the outbox when something ends: a link, a close, a
//! failure, or the actor itself. Every path that ends something comes through here, so
//! each message is answered or reported exactly once, with the reason that fits.

use actix::{Context, Handler, Message};
use tether::ConnectionState;

use super::link;
use super::outbound::Outbound;
use super::ConnectionActor;
use crate::{DeliveryError, DisconnectReason, Payload, Undelivered, UndeliveredReason};

/// How the connection ended, as far as its messages are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// `Close` (or a close that timed out).
    Closed,
    /// A final failure, or attempts used up.
    Failed,
    /// The actor ended without `Close`: last address dropped, or system stopped.
    Abandoned,
}

impl Ending {
    /// The answer to a waiting sender, and the event reason otherwise, for a message
    /// never written.
    fn unwritten(self) -> (fn(Payload) -> DeliveryError, UndeliveredReason) {
        match self {
            Self::Closed => (DeliveryError::Closed, UndeliveredReason::Closed),
            Self::Failed => (DeliveryError::Failed, UndeliveredReason::Failed),
            Self::Abandoned => (DeliveryError::Interrupted, UndeliveredReason::Abandoned),
        }
    }

    /// The same for a message written but not confirmed: it may have arrived.
    fn unconfirmed(self) -> (fn(Payload) -> DeliveryError, UndeliveredReason) {
        match self {
            Self::Abandoned => (DeliveryError::Interrupted, UndeliveredReason::Unconfirmed),
            Self::Closed | Self::Failed => {
                (DeliveryError::Unconfirmed, UndeliveredReason::Unconfirmed)
            }
        }
    }
}

impl ConnectionActor {
    /// How a terminal transition for `reason` ends the messages.
    pub(super) fn ending(&self, reason: &DisconnectReason, terminal: ConnectionState) -> Ending {
        match (reason, terminal) {
            (DisconnectReason::Abandoned, _) => Ending::Abandoned,
            (_, ConnectionState::Closed) => Ending::Closed,
            _ => Ending::Failed,
        }
    }

    /// The link died: its unconfirmed messages are requeued (at-least-once) or handed
    /// back (at-most-once); senders waiting only for the write learn that their
    /// message stays buffered for the next connection.
    pub(super) fn settle_lost_link(&mut self) {
        // "Buffered" below promises the disk: what was accepted goes there first.
        self.commit_staged_now();
        let lost = self.outbox.link_lost();
        self.counters.unconfirmed += lost.unconfirmed as u64;
        self.discard(&lost.handed_back);
        for item in lost.handed_back {
            self.reject(
                item,
                DeliveryError::Unconfirmed,
                UndeliveredReason::Unconfirmed,
            );
        }
        let mut released = 0;
        self.outbox.for_each_buffered_mut(|item| {
            released += u64::from(item.release_as_buffered());
        });
        self.counters.buffered += released;
        self.settle_orphans();
        self.sync_meter();
    }

    /// The connection ends: everything still held is handed back.
    ///
    /// Durable mode: they leave the store, except when the actor ends without `Close`
    /// (`Abandoned`): then they stay on disk for the next process, committed first if
    /// they were still staged.
    pub(super) fn hand_back_all(&mut self, ending: Ending) {
        if ending == Ending::Abandoned {
            self.commit_staged_now();
        } else {
            self.journal.remove_confirmed();
        }
        let all = self.outbox.hand_back_all();
        if ending != Ending::Abandoned {
            self.discard(&all.unconfirmed);
            self.discard(&all.buffered);
        }
        self.counters.unconfirmed += all.unconfirmed.len() as u64;
        self.counters.undelivered += all.buffered.len() as u64;
        let (error, why) = ending.unconfirmed();
        for item in all.unconfirmed {
            self.reject(item, error, why);
        }
        let (error, why) = ending.unwritten();
        for item in all.buffered {
            self.reject(item, error, why);
        }
        self.settle_orphans();
        self.sync_meter();
    }

    /// Messages evicted from the full buffer by newer ones (`DropOldest`).
    pub(super) fn settle_evicted(&mut self, evicted: Vec<Outbound>) {
        self.discard(&evicted);
        for old in evicted {
            self.counters.evicted += 1;
            self.reject(old, DeliveryError::Evicted, UndeliveredReason::Evicted);
        }
        self.settle_orphans();
        // Called on every accepted `Outgoing`: while a link is up its writer records them.
        if self.link.is_none() {
            self.sync_meter();
        }
    }

    /// Errors of batch messages whose caller stopped waiting: reported as undelivered.
    pub(super) fn settle_orphans(&mut self) {
        if self.orphans.borrow().is_empty() {
            return;
        }
        let orphans: Vec<DeliveryError> = self.orphans.borrow_mut().drain(..).collect();
        for error in orphans {
            let why = match &error {
                DeliveryError::BufferFull { .. } => UndeliveredReason::Refused,
                DeliveryError::Evicted(_) => UndeliveredReason::Evicted,
                DeliveryError::Closed(_) => UndeliveredReason::Closed,
                DeliveryError::Failed(_) => UndeliveredReason::Failed,
                DeliveryError::Unconfirmed(_) => UndeliveredReason::Unconfirmed,
                DeliveryError::Interrupted(_) => UndeliveredReason::Abandoned,
                DeliveryError::NotPersisted(_) => UndeliveredReason::NotPersisted,
            };
            self.publish_undelivered(error.into_message(), why);
        }
    }

    /// Messages handed back leave the durable store.
    fn discard(&mut self, items: &[Outbound]) {
        if self.journal.is_durable() && !items.is_empty() {
            let seqs: Vec<u64> = items.iter().map(Outbound::seq).collect();
            self.journal.discard(&seqs);
        }
    }

    /// Answers the waiting sender with `error`, or reports the message as undelivered
    /// when nobody waits.
    pub(super) fn reject(
        &mut self,
        item: Outbound,
        error: fn(Payload) -> DeliveryError,
        why: UndeliveredReason,
    ) {
        if let Some(payload) = item.reject(error) {
            self.publish_undelivered(payload, why);
        }
    }

    /// Hands a message nobody waits for to the undelivered subscribers.
    fn publish_undelivered(&mut self, payload: Payload, reason: UndeliveredReason) {
        let bytes = payload.len();
        let received = self.subscribers.publish_undelivered(Undelivered {
            connection: self.id,
            name: self.name.clone(),
            payload,
            reason,
        });
        if !received {
            // Still not silent: no subscriber asked for these, so the log says it.
            tracing::warn!(parent: &self.span, ?reason, bytes, "message not delivered and no undelivered subscriber");
        }
    }

    /// The actor is dropped without having ended (its system stopped, or its
    /// supervisor gave up on a restart with no address left). Nothing can wait any
    /// more: the close frame goes out only if the socket takes it at once, and the
    /// events go straight to the subscribers' mailboxes.
    pub(super) fn settle_on_drop(&mut self) {
        let state = self.machine.state();
        if state.is_terminal() && self.outbox.is_empty() {
            return;
        }
        if let Some(link) = self.link.take() {
            let (_tasks, mut sink, _stream) = link.into_parts();
            link::close_now(&mut sink, 1001);
        }
        if !state.is_terminal() {
            let unconfirmed = self.outbox.unconfirmed();
            self.enter(
                ConnectionState::Closed,
                Some(DisconnectReason::Abandoned),
                None,
                unconfirmed,
            );
        }
        self.hand_back_all(Ending::Abandoned);
        if self.inbox.held() > 0 {
            tracing::warn!(
                parent: &self.span,
                held = self.inbox.held(),
                "connection dropped with received messages its subscribers never took"
            );
        }
    }
}

/// Refusals nobody hears (`do_send`) wait in the orphans: report them now.
pub(crate) struct SettleOrphans;

impl Message for SettleOrphans {
    type Result = ();
}

impl Handler<SettleOrphans> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, _: SettleOrphans, _ctx: &mut Context<Self>) {
        self.settle_orphans();
    }
}
