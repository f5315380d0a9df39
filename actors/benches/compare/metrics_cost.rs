//! Scenario 9: what the `metrics` feature costs, on pipelined 64 B messages and on idle
//! connections with 1 s heartbeats (scenario 6's client population, in a child process).
//!
//! The feature is chosen at build time, so the comparison spans two runs:
//!
//! ```text
//! TETHER_BENCH_ONLY=11 cargo bench -p tether-actix --bench compare                      # off
//! TETHER_BENCH_ONLY=11 cargo bench -p tether-actix --bench compare --features metrics   # on
//! ```
//!
//! Each run stores its figures in `target/bench/metrics-cost-{off,on}.json`; the run with
//! the feature also measures with a real recorder (`metrics-exporter-prometheus`, no
//! HTTP listener) installed, and compares with the other build's figures when present.
//! A recorder can be installed only once per process, so the recorded measurements come
//! after the no-op ones, not alternated with them.

use std::io::{BufRead as _, BufReader};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::{json, Value};
use tether_actix::ByteString;

use crate::clients::{tether_send_many, Probe, PATIENCE};
use crate::report::{median, Row};
use crate::scale::{run_client, spawn_role};
use crate::server::BenchServer;
use crate::{Outcome, Sizes};

/// Rounds of the pipelined measurement; the median rate counts.
const ROUNDS: u64 = 5;

const FEATURE: &str = if cfg!(feature = "metrics") {
    "on"
} else {
    "off"
};

/// Installs a Prometheus recorder (without its HTTP listener) as the global one.
pub(crate) fn install_recorder() {
    if let Err(error) = PrometheusBuilder::new().install_recorder() {
        eprintln!("    cannot install the metrics recorder: {error}");
    }
}

/// Messages per second of one connection, built now (so with the recorder of now).
async fn pipelined(url: &str, n: u64, in_flight: usize) -> f64 {
    let probe = Probe::start(false);
    let tether = probe.connect(url, |c| c);
    assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    let text = ByteString::from("x".repeat(64));
    let per_round = n / ROUNDS;
    let warm = (per_round / 10).max(100);
    probe.expect_total(probe.received() + warm);
    tether_send_many(&tether, &text, warm, in_flight).await;
    probe.reached().await;
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        probe.expect_total(probe.received() + per_round);
        let start = Instant::now();
        tether_send_many(&tether, &text, per_round, in_flight).await;
        let last = probe.reached().await;
        rates.push(per_round as f64 / (last - start).as_secs_f64());
    }
    let _ = tether.send(tether_actix::message::Close).await;
    median(&rates)
}

pub(crate) async fn metrics_cost(sizes: &Sizes) -> Outcome {
    let server = BenchServer::start();
    let url = server.url();
    let mut hub = spawn_role("hub", &[]);
    let mut port_line = String::new();
    BufReader::new(hub.stdout.take().expect("piped"))
        .read_line(&mut port_line)
        .expect("hub prints its port");
    let hub_url = format!(
        "ws://127.0.0.1:{}/ws",
        port_line.trim().trim_start_matches("PORT ")
    );
    let n = sizes.idle_connections;
    let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);

    let rate = pipelined(&url, sizes.pipelined_small, sizes.in_flight).await;
    let idle = run_client("tether", &hub_url, sizes);
    let mut figures = json!({
        "feature": FEATURE,
        "pipelined_msg_per_s": rate,
        "idle_cpu_per_second": get(&idle, "cpu_per_second"),
        "idle_kib_per_connection": get(&idle, "kib_per_connection"),
    });
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if cfg!(feature = "metrics") {
        install_recorder();
        let recorded_rate = pipelined(&url, sizes.pipelined_small, sizes.in_flight).await;
        let recorded_idle = run_client("tether-recorded", &hub_url, sizes);
        figures["recorded"] = json!({
            "pipelined_msg_per_s": recorded_rate,
            "idle_cpu_per_second": get(&recorded_idle, "cpu_per_second"),
            "idle_kib_per_connection": get(&recorded_idle, "kib_per_connection"),
        });
        rows.push(
            Row::new(
                "11. metrics on, pipelined 64 B: real recorder / no-op",
                "msg/s",
                recorded_rate,
                rate,
            )
            .baseline_is("no-op recorder"),
        );
        rows.push(
            Row::new(
                format!("11. metrics on, CPU of {n} idle connections: real recorder / no-op"),
                "% core",
                get(&recorded_idle, "cpu_per_second") * 100.0,
                get(&idle, "cpu_per_second") * 100.0,
            )
            .baseline_is("no-op recorder"),
        );
        rows.push(
            Row::new(
                format!("11. metrics on, memory per idle connection, {n}: real recorder / no-op"),
                "KiB",
                get(&recorded_idle, "kib_per_connection"),
                get(&idle, "kib_per_connection"),
            )
            .baseline_is("no-op recorder"),
        );
    }
    drop(hub.stdin.take());
    let _ = hub.wait();

    let dir = crate::report::out_dir();
    let other = if cfg!(feature = "metrics") {
        "off"
    } else {
        "on"
    };
    let earlier: Option<Value> =
        std::fs::read_to_string(dir.join(format!("metrics-cost-{other}.json")))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
    let _ = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            dir.join(format!("metrics-cost-{FEATURE}.json")),
            serde_json::to_string_pretty(&figures).unwrap_or_default(),
        )
    });
    let (on, off) = match (cfg!(feature = "metrics"), &earlier) {
        (true, Some(off)) => (figures.clone(), off.clone()),
        (false, Some(on)) => (on.clone(), figures.clone()),
        _ => {
            notes.push(format!(
                "11. built with the metrics feature {FEATURE}: run the bench once more {} \
                 `--features metrics` for the comparison with the other build",
                if cfg!(feature = "metrics") {
                    "without"
                } else {
                    "with"
                }
            ));
            rows.push(
                Row::new(
                    format!("11. pipelined 64 B, metrics {FEATURE}"),
                    "msg/s",
                    rate,
                    f64::NAN,
                )
                .baseline_is("other build"),
            );
            return Outcome {
                rows,
                details: figures,
                notes,
            };
        }
    };
    let throughput = Row::new(
        "11. pipelined 64 B: metrics on (no-op recorder) / off",
        "msg/s",
        get(&on, "pipelined_msg_per_s"),
        get(&off, "pipelined_msg_per_s"),
    )
    .baseline_is("feature off");
    let met = throughput.ratio >= 0.95;
    let cpu = Row::new(
        format!("11. CPU of {n} idle connections: metrics on (no-op) / off"),
        "% core",
        get(&on, "idle_cpu_per_second") * 100.0,
        get(&off, "idle_cpu_per_second") * 100.0,
    )
    .baseline_is("feature off");
    let cpu_met = cpu.ratio <= 1.05;
    let mem = Row::new(
        format!("11. memory per idle connection, {n}: metrics on (no-op) / off"),
        "KiB",
        get(&on, "idle_kib_per_connection"),
        get(&off, "idle_kib_per_connection"),
    )
    .baseline_is("feature off");
    let mem_met = mem.ratio <= 1.05;
    notes.push(
        "11. feature on and off are two builds, measured in two runs: the machine's noise \
         (±20 % between runs) is larger than the goal"
            .to_owned(),
    );
    let mut all = vec![
        throughput.goal("≥ 0.95×", met),
        cpu.goal("≤ 1.05×", cpu_met),
        mem.goal("≤ 1.05×", mem_met),
    ];
    all.extend(rows);
    Outcome {
        rows: all,
        details: json!({"on": on, "off": off}),
        notes,
    }
}
