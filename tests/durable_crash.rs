//! Crash test of the durable outbox: a child process sends numbered events through a
//! durable connection and is killed with SIGKILL at seeded moments, then restarted with
//! the same name and directory. The server in this process counts every event. No event
//! the child's connection accepted may be lost; duplicates (events written, not yet
//! confirmed, when the child died) are allowed and reported.
//!
//! The child is this test binary, running the ignored `child_sends_numbered_events`.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use support::{kill_hard, setup, wait_until, KillPlan, Received, Tally, TestServer, PATIENCE};
use tether_actix::durable::DurableStore;
use tether_actix::message::{self, Close, Delivery, OutgoingBatch};
use tether_actix::{ConnectionActor, ConnectionState};

/// The connection's name: the same in every run, so each finds its predecessor's store.
const NAME: &str = "crash-bot";
const URL: &str = "TETHER_DURABLE_CRASH_URL";
const DIR: &str = "TETHER_DURABLE_CRASH_DIR";
const START: &str = "TETHER_DURABLE_CRASH_START";
/// Set in the last run: send one event, wait for its confirmation, close, exit.
const LAST: &str = "TETHER_DURABLE_CRASH_LAST";

fn number(text: &str) -> Option<u64> {
    text.strip_prefix("event ")?.parse().ok()
}

/// Child: sends `event N` from `$START` on, alternating batches of 16 and single sends,
/// and prints `accepted N` once tether answered (on disk from then on).
#[actix_web::test]
#[ignore = "helper, run as a child process by the crash test"]
async fn child_sends_numbered_events() {
    let (Ok(url), Ok(dir), Some(start)) = (
        std::env::var(URL),
        std::env::var(DIR),
        std::env::var(START)
            .ok()
            .and_then(|start| start.parse::<u64>().ok()),
    ) else {
        return;
    };
    let connection = ConnectionActor::builder(url)
        .name(NAME)
        .durable(dir)
        .configure(|config| support::quick(config).message_buffer_size(512))
        .start()
        .expect("the store opens");
    if std::env::var(LAST).is_ok() {
        let reply = connection
            .send(message::Outgoing::text(format!("event {start}")).with_confirmation())
            .await
            .expect("actor alive");
        assert_eq!(reply.expect("confirmed"), Delivery::Confirmed);
        println!("accepted {start}");
        assert_eq!(
            connection.send(Close).await.expect("actor alive"),
            ConnectionState::Closed
        );
        return;
    }
    let mut next = start;
    for round in 0..1_000_000_u64 {
        if round % 2 == 0 {
            let events: Vec<String> = (next..next + 16).map(|n| format!("event {n}")).collect();
            let report = connection
                .send(OutgoingBatch::new(events))
                .await
                .expect("actor alive");
            assert_eq!(report.accepted(), 16, "refused: {:?}", report.refused);
            for n in next..next + 16 {
                println!("accepted {n}");
            }
            next += 16;
        } else {
            let reply = connection
                .send(message::Outgoing::text(format!("event {next}")))
                .await
                .expect("actor alive");
            reply.expect("accepted");
            println!("accepted {next}");
            next += 1;
        }
    }
}

/// What the children reported: how many events were accepted, and one more than the
/// highest accepted number (0: none yet).
#[derive(Debug, Default)]
struct Accepted {
    count: AtomicU64,
    beyond: AtomicU64,
}

/// Starts the child, counting its `accepted` lines.
fn spawn_child(
    url: &str,
    dir: &Path,
    start: u64,
    last: bool,
    accepted: &Arc<Accepted>,
) -> (Child, std::thread::JoinHandle<()>) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            "child_sends_numbered_events",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(URL, url)
        .env(DIR, dir)
        .env(START, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if last {
        command.env(LAST, "1");
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let accepted = accepted.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line
                .strip_prefix("accepted ")
                .and_then(|n| n.parse::<u64>().ok())
            {
                accepted.count.fetch_add(1, Ordering::SeqCst);
                accepted.beyond.fetch_max(n + 1, Ordering::SeqCst);
            }
        }
    });
    (child, reader)
}

/// Every event number the server received, into a fresh tally.
fn tally_of(server: &TestServer) -> Tally {
    let tally = Tally::new();
    for received in server.received() {
        if let Received::Text(text) = received {
            if let Some(n) = number(&text) {
                tally.record(n);
            }
        }
    }
    tally
}

/// The highest event number left in the store by the dead child.
fn highest_stored(dir: &Path) -> Option<u64> {
    let store = DurableStore::open(dir, NAME).expect("the dead child's store opens");
    store
        .load()
        .expect("the store loads")
        .iter()
        .filter_map(|record| number(record.payload.as_text()?))
        .max()
}

#[actix_web::test]
async fn a_durable_bot_killed_ten_times_loses_nothing() {
    let server = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = KillPlan::new(15, 12, 20..600);
    let accepted = Arc::new(Accepted::default());
    let mut start = 0;
    for &moment in plan.moments() {
        let before = accepted.count.load(Ordering::SeqCst);
        let (mut child, reader) = spawn_child(&server.url(), dir.path(), start, false, &accepted);
        assert!(
            wait_until(PATIENCE, || accepted.count.load(Ordering::SeqCst)
                >= before + moment)
            .await,
            "seed {}: the child accepted {} of {moment} events",
            plan.seed(),
            accepted.count.load(Ordering::SeqCst) - before
        );
        kill_hard(&mut child);
        reader.join().unwrap();
        // Every number up to the highest one accepted, arrived or stored must arrive in
        // the end; a number above all three was never on disk, so the next run may use
        // it again.
        let arrived = tally_of(&server).highest();
        let known = arrived.max(highest_stored(dir.path())).map_or(0, |n| n + 1);
        start = known.max(accepted.beyond.load(Ordering::SeqCst));
    }
    // A last run writes what is left, confirms it, and closes.
    let (mut child, reader) = spawn_child(&server.url(), dir.path(), start, true, &accepted);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success(), "the last run failed: {status}");

    let sent = start + 1;
    let tally = tally_of(&server);
    let report = tally.report(sent, plan.moments().len());
    println!("durable crash test, seed {}: {report}", plan.seed());
    assert!(report.lost.is_empty(), "lost: {:?}", report.lost);
    assert!(
        report.unexpected.is_empty(),
        "unexpected: {:?}",
        report.unexpected
    );

    let store = DurableStore::open(dir.path(), NAME).unwrap();
    let size = store.size_on_disk().unwrap();
    println!("store after the run: {} records, {size} bytes", store.len());
    assert!(
        store.is_empty(),
        "{} records left after the close",
        store.len()
    );
    assert!(size < 4 << 20, "store is {size} bytes");
}
