//! Fuzzes the runtime-free core as the connection actor drives it: state machine,
//! backoff and the outbox (buffer and unconfirmed window) together, under arbitrary event
//! sequences decoded from the fuzzer's bytes.
//!
//! The model and every invariant it checks live in `src/state/fuzz/model.rs`, shared
//! with the proptest driver that `cargo test -p tether --lib` runs. Run this with
//! `cargo +nightly fuzz run core` (from the repository root, `cargo install cargo-fuzz`
//! first); a failed invariant panics with its message.

#![no_main]

use libfuzzer_sys::fuzz_target;

/// The core's types, as the shared model names them.
mod api {
    pub(crate) use tether::{
        Backoff, BufferItem, ConnectionState, DeliveryMode, JitterStrategy, OverflowPolicy,
        Outbox, ResiliencyConfig, StateMachine, TransitionError,
    };
}

#[path = "../../src/state/fuzz/model.rs"]
#[allow(dead_code)] // `Msg`'s fields and `ALL_STATES` serve the proptest driver too.
mod model;

fuzz_target!(|data: &[u8]| {
    let mut input = model::Input(data);
    let config = input.config();
    let seed = input.u64();
    let ops = std::iter::from_fn(|| input.op());
    if let Err(failure) = model::run(config, seed, ops) {
        panic!("{failure}");
    }
});
