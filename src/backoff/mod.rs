//! Exponential reconnect delays with per-connection random jitter.

mod jitter;

#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::{Duration, SystemTime};

use rand::rngs::SmallRng; // 32 bytes per connection; jitter needs no CSPRNG
use rand::SeedableRng;

pub use jitter::JitterStrategy;

use crate::ResiliencyConfig;

/// Largest exponent of the doubling; `2^31` still fits a `u32` multiplier.
const MAX_EXPONENT: u32 = 31;

/// Computes the delay before each reconnect attempt.
///
/// The ceiling for attempt `n` (0 = first retry) is
/// `min(max_backoff, base_backoff * 2^min(n, 31))` with saturating
/// multiplication, so it never overflows whatever the attempt number. The
/// actual delay is drawn from that envelope by the configured
/// [`JitterStrategy`].
///
/// Each `Backoff` owns its random generator: [`new`](Self::new) seeds it from
/// the operating system so clients of a fleet spread their reconnects, and
/// [`with_seed`](Self::with_seed) makes a sequence repeatable for tests.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tether::{Backoff, ResiliencyConfig};
///
/// let config = ResiliencyConfig::default(); // 1 s doubling up to 30 s, 20 % jitter
/// let mut backoff = Backoff::with_seed(&config, 42);
/// assert_eq!(backoff.ceiling(3), Duration::from_secs(8));
/// let delay = backoff.delay(3);
/// assert!(delay >= Duration::from_millis(6400) && delay <= Duration::from_secs(8));
/// assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    jitter_percent: u8,
    strategy: JitterStrategy,
    rng: SmallRng,
    /// Last decorrelated delay; `base` when there is no history.
    prev: Duration,
}

impl Backoff {
    /// Creates a backoff seeded from operating-system entropy.
    ///
    /// Every connection gets its own random sequence, unlike the reference
    /// design whose "jitter" was a hash of the attempt number and so identical
    /// across a fleet (a thundering herd after a server restart).
    pub fn new(config: &ResiliencyConfig) -> Self {
        let rng = SmallRng::try_from_os_rng()
            .unwrap_or_else(|_| SmallRng::seed_from_u64(fallback_seed()));
        Self::with_rng(config, rng)
    }

    /// Creates a backoff whose random sequence is fully determined by `seed`.
    pub fn with_seed(config: &ResiliencyConfig, seed: u64) -> Self {
        Self::with_rng(config, SmallRng::seed_from_u64(seed))
    }

    fn with_rng(config: &ResiliencyConfig, rng: SmallRng) -> Self {
        Self {
            base: config.base_backoff(),
            max: config.max_backoff(),
            jitter_percent: config.jitter_percent(),
            strategy: config.jitter(),
            rng,
            prev: config.base_backoff(),
        }
    }

    /// Deterministic upper bound for `attempt`: `min(max, base * 2^min(attempt, 31))`.
    ///
    /// Non-decreasing in `attempt` and never above `max_backoff`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.min(MAX_EXPONENT);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Randomised delay before reconnect attempt `attempt` (0 = first retry).
    ///
    /// Never above [`ceiling(attempt)`](Self::ceiling) for
    /// [`JitterStrategy::Proportional`] and [`JitterStrategy::Full`]; always
    /// within `[base_backoff, max_backoff]` for [`JitterStrategy::Decorrelated`],
    /// which ignores `attempt` and advances its own history instead.
    pub fn delay(&mut self, attempt: u32) -> Duration {
        match self.strategy {
            JitterStrategy::Proportional => {
                let ceiling = self.ceiling(attempt);
                jitter::proportional(&mut self.rng, ceiling, self.jitter_percent)
            }
            JitterStrategy::Full => {
                let ceiling = self.ceiling(attempt);
                jitter::full(&mut self.rng, ceiling)
            }
            JitterStrategy::Decorrelated => {
                let delay = jitter::decorrelated(&mut self.rng, self.base, self.max, self.prev);
                self.prev = delay;
                delay
            }
        }
    }

    /// Forgets the decorrelated history, e.g. after a stable connection.
    ///
    /// The random generator keeps its position, so later delays still differ
    /// from those of other connections.
    pub fn reset(&mut self) {
        self.prev = self.base;
    }

    /// A random phase for a periodic timer of `period`, uniform in `[period / 2,
    /// period]`: the first heartbeat of a link waits this long, so a fleet that
    /// (re)connected at the same moment does not ping in step.
    ///
    /// Uses the same generator as the delays (seeded with [`with_seed`](Self::with_seed)
    /// for repeatable tests).
    pub fn phase(&mut self, period: Duration) -> Duration {
        let half = period / 2;
        half + jitter::full(&mut self.rng, period - half)
    }

    /// The jitter strategy in use.
    pub fn strategy(&self) -> JitterStrategy {
        self.strategy
    }
}

// Manual impl: the generator's internal state is noise in logs.
impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("base", &self.base)
            .field("max", &self.max)
            .field("jitter_percent", &self.jitter_percent)
            .field("strategy", &self.strategy)
            .field("prev", &self.prev)
            .finish_non_exhaustive()
    }
}

/// Seed used only if the OS entropy source fails: std's per-process random
/// hash keys mixed with the clock, so the no-panic path still differs per client.
fn fallback_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    if let Ok(since_epoch) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        since_epoch.as_nanos().hash(&mut hasher);
    }
    hasher.finish()
}
