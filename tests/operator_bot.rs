//! The operator bot example's scenario (`examples/operator_bot`), run in-process, a
//! hundred times faster than the demo: a few seconds of wild chaos with a fixed seed,
//! then the summary must show every event accounted for, at least one reconnect per bot,
//! failover between the hub's two ports, a fresh token checked on every handshake, and a
//! graceful close.
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
#[path = "../examples/operator_bot/token.rs"]
mod token;
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
    // The primary port refused for a while: bots moved to the backup port, and the
    // timeline's connects name both.
    let failovers: usize = report.bots.iter().map(|bot| bot.failovers()).sum();
    assert!(failovers >= 1, "no bot failed over:\n{summary}");
    let hub = report.hub.as_ref().expect("the embedded hub's counts");
    assert!(
        hub.port_handshakes[1] >= 1,
        "nobody reached the backup port:\n{summary}"
    );
    assert_eq!(
        hub.port_handshakes[0] + hub.port_handshakes[1],
        hub.handshakes
    );
    // Every accepted handshake redeemed a connect token issued for it; none was stale.
    assert!(hub.handshakes > 0);
    assert!(
        hub.tokens_redeemed >= hub.handshakes,
        "handshakes without a fresh token:\n{summary}"
    );
    assert!(hub.tokens_issued >= hub.tokens_redeemed);
    assert_eq!(hub.unauthorized, 0, "a bot was refused:\n{summary}");
    // Every connection registered in its setup before any event on it.
    assert!(
        hub.registrations >= report.bots.len() as u64,
        "registrations: {}",
        hub.registrations
    );
    assert_eq!(
        hub.registration_violations, 0,
        "events before their connection's registration:\n{summary}"
    );
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
    assert!(svg.contains("backup"), "the timeline names the endpoints");
}

fn start_hub(seed: u64) -> Hub {
    Hub::start(HubConfig {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        backup: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        token: Some("s3cret".into()),
        seed,
        tick: Duration::from_millis(30),
    })
    .expect("the hub listens")
}

/// Polls the connection until it is in a terminal state, or [`PATIENCE`] is over.
async fn until_terminal(
    connection: &actix::Addr<tether_actix::ConnectionActor>,
) -> tether_actix::Status {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = connection.send(GetStatus).await.expect("actor alive");
        if status.state.is_terminal() || Instant::now() >= deadline {
            return status;
        }
        actix::clock::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_web::test]
async fn a_bot_without_the_token_is_refused_with_401_and_gives_up() {
    support::init_tracing();
    let hub = start_hub(1);
    let bot = Bot::start(BotSettings {
        name: "intruder".into(),
        hub_urls: hub.urls(),
        token: None,
        seed: 1,
        timings: quick(),
        durable: None,
    })
    .expect("the bot starts");

    // 401 is final under tether's default retry policy, per endpoint: one refusal at
    // each of the hub's two ports, then no reconnect loop.
    let status = until_terminal(&bot.connection).await;
    assert_eq!(status.state, ConnectionState::Failed, "{status:?}");
    assert_eq!(status.counters.connects, 0);
    let stats = hub.stats();
    assert_eq!((stats.unauthorized, stats.handshakes), (2, 0));
    hub.stop().await;
}

#[actix_web::test]
async fn a_bot_with_a_wrong_secret_gets_no_token_and_gives_up() {
    support::init_tracing();
    let hub = start_hub(2);
    let bot = Bot::start(BotSettings {
        name: "guesser".into(),
        hub_urls: hub.urls(),
        token: Some("wrong".into()),
        seed: 2,
        timings: quick(),
        durable: None,
    })
    .expect("the bot starts");
    // The token endpoint's 401 is a final credentials error at each port.
    let status = until_terminal(&bot.connection).await;
    assert_eq!(status.state, ConnectionState::Failed, "{status:?}");
    let stats = hub.stats();
    assert_eq!(
        (stats.unauthorized, stats.tokens_issued, stats.handshakes),
        (2, 0, 0)
    );
    hub.stop().await;
}

#[actix_web::test]
async fn a_stale_token_is_refused_with_401() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use tether_actix::{Attempt, ConnectionActor, Credentials};

    support::init_tracing();
    let hub = start_hub(3);
    // One token, fetched once, presented on every attempt: the first handshake uses it
    // up, so the reconnect after a dropped link presents a stale one.
    let source = token::TokenSource::new("s3cret".into());
    let url = token::token_url(&format!("{}/bots/stale", hub.urls()[0])).expect("ws://");
    let once = source.fetch(url).await.expect("the hub issues a token");
    let cached = Rc::new(RefCell::new(once));
    let connection =
        ConnectionActor::builder_for(hub.urls().iter().map(|url| format!("{url}/bots/stale")))
            .configure(|config| quick().connection(config))
            .credentials(move |_: &Attempt| {
                let credentials: Credentials = cached.borrow().clone();
                async move { Ok(credentials) }
            })
            .start()
            .expect("valid");
    let deadline = Instant::now() + PATIENCE;
    while hub.stats().handshakes == 0 && Instant::now() < deadline {
        actix::clock::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(hub.stats().handshakes, 1, "the fresh token is accepted");
    hub.drop_all();
    let status = until_terminal(connection.addr()).await;
    assert_eq!(status.state, ConnectionState::Failed, "{status:?}");
    let stats = hub.stats();
    assert_eq!((stats.handshakes, stats.tokens_redeemed), (1, 1));
    assert_eq!((stats.unauthorized, stats.tokens_refused), (2, 2));
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
        &["--backup-url", "ws://127.0.0.1:9001"],
        &["--backup-listen", "127.0.0.1:9001"],
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
