//! Which of several server endpoints the next connection attempt goes to.
//!
//! The rule ([`Rotation`]): stay on an endpoint while it works; after a failure, move
//! to the next endpoint in list order that is not dead, wrapping around. A full pass
//! through the list is a *cycle*: only the move that completes a cycle waits the
//! backoff delay (which grows per cycle), switching to another endpoint within a cycle
//! is immediate. There is no return to the first endpoint while a later one works.
//!
//! Final failures and `Retry-After` are per endpoint: a dead endpoint is skipped for
//! good, a delayed one is skipped while another is ready now, and the connection has
//! run out of endpoints only when every one is dead.

#[cfg(test)]
mod tests;

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// What one endpoint's failures left behind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Health {
    /// A final failure: never tried again.
    dead: bool,
    /// Not to be tried before this instant (a server's `Retry-After`).
    not_before: Option<Instant>,
}

/// Where the next attempt goes, and how long it must wait first.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The endpoint's index in the list.
    pub index: usize,
    /// `Some(n)` when this move completes cycle `n` (0 = the first since the last
    /// [`reset_cycles`](Rotation::reset_cycles)): wait the backoff delay of step `n`.
    /// `None` for a switch within a cycle, which waits no backoff.
    pub cycle: Option<u32>,
    /// How long the endpoint's `Retry-After` still holds it back: the wait is at least
    /// this.
    pub not_before: Option<Duration>,
}

/// The failover rotation over a fixed list of endpoints. See the module docs.
///
/// ```
/// use std::num::NonZeroUsize;
/// use std::time::Instant;
/// use tether::endpoints::Rotation;
///
/// let mut rotation = Rotation::new(NonZeroUsize::new(2).unwrap());
/// let now = Instant::now();
/// assert_eq!(rotation.current(), 0);
/// // Endpoint 0 failed: switch to 1 at once.
/// let choice = rotation.advance(now).unwrap();
/// assert_eq!((choice.index, choice.cycle), (1, None));
/// // Endpoint 1 failed too: back to 0 after the first backoff step.
/// let choice = rotation.advance(now).unwrap();
/// assert_eq!((choice.index, choice.cycle), (0, Some(0)));
/// // Endpoint 0 refused for good: only 1 is left.
/// rotation.mark_dead(0);
/// assert_eq!(rotation.advance(now).unwrap().index, 1);
/// rotation.mark_dead(1);
/// assert!(rotation.all_dead());
/// assert_eq!(rotation.advance(now), None);
/// ```
#[derive(Debug, Clone)]
pub struct Rotation {
    health: Vec<Health>,
    current: usize,
    /// Cycles completed since the last reset: the backoff step of the next one.
    cycles: u32,
}

impl Rotation {
    /// A rotation over `count` endpoints, starting at the first.
    pub fn new(count: NonZeroUsize) -> Self {
        Self {
            health: vec![Health::default(); count.get()],
            current: 0,
            cycles: 0,
        }
    }

    /// How many endpoints there are.
    pub fn len(&self) -> usize {
        self.health.len()
    }

    /// Always `false`: a rotation has at least one endpoint.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The endpoint the current (or last) attempt went to.
    pub fn current(&self) -> usize {
        self.current
    }

    /// Whether `index` had a final failure. `false` for an index out of range.
    pub fn is_dead(&self, index: usize) -> bool {
        self.health.get(index).is_some_and(|health| health.dead)
    }

    /// Whether every endpoint had a final failure.
    pub fn all_dead(&self) -> bool {
        self.health.iter().all(|health| health.dead)
    }

    /// A final failure of `index`: it is never chosen again. Out of range: ignored.
    pub fn mark_dead(&mut self, index: usize) {
        if let Some(health) = self.health.get_mut(index) {
            health.dead = true;
        }
    }

    /// `index` must not be tried before `at` (a `Retry-After`); a later call replaces
    /// the earlier instant. Out of range: ignored.
    pub fn hold_until(&mut self, index: usize, at: Instant) {
        if let Some(health) = self.health.get_mut(index) {
            health.not_before = Some(at);
        }
    }

    /// Forgets every failure: all endpoints live and free, the first one current, the
    /// cycle count at zero (a connection brought back after it ended).
    pub fn revive(&mut self) {
        self.health.fill(Health::default());
        self.current = 0;
        self.cycles = 0;
    }

    /// Starts counting cycles from zero again, so that the backoff starts from its
    /// first step (call it when the attempt counter was reset by a stable link).
    pub fn reset_cycles(&mut self) {
        self.cycles = 0;
    }

    /// The current endpoint failed: choose the next one and make it current. `None`
    /// when every endpoint is dead.
    ///
    /// Candidates are the live endpoints in list order after the current one, wrapping
    /// around to the current one last. The first whose `Retry-After` has passed by
    /// `now` wins; when every live one is held back, the one free soonest wins. Landing
    /// on or before the current index completes a cycle.
    pub fn advance(&mut self, now: Instant) -> Option<Choice> {
        let count = self.health.len();
        let candidates = (1..=count).map(|step| (self.current + step) % count);
        let live: Vec<usize> = candidates.filter(|&i| !self.health[i].dead).collect();
        let remaining = |i: usize| {
            self.health[i]
                .not_before
                .map(|at| at.saturating_duration_since(now))
                .filter(|left| !left.is_zero())
        };
        let index = live
            .iter()
            .copied()
            .find(|&i| remaining(i).is_none())
            .or_else(|| live.iter().copied().min_by_key(|&i| remaining(i)))?;
        let not_before = remaining(index);
        if not_before.is_none() {
            self.health[index].not_before = None;
        }
        let cycle = if index <= self.current {
            let step = self.cycles;
            self.cycles = self.cycles.saturating_add(1);
            Some(step)
        } else {
            None
        };
        self.current = index;
        Some(Choice {
            index,
            cycle,
            not_before,
        })
    }
}
