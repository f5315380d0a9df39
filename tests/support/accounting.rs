//! [`account`]: one round of the reliability accounting. Numbered messages stream through
//! a [`FaultProxy`] suffering a [`ChaosSchedule`]; then every number is looked up in what
//! the [`TestServer`] received and in what the connection reported undelivered.
//!
//! A round takes the server's records for itself and drops them when it returns: what
//! outlives it is the counts in [`Accounting`], so a soak of many rounds holds one
//! round's worth of records at a time.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use actix::Addr;
use tether_actix::message::{self, Close, GetStatus};
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryError, DeliveryMode, ResiliencyConfigBuilder, Status,
    UndeliveredReason,
};

use super::{connect, wait_status, ChaosSchedule, Fault, FaultProxy, Received, TestServer};

/// How often a round samples the connection's status while it runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// Timings for a link that fails often: quick detection, quick retries.
pub(crate) fn stormy(
    config: ResiliencyConfigBuilder,
    mode: DeliveryMode,
) -> ResiliencyConfigBuilder {
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

/// The largest sizes of a connection's own queues seen while a round ran.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Peaks {
    /// Most messages waiting in the outbound buffer.
    pub(crate) buffered: usize,
    /// Most bytes waiting in the outbound buffer.
    pub(crate) buffered_bytes: usize,
    /// Most messages written but not yet confirmed.
    pub(crate) unconfirmed: usize,
}

impl Peaks {
    fn observe(&mut self, status: &Status) {
        self.buffered = self.buffered.max(status.buffered);
        self.buffered_bytes = self.buffered_bytes.max(status.buffered_bytes);
        self.unconfirmed = self.unconfirmed.max(status.unconfirmed);
    }
}

/// What one accounting round observed: counts only.
#[derive(Debug)]
pub(crate) struct Accounting {
    /// Messages the producer had accepted.
    pub(crate) sent: usize,
    /// Outages the schedule applied.
    pub(crate) outages: usize,
    /// Distinct messages of this round that reached the server.
    pub(crate) arrived: usize,
    /// Extra copies of messages of this round (re-sends).
    pub(crate) duplicates: usize,
    /// Messages of this round that never reached the server.
    pub(crate) lost: usize,
    /// Messages the connection reported as undelivered.
    pub(crate) reported_undelivered: usize,
    /// Messages the server received that belong to no round running then: left over
    /// from an earlier round, they are counted and otherwise ignored.
    pub(crate) strays: usize,
    /// Sends refused with a full buffer and tried again.
    pub(crate) buffer_full_retries: usize,
    /// Times the connection got back to `Connected` after its first connect.
    pub(crate) reconnects: usize,
    /// Handshake requests the server saw during the round.
    pub(crate) attempts: usize,
    /// The connection's status once it had settled, just before it was closed.
    pub(crate) settled: Status,
    /// The largest queue sizes seen while the round ran.
    pub(crate) peaks: Peaks,
}

impl std::fmt::Display for Accounting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {}, outages {}, reconnects {}, handshake requests {}, arrived {}, lost {}, \
             reported undelivered {}, duplicates {}, strays {}, buffer-full retries {}; \
             status at end: buffered {} ({} B), unconfirmed {}; peak: buffered {} ({} B), \
             unconfirmed {}",
            self.sent,
            self.outages,
            self.reconnects,
            self.attempts,
            self.arrived,
            self.lost,
            self.reported_undelivered,
            self.duplicates,
            self.strays,
            self.buffer_full_retries,
            self.settled.buffered,
            self.settled.buffered_bytes,
            self.settled.unconfirmed,
            self.peaks.buffered,
            self.peaks.buffered_bytes,
            self.peaks.unconfirmed,
        )
    }
}

/// Sends `count` numbered messages at about `per_second`, awaiting each reply; a full
/// buffer is waited out and the same message tried again, as a real producer would.
async fn produce(
    connection: &Addr<ConnectionActor>,
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
                    .send(message::Outgoing::text(n.to_string()))
                    .await
                    .expect("connection actor alive")
                {
                    Ok(_) => break,
                    Err(DeliveryError::BufferFull { .. }) => {
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

/// Runs `work`, sampling `connection`'s status meanwhile; returns its output and the
/// peaks seen.
async fn sampled<T>(
    connection: &Addr<ConnectionActor>,
    work: impl std::future::Future<Output = T>,
) -> (T, Peaks) {
    let done = Cell::new(false);
    let work = async {
        let output = work.await;
        done.set(true);
        output
    };
    let sample = async {
        let mut peaks = Peaks::default();
        while !done.get() {
            let status = connection
                .send(GetStatus)
                .await
                .expect("connection actor alive");
            peaks.observe(&status);
            tokio::time::sleep(SAMPLE_EVERY).await;
        }
        peaks
    };
    tokio::join!(work, sample)
}

/// Streams numbers `first..first + count` through a proxy that suffers `schedule`, then
/// settles and checks that every message is accounted for under `mode`'s guarantee.
/// Panics (failing the test) on any breach.
pub(crate) async fn account(
    server: &TestServer,
    mode: DeliveryMode,
    first: usize,
    count: usize,
    per_second: usize,
    schedule: ChaosSchedule,
) -> Accounting {
    let numbers = first..first + count;
    // Whatever is still recorded comes from earlier rounds.
    let mut strays = server.take_received().len();
    server.take_request_headers();
    let proxy = FaultProxy::start(server.addr()).await;
    let (connection, events) = connect(&proxy.url("/ws"), |config| stormy(config, mode));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    let outages = schedule.outages().len();
    let ((applied, full_retries), peaks) = sampled(&connection, async {
        tokio::join!(
            schedule.run(&proxy),
            produce(&connection, first, count, per_second)
        )
    })
    .await;
    assert_eq!(applied.len(), outages);
    proxy.set_fault(Fault::PassThrough);

    let (settled, ok) = wait_status(&connection, |status| {
        status.state == ConnectionState::Connected
            && status.buffered == 0
            && status.unconfirmed == 0
    })
    .await;
    assert!(ok, "did not settle: {settled:?}");
    assert_eq!(
        connection.send(Close).await.expect("alive"),
        ConnectionState::Closed
    );

    let mut arrivals = Vec::with_capacity(count);
    for received in server.take_received() {
        let n: usize = match received {
            Received::Text(text) => text.parse().expect("numbered"),
            Received::Binary(_) => panic!("unexpected binary"),
        };
        if numbers.contains(&n) {
            arrivals.push(n);
        } else {
            strays += 1;
        }
    }
    let attempts = server.take_request_headers().len();
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
    let lost = numbers
        .clone()
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
        strays,
        buffer_full_retries: full_retries,
        reconnects: events
            .times_entered(ConnectionState::Connected)
            .saturating_sub(1),
        attempts,
        settled,
        peaks,
    }
}
