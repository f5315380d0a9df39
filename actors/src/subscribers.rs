//! The actors that receive a connection's events.

use actix::prelude::SendError;
use actix::{Message, Recipient};

use crate::{Incoming, StateChanged, Undelivered};

/// Recipients of a connection's events. Recipients whose actor has stopped are pruned
/// on the next publish.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    pub(crate) state: Vec<Recipient<StateChanged>>,
    pub(crate) incoming: Vec<Recipient<Incoming>>,
    pub(crate) undelivered: Vec<Recipient<Undelivered>>,
}

impl Subscribers {
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

    /// The live message subscribers.
    pub(crate) fn incoming_recipients(&mut self) -> Vec<Recipient<Incoming>> {
        self.incoming.retain(Recipient::connected);
        self.incoming.clone()
    }

    /// Publishes and says whether anybody was there to receive it.
    pub(crate) fn publish_undelivered(&mut self, event: Undelivered) -> bool {
        publish(&mut self.undelivered, event)
    }
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
