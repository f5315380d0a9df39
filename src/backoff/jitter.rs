use std::time::Duration;

use rand::rngs::SmallRng;
use rand::Rng;

/// How a reconnect delay is randomised around its exponential ceiling.
///
/// With `ceiling(n) = min(max, base * 2^min(n, 31))` for attempt `n`
/// (see [`Backoff::ceiling`](crate::Backoff::ceiling)):
///
/// | strategy | delay | range |
/// |---|---|---|
/// | [`Proportional`](Self::Proportional) | `U((1 - j/100) * ceiling(n), ceiling(n))` | at most `ceiling(n)` |
/// | [`Full`](Self::Full) | `U(0, ceiling(n))` | at most `ceiling(n)` |
/// | [`Decorrelated`](Self::Decorrelated) | `min(max, U(base, prev * 3))` | `[base, max]` |
///
/// Random values are drawn per connection, so a fleet of clients does not
/// reconnect in lock-step after a server restart.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JitterStrategy {
    /// Subtracts a random share of up to `jitter_percent` % from the ceiling
    /// (the reference envelope). `jitter_percent = 0` gives exactly the ceiling.
    #[default]
    Proportional,
    /// "Full jitter": uniformly random between zero and the ceiling.
    /// Ignores `jitter_percent`.
    Full,
    /// "Decorrelated jitter": random between `base` and three times the previous
    /// delay, capped at `max`. Ignores the attempt number and `jitter_percent`;
    /// its history is cleared by [`Backoff::reset`](crate::Backoff::reset).
    Decorrelated,
}

/// Delay uniformly random in `[(1 - percent/100) * ceiling, ceiling]`.
pub(super) fn proportional(rng: &mut SmallRng, ceiling: Duration, percent: u8) -> Duration {
    let hi = ceiling.as_nanos();
    // Percent above 100 is impossible from a validated config; clamp instead of underflowing.
    let share = u128::from(percent.min(100));
    // hi <= Duration::MAX in nanos (< 2^94), so `hi * 100` cannot overflow u128.
    let lo = hi.saturating_sub(hi.saturating_mul(share) / 100);
    from_nanos(uniform(rng, lo, hi))
}

/// Delay uniformly random in `[0, ceiling]`.
pub(super) fn full(rng: &mut SmallRng, ceiling: Duration) -> Duration {
    from_nanos(uniform(rng, 0, ceiling.as_nanos()))
}

/// Delay `min(max, U(base, prev * 3))`.
pub(super) fn decorrelated(
    rng: &mut SmallRng,
    base: Duration,
    max: Duration,
    prev: Duration,
) -> Duration {
    let lo = base.as_nanos();
    // prev >= base in practice; max() keeps the range non-empty regardless.
    let hi = prev.saturating_mul(3).as_nanos().max(lo);
    from_nanos(uniform(rng, lo, hi)).min(max)
}

/// Uniform sample in `[lo, hi]` (nanoseconds); `lo` when the range is empty or a point.
fn uniform(rng: &mut SmallRng, lo: u128, hi: u128) -> u128 {
    if lo >= hi {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Converts nanoseconds back to a `Duration`, saturating at `Duration::MAX`.
fn from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(nanos / NANOS_PER_SEC) {
        // The remainder is below 10^9, so it fits u32 and `Duration::new` cannot carry over.
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn from_nanos_round_trips_and_saturates() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::new(3, 999_999_999),
            Duration::MAX,
        ] {
            assert_eq!(from_nanos(d.as_nanos()), d);
        }
        assert_eq!(from_nanos(u128::MAX), Duration::MAX);
    }

    #[test]
    fn uniform_handles_point_and_inverted_ranges() {
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(uniform(&mut rng, 5, 5), 5);
        assert_eq!(uniform(&mut rng, 9, 3), 9);
        let v = uniform(&mut rng, 0, u128::MAX);
        let w = uniform(&mut rng, 0, u128::MAX);
        assert_ne!(v, w, "a full-width range should virtually never repeat");
    }

    #[test]
    fn proportional_with_full_percent_can_reach_zero_range() {
        let mut rng = SmallRng::seed_from_u64(7);
        let ceiling = Duration::from_secs(1);
        for _ in 0..100 {
            assert!(proportional(&mut rng, ceiling, 100) <= ceiling);
        }
        assert_eq!(proportional(&mut rng, ceiling, 0), ceiling);
    }

    #[test]
    fn decorrelated_never_below_base_nor_above_max() {
        let mut rng = SmallRng::seed_from_u64(3);
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(250);
        let mut prev = base;
        for _ in 0..100 {
            prev = decorrelated(&mut rng, base, max, prev);
            assert!(prev >= base && prev <= max, "{prev:?}");
        }
    }
}
