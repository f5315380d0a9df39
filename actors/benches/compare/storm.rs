//! Scenario 7: reconnect storm. N connections, the hub restarts (every link cut at
//! once), and the hub timestamps each reconnect handshake; histogram per 100 ms.
//!
//! Reference emulation: the reference design's "jitter" is a hash of the attempt
//! number, so every client computes the same delay `d·(1 − j·h(n))`. After a restart
//! every connection is on attempt 0, so the whole fleet waits exactly
//! `d·(1 − j·h(0))`. tether reproduces that with `jitter_percent = 0` and
//! `base_backoff = d·(1 − j·h(0))`; `h(0)` is unknown, we take 0.5 (any value in
//! [0, 1) only shifts the single spike, it never spreads it).

use std::time::{Duration, Instant};

use serde_json::json;
use tether_actix::{JitterStrategy, ResiliencyConfigBuilder};

use crate::clients::{close_all, Probe};
use crate::report::Row;
use crate::server::BenchServer;
use crate::{Outcome, Sizes};

const WINDOW: Duration = Duration::from_millis(100);
/// The reference defaults: 1 s base, 30 s max, 20 % jitter.
const BASE: Duration = Duration::from_secs(1);
const JITTER_PERCENT: u8 = 20;
/// `h(0)` of the reference's hash, see the module docs.
const REFERENCE_HASH: f64 = 0.5;

#[derive(Debug, Clone, Copy)]
enum Variant {
    /// tether's default: proportional jitter, random per connection.
    Proportional,
    /// The reference: one deterministic delay for everybody.
    Reference,
    /// tether's "full jitter" strategy, for information.
    Full,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::Proportional => "tether proportional 20 %",
            Self::Reference => "reference d·(1−j·h(n))",
            Self::Full => "tether full jitter",
        }
    }

    fn configure(self, c: ResiliencyConfigBuilder) -> ResiliencyConfigBuilder {
        let c = c.stable_uptime(Duration::ZERO);
        match self {
            Self::Proportional => c
                .base_backoff(BASE)
                .jitter_percent(JITTER_PERCENT)
                .jitter(JitterStrategy::Proportional),
            Self::Reference => c
                .base_backoff(
                    BASE.mul_f64(1.0 - f64::from(JITTER_PERCENT) / 100.0 * REFERENCE_HASH),
                )
                .jitter_percent(0)
                .jitter(JitterStrategy::Proportional),
            Self::Full => c.base_backoff(BASE).jitter(JitterStrategy::Full),
        }
    }

    /// The share of the busiest window if arrivals spread uniformly over the delay
    /// envelope of attempt 0 under the configuration's own jitter (20 % of 1 s for the
    /// reference too: that is the spread its configuration promises).
    fn uniform_share(self) -> f64 {
        let width = match self {
            Self::Full => BASE.as_secs_f64(),
            _ => BASE.as_secs_f64() * f64::from(JITTER_PERCENT) / 100.0,
        };
        (WINDOW.as_secs_f64() / width).min(1.0)
    }
}

#[derive(Debug)]
struct Storm {
    histogram: Vec<u64>,
    /// Share of the busiest fixed window of the histogram (its grid starts at the
    /// restart, so a spike can straddle two windows).
    busiest_fixed_share: f64,
    arrivals: usize,
    /// Share of the busiest 100 ms anywhere (sliding window): grid-independent.
    busiest_share: f64,
    reconnected: u64,
    connect_secs: f64,
}

async fn run(variant: Variant, n: u64) -> Storm {
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(false);
    let started = Instant::now();
    let mut addrs = Vec::new();
    while (addrs.len() as u64) < n {
        let batch = (n - addrs.len() as u64).min(250);
        for _ in 0..batch {
            addrs.push(probe.connect(&url, |c| variant.configure(c)));
        }
        probe
            .wait_connected(addrs.len() as u64, Duration::from_secs(60))
            .await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.take_arrivals();
    let connected = probe.connected();

    let restart = Instant::now();
    server.stop().await;
    server.resume().await;
    probe
        .wait_connected(connected + n, Duration::from_secs(10))
        .await;
    // Stragglers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let arrivals = server.take_arrivals();
    let reconnected = probe.connected() - connected;
    close_all(&addrs).await;
    drop(addrs);

    let mut histogram = Vec::new();
    for at in &arrivals {
        let bin = (at.saturating_duration_since(restart).as_nanos() / WINDOW.as_nanos()) as usize;
        if histogram.len() <= bin {
            histogram.resize(bin + 1, 0);
        }
        histogram[bin] += 1;
    }
    let busiest_fixed = histogram.iter().copied().max().unwrap_or(0);
    let total = arrivals.len().max(1) as f64;
    Storm {
        busiest_share: busiest_sliding(arrivals.clone()) as f64 / total,
        busiest_fixed_share: busiest_fixed as f64 / total,
        arrivals: arrivals.len(),
        histogram,
        reconnected,
        connect_secs,
    }
}

pub(crate) async fn storm(sizes: &Sizes) -> Outcome {
    let n = sizes.storm_connections;
    let mut details = serde_json::Map::new();
    let mut storms = Vec::new();
    for variant in [Variant::Proportional, Variant::Reference, Variant::Full] {
        let storm = run(variant, n).await;
        details.insert(
            variant.label().to_owned(),
            json!({
                "histogram_per_100ms_from_restart": storm.histogram,
                "arrivals": storm.arrivals,
                "reconnected": storm.reconnected,
                "busiest_share_sliding_100ms": storm.busiest_share,
                "busiest_share_fixed_grid": storm.busiest_fixed_share,
                "uniform_share": variant.uniform_share(),
                "connect_seconds": storm.connect_secs,
            }),
        );
        storms.push((variant, storm));
    }
    let share = |i: usize| storms[i].1.busiest_share * 100.0;
    let mut rows = Vec::new();
    let (v, _) = &storms[0];
    let uniform = v.uniform_share() * 100.0;
    rows.push(
        Row::new(
            format!("7. storm {n} conns: busiest 100 ms, {}", v.label()),
            "%",
            share(0),
            share(1),
        )
        .baseline_is("reference")
        .ratio(share(0) / uniform)
        .goal(
            format!("< 2× uniform ({uniform:.0} %)"),
            share(0) < 2.0 * uniform,
        )
        .judged_on("ratio = tether / uniform"),
    );
    rows.push(
        Row::new(
            format!(
                "7. storm {n} conns: busiest 100 ms, {}",
                Variant::Reference.label()
            ),
            "%",
            share(1),
            share(1),
        )
        .baseline_is("reference")
        .ratio(share(1) / uniform)
        .goal(
            format!("< 2× uniform ({uniform:.0} %)"),
            share(1) < 2.0 * uniform,
        )
        .judged_on("emulated reference / uniform; not tether's goal"),
    );
    let full_uniform = Variant::Full.uniform_share() * 100.0;
    rows.push(
        Row::new(
            format!(
                "7. storm {n} conns: busiest 100 ms, {}",
                Variant::Full.label()
            ),
            "%",
            share(2),
            share(1),
        )
        .baseline_is("reference")
        .ratio(share(2) / full_uniform)
        .goal(
            format!("< 2× uniform ({full_uniform:.0} %)"),
            share(2) < 2.0 * full_uniform,
        )
        .judged_on("ratio = tether / uniform"),
    );
    let mut notes = vec![format!(
        "7. reference emulated with jitter_percent 0 and base_backoff = 1 s·(1 − 0.2·h(0)), \
         h(0) = {REFERENCE_HASH}: after a restart every client is on attempt 0, so the \
         reference's deterministic per-attempt jitter gives the whole fleet one identical \
         delay; tether with jitter 0 and that base gives exactly the same delay. Uniform \
         share = 100 ms / width of attempt 0's jitter envelope (200 ms for 20 % of 1 s, \
         1 s for full jitter). Busiest 100 ms = the most arrivals in any 100 ms interval \
         (sliding), so a spike that straddles two windows of the fixed histogram below \
         still counts whole"
    )];
    for (variant, storm) in &storms {
        if storm.reconnected < n {
            notes.push(format!(
                "7. {}: only {} of {n} reconnected within 10 s",
                variant.label(),
                storm.reconnected
            ));
        }
        notes.push(format!(
            "7. {} arrivals per 100 ms from the restart: {} (busiest fixed window {:.1} %)",
            variant.label(),
            trim(&storm.histogram),
            storm.busiest_fixed_share * 100.0
        ));
    }
    Outcome {
        rows,
        details: details.into(),
        notes,
    }
}

/// Most arrivals within any `WINDOW`-long interval.
fn busiest_sliding(mut arrivals: Vec<Instant>) -> usize {
    arrivals.sort();
    let mut first = 0;
    let mut best = 0;
    for (last, at) in arrivals.iter().enumerate() {
        while *at - arrivals[first] >= WINDOW {
            first += 1;
        }
        best = best.max(last + 1 - first);
    }
    best
}

/// The histogram without its leading empty windows, as `offset: counts`.
fn trim(histogram: &[u64]) -> String {
    let first = histogram.iter().position(|&c| c > 0).unwrap_or(0);
    format!("from {} ms {:?}", first * 100, &histogram[first..])
}
