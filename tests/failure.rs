//! End-to-end: final failures, attempt limits, closing, and mistakes caught before
//! anything connects.

mod support;

use std::time::Duration;

use support::{connect, setup, wait_status, wait_until, Mode, Received, PATIENCE};
use tether_actix::message::{self, Close, Delivery};
use tether_actix::{
    BuildError, ConfigError, ConnectionActor, ConnectionState, DeliveryError, DisconnectReason,
    UndeliveredReason,
};

use ConnectionState::{Closed, Connected, Connecting, Disconnected, Failed, Reconnecting};

#[actix_web::test]
async fn a_401_handshake_fails_for_good_without_a_retry() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 401,
        retry_after: None,
    });
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Failed, 1).await);

    assert_eq!(events.entered(), [Connecting, Disconnected, Failed]);
    let failed = events.states().pop().expect("recorded");
    assert_eq!(
        failed.reason,
        Some(DisconnectReason::HandshakeRejected {
            status: 401,
            retry_after: None
        })
    );
    assert_eq!(server.handshake_attempts(), 1);

    // Dormant: a send is refused with the message handed back, and nothing reconnects.
    let reply = connection
        .send(message::Outgoing::text("too late"))
        .await
        .expect("actor alive");
    assert!(
        matches!(reply, Err(DeliveryError::Failed(payload)) if payload.as_text() == Some("too late"))
    );
    server.set_mode(Mode::Echo);
    // A retry would come within the 20 ms backoff; give it ten times that.
    assert!(
        !wait_until(Duration::from_millis(200), || server.handshake_attempts()
            > 1)
        .await
    );
    assert_eq!(events.current(), Some(Failed));
}

#[actix_web::test]
async fn a_503_handshake_is_retried_until_the_server_accepts() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 503,
        retry_after: None,
    });
    let (_connection, events) = connect(&server.url(), |config| config);
    assert!(wait_until(PATIENCE, || server.handshake_attempts() >= 3).await);
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 1).await);
    assert_eq!(events.times_entered(Failed), 0);
}

#[actix_web::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 429,
        retry_after: Some(1),
    });
    let (_connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Reconnecting, 1).await);
    let waiting = events.first_entry(Reconnecting);
    // The 20 ms backoff is overruled by the server's one second.
    assert_eq!(waiting.next_delay, Some(Duration::from_secs(1)));
    assert_eq!(
        waiting.reason,
        Some(DisconnectReason::HandshakeRejected {
            status: 429,
            retry_after: Some(Duration::from_secs(1))
        })
    );
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 1).await);
    let connected_at = events.states().pop().expect("recorded").at;
    assert!(connected_at - waiting.at >= Duration::from_secs(1));
}

#[actix_web::test]
async fn max_attempts_ends_in_failed_and_hands_buffered_messages_back() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| {
        config.max_reconnect_attempts(Some(2))
    });
    for n in 0..3 {
        let delivery = connection
            .send(message::Outgoing::text(format!("queued-{n}")))
            .await
            .expect("actor alive")
            .expect("accepted while down");
        assert_eq!(delivery, Delivery::Buffered);
    }
    assert!(events.wait_entered(Failed, 1).await);

    // One initial attempt and two reconnects, then the end.
    assert_eq!(events.times_entered(Connecting), 3);
    assert_eq!(events.times_entered(Reconnecting), 2);
    let failed = events.states().pop().expect("recorded");
    assert_eq!(
        failed.reason,
        Some(DisconnectReason::AttemptsExhausted { attempts: 2 })
    );
    // Every buffered message is handed back to the undelivered subscriber, in order.
    assert!(wait_until(PATIENCE, || events.undelivered().len() == 3).await);
    let handed_back: Vec<_> = events
        .undelivered()
        .into_iter()
        .map(|u| {
            assert_eq!(u.reason, UndeliveredReason::Failed);
            u.payload.as_text().expect("text").to_owned()
        })
        .collect();
    assert_eq!(handed_back, ["queued-0", "queued-1", "queued-2"]);
    let (status, _) = wait_status(&connection, |status| status.state == Failed).await;
    assert_eq!(status.buffered, 0);
    assert_eq!(status.counters.undelivered, 3);
}

#[actix_web::test]
async fn close_flushes_sends_a_normal_close_and_never_reconnects() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| config);
    connection
        .send(message::Outgoing::text("last words"))
        .await
        .expect("actor alive")
        .expect("accepted");
    server.restart().await;
    assert!(events.wait_entered(Connected, 1).await);

    let outcome = connection.send(Close).await.expect("actor alive");
    assert_eq!(outcome, Closed);
    assert_eq!(events.current(), Some(Closed));
    let transitions_at_close = events.states().len();
    assert_eq!(server.received(), [Received::Text("last words".into())]);
    assert!(wait_until(PATIENCE, || server.open_sessions() == 0).await);

    let reply = connection
        .send(message::Outgoing::text("after close"))
        .await
        .expect("actor alive");
    assert!(
        matches!(reply, Err(DeliveryError::Closed(payload)) if payload.as_text() == Some("after close"))
    );
    // Closing twice is harmless and answers the same.
    assert_eq!(connection.send(Close).await.expect("actor alive"), Closed);
    assert!(!wait_until(Duration::from_millis(200), || server.handshakes() > 1).await);
    assert_eq!(
        events.states().len(),
        transitions_at_close,
        "nothing after Closed"
    );
}

#[actix_web::test]
async fn close_while_down_hands_the_buffer_back() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| config);
    connection
        .send(message::Outgoing::text("never sent"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert_eq!(connection.send(Close).await.expect("actor alive"), Closed);
    assert!(wait_until(PATIENCE, || events.undelivered().len() == 1).await);
    let undelivered = &events.undelivered()[0];
    assert_eq!(undelivered.reason, UndeliveredReason::Closed);
    assert_eq!(undelivered.payload.as_text(), Some("never sent"));
}

#[actix_web::test]
async fn builder_mistakes_are_errors_not_reconnect_loops() {
    let start = |url: &str| ConnectionActor::builder(url).start().map(drop);
    assert!(matches!(start("not a url"), Err(BuildError::InvalidUrl(_))));
    assert!(matches!(
        start("http://127.0.0.1:1/ws"),
        Err(BuildError::UnsupportedScheme(scheme)) if scheme == "http"
    ));
    assert!(matches!(
        start("ws://"),
        Err(BuildError::InvalidUrl(_) | BuildError::MissingHost)
    ));

    let bad_jitter = ConnectionActor::builder("ws://127.0.0.1:1/ws")
        .configure(|config| config.jitter_percent(150))
        .start();
    assert!(matches!(
        bad_jitter,
        Err(BuildError::Config(ConfigError::JitterOutOfRange {
            percent: 150
        }))
    ));
    let inverted = ConnectionActor::builder("ws://127.0.0.1:1/ws")
        .configure(|config| {
            config
                .base_backoff(Duration::from_secs(10))
                .max_backoff(Duration::from_secs(1))
        })
        .start();
    assert!(matches!(
        inverted,
        Err(BuildError::Config(ConfigError::BackoffRange { .. }))
    ));
    let bad_header = ConnectionActor::builder("ws://127.0.0.1:1/ws")
        .header("x-token", "line\nbreak")
        .start();
    assert!(matches!(bad_header, Err(BuildError::InvalidHeader { name }) if name == "x-token"));
}
