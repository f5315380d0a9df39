//! The connection's endpoints: one dialer each, the failover rotation over them, and
//! the credentials provider asked before every attempt.

use std::fmt;
use std::num::NonZeroUsize;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use tether::endpoints::{Choice, Rotation};

use super::dialer::Dialer;
use crate::target::Target;
use crate::{CredentialsProvider, Endpoint, RetryDecision};

/// Every endpoint's dialer, which one is current, and what failed where.
pub(crate) struct Endpoints {
    /// Never empty: the builder refuses an empty list.
    dialers: Vec<Dialer>,
    shown: Vec<Endpoint>,
    rotation: Rotation,
    provider: Option<Rc<dyn CredentialsProvider>>,
}

impl Endpoints {
    /// `None` for an empty list.
    pub(crate) fn new(
        dialers: Vec<Dialer>,
        provider: Option<Rc<dyn CredentialsProvider>>,
    ) -> Option<Self> {
        let rotation = Rotation::new(NonZeroUsize::new(dialers.len())?);
        let shown = dialers
            .iter()
            .enumerate()
            .map(|(index, dialer)| Endpoint {
                index,
                url: Arc::from(dialer.target().redacted()),
            })
            .collect();
        Some(Self {
            dialers,
            shown,
            rotation,
            provider,
        })
    }

    fn index(&self) -> usize {
        self.rotation.current()
    }

    /// Every endpoint live again, starting over at the first (`Reopen`).
    pub(crate) fn revive(&mut self) {
        self.rotation.revive();
    }

    /// The current endpoint's dialer.
    pub(crate) fn current_mut(&mut self) -> &mut Dialer {
        let index = self.index();
        &mut self.dialers[index]
    }

    /// The current endpoint's dialer.
    pub(crate) fn current(&self) -> &Dialer {
        &self.dialers[self.index()]
    }

    /// The current endpoint, as events show it.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.shown[self.index()]
    }

    pub(crate) fn len(&self) -> usize {
        self.dialers.len()
    }

    pub(crate) fn provider(&self) -> Option<Rc<dyn CredentialsProvider>> {
        self.provider.clone()
    }

    /// Applies the policy's decision to the current endpoint; `true` when that left
    /// every endpoint given up.
    pub(crate) fn record(&mut self, decision: RetryDecision, now: Instant) -> bool {
        let index = self.index();
        match decision {
            RetryDecision::GiveUp => self.rotation.mark_dead(index),
            RetryDecision::RetryNotBefore(floor) => self.rotation.hold_until(index, now + floor),
            _ => {}
        }
        self.rotation.all_dead()
    }

    /// Chooses where the next attempt goes and makes it current; `None` when every
    /// endpoint is given up. `attempts_reset`: the backoff starts from its first step.
    pub(crate) fn advance(&mut self, attempts_reset: bool, now: Instant) -> Option<Choice> {
        if attempts_reset {
            self.rotation.reset_cycles();
        }
        self.rotation.advance(now)
    }

    /// The current endpoint's URL, log-safe.
    pub(crate) fn target(&self) -> &Target {
        self.current().target()
    }
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("dialers", &self.dialers)
            .field("rotation", &self.rotation)
            .field("credentials", &self.provider.is_some())
            .finish()
    }
}
