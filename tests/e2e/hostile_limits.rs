//! End-to-end: hostile servers that send too much or too slowly: oversized frames and
//! messages, floods that must not grow memory, a slow link. Each test runs a real server
//! on loopback,
//! makes it misbehave in one way, and checks what tether does: the state sequence, the
//! reason carried by `StateChanged`, whether the failure is retried or final under the
//! default policy, and that nothing panics (the actor still answers `GetStatus`).
//! Shared verdicts are in `support/verdict.rs`; the other hostile-server tests are in
//! `hostile_*.rs`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{
    assert_alive, assert_client_closed_with, assert_retried, connect, connect_raw, frame,
    frame_header, setup, RawServer, ServerMessage, Step, OP_BINARY, OP_CONTINUATION,
};
use tether_actix::{ConnectionState, DisconnectReason, Payload};

use ConnectionState::{Connected, Disconnected};

/// The limit the size tests configure: awc's own default frame limit.
const LIMIT: usize = 64 * 1024;

// ---- Oversized messages -------------------------------------------------------------

fn too_large(reason: &DisconnectReason) -> bool {
    *reason == DisconnectReason::MessageTooLarge { limit: LIMIT }
}

#[actix_web::test]
async fn oversized_frame_is_retried() {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame(OP_BINARY, true, &vec![7; LIMIT + 1])),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config.max_message_size(LIMIT));
    assert_retried(&connection, &events, true, too_large, || server.accepted()).await;
    // 1009: message too big.
    assert_client_closed_with(&server, 1009).await;
    assert!(events.incoming().is_empty());
}

#[actix_web::test]
async fn oversized_fragmented_message_is_retried() {
    // 65 fragments of 1 KiB: each frame is small, the message is not.
    let piece = vec![7_u8; 1024];
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame(OP_BINARY, false, &piece)),
        Step::Repeat {
            chunk: frame(OP_CONTINUATION, false, &piece),
            times: 63,
        },
        Step::Bytes(frame(OP_CONTINUATION, true, &piece)),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config.max_message_size(LIMIT));
    assert_retried(&connection, &events, true, too_large, || server.accepted()).await;
    assert_client_closed_with(&server, 1009).await;
    assert!(events.incoming().is_empty());
}

#[actix_web::test]
async fn fragmented_message_exactly_at_the_limit_arrives_whole() {
    // Exactly the limit in total, in three frames: accepted (the limit is inclusive).
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config.max_message_size(LIMIT));
    assert!(events.wait_entered(Connected, 1).await);
    let third = LIMIT / 3;
    server.send_all(ServerMessage::FragmentedBinary(vec![
        vec![1; third],
        vec![2; third],
        vec![3; LIMIT - 2 * third],
    ]));
    assert!(events.wait_incoming(1).await);
    let Payload::Binary(bytes) = &events.incoming()[0] else {
        panic!("binary expected");
    };
    assert_eq!(bytes.len(), LIMIT);
    assert_eq!(events.times_entered(Disconnected), 0);
    assert_alive(&connection, Some(Connected)).await;
}

/// Resident memory of this process in bytes, where the platform tells (Linux; pages
/// taken as 4 KiB, so larger pages only make the bound looser).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Taken by each test that measures memory: they measure the whole process, so two of
/// them at once would see each other's peaks.
static MEMORY_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Samples resident memory every millisecond on a thread of its own (the test's runtime
/// is single-threaded and busy with the very reads being measured) and keeps the peak.
struct PeakMemory {
    baseline: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl PeakMemory {
    /// Starts sampling; `None` where resident memory cannot be read.
    fn start() -> Option<PeakMemory> {
        let baseline = resident_bytes()?;
        let peak = Arc::new(AtomicU64::new(baseline));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(now) = resident_bytes() {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        Some(PeakMemory {
            baseline,
            peak,
            stop,
            sampler: Some(sampler),
        })
    }

    /// Stops sampling; how far the peak rose above the baseline, in bytes.
    fn growth(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
        self.peak
            .load(Ordering::Relaxed)
            .saturating_sub(self.baseline)
    }
}

impl Drop for PeakMemory {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Asserts the peak grew by less than `bound` bytes while `what` happened.
fn assert_memory_bounded(memory: Option<PeakMemory>, bound: u64, what: &str) {
    match memory {
        Some(memory) => {
            let grown = memory.growth();
            assert!(
                grown < bound,
                "{what}: resident memory grew by {} MiB (bound {} MiB)",
                grown >> 20,
                bound >> 20
            );
        }
        None => eprintln!("{what}: resident memory not measurable here; bound not checked"),
    }
}

/// What a hostile server streams at the client in the memory tests: 256 MiB.
const FLOOD: usize = 256 * 1024 * 1024;
/// The memory tests' bound on growth: a tenth of the flood, far above the 64 KiB limit.
const MEMORY_BOUND: u64 = 32 * 1024 * 1024;

#[actix_web::test]
async fn oversized_frame_is_refused_before_it_is_buffered() {
    // A frame announcing 256 MiB, then its payload streamed in 64 KiB chunks.
    let chunk = vec![7_u8; 64 * 1024];
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame_header(OP_BINARY, true, FLOOD as u64)),
        Step::Repeat {
            chunk,
            times: FLOOD / (64 * 1024),
        },
    ])
    .await;
    let _alone = MEMORY_TESTS.lock().await;
    let memory = PeakMemory::start();
    let (connection, events) = connect_raw(&server, |config| config.max_message_size(LIMIT));
    assert!(events.wait_entered(Disconnected, 1).await);
    assert_memory_bounded(memory, MEMORY_BOUND, "a 256 MiB frame");
    let lost = events.first_entry(Disconnected);
    assert!(lost.reason.as_ref().is_some_and(too_large), "{lost:?}");
    assert_alive(&connection, None).await;
}

#[actix_web::test]
async fn endless_response_head_is_cut_off_and_retried() {
    // A 101 whose header section never ends: 256 MiB of headers.
    let mut line = b"X-Junk: ".to_vec();
    line.resize(1022, b'a');
    line.extend_from_slice(b"\r\n");
    let server = RawServer::start(vec![
        Step::Bytes(b"HTTP/1.1 101 Switching Protocols\r\n".to_vec()),
        Step::Repeat {
            chunk: line.repeat(64),
            times: FLOOD / (64 * 1024),
        },
    ])
    .await;
    let _alone = MEMORY_TESTS.lock().await;
    let memory = PeakMemory::start();
    let (connection, events) = connect_raw(&server, |config| config);
    assert!(events.wait_entered(Disconnected, 1).await);
    assert_memory_bounded(memory, MEMORY_BOUND, "an endless response head");
    let head_too_large = |reason: &DisconnectReason| {
        let DisconnectReason::ConnectFailed { message, .. } = reason else {
            return false;
        };
        message.contains("large")
    };
    assert_retried(&connection, &events, false, head_too_large, || {
        server.accepted()
    })
    .await;
}

// ---- Slow links ---------------------------------------------------------------------

#[actix_web::test]
async fn a_large_frame_on_a_slow_link_is_not_mistaken_for_silence() {
    // 1 MiB in one frame at 640 KiB/s: it takes longer than the heartbeat timeout, but
    // bytes keep arriving all along.
    const SIZE: usize = 1024 * 1024;
    let chunk = vec![7_u8; 64 * 1024];
    let mut script = vec![
        Step::Upgrade,
        Step::Bytes(frame_header(OP_BINARY, true, SIZE as u64)),
    ];
    for _ in 0..SIZE / chunk.len() {
        script.push(Step::Pause(Duration::from_millis(100)));
        script.push(Step::Bytes(chunk.clone()));
    }
    let server = RawServer::start(script).await;
    let (connection, events) = connect_raw(&server, |config| {
        config
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(300))
    });
    let lost = || {
        events
            .states()
            .into_iter()
            .find(|change| change.to == Disconnected)
            .map(|change| change.reason)
    };
    assert!(events.wait_incoming(1).await, "lost: {:?}", lost());
    assert_eq!(events.incoming()[0].len(), SIZE);
    assert_eq!(lost(), None);
    assert_alive(&connection, Some(Connected)).await;
}
