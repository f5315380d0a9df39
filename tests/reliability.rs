//! End-to-end reliability: nothing lost across a seeded storm of outages, bounded
//! memory under a fast producer and a flooding server, and a long soak.
//!
//! The soak runs for `TETHER_SOAK_SECS` seconds (default 600): `cargo test --test
//! reliability -- --ignored soak`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, WrapFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use support::{
    account, connect, recorded, setup, wait_status, wait_until, Accounting, ChaosSchedule, Events,
    Fault, FaultProxy, ServerMessage,
};
use tether_actix::message;
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryError, DeliveryMode, Incoming, IncomingBatch,
};

/// The resident set size of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

fn storm(seed: u64) -> ChaosSchedule {
    ChaosSchedule::new(
        seed,
        24,
        Duration::from_millis(250),
        Duration::from_millis(120),
    )
}

#[actix_web::test]
async fn at_least_once_loses_nothing_through_a_seeded_storm() {
    let server = setup().await;
    let report = account(
        &server,
        DeliveryMode::AtLeastOnce,
        0,
        20_000,
        2_500,
        storm(7),
    )
    .await;
    println!("at-least-once: {report}");
    assert!(report.outages >= 20);
    assert!(report.reconnects >= 1);
}

#[actix_web::test]
async fn at_most_once_reports_everything_it_may_have_lost() {
    let server = setup().await;
    let report = account(
        &server,
        DeliveryMode::AtMostOnce,
        0,
        20_000,
        2_500,
        storm(11),
    )
    .await;
    println!("at-most-once: {report}");
    assert!(report.outages >= 20);
    assert_eq!(report.duplicates, 0);
}

#[actix_web::test]
async fn a_fast_producer_against_a_slow_reader_is_held_back_with_bounded_memory() {
    let server = setup().await;
    let proxy = FaultProxy::start(server.addr()).await;
    // The server's side of the link drains at 256 KiB/s.
    proxy.set_fault(Fault::Bandwidth {
        bytes_per_sec: 256 * 1024,
    });
    let (connection, events) = connect(&proxy.url("/ws"), |config| config);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    let payload = "x".repeat(1024);
    let before = rss();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut in_flight = FuturesUnordered::new();
    let (mut accepted, mut refused, mut offered) = (0_usize, 0_usize, 0_usize);
    // As fast as it can, 64 sends in flight at a time, for three seconds.
    while Instant::now() < deadline {
        while in_flight.len() < 64 {
            in_flight.push(connection.send(message::Outgoing::text(payload.clone())));
            offered += 1;
        }
        match in_flight.next().await.expect("non-empty").expect("alive") {
            Ok(_) => accepted += 1,
            Err(DeliveryError::BufferFull { .. }) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    let growth = rss().saturating_sub(before);
    let (status, _) = wait_status(&connection, |_| true).await;
    println!(
        "fast producer: offered {offered}, accepted {accepted}, refused {refused}, \
         rss growth {} KiB, {status:?}",
        growth / 1024
    );
    // Unbounded buffering would hold every offered KiB; tether holds a buffer and a
    // window (256 messages each by default) plus socket buffers.
    assert!(growth < 48 * 1024 * 1024, "memory grew by {growth} bytes");
    assert!(
        status.buffered <= 256 && status.unconfirmed <= 256,
        "{status:?}"
    );
    // The link could carry ~768 KiB in three seconds: the producer was held back.
    assert!(accepted < 2_000, "accepted {accepted}: no back-pressure");
}

/// Handles each message slowly: a subscriber that cannot keep up.
struct SlowSubscriber {
    handled: Arc<AtomicUsize>,
}

impl Actor for SlowSubscriber {
    type Context = Context<Self>;
}

impl Handler<Incoming> for SlowSubscriber {
    type Result = ();

    fn handle(&mut self, _incoming: Incoming, ctx: &mut Context<Self>) {
        self.handled.fetch_add(1, Ordering::SeqCst);
        // Holds the mailbox for a moment, as real work would.
        ctx.wait(tokio::time::sleep(Duration::from_micros(300)).into_actor(self));
    }
}

#[actix_web::test]
async fn a_flooding_server_is_slowed_down_instead_of_filling_memory() {
    let server = setup().await;
    let handled = Arc::new(AtomicUsize::new(0));
    let slow = SlowSubscriber {
        handled: Arc::clone(&handled),
    }
    .start();
    let (builder, events): (_, Events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(|config| {
                support::quick(config)
                    .heartbeat_interval(Duration::from_millis(100))
                    .heartbeat_timeout(Duration::from_millis(200))
            })
            .on_incoming(slow.recipient()),
    );
    let connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    const FLOOD: usize = 3_000;
    let chunk = "y".repeat(1024);
    for n in 0..FLOOD {
        server.send_all(ServerMessage::Text(format!("{n}:{chunk}")));
    }
    // Messages read from the socket but not yet handled by the subscriber: bounded by
    // its mailbox (actix's default of 16), the one message it is handling, and one
    // read's group (`IncomingBatch::MAX_MESSAGES`), which the faster recorder may take
    // whole while the slow subscriber's share waits; whatever the server does.
    let mut most_ahead = 0;
    let finished = wait_until(Duration::from_secs(30), || {
        let handled = handled.load(Ordering::SeqCst);
        let received = events.incoming().len();
        most_ahead = most_ahead.max(received.saturating_sub(handled));
        handled == FLOOD
    })
    .await;
    let (status, _) = wait_status(&connection, |_| true).await;
    println!("flood: most read ahead of the slow subscriber {most_ahead}, {status:?}");
    assert!(
        finished,
        "handled {} of {FLOOD}",
        handled.load(Ordering::SeqCst)
    );
    assert_eq!(status.counters.received, FLOOD as u64);
    assert!(
        most_ahead <= 16 + 1 + IncomingBatch::MAX_MESSAGES,
        "read {most_ahead} messages ahead of the subscriber"
    );
    assert_eq!(
        events.times_entered(ConnectionState::Disconnected),
        0,
        "no false heartbeat timeout"
    );
    // In order.
    let firsts: Vec<usize> = events
        .incoming_texts()
        .iter()
        .map(|text| {
            text.split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("numbered")
        })
        .collect();
    assert_eq!(firsts, (0..FLOOD).collect::<Vec<_>>());
}

/// Rounds run before the memory baseline is taken. The first rounds grow RSS to its
/// working size (allocator arenas and caches, actix and tokio internals, code paths
/// first taken; 16.6 to 17.2 MiB measured); after them a round allocates and frees the
/// same amounts again.
const WARM_UP_ROUNDS: u64 = 4;

/// How far RSS may grow from the end of the warm-up to the end of the soak.
///
/// Measured (debug build, two 600 s runs of 157 rounds): RSS grew 0.3 and 0.5 MiB after
/// the warm-up (0.6 MiB at its highest), mostly in the next fifteen rounds, and then
/// levelled off; 60 s runs grew 0.1 MiB. Under heaptrack the heap itself peaks at 1.3 MiB
/// and falls back to a few hundred KiB between rounds; the rest of RSS is code and
/// stacks. 2 MiB leaves room for that noise yet catches, in the 60 s version's dozen
/// rounds after the warm-up, anything that keeps 35 bytes or more per message sent
/// (keeping every message the server received costs about 97).
const RSS_ALLOWANCE: usize = 2 * 1024 * 1024;

/// Counts summed over the soak's rounds of one delivery mode.
#[derive(Debug, Default)]
struct Totals {
    rounds: usize,
    sent: usize,
    outages: usize,
    reconnects: usize,
    lost: usize,
    reported_undelivered: usize,
    duplicates: usize,
    strays: usize,
}

impl Totals {
    fn add(&mut self, round: &Accounting) {
        self.rounds += 1;
        self.sent += round.sent;
        self.outages += round.outages;
        self.reconnects += round.reconnects;
        self.lost += round.lost;
        self.reported_undelivered += round.reported_undelivered;
        self.duplicates += round.duplicates;
        self.strays += round.strays;
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rounds, sent {}, outages {}, reconnects {}, lost {}, reported undelivered {}, \
             duplicates {}, strays {}",
            self.rounds,
            self.sent,
            self.outages,
            self.reconnects,
            self.lost,
            self.reported_undelivered,
            self.duplicates,
            self.strays
        )
    }
}

/// RSS at the points the soak reports, in bytes.
#[derive(Debug, Default)]
struct Memory {
    first: usize,
    warm: usize,
    middle: usize,
    last: usize,
    peak: usize,
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rss first {:.1} MiB, after warm-up {:.1} MiB, middle {:.1} MiB, last {:.1} MiB, \
             peak {:.1} MiB",
            mib(self.first),
            mib(self.warm),
            mib(self.middle),
            mib(self.last),
            mib(self.peak)
        )
    }
}

/// Chaos for `TETHER_SOAK_SECS` (default 600) seconds in rounds of the accounting test,
/// alternating modes: accounting must hold in every round, and once warmed up, memory
/// must stay flat.
#[actix_web::test]
#[ignore = "long: run with `cargo test --test reliability -- --ignored soak`"]
async fn soak() {
    let seconds: u64 = std::env::var("TETHER_SOAK_SECS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(600);
    let length = Duration::from_secs(seconds);
    let server = setup().await;
    let started = Instant::now();
    let (mut at_least_once, mut at_most_once) = (Totals::default(), Totals::default());
    let mut memory = Memory::default();
    let mut round = 0_u64;
    let mut first = 0;
    while started.elapsed() < length {
        let mode = if round % 2 == 0 {
            DeliveryMode::AtLeastOnce
        } else {
            DeliveryMode::AtMostOnce
        };
        let schedule = ChaosSchedule::new(
            round,
            12,
            Duration::from_millis(250),
            Duration::from_millis(120),
        );
        // The round's records are dropped here; only its counts are kept.
        let report = account(&server, mode, first, 5_000, 2_500, schedule).await;
        match mode {
            DeliveryMode::AtLeastOnce => at_least_once.add(&report),
            _ => at_most_once.add(&report),
        }
        first += report.sent;
        round += 1;
        let now = rss();
        if round == 1 {
            memory.first = now;
        }
        if round == WARM_UP_ROUNDS {
            memory.warm = now;
        }
        if memory.middle == 0 && started.elapsed() >= length / 2 {
            memory.middle = now;
        }
        memory.last = now;
        memory.peak = memory.peak.max(now);
        println!(
            "soak round {round} ({mode:?}) at {:.1} s: {report}; server sessions open {}, \
             rss {:.1} MiB",
            started.elapsed().as_secs_f64(),
            server.open_sessions(),
            mib(now)
        );
    }
    println!("soak at-least-once: {at_least_once}");
    println!("soak at-most-once: {at_most_once}");
    println!("soak memory: {memory}");
    assert!(
        round > WARM_UP_ROUNDS,
        "only {round} rounds: too short to check memory after a warm-up of {WARM_UP_ROUNDS}"
    );
    assert_eq!(at_least_once.lost, 0);
    assert_eq!(at_most_once.duplicates, 0);
    let growth = memory.last.saturating_sub(memory.warm);
    assert!(
        growth <= RSS_ALLOWANCE,
        "rss grew {growth} bytes after the warm-up ({memory}); allowed {RSS_ALLOWANCE}"
    );
}
