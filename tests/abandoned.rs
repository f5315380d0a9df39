//! End-to-end: a connection whose last address is dropped ends properly. Everything it
//! held is handed back, its final state is published with a reason, and the server is
//! told the client is going away.

mod support;

use std::time::Duration;

use support::{connect, setup, wait_until, Events, Mode, PATIENCE};
use tether_actix::message::{self, Delivery};
use tether_actix::{ConnectionState, DeliveryError, DisconnectReason, UndeliveredReason};

use ConnectionState::{Closed, Connected};

/// The final transition: to `Closed`, because the connection was abandoned.
fn assert_abandoned(events: &Events) {
    let last = events.last_entry(Closed);
    assert_eq!(last.reason, Some(DisconnectReason::Abandoned), "{last:?}");
    assert_eq!(events.current(), Some(Closed));
}

#[actix_web::test]
async fn dropping_the_last_address_hands_back_every_buffered_message() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| {
        config
            .base_backoff(Duration::from_secs(30))
            .max_backoff(Duration::from_secs(60))
    });
    for n in 0..5 {
        let reply = connection
            .send(message::Outgoing::text(format!("b{n}")))
            .await
            .expect("actor alive");
        assert_eq!(reply.expect("buffered"), Delivery::Buffered);
    }
    drop(connection);

    assert!(
        wait_until(PATIENCE, || events.undelivered().len() == 5).await,
        "{:?}",
        events.undelivered()
    );
    let expected: Vec<String> = (0..5).map(|n| format!("b{n}")).collect();
    assert_eq!(
        events.undelivered_texts(UndeliveredReason::Abandoned),
        expected
    );
    assert!(wait_until(PATIENCE, || events.current() == Some(Closed)).await);
    assert_abandoned(&events);
}

#[actix_web::test]
async fn dropping_the_last_address_while_connected_reports_the_unconfirmed_and_says_goodbye() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        // No ping is answered while silent, so what is written stays unconfirmed; the
        // heartbeat must not replace the link meanwhile.
        config
            .heartbeat_interval(Duration::from_secs(60))
            .confirm_interval(Duration::from_millis(10))
    });
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);
    for n in 0..5 {
        let reply = connection
            .send(message::Outgoing::text(format!("u{n}")))
            .await
            .expect("actor alive");
        assert_eq!(reply.expect("written"), Delivery::Sent);
    }
    // One sender still waits: for a confirmation that cannot come.
    let waiting =
        actix::spawn(connection.send(message::Outgoing::text("waiting").with_confirmation()));
    assert!(wait_until(PATIENCE, || server.received_count() == 6).await);
    drop(connection);

    let answer = tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the waiting sender is answered")
        .expect("task ran");
    match answer {
        Ok(Err(DeliveryError::Interrupted(payload))) => {
            assert_eq!(payload.as_text(), Some("waiting"))
        }
        other => panic!("expected Interrupted, got {other:?}"),
    }
    assert!(
        wait_until(PATIENCE, || events.undelivered().len() == 5).await,
        "{:?}",
        events.undelivered()
    );
    let expected: Vec<String> = (0..5).map(|n| format!("u{n}")).collect();
    assert_eq!(
        events.undelivered_texts(UndeliveredReason::Unconfirmed),
        expected
    );
    assert_abandoned(&events);
    assert_eq!(events.last_entry(Closed).unconfirmed, 6);
    // The server saw the client go away, and the connection end.
    assert!(
        wait_until(PATIENCE, || server.closes_received().contains(&Some(1001))).await,
        "{:?}",
        server.closes_received()
    );
    assert!(wait_until(PATIENCE, || server.open_sessions() == 0).await);
}

#[actix_web::test]
async fn an_idle_connection_whose_address_is_dropped_closes_its_socket() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);
    assert_eq!(server.open_sessions(), 1);
    drop(connection);
    assert!(wait_until(PATIENCE, || server.open_sessions() == 0).await);
    assert_eq!(server.closes_received(), [Some(1001)]);
    assert_abandoned(&events);
    assert!(events.undelivered().is_empty());
}
