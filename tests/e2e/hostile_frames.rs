//! End-to-end: hostile and broken servers after a correct upgrade: broken frames,
//! fragments and control frames, close frames. Each test runs a real server on loopback,
//! makes it misbehave in one way, and checks what tether does: the state sequence, the
//! reason carried by `StateChanged`, whether the failure is retried or final under the
//! default policy, and that nothing panics (the actor still answers `GetStatus`).
//! Shared verdicts are in `support/verdict.rs`; the other hostile-server tests are in
//! `hostile_*.rs`.
//!
//! Covered elsewhere, not repeated here: a fragmented message that arrives whole
//! (`delivery::fragmented_and_one_mebibyte_messages_arrive_whole`), pings never answered
//! (`reconnect::a_silent_server_is_detected_by_the_heartbeat_and_replaced`).

use std::time::Duration;

use crate::support::{
    assert_alive, assert_client_closed_with, assert_final, assert_retried, close_frame, connect,
    connect_raw, frame, protocol_error, setup, Events, RawServer, Step, TestServer,
    OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};
use actix::Addr;
use tether_actix::message::{self, GetStatus};
use tether_actix::{ConnectionActor, ConnectionState, DisconnectReason, Payload};

use ConnectionState::{Connected, Connecting, Reconnecting};

// ---- Broken frames after a correct upgrade ------------------------------------------

/// The server upgrades, then sends `frames`: the link fails as a protocol error, is
/// retried, and the server is told why with 1002. Returns what the connection published.
async fn protocol_error_after_upgrade(frames: Vec<Vec<u8>>) -> Events {
    let mut script = vec![Step::Upgrade];
    script.extend(frames.into_iter().map(Step::Bytes));
    let server = RawServer::start(script).await;
    let (connection, events) = connect_raw(&server, |config| config);
    assert_retried(&connection, &events, true, protocol_error, || {
        server.accepted()
    })
    .await;
    assert_client_closed_with(&server, 1002).await;
    events
}

#[actix_web::test]
async fn reserved_opcode_is_a_protocol_error_and_retried() {
    // Opcode 0x3 is reserved for future data frames.
    protocol_error_after_upgrade(vec![frame(0x3, true, b"?")]).await;
}

#[actix_web::test]
async fn masked_server_frame_is_a_protocol_error_and_retried() {
    // Servers must not mask (RFC 6455 §5.1): mask bit set, key 0.
    protocol_error_after_upgrade(vec![vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i']]).await;
}

#[actix_web::test]
async fn reserved_bits_are_a_protocol_error_and_retried() {
    // RSV1 set (compression) without any negotiated extension.
    let mut compressed = frame(OP_TEXT, true, b"hi");
    compressed[0] |= 0x40;
    protocol_error_after_upgrade(vec![compressed]).await;
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
    let events = protocol_error_after_upgrade(vec![
        frame(OP_TEXT, false, b"first half"),
        frame(OP_TEXT, true, b"an intruder"),
    ])
    .await;
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
        connection.send(message::Outgoing::text("unread").with_confirmation()),
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
    protocol_error_after_upgrade(vec![close_frame(1005, "")]).await;
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
