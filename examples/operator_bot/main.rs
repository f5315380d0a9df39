//! The operator bot: tether's tour in half a minute.
//!
//! A hub hands tasks to operator bots over WebSocket; each bot is an actor with its own
//! tether `ConnectionActor`, streaming progress back with a sequence number on every
//! event. The hub, started in-process, misbehaves on a seeded schedule: it drops every
//! connection, restarts on the same port, goes silent with TCP open (only the heartbeat
//! notices), and refuses handshakes with 503 at its primary port for a while. The bots
//! ride it out: reconnecting with backoff, failing over to the hub's backup port,
//! buffering while down, flushing in order once back. Before every connect each bot
//! fetches a fresh single-use token from the hub (an async credentials provider); the
//! hub refuses a stale one with 401.
//!
//! While it runs, one live line per bot shows its state, reconnect attempt, next delay,
//! buffered events, events sent, events confirmed (the hub answered a ping written
//! after them) and events the hub counted; every state change is logged above. At the
//! end every bot is closed gracefully and a summary accounts for every event: it
//! reached the hub, or it is reported lost, rejected by the full buffer, or handed back
//! undelivered. tether runs at most once here: an event written to a link that dies
//! before the hub confirmed it is handed back as unconfirmed (it may or may not have
//! arrived), and the summary checks each one against the hub's count. A timeline
//! picture (SVG) shows each bot's state, its buffered and unconfirmed events, and the
//! hub's misbehaviour.
//!
//! Run it:
//!
//! ```text
//! cargo run --release --example operator_bot
//! cargo run --release --example operator_bot -- --bots 5 --duration 1m --chaos wild --seed 7
//! cargo run --release --example operator_bot -- --help
//! ```
//!
//! `--metrics 127.0.0.1:9100` serves tether's metrics as Prometheus text on
//! `http://127.0.0.1:9100/metrics` while it runs (try `curl` on it during the run).
//!
//! Or the hub and the bots in two terminals:
//!
//! ```text
//! cargo run --release --example operator_bot -- --hub-only --listen 127.0.0.1:9000 --backup-listen 127.0.0.1:9001 --token s3cret
//! cargo run --release --example operator_bot -- --url ws://127.0.0.1:9000 --backup-url ws://127.0.0.1:9001 --token s3cret
//! ```
//!
//! With `--durable DIR`, each bot keeps its outbox on disk: kill a bot process with
//! `kill -9` and start it again with the same `DIR`, and what it held is sent first.
//!
//! `--feed-from SEQ` (with `--url`) runs one bot as a crash test's child instead: it
//! streams numbered events and prints `accepted SEQ` for each one tether took (see
//! `feed.rs`); `tests/durable_crash.rs` kills it with SIGKILL and restarts it.
//!
//! It exits with 0 when every event is accounted for and every bot closed, 1 otherwise,
//! and 2 for bad arguments. `RUST_LOG=debug` shows every retry and hub command.

mod accounting;
mod bot;
mod cli;
mod display;
mod feed;
mod hub;
mod metrics;
mod protocol;
mod scenario;
mod summary;
mod timeline;
mod timings;
mod token;
mod work;

use std::process::ExitCode;

use clap::Parser as _;
use indicatif::MultiProgress;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::sync::oneshot;

use crate::cli::Cli;
use crate::display::Dashboard;
use crate::hub::chaos::{self, ChaosLevel, Schedule};
use crate::hub::{Hub, HubConfig};
use crate::scenario::{HubChoice, ScenarioConfig, ScenarioError};
use crate::timings::Timings;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let multi = MultiProgress::new();
    display::init_tracing(&multi);
    // A short random seed, easy to type back in with `--seed`.
    let seed = cli
        .seed
        .unwrap_or_else(|| StdRng::from_os_rng().random_range(0..10_000));
    if let Some(addr) = cli.metrics {
        match metrics::serve(addr) {
            Ok(()) => tracing::info!("metrics: http://{addr}/metrics"),
            Err(error) => {
                eprintln!("error: cannot serve metrics on {addr}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(first) = cli.feed_from {
        return feed(&cli, first).await;
    }
    if cli.hub_only {
        hub_only(&cli, seed).await
    } else {
        bots(&cli, seed, multi).await
    }
}

/// The main job: bots against the embedded hub (or `--url`), summary, timeline.
async fn bots(cli: &Cli, seed: u64, multi: MultiProgress) -> ExitCode {
    let chaos = ChaosLevel::from(cli.chaos);
    let (hub, title) = match &cli.url {
        Some(url) => (
            HubChoice::External(
                std::iter::once(url.clone())
                    .chain(cli.backup_url.clone())
                    .collect(),
            ),
            format!("{} bots → {url}, seed {seed}", cli.bots),
        ),
        None => (
            HubChoice::Embedded,
            format!("{} bots, chaos {chaos}, seed {seed}", cli.bots),
        ),
    };
    // The embedded hub and its bots share a secret even when none was given, so every
    // connect fetches a fresh token.
    let token = match (&cli.token, &hub) {
        (Some(token), _) => Some(token.clone()),
        (None, HubChoice::Embedded) => {
            Some(format!("{:016x}", StdRng::from_os_rng().random::<u64>()))
        }
        (None, HubChoice::External(_)) => None,
    };
    let config = ScenarioConfig {
        bots: usize::from(cli.bots),
        duration: cli.duration,
        chaos,
        seed,
        hub,
        token,
        timings: Timings::demo(),
        durable: cli.durable.clone(),
    };
    tracing::info!(
        "operator_bot: {title}, for {}",
        timings::humanize(cli.duration)
    );
    let mut dashboard = Dashboard::new(multi, cli.duration, title);
    // Ctrl-C ends the run early; the bots are still closed and accounted for.
    let stop = async {
        let _ = actix_web::rt::signal::ctrl_c().await;
    };
    let report = scenario::run(config, |sample| dashboard.update(sample), stop).await;
    dashboard.finish();
    let report = match report {
        Ok(report) => report,
        Err(error @ ScenarioError::Bot(_)) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", summary::render(&report));
    match timeline::write(&report, &cli.out) {
        Ok(()) => {
            let path = std::path::absolute(&cli.out).unwrap_or_else(|_| cli.out.clone());
            println!("timeline: {}", path.display());
        }
        Err(error) => eprintln!(
            "cannot write the timeline to {}: {error}",
            cli.out.display()
        ),
    }
    if report.all_accounted() && report.all_closed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--feed-from`: numbered events for a crash test, until killed or `--feed-count`.
async fn feed(cli: &Cli, first: u64) -> ExitCode {
    let Some(hub_url) = cli.url.clone() else {
        eprintln!("error: --feed-from needs --url");
        return ExitCode::from(2);
    };
    let config = feed::FeedConfig {
        hub_url,
        token: cli.token.clone(),
        durable: cli.durable.clone(),
        first,
        count: cli.feed_count,
    };
    match feed::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--hub-only`: the hub alone, misbehaving on schedule, until Ctrl-C.
async fn hub_only(cli: &Cli, seed: u64) -> ExitCode {
    let timings = Timings::demo();
    let hub = match Hub::start(HubConfig {
        listen: cli.listen,
        backup: cli.backup_listen,
        token: cli.token.clone(),
        seed,
        tick: timings.hub_tick,
    }) {
        Ok(hub) => hub,
        Err(error) => {
            eprintln!(
                "error: cannot listen on {} and {}: {error}",
                cli.listen, cli.backup_listen
            );
            return ExitCode::FAILURE;
        }
    };
    let chaos = ChaosLevel::from(cli.chaos);
    let token = if cli.token.is_some() {
        " --token ..."
    } else {
        ""
    };
    let [url, backup] = [0, 1].map(|port| hub.urls()[port].clone());
    println!(
        "hub listening on {url} and {backup} (chaos {chaos}, seed {seed}); stop with Ctrl-C.\n\
         bots: cargo run --release --example operator_bot -- --url {url} --backup-url {backup}{token}"
    );
    let (calm, calmed) = oneshot::channel::<()>();
    let schedule = Schedule::new(chaos, seed, timings.chaos_scale);
    let chaos = actix::spawn(chaos::run(hub.clone(), schedule, async {
        let _ = calmed.await;
    }));
    let _ = actix_web::rt::signal::ctrl_c().await;
    // Let an outage in progress end, so bots still connected get a clean goodbye.
    let _ = calm.send(());
    let _ = chaos.await;
    println!("{}", summary::render_hub(&hub.stats()));
    hub.stop().await;
    ExitCode::SUCCESS
}
