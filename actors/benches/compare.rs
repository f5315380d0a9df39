//! Side-by-side benchmark: tether's `ConnectionActor` against a raw `awc` client (the
//! framed sink and stream used directly, no actor), both talking to the same
//! actix-web + actix-web-actors echo server on `127.0.0.1`, in the same run.
//!
//! Every figure is compared with the raw awc baseline measured in the same run (these
//! machines are shared and noisy): the table gives both, their ratio and the goal set
//! for it. Results are printed as a markdown table and written as JSON to
//! `target/bench/compare.json` (the table also to `target/bench/compare.md`).
//!
//! ```text
//! cargo bench -p tether-actix --bench compare                         # full, a few minutes
//! TETHER_BENCH_QUICK=1 cargo bench -p tether-actix --bench compare    # under a minute
//! TETHER_BENCH_ONLY=1,2 cargo bench -p tether-actix --bench compare   # some scenarios
//! ```
//!
//! Scenario 10 starts `tinyproxy` (Debian package `tinyproxy`); without it the row is
//! left out, with a note.
//!
//! Scenario 6 (thousands of idle connections) runs the hub and each client in child
//! processes: this binary re-executed with `TETHER_BENCH_ROLE=hub|scale-client`.

#[path = "compare/clients.rs"]
mod clients;
#[path = "compare/confirmation.rs"]
mod confirmation;
#[path = "compare/metrics_cost.rs"]
mod metrics_cost;
#[path = "compare/nagle.rs"]
mod nagle;
#[path = "compare/proxied.rs"]
mod proxied;
#[path = "compare/recovery.rs"]
mod recovery;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/scale.rs"]
mod scale;
#[path = "compare/server.rs"]
mod server;
#[path = "compare/storm.rs"]
mod storm;
#[path = "compare/system.rs"]
mod system;
#[path = "compare/throughput.rs"]
mod throughput;

use std::time::Instant;

use serde_json::{json, Value};

use report::Row;

/// How big each scenario runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub(crate) quick: bool,
    /// Scenario 1: 64-byte and 16 KiB messages.
    pub(crate) pipelined_small: u64,
    pub(crate) pipelined_large: u64,
    /// Scenario 2: sequential request/echo pairs.
    pub(crate) round_trips: u64,
    /// Scenario 3: messages buffered while down, and how many times.
    pub(crate) flush: u64,
    pub(crate) flush_rounds: u32,
    /// Scenario 4: server restarts.
    pub(crate) restarts: u32,
    /// Scenario 5: black-holings.
    pub(crate) black_holes: u32,
    /// Scenario 6: idle connections, and the CPU measuring window in seconds.
    pub(crate) idle_connections: u64,
    pub(crate) cpu_window_secs: u64,
    /// Scenario 7: connections in the storm.
    pub(crate) storm_connections: u64,
    /// Scenario 9: two-frame round trips per client (each can wait for a delayed ACK).
    pub(crate) nagle_round_trips: u64,
    /// Outstanding `addr.send` futures when pipelining with tether.
    pub(crate) in_flight: usize,
}

impl Sizes {
    fn from_env() -> Self {
        let quick = std::env::var("TETHER_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let in_flight = std::env::var("TETHER_BENCH_IN_FLIGHT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(128);
        if quick {
            Self {
                quick,
                pipelined_small: 20_000,
                pipelined_large: 2_000,
                round_trips: 2_000,
                flush: 10_000,
                flush_rounds: 2,
                restarts: 6,
                black_holes: 3,
                idle_connections: 500,
                cpu_window_secs: 2,
                storm_connections: 300,
                nagle_round_trips: 100,
                in_flight,
            }
        } else {
            Self {
                quick,
                pipelined_small: 200_000,
                pipelined_large: 20_000,
                round_trips: 10_000,
                flush: 10_000,
                flush_rounds: 6,
                restarts: 20,
                black_holes: 10,
                idle_connections: 10_000,
                cpu_window_secs: 5,
                storm_connections: 1_000,
                nagle_round_trips: 500,
                in_flight,
            }
        }
    }
}

fn main() {
    match std::env::var("TETHER_BENCH_ROLE").as_deref() {
        Ok("hub") => scale::hub_main(),
        Ok("scale-client") => scale::client_main(),
        _ => compare_main(),
    }
}

fn compare_main() {
    let sizes = Sizes::from_env();
    let only: Option<Vec<u32>> = std::env::var("TETHER_BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    let wanted = |n: u32| match &only {
        Some(only) => only.contains(&n),
        None => true,
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "tether vs raw awc: {} mode, {cores} cores, open-file limit {} (hard {})",
        if sizes.quick { "quick" } else { "full" },
        system::raise_nofile(),
        system::nofile_hard(),
    );
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut details = serde_json::Map::new();
    let mut notes: Vec<String> = Vec::new();

    let system = actix::System::new();
    system.block_on(async {
        let scenarios: [(u32, &str); 11] = [
            (1, "pipelined throughput"),
            (2, "round trip"),
            (3, "flush"),
            (4, "reconnect latency"),
            (5, "dead-link detection"),
            (6, "scale"),
            (7, "reconnect storm"),
            (8, "confirmation cost"),
            (9, "Nagle: two frames per round trip"),
            (10, "round trip through a CONNECT proxy"),
            (11, "metrics cost"),
        ];
        for (n, name) in scenarios {
            if !wanted(n) {
                continue;
            }
            let t = Instant::now();
            eprintln!("[{n}] {name} ...");
            let outcome = match n {
                1 => throughput::pipelined(&sizes).await,
                2 => throughput::round_trip(&sizes).await,
                3 => throughput::flush(&sizes).await,
                4 => recovery::reconnect(&sizes).await,
                5 => recovery::dead_link(&sizes).await,
                6 => scale::scale(&sizes).await,
                7 => storm::storm(&sizes).await,
                8 => confirmation::confirmation(&sizes).await,
                9 => nagle::nagle(&sizes).await,
                10 => proxied::proxied_round_trip(&sizes).await,
                _ => metrics_cost::metrics_cost(&sizes).await,
            };
            eprintln!("[{n}] {name}: {:.1} s", t.elapsed().as_secs_f64());
            for row in &outcome.rows {
                eprintln!(
                    "    {}",
                    report::table(std::slice::from_ref(row))
                        .lines()
                        .last()
                        .unwrap_or("")
                );
            }
            rows.extend(outcome.rows);
            details.insert(format!("{n}. {name}"), outcome.details);
            notes.extend(outcome.notes);
        }
    });

    let table = report::table(&rows);
    let mut text = format!(
        "## tether vs raw awc ({} mode, {cores} cores, {:.0} s)\n\n{table}",
        if sizes.quick { "quick" } else { "full" },
        started.elapsed().as_secs_f64()
    );
    if !notes.is_empty() {
        text.push('\n');
        for note in &notes {
            text.push_str(&format!("- {note}\n"));
        }
    }
    println!("\n{text}");

    let json = json!({
        "mode": if sizes.quick { "quick" } else { "full" },
        "cores": cores,
        "in_flight": sizes.in_flight,
        "seconds": started.elapsed().as_secs_f64(),
        "rows": rows.iter().map(Row::to_json).collect::<Vec<Value>>(),
        "notes": notes,
        "details": Value::Object(details),
    });
    let dir = report::out_dir();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| {
            std::fs::write(
                dir.join("compare.json"),
                serde_json::to_string_pretty(&json).unwrap_or_default(),
            )
        })
        .and_then(|()| std::fs::write(dir.join("compare.md"), &text));
    match written {
        Ok(()) => eprintln!("written: {}", dir.join("compare.json").display()),
        Err(err) => eprintln!("could not write {}: {err}", dir.display()),
    }
}

/// What one scenario produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) rows: Vec<Row>,
    pub(crate) details: Value,
    /// Explanations printed under the table.
    pub(crate) notes: Vec<String>,
}
