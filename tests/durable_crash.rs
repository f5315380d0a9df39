//! Crash test of the durable outbox with the operator bot: the bot
//! (`examples/operator_bot`, run as `operator_bot --url URL --durable DIR --feed-from N`)
//! streams numbered events through its durable connection and is killed with SIGKILL at
//! seeded moments, then restarted with the same directory. The server in this process,
//! the bot's hub, counts every event. No event the bot's connection accepted may be
//! lost; duplicates (events written, not yet confirmed, when the bot died) are allowed
//! and reported.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use support::{
    example_binary, kill_hard, setup, wait_until, KillPlan, Mode, Received, Tally, TestServer,
    PATIENCE,
};
use tether_actix::durable::DurableStore;

/// The feed bot's name, which names its store: `op-1` in every run.
const NAME: &str = "op-1";

/// The most events a run waits for while the hub refuses it: well below the feed's
/// buffer of 512, so the feed never meets a full buffer.
const HELD_WHILE_DOWN: u64 = 200;

/// The sequence number of one of the bot's events, `{"seq":N,...}`.
fn number(text: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(text).ok()?["seq"].as_u64()
}

/// What the bot's runs reported: how many events were accepted, and one more than the
/// highest accepted number (0: none yet).
#[derive(Debug, Default)]
struct Accepted {
    count: AtomicU64,
    beyond: AtomicU64,
}

/// Starts the bot from event `start` on, counting its `accepted` lines. The last run
/// sends one event, confirmed, and closes.
fn spawn_bot(
    bot: &Path,
    url: &str,
    dir: &Path,
    start: u64,
    last: bool,
    accepted: &Arc<Accepted>,
) -> (Child, std::thread::JoinHandle<()>) {
    let mut command = Command::new(bot);
    command
        .arg("--url")
        .arg(url)
        .arg("--durable")
        .arg(dir)
        .args(["--feed-from", &start.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if last {
        command.args(["--feed-count", "1"]);
    }
    let mut child = command.spawn().expect("start the operator bot");
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

/// The highest event number left in the store by the dead bot.
fn highest_stored(dir: &Path) -> Option<u64> {
    let store = DurableStore::open(dir, NAME).expect("the dead bot's store opens");
    store
        .load()
        .expect("the store loads")
        .iter()
        .filter_map(|record| number(record.payload.as_text()?))
        .max()
}

#[actix_web::test]
async fn a_durable_bot_killed_ten_times_loses_nothing() {
    let bot = example_binary("operator_bot");
    let server = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = KillPlan::new(15, 12, 20..600);
    let accepted = Arc::new(Accepted::default());
    let mut start = 0;
    for (round, &moment) in plan.moments().iter().enumerate() {
        // Every other run the hub refuses handshakes: the bot's events are then only
        // buffered, on disk and nowhere else, when it is killed, and must reach the hub
        // from the store in a later run. Fewer than the buffer holds, so none is refused.
        let hub_down = round % 2 == 1;
        let moment = if hub_down {
            server.set_mode(Mode::Refuse {
                status: 503,
                retry_after: None,
            });
            moment.min(HELD_WHILE_DOWN)
        } else {
            server.set_mode(Mode::Echo);
            moment
        };
        let before = accepted.count.load(Ordering::SeqCst);
        let (mut child, reader) = spawn_bot(
            &bot,
            &server.base_url(),
            dir.path(),
            start,
            false,
            &accepted,
        );
        assert!(
            wait_until(PATIENCE, || accepted.count.load(Ordering::SeqCst)
                >= before + moment)
            .await,
            "seed {}: the bot accepted {} of {moment} events",
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
    server.set_mode(Mode::Echo);
    let (mut child, reader) =
        spawn_bot(&bot, &server.base_url(), dir.path(), start, true, &accepted);
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
