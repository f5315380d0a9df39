//! The operator bot example's scenario (`examples/operator_bot`), run in-process, a
//! hundred times faster than the demo: a few seconds of wild chaos with a fixed seed,
//! then the summary must show every event accounted for, at least one reconnect per bot
//! and a graceful close.
//!
//! The example's modules are compiled into this test as they are (they refer to each
//! other through `crate::`, so they are declared here at the root, like in its
//! `main.rs`); only the terminal display is left out.

// Parts of these modules serve only the example's binary (its options, the hub-only
// mode, the demo timings).
mod support;

#[allow(dead_code)]
#[path = "../examples/operator_bot/accounting.rs"]
mod accounting;
#[allow(dead_code)]
#[path = "../examples/operator_bot/bot.rs"]
mod bot;
#[allow(dead_code)]
#[path = "../examples/operator_bot/cli.rs"]
mod cli;
#[allow(dead_code)]
#[path = "../examples/operator_bot/hub/mod.rs"]
mod hub;
#[allow(dead_code)]
#[path = "../examples/operator_bot/protocol.rs"]
mod protocol;
#[allow(dead_code)]
#[path = "../examples/operator_bot/scenario.rs"]
mod scenario;
#[allow(dead_code)]
#[path = "../examples/operator_bot/summary.rs"]
mod summary;
#[allow(dead_code)]
#[path = "../examples/operator_bot/timeline.rs"]
mod timeline;
#[allow(dead_code)]
#[path = "../examples/operator_bot/timings.rs"]
mod timings;
#[allow(dead_code)]
#[path = "../examples/operator_bot/work.rs"]
mod work;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser as _;
use tether_actix::message::GetStatus;
use tether_actix::ConnectionState;

use crate::bot::{Bot, BotSettings};
use crate::hub::chaos::ChaosLevel;
use crate::hub::{Hub, HubConfig};
use crate::scenario::{HubChoice, ScenarioConfig};
use crate::timings::Timings;

fn quick() -> Timings {
    Timings::quick()
}

/// How long any single wait in these tests may take before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(10);

#[actix_web::test]
async fn wild_chaos_loses_no_event_without_a_report_and_every_bot_closes() {
    support::init_tracing();
    let started = Instant::now();
    let config = ScenarioConfig {
        bots: 3,
        duration: Duration::from_secs(4),
        chaos: ChaosLevel::Wild,
        seed: 42,
        hub: HubChoice::Embedded,
        token: Some("test-token".into()),
        timings: quick(),
        durable: None,
    };
    let mut samples = 0;
    let report = scenario::run(config, |_| samples += 1, std::future::pending())
        .await
        .expect("the scenario starts");
    let summary = summary::render(&report);
    println!("{summary}");

    assert!(
        report.all_accounted(),
        "not every event accounted for:\n{summary}"
    );
    assert!(report.all_closed(), "not every bot closed:\n{summary}");
    for bot in &report.bots {
        assert!(
            bot.reconnects >= 1,
            "{} never reconnected:\n{summary}",
            bot.name
        );
        assert!(bot.accounting.events > 0, "{} produced nothing", bot.name);
        assert!(
            bot.accounting.at_hub > 0,
            "{} reached the hub with nothing",
            bot.name
        );
        assert_eq!(
            bot.states.last().map(|&(_, state)| state),
            Some(ConnectionState::Closed),
            "{}: the last state published is not Closed",
            bot.name
        );
    }
    let kinds: HashSet<_> = report.misbehaved.iter().map(|m| m.what).collect();
    assert_eq!(
        kinds.len(),
        4,
        "every kind of misbehaviour: {:?}",
        report.misbehaved
    );
    assert!(samples > 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );

    // The timeline is drawn from the same report.
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("operator_bot/timeline.svg");
    timeline::write(&report, &path).expect("the timeline is written");
    let svg = std::fs::read_to_string(&path).expect("the timeline is readable");
    assert!(svg.starts_with("<svg") && svg.contains("op-3") && svg.contains("silent"));
}

#[actix_web::test]
async fn a_bot_without_the_token_is_refused_with_401_and_gives_up() {
    support::init_tracing();
    let hub = Hub::start(HubConfig {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        token: Some("s3cret".into()),
        seed: 1,
        tick: Duration::from_millis(30),
    })
    .expect("the hub listens");
    let bot = Bot::start(BotSettings {
        name: "intruder".into(),
        hub_url: hub.url(),
        token: None,
        seed: 1,
        timings: quick(),
        durable: None,
    })
    .expect("the bot starts");

    // 401 is final under tether's default retry policy: no reconnect loop.
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        let status = bot.connection.send(GetStatus).await.expect("actor alive");
        if status.state.is_terminal() || Instant::now() >= deadline {
            break status;
        }
        actix::clock::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(status.state, ConnectionState::Failed, "{status:?}");
    assert_eq!(status.counters.connects, 0);
    let stats = hub.stats();
    assert_eq!((stats.unauthorized, stats.handshakes), (1, 0));
    hub.stop().await;
}

#[test]
fn bad_arguments_exit_with_code_2() {
    for args in [
        &["--bots", "0"][..],
        &["--duration", "soon"],
        &["--chaos", "loud"],
        &["--url", "http://127.0.0.1:9000"],
        &["--url", "ws://127.0.0.1:9000", "--chaos", "wild"],
        &["--listen", "127.0.0.1:9000"],
    ] {
        let parsed =
            cli::Cli::try_parse_from(std::iter::once("operator_bot").chain(args.iter().copied()));
        let error = parsed.expect_err(&format!("{args:?} must be refused"));
        assert_eq!(error.exit_code(), 2, "{args:?}");
    }
    let defaults = cli::Cli::try_parse_from(["operator_bot"]).expect("no arguments is fine");
    assert_eq!(
        (defaults.bots, defaults.duration),
        (3, Duration::from_secs(30))
    );
}
