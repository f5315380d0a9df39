//! One state subscriber's feed: every transition, in order, without the connection ever
//! waiting for the subscriber and without a queue that grows with how long it is stuck.
//!
//! A transition goes straight into the subscriber's mailbox while there is room. Once the
//! mailbox is full, transitions wait here, in order, and a task hands them over one at a
//! time as the subscriber takes them. At most [`MAX_STATE_BACKLOG`] wait: beyond that the
//! oldest waiting one is dropped and counted in the
//! [`skipped`](crate::StateChanged::skipped) of the one after it, so the subscriber
//! learns how many it missed, and where.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use actix::prelude::SendError;
use actix::Recipient;

use crate::StateChanged;

/// Transitions that may wait for room in one subscriber's full mailbox, in a few tens
/// of KiB. A connection makes three or four per reconnect attempt, so under the
/// default backoff (up to 30 s between attempts) this is many minutes of a stuck
/// subscriber.
pub(crate) const MAX_STATE_BACKLOG: usize = 256;

/// A state subscriber and the transitions waiting for room in its mailbox.
#[derive(Debug)]
pub(crate) struct StateFeed {
    recipient: Recipient<StateChanged>,
    /// Shared with the task that hands the waiting transitions over.
    backlog: Rc<RefCell<Backlog>>,
}

#[derive(Debug, Default)]
struct Backlog {
    /// In order; the oldest first.
    waiting: VecDeque<StateChanged>,
    /// A task is handing `waiting` over: new transitions queue behind it.
    handing_over: bool,
}

impl StateFeed {
    pub(crate) fn new(recipient: Recipient<StateChanged>) -> Self {
        Self {
            recipient,
            backlog: Rc::default(),
        }
    }

    pub(crate) fn recipient(&self) -> &Recipient<StateChanged> {
        &self.recipient
    }

    /// Whether the subscriber's actor is still there to receive.
    pub(crate) fn connected(&self) -> bool {
        self.recipient.connected()
    }

    /// Transitions waiting for room in the mailbox.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.backlog.borrow().waiting.len()
    }

    /// Whether a hand-over task still runs (its last transition not yet handled).
    #[cfg(test)]
    pub(crate) fn handing_over(&self) -> bool {
        self.backlog.borrow().handing_over
    }

    /// Forgets the transitions still waiting: the subscriber is leaving, and what it
    /// did not get yet it no longer wants (nor should a later subscription of the same
    /// actor find them ahead of its own).
    pub(crate) fn forget_waiting(&self) {
        self.backlog.borrow_mut().waiting.clear();
    }

    /// Delivers `event` after every earlier one, never waiting. Returns whether an
    /// older waiting transition was dropped to make room.
    pub(crate) fn publish(&self, event: StateChanged) -> bool {
        let mut backlog = self.backlog.borrow_mut();
        if !backlog.handing_over {
            match self.recipient.try_send(event) {
                Ok(()) | Err(SendError::Closed(_)) => return false,
                Err(SendError::Full(event)) => {
                    backlog.waiting.push_back(event);
                    backlog.handing_over = true;
                    actix::spawn(hand_over(self.recipient.clone(), self.backlog.clone()));
                    return false;
                }
            }
        }
        backlog.waiting.push_back(event);
        if backlog.waiting.len() <= MAX_STATE_BACKLOG {
            return false;
        }
        if let Some(dropped) = backlog.waiting.pop_front() {
            if let Some(next) = backlog.waiting.front_mut() {
                next.skipped += 1 + dropped.skipped;
            }
        }
        true
    }
}

/// Hands the waiting transitions over one at a time, each once the subscriber took the
/// one before; ends when none waits, or when the subscriber is gone.
async fn hand_over(recipient: Recipient<StateChanged>, backlog: Rc<RefCell<Backlog>>) {
    loop {
        // The borrow ends before the wait: `publish` runs meanwhile.
        let next = backlog.borrow_mut().waiting.pop_front();
        let Some(event) = next else {
            break;
        };
        if recipient.send(event).await.is_err() {
            backlog.borrow_mut().waiting.clear();
            break;
        }
    }
    backlog.borrow_mut().handing_over = false;
}
