//! The inbox: incoming messages on their way to the message subscribers.
//!
//! A subscriber that cannot keep up must neither make memory grow without bound nor
//! freeze the connection. Each message is offered to every subscriber's mailbox with
//! `try_send`; when a mailbox is full, the message is handed over by a task that waits
//! for room, and later messages wait here, in order, until every such hand-over is
//! done. Meanwhile the reader keeps reading, so pings, pongs and close frames are still
//! answered and confirmations still arrive, until what waits here reaches
//! `read_ahead_bytes`: then reading pauses, and TCP slows the server down. If reading
//! stays paused longer than `max_read_pause`, the link is failed (`SubscriberStalled`)
//! and replaced; what waits here is kept and still handed over, in order.
//!
//! The inbox belongs to the actor, not to a link: received messages outlive the link
//! that brought them.

use std::collections::VecDeque;

use actix::{Context, Handler, Message, WeakAddr};

use super::ConnectionActor;
use crate::subscribers::Subscribers;
use crate::Incoming;

/// What a held message costs beside its payload (the event and its queue slot), so
/// that many empty messages are bounded too.
const PER_MESSAGE_OVERHEAD: usize = 64;

/// Incoming messages held for subscribers whose mailboxes are full.
#[derive(Debug)]
pub(crate) struct Inbox {
    queue: VecDeque<Incoming>,
    /// Payload bytes plus overhead of `queue`.
    bytes: usize,
    limit: usize,
    /// Hand-overs to full mailboxes not yet done; nothing is offered while any is.
    pending: usize,
    /// Where a finished hand-over is reported. Weak: a hand-over must not keep an
    /// abandoned actor alive.
    actor: Option<WeakAddr<ConnectionActor>>,
}

fn cost(event: &Incoming) -> usize {
    event.payload.len().saturating_add(PER_MESSAGE_OVERHEAD)
}

impl Inbox {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            bytes: 0,
            limit,
            pending: 0,
            actor: None,
        }
    }

    /// Reports finished hand-overs to this actor from now on.
    pub(crate) fn attach(&mut self, actor: WeakAddr<ConnectionActor>) {
        self.actor = Some(actor);
    }

    /// Whether the reader may read more: what waits here is below the bound. One
    /// message is always taken, however large, so the bound never blocks for ever.
    pub(crate) fn has_room(&self) -> bool {
        self.bytes < self.limit
    }

    /// Messages waiting here, not yet offered.
    pub(crate) fn held(&self) -> usize {
        self.queue.len()
    }

    /// Hand-overs still waiting for a full mailbox.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// A message arrived: offered now if nothing waits before it, else held.
    pub(crate) fn receive(&mut self, event: Incoming, subscribers: &mut Subscribers) {
        self.bytes = self.bytes.saturating_add(cost(&event));
        self.queue.push_back(event);
        self.pump(subscribers);
    }

    /// One hand-over finished; offers what waited behind it once none is left.
    pub(crate) fn handed_over(&mut self, subscribers: &mut Subscribers) {
        self.pending = self.pending.saturating_sub(1);
        self.pump(subscribers);
    }

    /// Offers held messages, oldest first, until one meets a full mailbox.
    fn pump(&mut self, subscribers: &mut Subscribers) {
        while self.pending == 0 {
            let Some(event) = self.queue.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(cost(&event));
            for (recipient, event) in subscribers.publish_incoming(event) {
                self.pending += 1;
                let actor = self.actor.clone();
                // Not tied to the context: a restart must not drop a received message.
                actix::spawn(async move {
                    let _ = recipient.send(event).await;
                    if let Some(actor) = actor.and_then(|actor| actor.upgrade()) {
                        actor.do_send(HandedOver);
                    }
                });
            }
        }
    }

    /// The actor is going away: hands every held message over without waiting for the
    /// pending ones, each subscriber's in order, by one task per subscriber.
    pub(crate) fn detach(&mut self, subscribers: &mut Subscribers) {
        let held: Vec<Incoming> = self.queue.drain(..).collect();
        self.bytes = 0;
        if held.is_empty() {
            return;
        }
        for recipient in subscribers.incoming_recipients() {
            let events = held.clone();
            actix::spawn(async move {
                for event in events {
                    if recipient.send(event).await.is_err() {
                        break; // that subscriber is gone
                    }
                }
            });
        }
    }
}

/// A hand-over to a full subscriber mailbox completed.
#[derive(Debug)]
pub(crate) struct HandedOver;

impl Message for HandedOver {
    type Result = ();
}

impl Handler<HandedOver> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, _done: HandedOver, _ctx: &mut Context<Self>) {
        self.hand_over_done();
    }
}
