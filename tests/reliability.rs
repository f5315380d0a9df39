//! End-to-end reliability: nothing lost across a seeded storm of outages, bounded
//! memory under a fast producer and a flooding server, and a long soak.
//!
//! The soak runs for `TETHER_SOAK_SECS` seconds (default 600): `cargo test --test
//! reliability -- --ignored soak`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, WrapFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use support::{
    connect, recorded, setup, wait_status, wait_until, ChaosSchedule, Events, Fault, FaultProxy,
    Received, ServerMessage, TestServer,
};
use tether_actix::message::{self, Close};
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryMode, Incoming, ResiliencyConfigBuilder, SendError,
    UndeliveredReason,
};

/// Timings for a link that fails often: quick detection, quick retries.
fn stormy(config: ResiliencyConfigBuilder, mode: DeliveryMode) -> ResiliencyConfigBuilder {
    config
        .delivery(mode)
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(200))
        .confirm_interval(Duration::from_millis(10))
        .base_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(100))
        .jitter_percent(20)
        .message_buffer_size(4096)
        .connect_timeout(Duration::from_millis(500))
}

/// What one accounting run observed.
#[derive(Debug, Default)]
struct Accounting {
    sent: usize,
    outages: usize,
    arrived: usize,
    duplicates: usize,
    lost: usize,
    reported_undelivered: usize,
    buffer_full_retries: usize,
    reconnects: usize,
}

impl std::fmt::Display for Accounting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {}, outages {}, reconnects {}, arrived {}, lost {}, reported undelivered {}, \
             duplicates {}, buffer-full retries {}",
            self.sent,
            self.outages,
            self.reconnects,
            self.arrived,
            self.lost,
            self.reported_undelivered,
            self.duplicates,
            self.buffer_full_retries
        )
    }
}

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

/// Sends `count` numbered messages at about `per_second`, awaiting each reply; a full
/// buffer is waited out and the same message tried again, as a real producer would.
async fn produce(
    connection: &actix::Addr<ConnectionActor>,
    first: usize,
    count: usize,
    per_second: usize,
) -> usize {
    const BATCH: usize = 10;
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(BATCH as f64 / per_second as f64));
    let mut full_retries = 0;
    for start in (first..first + count).step_by(BATCH) {
        ticker.tick().await;
        for n in start..(start + BATCH).min(first + count) {
            loop {
                match connection
                    .send(message::Send::text(n.to_string()))
                    .await
                    .expect("connection actor alive")
                {
                    Ok(_) => break,
                    Err(SendError::BufferFull { .. }) => {
                        full_retries += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(other) => panic!("message {n} refused: {other}"),
                }
            }
        }
    }
    full_retries
}

/// Streams `count` messages through a proxy that suffers `schedule`, then settles and
/// checks that every message is accounted for under `mode`'s guarantee.
async fn account(
    server: &TestServer,
    mode: DeliveryMode,
    first: usize,
    count: usize,
    per_second: usize,
    schedule: ChaosSchedule,
) -> Accounting {
    let proxy = FaultProxy::start(server.addr()).await;
    let (connection, events) = connect(&proxy.url("/ws"), |config| stormy(config, mode));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    let received_before = server.received_count();

    let outages = schedule.outages().len();
    let (applied, full_retries) = tokio::join!(
        schedule.run(&proxy),
        produce(&connection, first, count, per_second)
    );
    assert_eq!(applied.len(), outages);
    proxy.set_fault(Fault::PassThrough);

    let (status, settled) = wait_status(&connection, |status| {
        status.state == ConnectionState::Connected
            && status.buffered == 0
            && status.unconfirmed == 0
    })
    .await;
    assert!(settled, "did not settle: {status:?}");
    assert_eq!(
        connection.send(Close).await.expect("alive"),
        ConnectionState::Closed
    );

    let arrivals: Vec<usize> = server.received()[received_before..]
        .iter()
        .map(|received| match received {
            Received::Text(text) => text.parse().expect("numbered"),
            Received::Binary(_) => panic!("unexpected binary"),
        })
        .collect();
    let mut copies: BTreeMap<usize, usize> = BTreeMap::new();
    for n in &arrivals {
        *copies.entry(*n).or_default() += 1;
    }
    let reported: BTreeSet<usize> = events
        .undelivered()
        .iter()
        .map(|undelivered| {
            assert_eq!(undelivered.reason, UndeliveredReason::Unconfirmed);
            undelivered
                .payload
                .as_text()
                .and_then(|t| t.parse().ok())
                .expect("numbered")
        })
        .collect();
    let lost = (first..first + count)
        .filter(|n| !copies.contains_key(n))
        .collect::<Vec<_>>();
    for n in &lost {
        assert!(
            reported.contains(n),
            "message {n} neither arrived nor was reported"
        );
    }
    match mode {
        DeliveryMode::AtLeastOnce => {
            assert!(lost.is_empty(), "at-least-once lost {lost:?}");
            assert!(reported.is_empty());
            // First deliveries keep the send order.
            let mut seen = BTreeSet::new();
            let firsts: Vec<usize> = arrivals
                .iter()
                .copied()
                .filter(|n| seen.insert(*n))
                .collect();
            assert!(
                firsts.windows(2).all(|pair| pair[0] < pair[1]),
                "first deliveries out of order"
            );
        }
        _ => {
            assert!(
                copies.values().all(|&n| n == 1),
                "at-most-once duplicated a message"
            );
        }
    }
    Accounting {
        sent: count,
        outages,
        arrived: copies.len(),
        duplicates: copies.values().map(|&n| n - 1).sum(),
        lost: lost.len(),
        reported_undelivered: reported.len(),
        buffer_full_retries: full_retries,
        reconnects: events
            .times_entered(ConnectionState::Connected)
            .saturating_sub(1),
    }
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
            in_flight.push(connection.send(message::Send::text(payload.clone())));
            offered += 1;
        }
        match in_flight.next().await.expect("non-empty").expect("alive") {
            Ok(_) => accepted += 1,
            Err(SendError::BufferFull { .. }) => refused += 1,
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
            .on_message(slow.recipient()),
    );
    let connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    const FLOOD: usize = 3_000;
    let chunk = "y".repeat(1024);
    for n in 0..FLOOD {
        server.send_all(ServerMessage::Text(format!("{n}:{chunk}")));
    }
    // Messages read from the socket but not yet handled by the subscriber: bounded by
    // its mailbox, whatever the server does.
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
        most_ahead <= 64,
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

/// Chaos for `TETHER_SOAK_SECS` (default 600) seconds in rounds of the accounting test,
/// alternating modes, then checks accounting held in every round and memory stayed flat.
#[actix_web::test]
#[ignore = "long: run with `cargo test --test reliability -- --ignored soak`"]
async fn soak() {
    let seconds: u64 = std::env::var("TETHER_SOAK_SECS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(600);
    let server = setup().await;
    let started = Instant::now();
    let mut baseline = None;
    let mut round = 0_u64;
    let mut first = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
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
        let report = account(&server, mode, first, 5_000, 2_500, schedule).await;
        first += 5_000;
        round += 1;
        // The first round warms allocator caches; later rounds must not keep growing.
        let now = rss();
        let base = *baseline.get_or_insert(now);
        println!(
            "soak round {round} ({mode:?}) at {:?}: {report}, rss {} MiB (baseline {} MiB)",
            started.elapsed(),
            now / (1024 * 1024),
            base / (1024 * 1024)
        );
    }
    let growth = rss().saturating_sub(baseline.unwrap_or_default());
    assert!(round >= 1);
    assert!(
        growth < 64 * 1024 * 1024,
        "memory grew {growth} bytes over the soak"
    );
}
