//! Command-line arguments. clap reports bad ones with a usage message and exit code 2.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::hub::chaos::ChaosLevel;

/// Operator bots streaming work to a hub that misbehaves on purpose, kept connected by
/// tether.
#[derive(Debug, Parser)]
#[command(name = "operator_bot", version)]
pub(crate) struct Cli {
    /// How many bots to run.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) bots: u16,

    /// How long the bots work before they are closed: `30s`, `1m 30s`, or plain seconds.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(crate) duration: Duration,

    /// How much the hub misbehaves.
    #[arg(long, value_enum, default_value_t = Chaos::Mild)]
    pub(crate) chaos: Chaos,

    /// Seed of the chaos schedule, the hub's choices and the bots' backoff jitter
    /// [default: random, printed at the start].
    #[arg(long)]
    pub(crate) seed: Option<u64>,

    /// Connect the bots to this external hub (`ws://HOST:PORT`, e.g. one started with
    /// `--hub-only`) instead of starting one.
    #[arg(long, value_parser = parse_ws_url, conflicts_with_all = ["hub_only", "chaos", "listen"])]
    pub(crate) url: Option<String>,

    /// The external hub's backup port (`ws://HOST:PORT`): the bots' second endpoint.
    #[arg(long, value_parser = parse_ws_url, requires = "url")]
    pub(crate) backup_url: Option<String>,

    /// Run only the hub, with its chaos schedule, until Ctrl-C.
    #[arg(long)]
    pub(crate) hub_only: bool,

    /// Where the hub's primary port listens, with `--hub-only`.
    #[arg(long, requires = "hub_only", default_value = "127.0.0.1:9000")]
    pub(crate) listen: SocketAddr,

    /// Where the hub's backup port listens, with `--hub-only`.
    #[arg(long, requires = "hub_only", default_value = "127.0.0.1:9001")]
    pub(crate) backup_listen: SocketAddr,

    /// The hub's secret: the hub issues connect tokens (`/token`) only to holders of it
    /// and refuses handshakes without a fresh one (401); the bots fetch one with it
    /// before every connect. With the embedded hub it defaults to a random secret.
    #[arg(long)]
    pub(crate) token: Option<String>,

    /// Keep each bot's outbox on disk in this directory (tether's durable outbox): a bot
    /// killed and started again with the same directory sends what it held first. Bots
    /// are then named `op-1`, `op-2`, ... in every run, so each finds its own store.
    #[arg(long, value_name = "DIR")]
    pub(crate) durable: Option<PathBuf>,

    /// Crash-test feed instead of the scenario: bot `op-1` sends numbered heartbeat
    /// events to `--url` as fast as tether takes them, from this sequence number on,
    /// printing `accepted SEQ` once tether answered for each (with `--durable`: once it
    /// is on disk). Runs until killed, or for `--feed-count` events.
    #[arg(long, value_name = "SEQ", requires = "url", conflicts_with = "bots")]
    pub(crate) feed_from: Option<u64>,

    /// With `--feed-from`: send this many events, the last one confirmed by the hub,
    /// then close and exit.
    #[arg(long, value_name = "N", requires = "feed_from")]
    pub(crate) feed_count: Option<u64>,

    /// Serve tether's metrics as Prometheus text on `http://ADDR/metrics` while running,
    /// e.g. `--metrics 127.0.0.1:9100`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics: Option<SocketAddr>,

    /// Where to write the timeline picture (SVG).
    #[arg(long, default_value = "target/operator_bot/timeline.svg")]
    pub(crate) out: PathBuf,
}

/// `--chaos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Chaos {
    /// The hub behaves.
    Off,
    /// Every kind of outage, one every few seconds.
    Mild,
    /// Outages back to back, long enough to fill the bots' buffers.
    Wild,
}

impl From<Chaos> for ChaosLevel {
    fn from(chaos: Chaos) -> Self {
        match chaos {
            Chaos::Off => ChaosLevel::Off,
            Chaos::Mild => ChaosLevel::Mild,
            Chaos::Wild => ChaosLevel::Wild,
        }
    }
}

/// Plain seconds (`45`, `2.5`) or a humantime duration (`30s`, `1m 30s`), above zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("`{text}` is not a usable number of seconds"))?,
        Err(_) => humantime::parse_duration(text).map_err(|error| error.to_string())?,
    };
    if duration.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    Ok(duration)
}

/// A `ws://` URL with a host. (`wss://` needs TLS support, which this build of tether
/// does not have.)
fn parse_ws_url(text: &str) -> Result<String, String> {
    match text.strip_prefix("ws://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(text.to_owned()),
        Some(_) => Err("the URL has no host".into()),
        None => Err("expected a ws:// URL, e.g. ws://127.0.0.1:9000".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_or_humantime() {
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("-3").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
