//! The actors that receive a connection's events.

mod state_feed;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::rc::Rc;

use actix::prelude::SendError;
use actix::{Message, Recipient};

use crate::{ConnectionId, Incoming, IncomingBatch, Payload, StateChanged, Undelivered};
use state_feed::StateFeed;

/// Recipients of a connection's events, each at most once per kind. Recipients whose
/// actor has stopped are pruned on the next publish.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    state: Vec<StateFeed>,
    incoming: Vec<Recipient<Incoming>>,
    incoming_batch: Vec<Recipient<IncomingBatch>>,
    undelivered: Vec<Recipient<Undelivered>>,
    /// Hand-overs of undelivered events waiting for a full mailbox (the tasks run on
    /// this thread and count themselves down).
    undelivered_backlog: Rc<Cell<usize>>,
}

/// What a full mailbox still has to receive of one group of incoming messages: handed
/// over by a task that waits for room.
#[derive(Debug)]
pub(crate) enum HandOver {
    /// The rest of the group, one message at a time, in order.
    Messages(Recipient<Incoming>, Vec<Incoming>),
    /// The whole group as one batch.
    Batch(Recipient<IncomingBatch>, IncomingBatch),
}

impl HandOver {
    /// Delivers, waiting for room; stops early if the subscriber is gone.
    pub(crate) async fn run(self) {
        match self {
            Self::Messages(recipient, events) => {
                for event in events {
                    if recipient.send(event).await.is_err() {
                        break;
                    }
                }
            }
            Self::Batch(recipient, batch) => {
                let _ = recipient.send(batch).await;
            }
        }
    }
}

impl Subscribers {
    /// Adds a state subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_state(&mut self, recipient: Recipient<StateChanged>) -> bool {
        if self.state.iter().any(|feed| *feed.recipient() == recipient) {
            return false;
        }
        self.state.push(StateFeed::new(recipient));
        true
    }

    /// Adds a message subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_incoming(&mut self, recipient: Recipient<Incoming>) -> bool {
        subscribe(&mut self.incoming, recipient)
    }

    /// Adds a batch message subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_incoming_batch(&mut self, recipient: Recipient<IncomingBatch>) -> bool {
        subscribe(&mut self.incoming_batch, recipient)
    }

    /// Adds an undelivered subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_undelivered(&mut self, recipient: Recipient<Undelivered>) -> bool {
        subscribe(&mut self.undelivered, recipient)
    }

    /// Removes a state subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_state(&mut self, recipient: &Recipient<StateChanged>) -> bool {
        let before = self.state.len();
        self.state.retain(|feed| {
            let leaving = feed.recipient() == recipient;
            if leaving {
                feed.forget_waiting();
            }
            !leaving
        });
        self.state.len() != before
    }

    /// Removes a message subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_incoming(&mut self, recipient: &Recipient<Incoming>) -> bool {
        unsubscribe(&mut self.incoming, recipient)
    }

    /// Removes a batch message subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_incoming_batch(
        &mut self,
        recipient: &Recipient<IncomingBatch>,
    ) -> bool {
        unsubscribe(&mut self.incoming_batch, recipient)
    }

    /// The live message subscribers, one by one and in batches.
    pub(crate) fn incoming_recipients(
        &mut self,
    ) -> (Vec<Recipient<Incoming>>, Vec<Recipient<IncomingBatch>>) {
        self.incoming.retain(Recipient::connected);
        self.incoming_batch.retain(Recipient::connected);
        (self.incoming.clone(), self.incoming_batch.clone())
    }

    /// Removes an undelivered subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_undelivered(&mut self, recipient: &Recipient<Undelivered>) -> bool {
        unsubscribe(&mut self.undelivered, recipient)
    }

    /// Publishes a transition to every state subscriber, in order, never waiting for
    /// one (see [`StateFeed`]). Returns how many older transitions were dropped, one
    /// per subscriber too far behind.
    pub(crate) fn publish_state(&mut self, event: StateChanged) -> u64 {
        self.state.retain(StateFeed::connected);
        let Some((last, others)) = self.state.split_last() else {
            return 0;
        };
        let mut dropped = 0;
        for feed in others {
            dropped += u64::from(feed.publish(event.clone()));
        }
        dropped + u64::from(last.publish(event))
    }

    /// Offers a group of incoming messages (one read's worth) to every message
    /// subscriber without waiting: one by one to `incoming`, as one batch to
    /// `incoming_batch`. Returns what full mailboxes still have to receive.
    pub(crate) fn offer(&mut self, connection: ConnectionId, group: Vec<Payload>) -> Vec<HandOver> {
        self.incoming.retain(Recipient::connected);
        self.incoming_batch.retain(Recipient::connected);
        let mut waiting = Vec::new();
        for recipient in &self.incoming {
            let mut rest = group.iter();
            while let Some(payload) = rest.next() {
                let event = Incoming {
                    connection,
                    payload: payload.clone(),
                };
                if let Err(SendError::Full(event)) = recipient.try_send(event) {
                    let mut events = vec![event];
                    events.extend(rest.map(|payload| Incoming {
                        connection,
                        payload: payload.clone(),
                    }));
                    waiting.push(HandOver::Messages(recipient.clone(), events));
                    break;
                }
            }
        }
        if let Some((last, others)) = self.incoming_batch.split_last() {
            let batch = |messages| IncomingBatch {
                connection,
                messages,
            };
            for recipient in others {
                if let Err(SendError::Full(event)) = recipient.try_send(batch(group.clone())) {
                    waiting.push(HandOver::Batch(recipient.clone(), event));
                }
            }
            if let Err(SendError::Full(event)) = last.try_send(batch(group)) {
                waiting.push(HandOver::Batch(last.clone(), event));
            }
        }
        waiting
    }

    /// Publishes and says whether anybody was there to receive it.
    pub(crate) fn publish_undelivered(&mut self, event: Undelivered) -> bool {
        self.undelivered.retain(Recipient::connected);
        let Some((last, others)) = self.undelivered.split_last() else {
            return false;
        };
        // Not `do_send`: a slow subscriber's mailbox would grow without bound. A full
        // mailbox gets the event from a task that waits for room; those tasks are
        // counted, and a connection with too many of them stops evicting.
        let offer = |recipient: &Recipient<Undelivered>, event| {
            if let Err(SendError::Full(event)) = recipient.try_send(event) {
                let recipient = recipient.clone();
                let backlog = self.undelivered_backlog.clone();
                backlog.set(backlog.get() + 1);
                actix::spawn(async move {
                    let _ = recipient.send(event).await;
                    backlog.set(backlog.get().saturating_sub(1));
                });
            }
        };
        for recipient in others {
            offer(recipient, event.clone());
        }
        offer(last, event);
        true
    }

    /// Undelivered events still waiting for room in a full subscriber mailbox.
    pub(crate) fn undelivered_backlog(&self) -> usize {
        self.undelivered_backlog.get()
    }
}

/// Adds `recipient` unless it is there already (recipients are equal when they
/// address the same actor's mailbox).
fn subscribe<M>(recipients: &mut Vec<Recipient<M>>, recipient: Recipient<M>) -> bool
where
    M: Message + std::marker::Send,
    M::Result: std::marker::Send,
{
    if recipients.contains(&recipient) {
        return false;
    }
    recipients.push(recipient);
    true
}

/// Removes `recipient`, wherever it is.
fn unsubscribe<M>(recipients: &mut Vec<Recipient<M>>, recipient: &Recipient<M>) -> bool
where
    M: Message + std::marker::Send,
    M::Result: std::marker::Send,
{
    let before = recipients.len();
    recipients.retain(|subscribed| subscribed != recipient);
    recipients.len() != before
}
