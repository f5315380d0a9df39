//! A tether client for the Autobahn|Testsuite fuzzingserver (WebSocket conformance).
//!
//! Run the fuzzingserver first (`run_fuzzingserver.sh DIR` of the suite's Python 3 port),
//! then: `cargo run --release --example autobahn_client -- --url ws://127.0.0.1:9001`.
//! `.ci/conformance` does all of it and checks the result.
//!
//! The client follows the suite's protocol: it asks `/getCaseCount` for N, runs
//! `/runCase?case=i&agent=A` for i in 1..=N, one after the other, then asks
//! `/updateReports?agent=A`, which makes the server write its reports. Each case is one
//! `ConnectionActor` that never reconnects and that echoes every message back with
//! `message::Outgoing`, text as text and binary as binary. Its own pings are switched off
//! (heartbeat and confirmation intervals far longer than a case), and it accepts
//! messages of up to 16 MiB, as the suite requires. A case is over when its connection
//! reaches a terminal state (`Closed` or `Failed`); the server judges the case.

use std::error::Error;
use std::time::{Duration, Instant};

use actix::prelude::*;
use clap::Parser;
use tether_actix::{
    message, ConnectionActor, ConnectionState, DisconnectReason, Incoming, Payload,
    ResiliencyConfig, RetryDecision, RetryPolicy, StateChanged,
};
use tokio::sync::oneshot;

/// Command line.
#[derive(Debug, Parser)]
#[command(about = "Autobahn|Testsuite fuzzingserver client built on tether")]
struct Args {
    /// The fuzzingserver's address.
    #[arg(long, default_value = "ws://127.0.0.1:9001")]
    url: String,
    /// The agent name the reports are filed under.
    #[arg(long, default_value = "tether")]
    agent: String,
    /// Case numbers to run (1-based indexes, e.g. `1-50,60`); all when absent.
    #[arg(long)]
    cases: Option<String>,
    /// How long one case may take before the client closes it.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    case_timeout: Duration,
    /// Print how every case's connection ended, not only the unexpected ends.
    #[arg(long)]
    verbose: bool,
}

/// Whether a case's connection ended as a case can end: the server closed it or hung
/// up, or tether failed it for a protocol violation the case provoked. Anything else
/// (a refused or timed-out connect, a case the client had to close) is worth a line.
fn expected_end(reason: Option<&DisconnectReason>) -> bool {
    matches!(
        reason,
        Some(
            DisconnectReason::ClosedByServer { .. }
                | DisconnectReason::StreamEnded
                | DisconnectReason::ProtocolError { .. }
                | DisconnectReason::InvalidUtf8
                | DisconnectReason::MessageTooLarge { .. }
        )
    )
}

/// Never reconnect: a case is exactly one connection.
#[derive(Debug)]
struct NeverRetry;

impl RetryPolicy for NeverRetry {
    fn decide(&self, _reason: &DisconnectReason) -> RetryDecision {
        RetryDecision::GiveUp
    }
}

/// The settings of every connection the client opens.
fn config() -> Result<ResiliencyConfig, tether_actix::ConfigError> {
    // Longer than any case: the suite expects no ping from the client.
    let never = Duration::from_secs(24 * 3600);
    let max_message = 16 * 1024 * 1024;
    ResiliencyConfig::builder()
        .max_reconnect_attempts(Some(0))
        .heartbeat_interval(never)
        .confirm_interval(never)
        .max_message_size(max_message)
        // Group 9 sends up to 1,000 messages per case, and 16 MiB in one: the buffer
        // and the window of written messages must never be what stops an echo (a full
        // window would also ask for a confirmation ping).
        .message_buffer_size(100_000)
        .message_buffer_bytes(Some(64 * max_message))
        .unconfirmed_window(100_000)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

/// How a connection ended.
#[derive(Debug)]
struct Ended {
    state: ConnectionState,
    reason: Option<DisconnectReason>,
}

/// Tells a [`Session`] which connection to echo through.
#[derive(Message)]
#[rtype(result = "()")]
struct Attach(Addr<ConnectionActor>);

/// One connection's events: echoes (or keeps) its messages, reports its end.
struct Session {
    echo: bool,
    connection: Option<Addr<ConnectionActor>>,
    /// Messages that came before [`Attach`], or all of them when not echoing.
    kept: Vec<Payload>,
    ended: Option<oneshot::Sender<(Ended, Vec<Payload>)>>,
}

impl Session {
    fn echo(&mut self, payload: Payload) {
        match &self.connection {
            // `do_send` keeps the order of the echoes and never waits on the mailbox.
            Some(connection) => connection.do_send(message::Outgoing::new(payload)),
            None => self.kept.push(payload),
        }
    }
}

impl Actor for Session {
    type Context = Context<Self>;
}

impl Handler<Attach> for Session {
    type Result = ();

    fn handle(&mut self, Attach(connection): Attach, _ctx: &mut Context<Self>) {
        self.connection = Some(connection);
        if self.echo {
            for payload in std::mem::take(&mut self.kept) {
                self.echo(payload);
            }
        }
    }
}

impl Handler<Incoming> for Session {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, _ctx: &mut Context<Self>) {
        if self.echo {
            self.echo(incoming.payload);
        } else {
            self.kept.push(incoming.payload);
        }
    }
}

impl Handler<StateChanged> for Session {
    type Result = ();

    fn handle(&mut self, change: StateChanged, ctx: &mut Context<Self>) {
        if !change.to.is_terminal() {
            return;
        }
        let ended = Ended {
            state: change.to,
            reason: change.reason,
        };
        if let Some(tell) = self.ended.take() {
            let _ = tell.send((ended, std::mem::take(&mut self.kept)));
        }
        // Drops the address too, so the dormant connection can stop.
        self.connection = None;
        ctx.stop();
    }
}

/// Opens `url`, echoing (or keeping) its messages until the connection ends or
/// `timeout` passes (then it is closed). Returns how it ended and the kept messages.
async fn session(
    url: &str,
    echo: bool,
    timeout: Duration,
) -> Result<(Ended, Vec<Payload>), Box<dyn Error>> {
    let (tell, ended) = oneshot::channel();
    let session = Session {
        echo,
        connection: None,
        kept: Vec::new(),
        ended: Some(tell),
    }
    .start();
    let connection = ConnectionActor::builder(url)
        .config(config()?)
        .retry_policy(NeverRetry)
        .on_state(session.clone().recipient())
        .on_incoming(session.clone().recipient())
        .start()?;
    session.do_send(Attach(connection.clone()));
    let mut ended = std::pin::pin!(ended);
    match tokio::time::timeout(timeout, &mut ended).await {
        Ok(result) => Ok(result?),
        Err(_) => {
            eprintln!("{url}: still open after {timeout:?}; closing it");
            connection.send(message::Close).await?;
            Ok(ended.await?)
        }
    }
}

/// Parses `1-50,60` into case indexes within 1..=count.
fn parse_cases(spec: Option<&str>, count: usize) -> Result<Vec<usize>, Box<dyn Error>> {
    let Some(spec) = spec else {
        return Ok((1..=count).collect());
    };
    let mut cases = Vec::new();
    for part in spec.split(',') {
        match part.split_once('-') {
            Some((from, to)) => cases.extend(from.trim().parse::<usize>()?..=to.trim().parse()?),
            None => cases.push(part.trim().parse()?),
        }
    }
    cases.retain(|case| (1..=count).contains(case));
    Ok(cases)
}

#[actix::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // actix-http logs each protocol violation a case provokes as an error: not ours.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,actix_http::ws=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let args = Args::parse();
    let url = args.url.trim_end_matches('/');
    let short = Duration::from_secs(30);

    let (ended, kept) = session(&format!("{url}/getCaseCount"), false, short).await?;
    let count: usize = match kept.first().and_then(Payload::as_text) {
        Some(text) => text.trim().parse()?,
        None => return Err(format!("no case count from {url} ({ended:?})").into()),
    };
    let cases = parse_cases(args.cases.as_deref(), count)?;
    println!("server has {count} cases; running {}", cases.len());

    let started = Instant::now();
    for &case in &cases {
        let case_url = format!("{url}/runCase?case={case}&agent={}", args.agent);
        let (ended, _) = session(&case_url, true, args.case_timeout).await?;
        // The server's report judges the case; this line only helps to find out why.
        if args.verbose || !expected_end(ended.reason.as_ref()) {
            println!("case {case}: {} ({:?})", ended.state, ended.reason);
        }
        if case % 50 == 0 {
            println!(
                "{case} cases done ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let reports = format!("{url}/updateReports?agent={}", args.agent);
    session(&reports, false, short).await?;
    println!(
        "ran {} cases in {:.1} s; reports updated",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
