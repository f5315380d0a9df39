//! The inbox: incoming messages on their way to the message subscribers.
//!
//! A subscriber that cannot keep up must neither make memory grow without bound nor
//! freeze the connection. The messages decoded from one read form a group; each group
//! is offered to every subscriber's mailbox with `try_send` (message by message to
//! `Incoming` subscribers, as one `IncomingBatch` to batch subscribers). When a mailbox
//! is full, the rest of the group is handed over by a task that waits for room, and
//! later groups wait here, in order, until every such hand-over is done. Meanwhile the
//! reader keeps reading, so pings, pongs and close frames are still answered and
//! confirmations still arrive, until what waits here reaches `read_ahead_bytes`: then
//! reading pauses, and TCP slows the server down. If reading stays paused longer than
//! `max_read_pause`, the link is failed (`SubscriberStalled`) and replaced; what waits
//! here is kept and still handed over, in order.
//!
//! The inbox belongs to the actor, not to a link: received messages outlive the link
//! that brought them.

use std::collections::VecDeque;

use actix::{Context, Handler, Message, WeakAddr};

use super::ConnectionActor;
use crate::subscribers::{HandOver, Subscribers};
use crate::{ConnectionId, IncomingBatch, Payload};

/// What a held message costs beside its payload (the event and its queue slot), so
/// that many empty messages are bounded too.
const PER_MESSAGE_OVERHEAD: usize = 64;

fn cost(payload: &Payload) -> usize {
    payload.len().saturating_add(PER_MESSAGE_OVERHEAD)
}

/// Incoming messages held for subscribers whose mailboxes are full.
#[derive(Debug)]
pub(crate) struct Inbox {
    connection: ConnectionId,
    /// Messages of the read in progress, not yet offered.
    staged: Vec<Payload>,
    staged_payload: usize,
    /// Groups waiting behind a pending hand-over, oldest first.
    queue: VecDeque<Vec<Payload>>,
    /// Cost of `staged` and `queue`.
    bytes: usize,
    held: usize,
    limit: usize,
    /// Hand-overs to full mailboxes not yet done; nothing is offered while any is.
    pending: usize,
    /// Where a finished hand-over is reported. Weak: a hand-over must not keep an
    /// abandoned actor alive.
    actor: Option<WeakAddr<ConnectionActor>>,
}

impl Inbox {
    pub(crate) fn new(connection: ConnectionId, limit: usize) -> Self {
        Self {
            connection,
            staged: Vec::new(),
            staged_payload: 0,
            queue: VecDeque::new(),
            bytes: 0,
            held: 0,
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
        self.held
    }

    /// Hand-overs still waiting for a full mailbox.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// A message was decoded; it is offered with the rest of its read (see
    /// [`commit`](Self::commit)), or at once when the group is as large as a batch may be.
    pub(crate) fn stage(&mut self, payload: Payload, subscribers: &mut Subscribers) {
        self.bytes = self.bytes.saturating_add(cost(&payload));
        self.held += 1;
        self.staged_payload = self.staged_payload.saturating_add(payload.len());
        self.staged.push(payload);
        if self.staged.len() >= IncomingBatch::MAX_MESSAGES
            || self.staged_payload >= IncomingBatch::MAX_BYTES
        {
            self.commit(subscribers);
        }
    }

    /// The read is over: its messages are offered now if nothing waits before them,
    /// else held.
    pub(crate) fn commit(&mut self, subscribers: &mut Subscribers) {
        if self.staged.is_empty() {
            return;
        }
        self.staged_payload = 0;
        self.queue.push_back(std::mem::take(&mut self.staged));
        self.pump(subscribers);
    }

    /// One hand-over finished; offers what waited behind it once none is left.
    pub(crate) fn handed_over(&mut self, subscribers: &mut Subscribers) {
        self.pending = self.pending.saturating_sub(1);
        self.pump(subscribers);
    }

    /// Offers held groups, oldest first, until one meets a full mailbox.
    fn pump(&mut self, subscribers: &mut Subscribers) {
        while self.pending == 0 {
            let Some(group) = self.queue.pop_front() else {
                break;
            };
            self.held -= group.len();
            let cost: usize = group.iter().map(cost).sum();
            self.bytes = self.bytes.saturating_sub(cost);
            for hand_over in subscribers.offer(self.connection, group) {
                self.pending += 1;
                let actor = self.actor.clone();
                // Not tied to the context: a restart must not drop a received message.
                actix::spawn(async move {
                    hand_over.run().await;
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
        let staged = std::mem::take(&mut self.staged);
        let mut groups: Vec<Vec<Payload>> = self.queue.drain(..).collect();
        if !staged.is_empty() {
            groups.push(staged);
        }
        self.bytes = 0;
        self.held = 0;
        if groups.is_empty() {
            return;
        }
        let connection = self.connection;
        let mut hand_overs = Vec::new();
        let (incoming, batched) = subscribers.incoming_recipients();
        for recipient in incoming {
            let events = groups
                .iter()
                .flatten()
                .map(|payload| crate::Incoming {
                    connection,
                    payload: payload.clone(),
                })
                .collect();
            hand_overs.push(vec![HandOver::Messages(recipient.clone(), events)]);
        }
        for recipient in batched {
            let batches = groups
                .iter()
                .map(|messages| {
                    HandOver::Batch(
                        recipient.clone(),
                        IncomingBatch {
                            connection,
                            messages: messages.clone(),
                        },
                    )
                })
                .collect();
            hand_overs.push(batches);
        }
        for sequence in hand_overs {
            actix::spawn(async move {
                for hand_over in sequence {
                    hand_over.run().await;
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
