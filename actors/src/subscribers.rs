//! The actors that receive a connection's events.

use actix::prelude::SendError;
use actix::{Message, Recipient};

use crate::{Incoming, StateChanged, Undelivered};

/// Recipients of a connection's events, each at most once per kind. Recipients whose
/// actor has stopped are pruned on the next publish.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    state: Vec<Recipient<StateChanged>>,
    incoming: Vec<Recipient<Incoming>>,
    undelivered: Vec<Recipient<Undelivered>>,
}

impl Subscribers {
    /// Adds a state subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_state(&mut self, recipient: Recipient<StateChanged>) -> bool {
        subscribe(&mut self.state, recipient)
    }

    /// Adds a message subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_incoming(&mut self, recipient: Recipient<Incoming>) -> bool {
        subscribe(&mut self.incoming, recipient)
    }

    /// Adds an undelivered subscriber; returns `false` when it already was one.
    pub(crate) fn subscribe_undelivered(&mut self, recipient: Recipient<Undelivered>) -> bool {
        subscribe(&mut self.undelivered, recipient)
    }

    /// Removes a state subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_state(&mut self, recipient: &Recipient<StateChanged>) -> bool {
        unsubscribe(&mut self.state, recipient)
    }

    /// Removes a message subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_incoming(&mut self, recipient: &Recipient<Incoming>) -> bool {
        unsubscribe(&mut self.incoming, recipient)
    }

    /// Removes an undelivered subscriber; returns whether it was one.
    pub(crate) fn unsubscribe_undelivered(&mut self, recipient: &Recipient<Undelivered>) -> bool {
        unsubscribe(&mut self.undelivered, recipient)
    }

    pub(crate) fn publish_state(&mut self, event: StateChanged) {
        publish(&mut self.state, event);
    }

    /// Offers `event` to every message subscriber without waiting; returns the
    /// subscribers whose mailbox was full, with their copy, for a hand-over that waits.
    pub(crate) fn publish_incoming(
        &mut self,
        event: Incoming,
    ) -> Vec<(Recipient<Incoming>, Incoming)> {
        self.incoming.retain(Recipient::connected);
        let mut full = Vec::new();
        for recipient in &self.incoming {
            if let Err(SendError::Full(event)) = recipient.try_send(event.clone()) {
                full.push((recipient.clone(), event));
            }
        }
        full
    }

    /// Publishes and says whether anybody was there to receive it.
    pub(crate) fn publish_undelivered(&mut self, event: Undelivered) -> bool {
        publish(&mut self.undelivered, event)
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

/// Sends `event` to every live recipient, returning whether there was one.
fn publish<M>(recipients: &mut Vec<Recipient<M>>, event: M) -> bool
where
    M: Message<Result = ()> + std::marker::Send + Clone + 'static,
{
    recipients.retain(Recipient::connected);
    // `do_send` never blocks the connection on a slow subscriber.
    if let Some((last, rest)) = recipients.split_last() {
        for recipient in rest {
            recipient.do_send(event.clone());
        }
        last.do_send(event);
        true
    } else {
        false
    }
}
