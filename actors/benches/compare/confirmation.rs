//! Scenario 8: what delivery confirmation costs.
//!
//! The same pipelined 64 B workload as scenario 1, on tether only, with confirmation in
//! its forms, against tether with confirmation as far off as it goes (a window too
//! large to fill and a confirmation interval of an hour: no interval or half-window
//! pings, only the writer's one ping per flush while no earlier one waits, and the
//! message bookkeeping). Rounds alternate between the variants.

use std::time::{Duration, Instant};

use actix::Addr;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use serde_json::json;
use tether_actix::message::{self, Delivery};
use tether_actix::{ByteString, ConnectionActor, DeliveryError, DeliveryMode};

use crate::clients::{Probe, PATIENCE};
use crate::report::Row;
use crate::server::BenchServer;
use crate::{Outcome, Sizes};

const ROUNDS: u64 = 4;

/// Like `tether_send_many`, optionally asking each send to wait for confirmation.
async fn send_many(
    addr: &Addr<ConnectionActor>,
    payload: &ByteString,
    n: u64,
    in_flight: usize,
    confirmed: bool,
) {
    let mut pending = FuturesUnordered::new();
    let (mut issued, mut answered) = (0, 0);
    while answered < n {
        while issued < n && pending.len() < in_flight {
            let send = message::Outgoing::text(payload.clone());
            let send = if confirmed {
                send.with_confirmation()
            } else {
                send
            };
            pending.push(addr.send(send));
            issued += 1;
        }
        let Some(reply) = pending.next().await else {
            break;
        };
        match reply.expect("connection actor alive") {
            Ok(Delivery::Confirmed) if confirmed => answered += 1,
            Ok(Delivery::Sent) if !confirmed => answered += 1,
            Err(DeliveryError::BufferFull { .. }) => issued -= 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
}

/// Scenario 8.
pub(crate) async fn confirmation(sizes: &Sizes) -> Outcome {
    let server = BenchServer::start();
    let url = server.url();
    let text = ByteString::from("x".repeat(64));
    let per_round = sizes.pipelined_small / ROUNDS;

    // (label, delivery mode, confirmation as good as off, sends wait for confirmation)
    let variants = [
        (
            "confirmation off (baseline)",
            DeliveryMode::AtMostOnce,
            true,
            false,
        ),
        (
            "at-most-once (default)",
            DeliveryMode::AtMostOnce,
            false,
            false,
        ),
        ("at-least-once", DeliveryMode::AtLeastOnce, false, false),
        (
            "every send awaits Confirmed",
            DeliveryMode::AtMostOnce,
            false,
            true,
        ),
    ];
    let mut connections = Vec::new();
    for (_, mode, off, _) in variants {
        let probe = Probe::start(false);
        let addr = probe.connect(&url, move |config| {
            let config = config.delivery(mode);
            if off {
                config
                    .unconfirmed_window(usize::MAX / 4)
                    .message_buffer_bytes(None)
                    .confirm_interval(Duration::from_secs(3600))
            } else {
                config
            }
        });
        assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
        connections.push((probe, addr));
    }

    let mut times = vec![Duration::ZERO; variants.len()];
    for round in 0..=ROUNDS {
        // Round 0 warms up; later rounds rotate which variant goes first.
        for k in 0..variants.len() {
            let v = (k + round as usize) % variants.len();
            let (probe, addr) = &connections[v];
            let n = if round == 0 {
                per_round / 10
            } else {
                per_round
            };
            probe.expect_total(probe.received() + n);
            let start = Instant::now();
            send_many(addr, &text, n, sizes.in_flight, variants[v].3).await;
            let last = probe.reached().await;
            if round > 0 {
                times[v] += last - start;
            }
        }
    }

    let total = (per_round * ROUNDS) as f64;
    let rate = |t: Duration| total / t.as_secs_f64();
    let baseline = rate(times[0]);
    let mut outcome = Outcome::default();
    let mut details = serde_json::Map::new();
    for (v, (label, ..)) in variants.iter().enumerate().skip(1) {
        outcome.rows.push(
            Row::new(
                format!("8. confirmation cost, pipelined 64 B: {label}"),
                "msg/s",
                rate(times[v]),
                baseline,
            )
            .baseline_is("tether, confirmation off"),
        );
    }
    for (v, (label, ..)) in variants.iter().enumerate() {
        details.insert((*label).to_owned(), json!({ "msg_per_s": rate(times[v]) }));
    }
    outcome.notes.push(format!(
        "8. {} messages per variant, ≤{} sends in flight; baseline = tether with a window \
         too large to fill and a 1 h confirmation interval, so the only confirmation \
         pings are the writer's, one per flush while no earlier one waits. Confirmation \
         off measures {:.0} msg/s",
        per_round * ROUNDS,
        sizes.in_flight,
        baseline
    ));
    for (_, addr) in &connections {
        addr.send(message::Close).await.ok();
    }
    outcome.details = details.into();
    outcome
}
