//! End-to-end: hostile and broken servers. Each test runs a real server on loopback,
//! makes it misbehave in one way, and checks what tether does: the state sequence, the
//! reason carried by `StateChanged`, whether the failure is retried or final under the
//! default policy, that nothing panics (the actor still answers `GetStatus`), and that
//! memory stays bounded where a server could make it grow.
//!
//! Covered elsewhere, not repeated here: a fragmented message that arrives whole
//! (`delivery::fragmented_and_one_mebibyte_messages_arrive_whole`), a 429 with
//! `Retry-After` (`failure::a_429_is_retried_no_sooner_than_its_retry_after`), pings never
//! answered (`reconnect::a_silent_server_is_detected_by_the_heartbeat_and_replaced`).

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use support::{
    close_frame, connect, frame, frame_header, setup, wait_until, Events, Mode, RawServer,
    ServerMessage, Step, TestServer, OP_BINARY, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
    PATIENCE,
};
use tether_actix::message::{self, Delivery, GetStatus};
use tether_actix::{
    ConnectionActor, ConnectionState, DisconnectReason, Payload, ResiliencyConfigBuilder,
    SendError, UndeliveredReason,
};

use ConnectionState::{Connected, Connecting, Disconnected, Failed, Reconnecting};

/// Long enough for a retry to show up if there were one: ten times the 20 ms backoff of
/// the test timings.
const NO_RETRY_WINDOW: Duration = Duration::from_millis(200);

/// The limit the size tests configure: awc's own default frame limit.
const LIMIT: usize = 64 * 1024;

/// The actor is alive (no panic) and reports `expected`, or any non-terminal state.
async fn assert_alive(connection: &Addr<ConnectionActor>, expected: Option<ConnectionState>) {
    let status = connection
        .send(GetStatus)
        .await
        .expect("connection actor alive");
    match expected {
        Some(state) => assert_eq!(status.state, state, "{status:?}"),
        None => assert!(!status.state.is_terminal(), "{status:?}"),
    }
}

/// The failure was final: `Failed` right after the one `Disconnected`, both carrying a
/// reason accepted by `same`, a single attempt and no further one within
/// [`NO_RETRY_WINDOW`], and later sends refused with their message handed back.
async fn assert_final(
    connection: &Addr<ConnectionActor>,
    events: &Events,
    was_connected: bool,
    same: impl Fn(&DisconnectReason) -> bool,
    attempts: impl Fn() -> usize,
) {
    assert!(
        events.wait_entered(Failed, 1).await,
        "{:?}",
        events.entered()
    );
    let expected: &[ConnectionState] = if was_connected {
        &[Connecting, Connected, Disconnected, Failed]
    } else {
        &[Connecting, Disconnected, Failed]
    };
    assert_eq!(events.entered(), expected);
    for state in [Disconnected, Failed] {
        let reason = events.first_entry(state).reason;
        assert!(reason.as_ref().is_some_and(&same), "{state}: {reason:?}");
    }
    let made = attempts();
    assert_eq!(made, 1, "one attempt only");
    assert!(
        !wait_until(NO_RETRY_WINDOW, || attempts() > made).await,
        "a final failure was retried"
    );
    assert_eq!(
        events.entered().len(),
        expected.len(),
        "nothing after Failed"
    );

    // The sender learns: a send now is refused with its message handed back.
    let reply = connection
        .send(message::Send::text("too late"))
        .await
        .expect("actor alive");
    assert!(
        matches!(&reply, Err(SendError::Failed(payload)) if payload.as_text() == Some("too late")),
        "{reply:?}"
    );
    assert_alive(connection, Some(Failed)).await;
}

/// The failure was retried: `Disconnected` with a reason accepted by `same`, then
/// `Reconnecting` with the same reason and the first backoff delay, then a new attempt
/// that reached the server; never `Failed`.
async fn assert_retried(
    connection: &Addr<ConnectionActor>,
    events: &Events,
    was_connected: bool,
    same: impl Fn(&DisconnectReason) -> bool,
    attempts: impl Fn() -> usize,
) {
    assert!(
        events.wait_entered(Connecting, 2).await,
        "{:?}",
        events.entered()
    );
    assert!(wait_until(PATIENCE, || attempts() >= 2).await);
    let expected: &[ConnectionState] = if was_connected {
        &[
            Connecting,
            Connected,
            Disconnected,
            Reconnecting,
            Connecting,
        ]
    } else {
        &[Connecting, Disconnected, Reconnecting, Connecting]
    };
    assert_eq!(&events.entered()[..expected.len()], expected);
    let lost = events.first_entry(Disconnected);
    assert!(lost.reason.as_ref().is_some_and(&same), "{:?}", lost.reason);
    let waiting = events.first_entry(Reconnecting);
    assert_eq!(
        waiting.reason, lost.reason,
        "Reconnecting repeats the reason"
    );
    assert_eq!(waiting.attempt, 1);
    assert_eq!(waiting.next_delay, Some(Duration::from_millis(20)));
    assert_eq!(events.times_entered(Failed), 0);
    assert_alive(connection, None).await;
}

/// Sends one message right away: the first attempt is still running, so it is buffered.
async fn buffer_one(connection: &Addr<ConnectionActor>) {
    let delivery = connection
        .send(message::Send::text("queued"))
        .await
        .expect("actor alive")
        .expect("accepted while connecting");
    assert_eq!(delivery, Delivery::Buffered);
}

/// The message buffered by [`buffer_one`] came back as undelivered because of `Failed`.
async fn assert_handed_back(events: &Events) {
    assert!(wait_until(PATIENCE, || !events.undelivered().is_empty()).await);
    let undelivered = events.undelivered();
    assert_eq!(undelivered.len(), 1);
    assert_eq!(undelivered[0].reason, UndeliveredReason::Failed);
    assert_eq!(undelivered[0].payload, Payload::from("queued"));
}

// ---- Handshake refused with an HTTP status ------------------------------------------

fn rejected(status: u16) -> impl Fn(&DisconnectReason) -> bool {
    move |reason| {
        *reason
            == DisconnectReason::HandshakeRejected {
                status,
                retry_after: None,
            }
    }
}

async fn refusing(status: u16) -> (TestServer, Addr<ConnectionActor>, Events) {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status,
        retry_after: None,
    });
    let (connection, events) = connect(&server.url(), |config| config);
    (server, connection, events)
}

async fn handshake_refusal_is_final(status: u16) {
    let (server, connection, events) = refusing(status).await;
    buffer_one(&connection).await;
    assert_final(&connection, &events, false, rejected(status), || {
        server.handshake_attempts()
    })
    .await;
    assert_handed_back(&events).await;
}

async fn handshake_refusal_is_retried(status: u16) {
    let (server, connection, events) = refusing(status).await;
    assert_retried(&connection, &events, false, rejected(status), || {
        server.handshake_attempts()
    })
    .await;
    // Retried until the server accepts.
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 1).await);
    assert_alive(&connection, Some(Connected)).await;
}

#[actix_web::test]
async fn handshake_401_is_final() {
    handshake_refusal_is_final(401).await;
}

#[actix_web::test]
async fn handshake_403_is_final() {
    handshake_refusal_is_final(403).await;
}

#[actix_web::test]
async fn handshake_404_is_final() {
    handshake_refusal_is_final(404).await;
}

#[actix_web::test]
async fn handshake_500_is_retried() {
    handshake_refusal_is_retried(500).await;
}

#[actix_web::test]
async fn handshake_503_is_retried() {
    handshake_refusal_is_retried(503).await;
}

#[actix_web::test]
async fn huge_retry_after_is_honoured_without_panic() {
    // The largest delay a header can say: the connection waits (for ever, in practice)
    // but stays responsive and can be closed.
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 429,
        retry_after: Some(u64::MAX),
    });
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Reconnecting, 1).await);
    let waiting = events.first_entry(Reconnecting);
    let huge = Duration::from_secs(u64::MAX);
    assert_eq!(
        waiting.reason,
        Some(DisconnectReason::HandshakeRejected {
            status: 429,
            retry_after: Some(huge)
        })
    );
    assert_eq!(waiting.next_delay, Some(huge));
    assert!(
        !wait_until(NO_RETRY_WINDOW, || server.handshake_attempts() > 1).await,
        "retried before the server's Retry-After"
    );
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(
        (status.state, status.next_delay),
        (Reconnecting, Some(huge))
    );
    let closed = connection.send(message::Close).await.expect("actor alive");
    assert_eq!(closed, ConnectionState::Closed);
}

// ---- Handshake never answered -------------------------------------------------------

#[actix_web::test]
async fn unanswered_handshake_times_out_and_is_retried() {
    let server = setup().await;
    server.set_mode(Mode::Hang);
    let timeout = Duration::from_millis(200);
    let (connection, events) = connect(&server.url(), |config| config.connect_timeout(timeout));
    let timed_out =
        |reason: &DisconnectReason| *reason == DisconnectReason::ConnectTimeout { after: timeout };
    assert_retried(&connection, &events, false, timed_out, || {
        server.handshake_attempts()
    })
    .await;
    // The attempt was given up after the timeout, not sooner.
    let states = events.states();
    assert!(states[1].at - states[0].at >= timeout, "{states:?}");
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 1).await);
}

#[actix_web::test]
async fn trickled_handshake_times_out_and_is_retried() {
    // A correct-looking response, one byte every 50 ms: the connect timeout bounds the
    // whole handshake, not the gap between bytes.
    let script = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        .iter()
        .flat_map(|&byte| {
            [
                Step::Bytes(vec![byte]),
                Step::Pause(Duration::from_millis(50)),
            ]
        })
        .collect();
    let server = RawServer::start(script).await;
    let timeout = Duration::from_millis(300);
    let (connection, events) = connect_raw(&server, |config| config.connect_timeout(timeout));
    let timed_out =
        |reason: &DisconnectReason| *reason == DisconnectReason::ConnectTimeout { after: timeout };
    assert_retried(&connection, &events, false, timed_out, || server.accepted()).await;
}

// ---- Not WebSocket at all -----------------------------------------------------------

/// A connection to `server` with test timings.
fn connect_raw(
    server: &RawServer,
    adjust: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
) -> (Addr<ConnectionActor>, Events) {
    support::init_tracing();
    connect(&server.url(), adjust)
}

#[actix_web::test]
async fn garbage_instead_of_http_is_retried() {
    let server = RawServer::start(vec![Step::Bytes(
        b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe garbage \r\n\r\n".to_vec(),
    )])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    // awc reports the parse error as a failed request, which tether classifies like a
    // network error: retried. (Arguably `HandshakeInvalid` and final, as for a plain
    // `200 OK`: see the hostile-servers report, finding A.)
    let not_http =
        |reason: &DisconnectReason| matches!(reason, DisconnectReason::ConnectFailed { .. });
    assert_retried(&connection, &events, false, not_http, || server.accepted()).await;
}

#[actix_web::test]
async fn plain_http_200_is_final() {
    let server = RawServer::start(vec![Step::Bytes(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
    )])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    buffer_one(&connection).await;
    assert_final(&connection, &events, false, rejected(200), || {
        server.accepted()
    })
    .await;
    assert_handed_back(&events).await;
}

#[actix_web::test]
async fn upgrade_with_a_wrong_accept_key_is_final() {
    let server = RawServer::start(vec![Step::Bytes(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXkgYXQgYWxsIQ==\r\n\r\n"
            .to_vec(),
    )])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    let invalid =
        |reason: &DisconnectReason| matches!(reason, DisconnectReason::HandshakeInvalid { .. });
    assert_final(&connection, &events, false, invalid, || server.accepted()).await;
}

#[actix_web::test]
async fn redirect_is_final_and_not_followed() {
    let elsewhere = RawServer::start(vec![Step::Upgrade]).await;
    let location = format!("Location: {}\r\n", elsewhere.url());
    let server = RawServer::start(vec![Step::Bytes(
        [
            b"HTTP/1.1 301 Moved Permanently\r\n".as_slice(),
            location.as_bytes(),
            b"Content-Length: 0\r\n\r\n",
        ]
        .concat(),
    )])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_final(&connection, &events, false, rejected(301), || {
        server.accepted()
    })
    .await;
    assert_eq!(elsewhere.accepted(), 0, "redirects are not followed");
}

#[actix_web::test]
async fn connection_closed_before_the_response_is_retried() {
    // The server reads the request and hangs up without a word.
    let server = RawServer::start(vec![Step::Close]).await;
    let (connection, events) = connect_raw(&server, |config| config);
    let failed =
        |reason: &DisconnectReason| matches!(reason, DisconnectReason::ConnectFailed { .. });
    assert_retried(&connection, &events, false, failed, || server.accepted()).await;
}

// ---- Broken frames after a correct upgrade ------------------------------------------

fn protocol_error(reason: &DisconnectReason) -> bool {
    matches!(reason, DisconnectReason::ProtocolError { .. })
}

/// Waits until the server received a close frame with `code` from the client.
async fn assert_client_closed_with(server: &RawServer, code: u16) {
    assert!(
        wait_until(PATIENCE, || server.close_codes().contains(&code)).await,
        "close codes: {:?}",
        server.close_codes()
    );
}

#[actix_web::test]
async fn reserved_opcode_is_a_protocol_error_and_retried() {
    // Opcode 0x3 is reserved for future data frames.
    let server = RawServer::start(vec![Step::Upgrade, Step::Bytes(frame(0x3, true, b"?"))]).await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
    // The server is told why: 1002 (protocol error).
    assert_client_closed_with(&server, 1002).await;
}

#[actix_web::test]
async fn masked_server_frame_is_a_protocol_error_and_retried() {
    // Servers must not mask (RFC 6455 §5.1): mask bit set, key 0.
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i']),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
    assert_client_closed_with(&server, 1002).await;
}

#[actix_web::test]
async fn reserved_bits_are_a_protocol_error_and_retried() {
    // RSV1 set (compression) without any negotiated extension.
    let mut compressed = frame(OP_TEXT, true, b"hi");
    compressed[0] |= 0x40;
    let server = RawServer::start(vec![Step::Upgrade, Step::Bytes(compressed)]).await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
    assert_client_closed_with(&server, 1002).await;
}

#[actix_web::test]
async fn invalid_utf8_text_is_retried() {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame(OP_TEXT, true, &[b'o', b'k', 0xff, 0xfe])),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    let invalid_utf8 = |reason: &DisconnectReason| *reason == DisconnectReason::InvalidUtf8;
    assert_retried(&connection, &events, true, invalid_utf8, || {
        server.accepted()
    })
    .await;
    // 1007: invalid frame payload data. Nothing was delivered.
    assert_client_closed_with(&server, 1007).await;
    assert!(events.incoming().is_empty());
}

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
        let DisconnectReason::ConnectFailed { message } = reason else {
            return false;
        };
        message.contains("large")
    };
    assert_retried(&connection, &events, false, head_too_large, || {
        server.accepted()
    })
    .await;
}

// ---- Fragments and control frames ---------------------------------------------------

#[actix_web::test]
async fn ping_between_fragments_is_answered_and_the_message_arrives_whole() {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame(OP_TEXT, false, b"hel")),
        Step::Bytes(frame(OP_PING, true, b"mid-message")),
        // The rest comes only once the client answered: the pong is sent mid-message.
        Step::AwaitFrame(OP_PONG),
        Step::Bytes(frame(OP_CONTINUATION, false, b"lo ")),
        Step::Bytes(frame(OP_CONTINUATION, true, b"world")),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming(), [Payload::from("hello world")]);
    let pongs: Vec<_> = server
        .frames()
        .into_iter()
        .filter(|frame| frame.opcode == OP_PONG)
        .map(|frame| frame.payload)
        .collect();
    assert_eq!(pongs, [b"mid-message".to_vec()]);
    assert_eq!(events.entered(), [Connecting, Connected]);
    assert_alive(&connection, Some(Connected)).await;
}

#[actix_web::test]
async fn data_frame_inside_a_fragmented_message_is_a_protocol_error() {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(frame(OP_TEXT, false, b"first half")),
        Step::Bytes(frame(OP_TEXT, true, b"an intruder")),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
    assert_client_closed_with(&server, 1002).await;
    assert!(events.incoming().is_empty());
}

#[actix_web::test]
async fn unsolicited_pong_confirms_nothing() {
    // RFC 6455 §5.5.3 allows unsolicited pongs (a one-way heartbeat); this server sends
    // one with an 8-byte payload (a timestamp, say) every 20 ms and reads nothing.
    let pong = frame(OP_PONG, true, &u64::MAX.to_be_bytes());
    let script = std::iter::once(Step::Upgrade)
        .chain(
            std::iter::repeat([Step::Pause(Duration::from_millis(20)), Step::Bytes(pong)])
                .take(100)
                .flatten(),
        )
        .collect();
    let server = RawServer::start(script).await;
    let (connection, events) = connect_raw(&server, |config| {
        config.delivery(tether_actix::DeliveryMode::AtLeastOnce)
    });
    assert!(events.wait_entered(Connected, 1).await);
    // Nobody read the message, nobody answered its ping: it must not count as confirmed.
    let reply = tokio::time::timeout(
        Duration::from_millis(500),
        connection.send(message::Send::text("unread").with_confirmation()),
    )
    .await;
    assert!(
        reply.is_err(),
        "confirmed by a pong nobody asked for: {reply:?}"
    );
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.counters.confirmed, 0);
    assert_eq!(status.unconfirmed, 1);
}

// ---- Close frames -------------------------------------------------------------------

fn closed_with(code: u16) -> impl Fn(&DisconnectReason) -> bool {
    move |reason| {
        *reason
            == DisconnectReason::ClosedByServer {
                code: Some(code),
                description: None,
            }
    }
}

async fn closed_by_server(code: u16) -> (TestServer, Addr<ConnectionActor>, Events) {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);
    server.close_all(Some(code));
    (server, connection, events)
}

async fn close_code_is_retried(code: u16) {
    let (server, connection, events) = closed_by_server(code).await;
    assert_retried(&connection, &events, true, closed_with(code), || {
        server.handshakes()
    })
    .await;
    assert!(events.wait_entered(Connected, 2).await);
    assert_alive(&connection, Some(Connected)).await;
}

#[actix_web::test]
async fn close_1000_is_retried() {
    close_code_is_retried(1000).await;
}

#[actix_web::test]
async fn close_1001_is_retried() {
    close_code_is_retried(1001).await;
}

#[actix_web::test]
async fn close_1008_is_final() {
    let (server, connection, events) = closed_by_server(1008).await;
    assert_final(&connection, &events, true, closed_with(1008), || {
        server.handshakes()
    })
    .await;
}

#[actix_web::test]
async fn close_1011_is_retried() {
    close_code_is_retried(1011).await;
}

#[actix_web::test]
async fn close_4000_is_retried() {
    close_code_is_retried(4000).await;
}

#[actix_web::test]
async fn close_description_is_reported() {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::Bytes(close_frame(1008, "go away")),
    ])
    .await;
    let (connection, events) = connect_raw(&server, |config| config);
    let described = |reason: &DisconnectReason| {
        *reason
            == DisconnectReason::ClosedByServer {
                code: Some(1008),
                description: Some("go away".into()),
            }
    };
    assert_final(&connection, &events, true, described, || server.accepted()).await;
    // The close is echoed with the server's code (RFC 6455 §5.5.1).
    assert_client_closed_with(&server, 1008).await;
}

#[actix_web::test]
async fn close_with_an_invalid_code_is_a_protocol_error() {
    // 1005 ("no status") must never be sent on the wire (RFC 6455 §7.4.1).
    let server = RawServer::start(vec![Step::Upgrade, Step::Bytes(close_frame(1005, ""))]).await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
}

#[actix_web::test]
async fn close_without_a_close_frame_is_stream_ended_and_retried() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);
    server.close_all(None);
    let ended = |reason: &DisconnectReason| *reason == DisconnectReason::StreamEnded;
    assert_retried(&connection, &events, true, ended, || server.handshakes()).await;
    assert!(events.wait_entered(Connected, 2).await);
}

#[actix_web::test]
async fn eof_right_after_the_upgrade_is_stream_ended_and_retried() {
    let server = RawServer::start(vec![Step::Upgrade, Step::Close]).await;
    let (connection, events) = connect_raw(&server, |config| config);
    let ended = |reason: &DisconnectReason| *reason == DisconnectReason::StreamEnded;
    assert_retried(&connection, &events, true, ended, || server.accepted()).await;
    // Connecting is not enough to reset the attempt counter (stable_uptime, 5 s by
    // default): a server that accepts and drops at once meets a growing backoff.
    assert!(events.wait_entered(Reconnecting, 4).await);
    let delays: Vec<_> = events
        .states()
        .into_iter()
        .filter(|change| change.to == Reconnecting)
        .map(|change| (change.attempt, change.next_delay))
        .take(4)
        .collect();
    let ms = |ms| Some(Duration::from_millis(ms));
    assert_eq!(
        delays,
        [(1, ms(20)), (2, ms(40)), (3, ms(80)), (4, ms(160))]
    );
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
