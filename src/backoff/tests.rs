use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn config(jitter_percent: u8, strategy: JitterStrategy) -> ResiliencyConfig {
    ResiliencyConfig::builder()
        .jitter_percent(jitter_percent)
        .jitter(strategy)
        .build()
        .unwrap()
}

/// Lower bound of the proportional envelope in integer nanoseconds:
/// `ceiling - floor(ceiling * j / 100)`, i.e. at least `(1 - j/100) * ceiling`.
fn proportional_floor(ceiling: Duration, percent: u8) -> Duration {
    let c = ceiling.as_nanos();
    let lo = c - c * u128::from(percent) / 100;
    Duration::new(
        u64::try_from(lo / 1_000_000_000).unwrap(),
        (lo % 1_000_000_000) as u32,
    )
}

#[test]
fn reference_2_doubling_without_jitter() {
    let mut b = Backoff::with_seed(&config(0, JitterStrategy::Proportional), 1);
    let delays: Vec<Duration> = (0..4).map(|n| b.delay(n)).collect();
    assert_eq!(delays, [secs(1), secs(2), secs(4), secs(8)]);
}

#[test]
fn reference_3_capped_at_max_backoff() {
    let mut b = Backoff::with_seed(&config(0, JitterStrategy::Proportional), 1);
    assert_eq!(b.delay(10), secs(30));
    assert_eq!(b.delay(20), secs(30));
    // The cap applies from attempt 5 on (2^5 = 32 s > 30 s).
    assert_eq!(b.delay(4), secs(16));
    assert_eq!(b.delay(5), secs(30));
}

#[test]
fn reference_4_jitter_stays_in_envelope_and_varies() {
    let cfg = config(20, JitterStrategy::Proportional);
    let low = Duration::from_millis(6400);
    for seed in [0, 1, 2, 42, 1234, u64::MAX] {
        let mut b = Backoff::with_seed(&cfg, seed);
        let d = b.delay(3);
        assert!(d >= low && d <= secs(8), "seed {seed}: {d:?}");

        let mut b = Backoff::with_seed(&cfg, seed);
        let varied = (0..=4).any(|n| b.delay(n) != secs(1 << n));
        assert!(varied, "seed {seed}: all delays were exact powers of two");
    }
    // Repeatable for a fixed seed.
    let a: Vec<_> = {
        let mut b = Backoff::with_seed(&cfg, 7);
        (0..5).map(|n| b.delay(n)).collect()
    };
    let mut b = Backoff::with_seed(&cfg, 7);
    let again: Vec<_> = (0..5).map(|n| b.delay(n)).collect();
    assert_eq!(a, again);
}

#[test]
fn ceiling_saturates_for_huge_base() {
    let cfg = ResiliencyConfig::builder()
        .base_backoff(Duration::MAX)
        .max_backoff(Duration::MAX)
        .build()
        .unwrap();
    let mut b = Backoff::with_seed(&cfg, 0);
    assert_eq!(b.ceiling(u32::MAX), Duration::MAX);
    assert!(b.delay(u32::MAX) <= Duration::MAX);
}

#[test]
fn os_seeded_backoffs_differ() {
    let cfg = config(20, JitterStrategy::Full);
    let mut a = Backoff::new(&cfg);
    let mut b = Backoff::new(&cfg);
    let differs = (0..8).any(|n| a.delay(n) != b.delay(n));
    assert!(differs, "two OS-seeded backoffs produced identical delays");
}

#[test]
fn reset_forgets_decorrelated_history() {
    let cfg = ResiliencyConfig::builder()
        .base_backoff(secs(1))
        .max_backoff(secs(1_000_000))
        .jitter(JitterStrategy::Decorrelated)
        .build()
        .unwrap();
    let mut b = Backoff::with_seed(&cfg, 5);
    for _ in 0..50 {
        b.delay(0);
    }
    // After 50 draws the history has grown far beyond 3 s; a reset must bring
    // the next draw back into [base, 3 * base].
    assert!(b.delay(0) > secs(3));
    b.reset();
    let d = b.delay(0);
    assert!(d >= secs(1) && d <= secs(3), "{d:?}");
}

#[test]
fn strategy_and_debug_reflect_config() {
    let b = Backoff::with_seed(&config(20, JitterStrategy::Decorrelated), 0);
    assert_eq!(b.strategy(), JitterStrategy::Decorrelated);
    let debug = format!("{b:?}");
    assert!(debug.starts_with("Backoff {") && debug.contains("Decorrelated"));
    assert!(!debug.contains("rng"));
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        4 => (1u64..=u64::MAX).prop_map(Duration::from_nanos),
        2 => (1u64..=u64::MAX, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        1 => Just(Duration::MAX),
    ]
}

fn strategy() -> impl Strategy<Value = JitterStrategy> {
    prop_oneof![
        Just(JitterStrategy::Proportional),
        Just(JitterStrategy::Full),
        Just(JitterStrategy::Decorrelated),
    ]
}

/// Any configuration that `build` accepts, as far as backoff is concerned.
fn valid_config() -> impl Strategy<Value = ResiliencyConfig> {
    (duration(), duration(), 0u8..=100, strategy()).prop_map(|(a, b, j, s)| {
        ResiliencyConfig::builder()
            .base_backoff(a.min(b))
            .max_backoff(a.max(b))
            .jitter_percent(j)
            .jitter(s)
            .build()
            .unwrap()
    })
}

fn attempt() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..70, any::<u32>(), Just(u32::MAX)]
}

proptest! {
    #[test]
    fn delay_within_envelope(
        cfg in valid_config(),
        seed in any::<u64>(),
        attempts in proptest::collection::vec(attempt(), 1..20),
    ) {
        let mut b = Backoff::with_seed(&cfg, seed);
        let mut prev = cfg.base_backoff();
        for n in attempts {
            let ceiling = b.ceiling(n);
            let d = b.delay(n);
            match cfg.jitter() {
                JitterStrategy::Proportional => {
                    prop_assert!(d <= ceiling);
                    prop_assert!(d >= proportional_floor(ceiling, cfg.jitter_percent()));
                }
                JitterStrategy::Full => prop_assert!(d <= ceiling),
                JitterStrategy::Decorrelated => {
                    prop_assert!(d >= cfg.base_backoff() && d <= cfg.max_backoff());
                    // Each draw is at most three times the previous delay.
                    prop_assert!(d <= prev.saturating_mul(3));
                    prev = d;
                }
            }
        }
    }

    #[test]
    fn ceiling_monotone_and_capped(cfg in valid_config(), a in attempt(), b in attempt()) {
        let backoff = Backoff::with_seed(&cfg, 0);
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(backoff.ceiling(lo) <= backoff.ceiling(hi));
        prop_assert!(backoff.ceiling(hi) <= cfg.max_backoff());
        prop_assert_eq!(backoff.ceiling(0), cfg.base_backoff());
        prop_assert!(backoff.ceiling(lo.saturating_add(1)) >= backoff.ceiling(lo));
    }

    #[test]
    fn zero_jitter_is_exact_ceiling(cfg in valid_config(), seed in any::<u64>(), n in attempt()) {
        let cfg = cfg
            .to_builder()
            .jitter(JitterStrategy::Proportional)
            .jitter_percent(0)
            .build()
            .unwrap();
        let mut b = Backoff::with_seed(&cfg, seed);
        prop_assert_eq!(b.delay(n), b.ceiling(n));
    }

    #[test]
    fn different_seeds_give_different_delays(
        base_ms in 1u64..10_000,
        spread in 4u32..1000,
        percent in 1u8..=100,
        strategy in strategy(),
        s1 in any::<u64>(),
        s2 in any::<u64>(),
    ) {
        prop_assume!(s1 != s2);
        // Ranges of at least 10 µs (1 % of 1 ms) in nanoseconds, and max >= 4 * base
        // so decorrelated draws are not all clamped to max: a collision on every
        // one of 32 attempts is astronomically unlikely unless seeding is broken.
        let base = Duration::from_millis(base_ms);
        let cfg = ResiliencyConfig::builder()
            .base_backoff(base)
            .max_backoff(base * spread)
            .jitter_percent(percent)
            .jitter(strategy)
            .build()
            .unwrap();
        let mut a = Backoff::with_seed(&cfg, s1);
        let mut b = Backoff::with_seed(&cfg, s2);
        let differs = (0..32).any(|n| a.delay(n) != b.delay(n));
        prop_assert!(differs);
    }
}

proptest! {
    /// A heartbeat phase lies in `[period / 2, period]`, and a fleet's phases spread out.
    #[test]
    fn phases_lie_in_the_upper_half_of_the_period_and_differ(
        period_ms in 2u64..100_000,
        seeds in prop::collection::vec(any::<u64>(), 32),
    ) {
        let period = Duration::from_millis(period_ms);
        let cfg = ResiliencyConfig::default();
        let phases: Vec<Duration> = seeds
            .iter()
            .map(|seed| Backoff::with_seed(&cfg, *seed).phase(period))
            .collect();
        for phase in &phases {
            prop_assert!(*phase >= period / 2 && *phase <= period, "{:?} outside for {:?}", phase, period);
        }
        let mut distinct = phases.clone();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert!(distinct.len() > 1, "every connection got the same phase");
    }
}
