//! Scenarios 1 (pipelined throughput), 2 (round trip) and 3 (flush of a buffer filled
//! while disconnected).
//!
//! tether and raw awc run in alternating rounds (ABBA) against the same server, so a
//! burst of load from elsewhere on the machine hits both alike.

use std::time::{Duration, Instant};

use actix::Addr;
use awc::ws::Message;
use futures_util::SinkExt as _;
use serde_json::json;
use tether_actix::message;
use tether_actix::{ByteString, ConnectionActor, ConnectionState};

use crate::clients::{
    raw_client, raw_connect, tether_do_send_many, tether_send_batches, tether_send_many, Probe,
    RawConn, TungsteniteConn, PATIENCE,
};
use crate::report::{median, percentile, Row};
use crate::server::BenchServer;
use crate::system::thread_cpu_time;
use crate::{Outcome, Sizes};

/// Rounds per measurement; tether goes first in rounds 1 and 2 of every 4 (ABBA).
const ROUNDS: u64 = 4;

fn tether_first(round: u64) -> bool {
    matches!(round % 4, 1 | 2)
}

fn payload(size: usize) -> ByteString {
    ByteString::from("x".repeat(size))
}

/// The clients of scenario 1, measured in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// `Outgoing` per message, `Incoming` per message.
    Single,
    /// `OutgoingBatch`, `Incoming` per message.
    Batch,
    /// `OutgoingBatch`, `IncomingBatch` per read.
    BatchBoth,
    Raw,
    Tungstenite,
}

const CLIENTS: [Client; 5] = [
    Client::Single,
    Client::Batch,
    Client::BatchBoth,
    Client::Raw,
    Client::Tungstenite,
];

/// Messages per `OutgoingBatch` in scenario 1.
const BATCH: u64 = 64;

/// Scenario 1: N messages sent back to back, echoed, counted by the subscriber.
pub(crate) async fn pipelined(sizes: &Sizes) -> Outcome {
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(false);
    let tether = probe.connect(&url, |c| c);
    let probe_batch = Probe::start(false);
    let tether_batch = probe_batch.connect(&url, |c| c);
    let probe_both = Probe::start(false);
    let tether_both = probe_both.connect_batched(&url, |c| c);
    for probe in [&probe, &probe_batch, &probe_both] {
        assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    }
    let client = raw_client();
    let mut raw = raw_connect(&client, &url).await.expect("raw connects");
    let mut tungstenite = TungsteniteConn::connect(&url)
        .await
        .expect("tokio-tungstenite connects");

    let mut outcome = Outcome::default();
    let mut details = serde_json::Map::new();
    for (label, size, n) in [
        ("64 B", 64, sizes.pipelined_small),
        ("16 KiB", 16 * 1024, sizes.pipelined_large),
    ] {
        let text = payload(size);
        let per_round = n / ROUNDS;
        // Warm-up: connection buffers, allocator, caches.
        let warm = (per_round / 10).max(100);
        probe.expect_total(probe.received() + warm);
        tether_send_many(&tether, &text, warm, sizes.in_flight).await;
        probe.reached().await;
        raw.pipelined(&text, warm).await;
        tungstenite.pipelined(&text, warm).await;

        // (wall time, CPU time of this thread: client, actors and subscriber all run
        // here), per client.
        let mut times = [(Duration::ZERO, Duration::ZERO); CLIENTS.len()];
        let mut do_send_time = (Duration::ZERO, Duration::ZERO);
        let mut full = 0;
        // The paced do_send variant runs for the small messages only (information).
        let with_do_send = size <= 64;
        for round in 0..ROUNDS {
            // A different client goes first in every round, so that noise from
            // elsewhere on the machine lands on all alike.
            for turn in 0..CLIENTS.len() {
                let index = (turn + round as usize) % CLIENTS.len();
                let start = Instant::now();
                let cpu = thread_cpu_time();
                let last = match CLIENTS[index] {
                    Client::Single => {
                        probe.expect_total(probe.received() + per_round);
                        let tally =
                            tether_send_many(&tether, &text, per_round, sizes.in_flight).await;
                        full += tally.full;
                        probe.reached().await
                    }
                    Client::Batch => {
                        probe_batch.expect_total(probe_batch.received() + per_round);
                        let in_flight = (sizes.in_flight / BATCH as usize).max(2);
                        let tally =
                            tether_send_batches(&tether_batch, &text, per_round, BATCH, in_flight)
                                .await;
                        full += tally.full;
                        probe_batch.reached().await
                    }
                    Client::BatchBoth => {
                        probe_both.expect_total(probe_both.received() + per_round);
                        let in_flight = (sizes.in_flight / BATCH as usize).max(2);
                        let tally =
                            tether_send_batches(&tether_both, &text, per_round, BATCH, in_flight)
                                .await;
                        full += tally.full;
                        probe_both.reached().await
                    }
                    Client::Raw => raw.pipelined(&text, per_round).await,
                    Client::Tungstenite => tungstenite.pipelined(&text, per_round).await,
                };
                times[index].0 += last - start;
                times[index].1 += thread_cpu_time() - cpu;
                if CLIENTS[index] == Client::Single && with_do_send {
                    probe.expect_total(probe.received() + per_round);
                    let start = Instant::now();
                    let cpu = thread_cpu_time();
                    tether_do_send_many(&tether, &text, per_round).await;
                    let last = probe.reached().await;
                    do_send_time.0 += last - start;
                    do_send_time.1 += thread_cpu_time() - cpu;
                }
            }
        }
        let total = (per_round * ROUNDS) as f64;
        let rate = |t: (Duration, Duration)| total / t.0.as_secs_f64();
        let cpu_us = |t: (Duration, Duration)| t.1.as_secs_f64() * 1e6 / total;
        let time = |client: Client| times[CLIENTS.iter().position(|c| *c == client).unwrap_or(0)];
        let raw_time = time(Client::Raw);
        let single = Row::new(
            format!(
                "1. pipelined {label}, {} msgs, single Send, ≤{} in flight",
                per_round * ROUNDS,
                sizes.in_flight
            ),
            "msg/s",
            rate(time(Client::Single)),
            rate(raw_time),
        );
        let (goal, bar) = if size <= 64 {
            ("≥ 0.4×", 0.4)
        } else {
            ("≥ 0.8×", 0.8)
        };
        let met = single.ratio >= bar;
        outcome.rows.push(single.goal(goal, met));
        for (client, what) in [
            (Client::Batch, "OutgoingBatch of 64"),
            (Client::BatchBoth, "OutgoingBatch of 64 + IncomingBatch"),
        ] {
            let row = Row::new(
                format!("1. pipelined {label}, {what}"),
                "msg/s",
                rate(time(client)),
                rate(raw_time),
            );
            let met = row.ratio >= 0.8;
            outcome.rows.push(row.goal("≥ 0.8×", met));
        }
        outcome.rows.push(
            Row::new(
                format!("1. pipelined {label}, OutgoingBatch + IncomingBatch vs tokio-tungstenite"),
                "msg/s",
                rate(time(Client::BatchBoth)),
                rate(time(Client::Tungstenite)),
            )
            .baseline_is("raw tokio-tungstenite"),
        );
        if with_do_send {
            outcome.rows.push(Row::new(
                format!("1. pipelined {label}, paced do_send (see notes)"),
                "msg/s",
                rate(do_send_time),
                rate(raw_time),
            ));
        }
        for (client, what) in [
            (Client::Single, "single Send"),
            (Client::BatchBoth, "batches"),
        ] {
            outcome.rows.push(Row::new(
                format!("1. pipelined {label}, {what}: client-thread CPU per message"),
                "µs",
                cpu_us(time(client)),
                cpu_us(raw_time),
            ));
        }
        let seconds = |client: Client| time(client).0.as_secs_f64();
        details.insert(
            label.to_owned(),
            json!({
                "messages": total,
                "single_seconds": seconds(Client::Single),
                "single_cpu_seconds": time(Client::Single).1.as_secs_f64(),
                "batch_seconds": seconds(Client::Batch),
                "batch_both_seconds": seconds(Client::BatchBoth),
                "batch_both_cpu_seconds": time(Client::BatchBoth).1.as_secs_f64(),
                "do_send_seconds": with_do_send.then_some(do_send_time.0.as_secs_f64()),
                "raw_seconds": raw_time.0.as_secs_f64(),
                "raw_cpu_seconds": raw_time.1.as_secs_f64(),
                "tungstenite_seconds": seconds(Client::Tungstenite),
                "buffer_full_answers": full,
            }),
        );
        if full > 0 {
            outcome.notes.push(format!(
                "1. {label}: {full} sends answered BufferFull (retried)"
            ));
        }
    }
    outcome.notes.push(
        "1. tether sends the documented ways: `addr.send(Outgoing::text(..))` awaited, at most \
         `in_flight` outstanding (TETHER_BENCH_IN_FLIGHT); or `addr.send(OutgoingBatch)` of 64 \
         messages, at most in_flight / 64 batches outstanding. Echoes are counted by an \
         actor subscribed with on_incoming (Incoming per message) or on_incoming_batch \
         (IncomingBatch per read). raw awc feeds the framed sink and reads the stream in \
         the same task; raw tokio-tungstenite likewise. The paced do_send row \
         (information only) sends 63 of every 64 messages with `do_send` and awaits the \
         64th, at most 2 chunks outstanding. Client-thread CPU: the client, the \
         connection actor and the subscriber all run on the bench thread (the server has \
         its own)"
            .to_owned(),
    );
    for connection in [&tether, &tether_batch, &tether_both] {
        connection.send(message::Close).await.ok();
    }
    outcome.details = details.into();
    outcome
}

/// Scenario 2: sequential request/echo pairs; per-pair latency percentiles.
pub(crate) async fn round_trip(sizes: &Sizes) -> Outcome {
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(false);
    let tether = probe.connect(&url, |c| c);
    assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    let client = raw_client();
    let mut raw = raw_connect(&client, &url).await.expect("raw connects");
    let text = payload(64);

    // Pairs alternate between the clients (ABBA), so noise from elsewhere on the
    // machine lands on both alike; the first 200 of each are a warm-up.
    let warm = 200;
    let (tether_us, raw_us) = paired_round_trips(
        &tether,
        &probe,
        &mut raw,
        &text,
        warm + sizes.round_trips,
        warm,
        tether_first,
    )
    .await;
    tether.send(message::Close).await.ok();
    let mut outcome = Outcome::default();
    for (p, slack) in [(50.0, 10.0), (99.0, 50.0)] {
        let t = percentile(&tether_us, p);
        let r = percentile(&raw_us, p);
        let diff = t - r;
        outcome.rows.push(
            Row::new(
                format!("2. round trip p{p}, {} pairs", tether_us.len()),
                "µs",
                t,
                r,
            )
            .goal(format!("≤ raw + {slack} µs"), diff <= slack)
            .judged_on(format!("diff {diff:+.1} µs")),
        );
    }
    outcome.details = json!({
        "pairs": tether_us.len(),
        "tether_us": {"p50": percentile(&tether_us, 50.0), "p90": percentile(&tether_us, 90.0),
                      "p99": percentile(&tether_us, 99.0), "max": percentile(&tether_us, 100.0)},
        "raw_us": {"p50": percentile(&raw_us, 50.0), "p90": percentile(&raw_us, 90.0),
                   "p99": percentile(&raw_us, 99.0), "max": percentile(&raw_us, 100.0)},
    });
    outcome
}

/// Scenario 3: N messages accepted while the server is down, flushed on reconnect;
/// rate from `Connected` to the last echo, against raw awc writing the same N right
/// after its handshake.
pub(crate) async fn flush(sizes: &Sizes) -> Outcome {
    let n = sizes.flush;
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(true);
    // The echoes are counted in batches: the flush is paced by how fast confirmations
    // come back, and they come behind the echoes.
    let tether = probe.connect_batched(&url, |c| {
        c.message_buffer_size(n as usize)
            .base_backoff(Duration::from_millis(20))
            .max_backoff(Duration::from_millis(50))
            .stable_uptime(Duration::ZERO)
    });
    assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    let client = raw_client();
    let text = payload(64);

    let mut tether_rates = Vec::new();
    let mut raw_rates = Vec::new();
    let mut not_buffered = 0;
    for round in 0..u64::from(sizes.flush_rounds) {
        for tether_turn in [tether_first(round), !tether_first(round)] {
            if tether_turn {
                let disconnects = probe.disconnected();
                server.stop().await;
                assert!(
                    probe.wait_disconnected(disconnects + 1, PATIENCE).await,
                    "tether notices the stop"
                );
                probe.expect_total(probe.received() + n);
                let tally = tether_send_many(&tether, &text, n, sizes.in_flight).await;
                not_buffered += n - tally.buffered;
                let connects = probe.connected();
                server.resume().await;
                assert!(
                    probe.wait_connected(connects + 1, PATIENCE).await,
                    "tether reconnects"
                );
                let connected_at = probe
                    .states()
                    .iter()
                    .rev()
                    .find(|c| c.to == ConnectionState::Connected)
                    .map(|c| c.at)
                    .expect("recorded");
                let last = probe.reached().await;
                tether_rates.push(n as f64 / (last - connected_at).as_secs_f64());
            } else {
                let mut raw = raw_connect(&client, &url).await.expect("raw connects");
                let connected_at = Instant::now();
                let last = raw.pipelined(&text, n).await;
                raw_rates.push(n as f64 / (last - connected_at).as_secs_f64());
                let _ = raw.sink.close().await;
            }
        }
    }
    tether.send(message::Close).await.ok();
    let t = median(&tether_rates);
    let r = median(&raw_rates);
    let row = Row::new(
        format!(
            "3. flush {n} buffered msgs, IncomingBatch subscriber (median of {})",
            tether_rates.len()
        ),
        "msg/s",
        t,
        r,
    );
    let met = row.ratio >= 0.8;
    let mut outcome = Outcome {
        rows: vec![row.goal("≥ 0.8×", met)],
        details: json!({"messages": n, "tether_rates": tether_rates, "raw_rates": raw_rates}),
        notes: Vec::new(),
    };
    if not_buffered > 0 {
        outcome.notes.push(format!(
            "3. {not_buffered} sends were not answered Buffered while the server was down"
        ));
    }
    outcome
}

/// `rounds` round trips on each client, a pair a round in the order `tether_first`
/// gives, each a request and its echo; the latencies in µs after the first `warm`
/// rounds, tether's then raw awc's.
pub(crate) async fn paired_round_trips(
    tether: &Addr<ConnectionActor>,
    probe: &Probe,
    raw: &mut RawConn,
    text: &ByteString,
    rounds: u64,
    warm: u64,
    tether_first: fn(u64) -> bool,
) -> (Vec<f64>, Vec<f64>) {
    let mut tether_us = Vec::new();
    let mut raw_us = Vec::new();
    for i in 0..rounds {
        for tether_turn in [tether_first(i), !tether_first(i)] {
            let sample = if tether_turn {
                probe.expect_total(probe.received() + 1);
                let start = Instant::now();
                tether
                    .send(message::Outgoing::text(text.clone()))
                    .await
                    .expect("actor alive")
                    .expect("sent");
                // The subscriber's handler stamps the echo's arrival.
                probe.reached().await - start
            } else {
                let start = Instant::now();
                raw.sink
                    .send(Message::Text(text.clone()))
                    .await
                    .expect("raw write");
                raw.next_data().await.expect("raw echo");
                start.elapsed()
            };
            if i >= warm {
                let us = sample.as_secs_f64() * 1e6;
                if tether_turn {
                    tether_us.push(us);
                } else {
                    raw_us.push(us);
                }
            }
        }
    }
    (tether_us, raw_us)
}
