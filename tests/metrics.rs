//! tether's metrics (the `metrics` feature) as the operator bot serves them: Prometheus
//! text on `/metrics` through `metrics-exporter-prometheus`, scraped with a real HTTP
//! client while the bots ride out wild chaos. At the end the scraped counters must
//! agree with the bots' own accounting: reconnects, events written, events handed back.
//!
//! One test per file: the recorder is global to the process.

// Parts of these modules serve only the example's binary.
mod support;

#[allow(dead_code)]
#[path = "../examples/operator_bot/accounting.rs"]
mod accounting;
#[allow(dead_code)]
#[path = "../examples/operator_bot/bot.rs"]
mod bot;
#[allow(dead_code)]
#[path = "../examples/operator_bot/hub/mod.rs"]
mod hub;
#[allow(dead_code)]
#[path = "../examples/operator_bot/metrics.rs"]
mod metrics;
#[allow(dead_code)]
#[path = "../examples/operator_bot/protocol.rs"]
mod protocol;
#[allow(dead_code)]
#[path = "../examples/operator_bot/scenario.rs"]
mod scenario;
#[allow(dead_code)]
#[path = "../examples/operator_bot/timings.rs"]
mod timings;
#[allow(dead_code)]
#[path = "../examples/operator_bot/token.rs"]
mod token;
#[allow(dead_code)]
#[path = "../examples/operator_bot/work.rs"]
mod work;

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::hub::chaos::ChaosLevel;
use crate::scenario::{HubChoice, ScenarioConfig};
use crate::timings::Timings;

/// A free loopback port for the exporter (it binds the address itself).
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a loopback port is free");
    listener.local_addr().expect("the listener has an address")
}

/// `GET /metrics`, as a Prometheus server would.
async fn scrape(client: &awc::Client, addr: SocketAddr) -> Result<String, String> {
    let mut response = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .map_err(|error| format!("scrape failed: {error}"))?;
    if !response.status().is_success() {
        return Err(format!("scrape answered {}", response.status()));
    }
    let body = response
        .body()
        .limit(4 << 20)
        .await
        .map_err(|error| format!("scrape body: {error}"))?;
    String::from_utf8(body.to_vec()).map_err(|error| error.to_string())
}

/// The sum of the samples of `name` whose labels include `connection="<connection>"`.
fn value(text: &str, name: &str, connection: &str) -> f64 {
    value_where(text, name, connection, "")
}

/// The same, for the samples whose labels also include `extra` (`state="connected"`).
fn value_where(text: &str, name: &str, connection: &str, extra: &str) -> f64 {
    let label = format!("connection=\"{connection}\"");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, sample) = line.rsplit_once(' ')?;
            let labels = series.strip_prefix(name)?.strip_prefix('{')?;
            labels
                .contains(&label)
                .then_some(())
                .filter(|()| labels.contains(extra))
                .and_then(|()| sample.parse::<f64>().ok())
        })
        .sum()
}

#[actix_web::test]
async fn scraped_counters_agree_with_the_bots_accounting_after_wild_chaos() {
    support::init_tracing();
    let addr = free_addr();
    // Before the bots: connections take their metric handles when they are built.
    metrics::serve(addr).expect("the exporter listens");
    let client = awc::Client::default();

    // Scrape every 100 ms while the scenario runs, as a Prometheus server would.
    let during = Rc::new(RefCell::new(Vec::<String>::new()));
    let (done, mut finished) = oneshot::channel::<()>();
    let scraper = {
        let during = during.clone();
        let client = client.clone();
        actix::spawn(async move {
            loop {
                if let Ok(text) = scrape(&client, addr).await {
                    during.borrow_mut().push(text);
                }
                tokio::select! {
                    _ = &mut finished => break,
                    () = actix::clock::sleep(Duration::from_millis(100)) => {}
                }
            }
        })
    };
    let config = ScenarioConfig {
        bots: 3,
        duration: Duration::from_secs(4),
        chaos: ChaosLevel::Wild,
        seed: 42,
        hub: HubChoice::Embedded,
        token: Some("test-token".into()),
        timings: Timings::quick(),
        durable: None,
    };
    let report = scenario::run(config, |_| {}, std::future::pending())
        .await
        .expect("the scenario starts");
    let _ = done.send(());
    scraper.await.expect("the scraper ends");
    assert!(report.all_accounted() && report.all_closed(), "{report:?}");

    let during = during.take();
    assert!(
        during.len() >= 10,
        "only {} scrapes answered during a 4 s run",
        during.len()
    );
    let connected_seen = during
        .iter()
        .any(|text| value(text, "tether_connections", "op-1") >= 1.0);
    assert!(connected_seen, "no scrape showed op-1 in a state");

    let last = scrape(&client, addr).await.expect("the final scrape");
    println!("{last}");
    for bot in &report.bots {
        let name = bot.name.as_str();
        let books = &bot.accounting;
        let reconnects = value(&last, "tether_reconnects_total", name);
        assert_eq!(reconnects, bot.reconnects as f64, "{name}: reconnects");
        assert!(reconnects >= 1.0, "{name} never reconnected");
        assert_eq!(
            value(&last, "tether_messages_sent_total", name),
            books.sent as f64,
            "{name}: written"
        );
        assert_eq!(
            value(&last, "tether_messages_undelivered_total", name)
                + value(&last, "tether_messages_evicted_total", name),
            books.undelivered as f64,
            "{name}: handed back unsent"
        );
        assert_eq!(
            value(&last, "tether_messages_unconfirmed_total", name),
            books.unconfirmed as f64,
            "{name}: handed back unconfirmed"
        );
        assert_eq!(
            value(&last, "tether_messages_flushed_total", name),
            books.flushed as f64,
            "{name}: flushed"
        );
        // Every reconnect took some time, and round trips were measured.
        assert_eq!(
            value(&last, "tether_time_to_reconnect_seconds_count", name),
            reconnects,
            "{name}: one time-to-reconnect sample per reconnect"
        );
        assert!(
            value(&last, "tether_round_trip_seconds_count", name) >= 1.0,
            "{name}: no round trip measured"
        );
        assert!(value(&last, "tether_bytes_sent_total", name) > 0.0);
        // Closed: the connection counts in no other state.
        for state in ["connecting", "connected", "reconnecting", "disconnected"] {
            let label = format!("state=\"{state}\"");
            let count = value_where(&last, "tether_connections", name, &label);
            assert_eq!(count, 0.0, "{name}: {state}");
        }
    }
}
