//! Shared end-to-end test support: a controllable WebSocket server on loopback and
//! small async helpers.
//!
//! The `e2e` test binary includes it as `crate::support`; a test binary of its own
//! includes it with `mod support;`. Everything here must run
//! inside an actix `System`, so use `#[actix_web::test]` or `#[actix::test]`, never
//! `#[tokio::test]`.
//!
//! Items are `pub(crate)`: a test binary's `support` module is private, so `pub` would
//! trip the workspace's `unreachable_pub` lint (an error under clippy `-D warnings`).
//! Every test crate root also needs a `//!` doc (workspace `missing_docs`).
#![allow(dead_code)]

mod accounting;
mod crash;
mod example;
mod gated;
mod ledger;
mod proxies;
mod proxy;
mod raw;
mod recorder;
mod server;
mod tls;
mod verdict;

use std::time::Duration;

// A glob, so that a test binary using only some of these gets no unused-import warning.
// Not every test binary uses the recorder (the harness self-tests do not).
#[allow(unused_imports)]
pub(crate) use recorder::*;
// Only the proxy harness and chaos tests use the proxy.
#[allow(unused_imports)]
pub(crate) use proxy::*;
// Only the hostile-server tests use the scripted raw server.
#[allow(unused_imports)]
pub(crate) use raw::*;
// Only the reliability tests run accounting rounds.
#[allow(unused_imports)]
pub(crate) use accounting::*;
// Not every test binary looks at what the server recorded.
#[allow(unused_imports)]
pub(crate) use ledger::*;
pub(crate) use server::*;
// Only the hostile-server tests use the verdicts.
#[allow(unused_imports)]
pub(crate) use verdict::*;
// Only crash tests kill and restart child processes.
#[allow(unused_imports)]
pub(crate) use crash::*;
// Only the tests that run an example as a child process build one.
#[allow(unused_imports)]
pub(crate) use example::*;
// Only the stuck-subscriber tests use a gated subscriber.
#[allow(unused_imports)]
pub(crate) use gated::*;
// Only the transport tests use real proxies and the TLS echo server.
#[allow(unused_imports)]
pub(crate) use proxies::*;
#[allow(unused_imports)]
pub(crate) use tls::*;

/// How often [`wait_until`] re-checks its condition.
const POLL_EVERY: Duration = Duration::from_millis(5);

/// Polls `cond` every few milliseconds until it returns `true` or `timeout` has passed.
///
/// Returns whether the condition became true; the condition is checked one last time at
/// the deadline. Use it instead of fixed sleeps, e.g.
/// `assert!(wait_until(Duration::from_secs(5), || server.open_sessions() == 1).await)`.
pub(crate) async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Installs tracing ([`init_tracing`]) and starts an echo [`TestServer`]: the usual
/// first line of an end-to-end test.
pub(crate) async fn setup() -> TestServer {
    init_tracing();
    TestServer::start().await
}

/// Installs a `tracing` subscriber writing to the test output, filtered by `RUST_LOG`
/// (default `warn`). Safe to call from every test: only the first call installs it.
pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
