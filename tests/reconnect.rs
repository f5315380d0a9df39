//! End-to-end: the supervisor brings the connection back after every kind of loss.

mod support;

use std::time::Duration;

use support::{connect, setup, wait_status, wait_until, Mode, PATIENCE};
use tether_actix::message;
use tether_actix::{ConnectionState, DisconnectReason};

use ConnectionState::{Connected, Connecting, Disconnected, Reconnecting};

#[actix_web::test]
async fn a_dropped_server_is_followed_by_the_full_reconnect_sequence_after_the_backoff() {
    let server = setup().await;
    let (_connection, events) = connect(&server.url(), |config| {
        config
            .base_backoff(Duration::from_millis(300))
            .max_backoff(Duration::from_secs(2))
    });
    assert!(events.wait_entered(Connected, 1).await);

    server.stop().await;
    // While the server is down, attempts fail and the delays grow: 300 ms, 600 ms, ...
    assert!(events.wait_entered(Reconnecting, 2).await);
    server.restart().await;
    assert!(events.wait_entered(Connected, 2).await);

    let states = events.states();
    let entered: Vec<_> = states.iter().map(|change| change.to).collect();
    assert_eq!(
        &entered[..6],
        [
            Connecting,
            Connected,
            Disconnected,
            Reconnecting,
            Connecting,
            Disconnected
        ],
        "first the initial connect, the loss, then a failed attempt"
    );
    assert_eq!(entered.last(), Some(&Connected));
    assert_eq!(
        states[2].reason,
        Some(DisconnectReason::StreamEnded),
        "the loss says why"
    );

    // Each Reconnecting announces the computed delay, and the next attempt starts no
    // sooner than that (timers never fire early) and not absurdly later.
    let reconnects: Vec<_> = states
        .iter()
        .enumerate()
        .filter(|(_, c)| c.to == Reconnecting)
        .collect();
    for (n, (index, change)) in reconnects.iter().enumerate() {
        let expected = Duration::from_millis(300) * 2_u32.pow(n as u32);
        assert_eq!(
            change.next_delay,
            Some(expected.min(Duration::from_secs(2)))
        );
        assert_eq!(change.attempt, n as u32 + 1);
        let next = &states[index + 1];
        assert_eq!(next.to, Connecting);
        let waited = next.at - change.at;
        assert!(
            waited >= expected,
            "attempt {n} waited {waited:?} < {expected:?}"
        );
        assert!(
            waited < expected + Duration::from_secs(2),
            "attempt {n} waited {waited:?}"
        );
    }
}

#[actix_web::test]
async fn a_silent_server_is_detected_by_the_heartbeat_and_replaced() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        config
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(200))
    });
    assert!(events.wait_entered(Connected, 1).await);
    // The echo server answers pings: the link stays up across several heartbeats.
    assert!(wait_until(PATIENCE, || server.pings_received() >= 3).await);
    assert_eq!(events.times_entered(Disconnected), 0);

    server.set_mode(Mode::Silent);
    assert!(events.wait_entered(Disconnected, 1).await);
    let loss = events.first_entry(Disconnected);
    assert_eq!(
        loss.reason,
        Some(DisconnectReason::HeartbeatTimeout {
            timeout: Duration::from_millis(200)
        })
    );

    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 2).await);
    connection
        .send(message::Outgoing::text("alive again"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), ["alive again"]);
}

#[actix_web::test]
async fn a_close_frame_from_the_server_is_published_with_its_code_and_retried() {
    let server = setup().await;
    let (_connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);

    server.close_all(Some(1011));
    assert!(events.wait_entered(Connected, 2).await);
    let loss = events.first_entry(Disconnected);
    assert!(matches!(
        loss.reason,
        Some(DisconnectReason::ClosedByServer {
            code: Some(1011),
            ..
        })
    ));
}

#[actix_web::test]
async fn the_attempt_counter_resets_after_a_stable_connection() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| {
        config.stable_uptime(Duration::from_millis(100))
    });
    assert!(events.wait_entered(Reconnecting, 3).await);
    server.restart().await;
    assert!(events.wait_entered(Connected, 1).await);
    let attempts_when_connected = events.states().last().expect("recorded").attempt;
    assert!(
        attempts_when_connected >= 3,
        "counter kept while not yet stable"
    );

    // After stable_uptime the counter is back to zero, and the next loss starts over.
    let (status, reset) = wait_status(&connection, |status| status.attempt == 0).await;
    assert!(
        reset,
        "attempt counter not reset after stable uptime: {status:?}"
    );
    server.close_all(None);
    assert!(events.wait_entered(Reconnecting, 4).await);
    let again = events.last_entry(Reconnecting);
    assert_eq!(again.attempt, 1);
    assert_eq!(again.next_delay, Some(Duration::from_millis(20)));
}
