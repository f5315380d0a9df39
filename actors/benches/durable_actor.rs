//! The durable outbox's cost in the actor: 64-byte messages pipelined in `OutgoingBatch`es
//! of 64 through a durable connection and through a plain one, to the same echo server,
//! each message counted when its echo arrives.
//!
//! `cargo bench -p tether-actix --features durable --bench durable_actor [-- N]`
//!
//! N (default 50,000) messages per run, three runs per connection and pipeline depth
//! (16 and 64 batches in flight), alternating. Each row: messages per second (median
//! run), the cost per message, and the durable/plain ratio. First the disk's `fsync`
//! time, which the durable figures depend on.
//! The durable connection commits on its store's thread: the appends and removals that
//! queued up while the previous commit was syncing form the next one (one `fsync`).
//! Count the `fsync`s with `strace -f -w -c -e trace=fsync,fdatasync` on the bench
//! binary (`-w`: wall time, the time the disk takes, not the CPU time of the call). The store lives in
//! `$TETHER_DURABLE_BENCH_DIR`, or the system's temporary directory.

#[allow(dead_code)]
#[path = "compare/clients.rs"]
mod clients;
#[allow(dead_code)]
#[path = "compare/server.rs"]
mod server;

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use tether_actix::{ByteString, ConnectionActor};

use clients::{tether_send_batches, Probe, PATIENCE};
use server::BenchServer;

/// Messages per `OutgoingBatch`.
const BATCH: u64 = 64;
/// Batches outstanding at once: 16 (1,024 messages, the figure the goal is set for) and
/// 64 (4,096), to show what a deeper pipeline buys a connection bound by the disk.
const DEPTHS: [usize; 2] = [16, 64];
/// Buffer of both connections: room for every batch in flight.
const BUFFER: usize = 8_192;
/// Runs per connection and depth.
const RUNS: usize = 3;
/// `fsync`s timed by the disk probe.
const PROBES: usize = 50;

fn main() {
    let total = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse::<u64>().ok())
        .unwrap_or(50_000);
    let base = std::env::var_os("TETHER_DURABLE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::TempDir::new_in(base).expect("a temporary directory");
    let fsync = fsync_median(dir.path());
    let system = actix::System::new();
    system.block_on(async move {
        let server = BenchServer::start();
        let url = server.url();
        let plain_probe = Probe::start(false);
        let plain = plain_probe.start_batched(
            ConnectionActor::builder(&url).configure(|c| c.message_buffer_size(BUFFER)),
        );
        let durable_probe = Probe::start(false);
        let durable = durable_probe.start_batched(
            ConnectionActor::builder(&url)
                .configure(|c| c.message_buffer_size(BUFFER))
                .name("bench")
                .durable(dir.path()),
        );
        for probe in [&plain_probe, &durable_probe] {
            assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
        }
        let text = ByteString::from("x".repeat(64));
        println!(
            "durable actor, 64 B, OutgoingBatch of {BATCH}, {total} messages, median of {RUNS}, store in {}",
            dir.path().display()
        );
        println!(
            "disk: fsync of a 64 KiB append, median of {PROBES}: {:.2} ms",
            fsync.as_secs_f64() * 1e3
        );
        println!("| batches in flight | connection | msgs/s | µs per message | ratio |");
        println!("|---:|---|---:|---:|---:|");
        for depth in DEPTHS {
            let mut times = [Vec::new(), Vec::new()];
            // A warm-up run each, then alternating runs.
            for run in 0..=RUNS {
                for (index, (probe, addr)) in
                    [(&plain_probe, &plain), (&durable_probe, &durable)]
                        .into_iter()
                        .enumerate()
                {
                    let n = if run == 0 { total / 10 } else { total };
                    probe.expect_total(probe.received() + n);
                    let start = Instant::now();
                    let tally = tether_send_batches(addr, &text, n, BATCH, depth).await;
                    assert_eq!(tally.full, 0, "the buffer never fills");
                    let last = probe.reached().await;
                    if run > 0 {
                        times[index].push(last.duration_since(start));
                    }
                }
            }
            let [plain_time, durable_time] = times.map(|mut runs| median(&mut runs));
            let rate = |time: Duration| total as f64 / time.as_secs_f64();
            let micros = |time: Duration| time.as_secs_f64() * 1e6 / total as f64;
            println!(
                "| {depth} | plain | {:.0} | {:.2} | 1.00 |",
                rate(plain_time),
                micros(plain_time)
            );
            println!(
                "| {depth} | durable | {:.0} | {:.2} | {:.2} |",
                rate(durable_time),
                micros(durable_time),
                plain_time.as_secs_f64() / durable_time.as_secs_f64()
            );
        }
        clients::close_all(&[plain, durable]).await;
    });
}

fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// How long this disk takes to make an append durable: the median of [`PROBES`] 64 KiB
/// appends to a file in `dir` (about what one commit adds to the write-ahead log here),
/// each followed by `fsync` (what SQLite calls at a commit). The durable connection's
/// throughput at a given depth is bounded by about the messages in flight divided by
/// this.
fn fsync_median(dir: &Path) -> Duration {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("a probe file");
    let chunk = vec![0x5a_u8; 64 * 1024];
    let mut times: Vec<Duration> = (0..PROBES)
        .map(|_| {
            let start = Instant::now();
            file.write_all(&chunk).expect("the probe writes");
            file.sync_all().expect("the probe syncs");
            start.elapsed()
        })
        .collect();
    drop(file);
    std::fs::remove_file(&path).ok();
    median(&mut times)
}
