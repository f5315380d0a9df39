//! The durable store's cost on this machine's disk: records appended in groups (one
//! durable commit each) while the confirmed ones are removed behind them, as a sending
//! connection would.
//!
//! `cargo bench -p tether-actix --features durable --bench durable_store [-- N [BATCH]]`
//!
//! N (default 20,000) messages for batches of 64 and more, proportionally fewer (at
//! least 500) for smaller ones; BATCH runs one batch size only, e.g. under `strace`.
//!
//! Each row: messages per second, commits per 1,000 messages (each commit is one
//! `fsync` of the write-ahead log; count them with
//! `strace -f -c -e trace=fsync,fdatasync` on the bench binary), and the store's peak
//! size. The store lives in `$TETHER_DURABLE_BENCH_DIR`, or the system's temporary
//! directory: put it on the disk you mean to measure.

use std::time::Instant;

use tether_actix::durable::{DurableStore, Record};
use tether_actix::Payload;

/// Records in flight (written, not yet confirmed) before the oldest batch is confirmed.
const WINDOW: u64 = 256;

/// One run's figures.
struct Row {
    per_second: f64,
    commits_per_thousand: f64,
    peak_bytes: u64,
}

/// Appends `total` 64-byte records in batches of `batch`, removing every record more
/// than [`WINDOW`] behind the newest after each batch, then the rest.
fn run(dir: &std::path::Path, batch: u64, total: u64) -> Row {
    let name = format!("bench-{batch}");
    let mut store = DurableStore::open(dir, &name).expect("open the store");
    let payload = Payload::binary(vec![0x5a_u8; 64]);
    let mut commits = 0_u64;
    let mut peak_bytes = 0;
    let started = Instant::now();
    let mut next = 0;
    while next < total {
        let end = (next + batch).min(total);
        let records: Vec<Record> = (next..end)
            .map(|seq| Record::new(seq, payload.clone()))
            .collect();
        store.append_batch(&records).expect("append");
        commits += 1;
        next = end;
        if next > WINDOW {
            store.remove_through(next - WINDOW - 1).expect("remove");
            commits += 1;
        }
        peak_bytes = peak_bytes.max(store.size_on_disk().expect("size"));
    }
    store.remove_through(u64::MAX).expect("remove the rest");
    commits += 1;
    let seconds = started.elapsed().as_secs_f64();
    Row {
        per_second: total as f64 / seconds,
        commits_per_thousand: commits as f64 * 1000.0 / total as f64,
        peak_bytes,
    }
}

fn main() {
    // Numbers among the arguments (cargo bench adds `--bench`): N, then BATCH.
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let total = numbers.first().copied().unwrap_or(20_000);
    let batches = match numbers.get(1) {
        Some(&batch) if batch > 0 => vec![batch],
        _ => vec![1, 8, 64, 256],
    };
    let base = std::env::var_os("TETHER_DURABLE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::TempDir::new_in(base).expect("a temporary directory");
    println!(
        "durable store, 64 B records, window {WINDOW}, in {}",
        dir.path().display()
    );
    println!("| batch | messages | msgs/s | commits per 1,000 msgs | peak size |");
    println!("|---:|---:|---:|---:|---:|");
    for batch in batches {
        // A commit costs an fsync whatever its size: fewer messages for small batches.
        let messages = (total * batch / 64).clamp(500, total);
        let row = run(dir.path(), batch, messages);
        println!(
            "| {batch} | {messages} | {:.0} | {:.1} | {} KiB |",
            row.per_second,
            row.commits_per_thousand,
            row.peak_bytes / 1024
        );
    }
}
