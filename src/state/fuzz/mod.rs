//! Property-based state-machine test of the whole core, driven as the actor drives it.
//!
//! The model and its invariants are in [`model`] (shared with the cargo-fuzz target in
//! `fuzz/`); this module feeds it arbitrary configurations and event sequences with
//! proptest, and the same byte decoder the fuzz target uses with seeded random bytes, so
//! that both drivers run under `cargo test`.

mod model;

/// The core's types, as [`model`] names them.
mod api {
    pub(super) use crate::{
        Backoff, BufferItem, ConnectionState, DeliveryMode, JitterStrategy, Outbox, OverflowPolicy,
        ResiliencyConfig, StateMachine, TransitionError, UnconfirmedWindow,
    };
}

use std::time::Duration;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use api::{DeliveryMode, JitterStrategy, OverflowPolicy, ResiliencyConfig, UnconfirmedWindow};
use model::{run, Input, Msg, Op, ALL_STATES};

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0_usize..24).prop_map(Op::Send),
        4 => Just(Op::Dial),
        4 => Just(Op::ConnectOk),
        // Mostly retried failures, so that sequences reconnect several times.
        3 => proptest::bool::weighted(0.1).prop_map(|final_| Op::Fail { final_ }),
        4 => (1_usize..5).prop_map(Op::Write),
        2 => Just(Op::Ping),
        3 => (0_usize..4).prop_map(Op::Pong),
        1 => (0_usize..8).prop_map(Op::LatePong),
        // Close is rare for the same reason; the test closes at the end anyway.
        1 => proptest::bool::weighted(0.15)
            .prop_map(|close| if close { Op::Close } else { Op::Refresh }),
        4 => (0_u64..3_000).prop_map(Op::Advance),
        2 => proptest::sample::select(ALL_STATES.to_vec()).prop_map(Op::Raw),
    ]
}

fn config() -> impl Strategy<Value = ResiliencyConfig> {
    (
        (1_u64..1_000, 0_u64..5_000, 0_u8..=100),
        proptest::sample::select(vec![
            JitterStrategy::Proportional,
            JitterStrategy::Full,
            JitterStrategy::Decorrelated,
        ]),
        (proptest::option::of(0_u32..6), 0_u64..3_000),
        (1_usize..6, proptest::option::of(1_usize..64), any::<bool>()),
        (1_usize..6, any::<bool>()),
    )
        .prop_map(
            |(
                (base, extra, jitter),
                strategy,
                (max_attempts, stable),
                (size, bytes, drop_oldest),
                (window, at_least_once),
            )| {
                ResiliencyConfig::builder()
                    .base_backoff(Duration::from_millis(base))
                    .max_backoff(Duration::from_millis(base + extra))
                    .jitter_percent(jitter)
                    .jitter(strategy)
                    .max_reconnect_attempts(max_attempts)
                    .stable_uptime(Duration::from_millis(stable))
                    .message_buffer_size(size)
                    .message_buffer_bytes(bytes)
                    .overflow_policy(if drop_oldest {
                        OverflowPolicy::DropOldest
                    } else {
                        OverflowPolicy::RejectNew
                    })
                    .unconfirmed_window(window)
                    .delivery(if at_least_once {
                        DeliveryMode::AtLeastOnce
                    } else {
                        DeliveryMode::AtMostOnce
                    })
                    .build()
                    .expect("generated configs are valid")
            },
        )
}

proptest! {
    #[test]
    fn the_core_keeps_its_invariants_under_arbitrary_events(
        config in config(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        run(config, seed, ops).map_err(TestCaseError::fail)?;
    }

    /// A pong carrying an id the window never handed out (a server's own unsolicited
    /// pong with an 8-byte payload, say) must release nothing, as `confirm` documents.
    #[test]
        fn forged_pong_ids_release_nothing(
        writes in proptest::collection::vec(any::<bool>(), 1..40),
        forged in any::<u64>(),
    ) {
        let mut window: UnconfirmedWindow<Msg> = UnconfirmedWindow::new(usize::MAX, None);
        let mut handed_out = 0_u64;
        for (id, checkpoint) in writes.into_iter().enumerate() {
            window.record(Msg { id, len: 1 });
            if checkpoint {
                window.checkpoint();
                handed_out += 1;
            }
        }
        let forged = forged.max(handed_out);
        let before = window.len();
        prop_assert!(window.confirm(forged).is_empty(), "id {} released messages", forged);
        prop_assert_eq!(window.len(), before);
    }
}

/// The fuzz target's decoder on seeded random bytes: a smoke run of what
/// `cargo +nightly fuzz run core` explores, so the decoder stays correct on stable.
#[test]
fn byte_driven_sequences_keep_invariants() {
    let mut rng = StdRng::seed_from_u64(0x7e7e);
    for case in 0..200 {
        let mut bytes = vec![0_u8; rng.random_range(0..600)];
        rng.fill(&mut bytes[..]);
        let mut input = Input(&bytes);
        let config = input.config();
        let seed = input.u64();
        let ops = std::iter::from_fn(|| input.op());
        if let Err(failure) = run(config, seed, ops) {
            panic!("case {case} ({bytes:?}): {failure}");
        }
    }
}
