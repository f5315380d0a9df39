//! End-to-end: `Reopen`, `Reconnect`, `Close` with a code, `Close` with a flush
//! deadline.

use std::time::Duration;

use crate::support::{connect_handle, connect_handle_with, setup, wait_until, Mode, PATIENCE};
use tether_actix::message::{Close, Delivery};
use tether_actix::{ConnectionActor, ConnectionState, DeliveryError, DisconnectReason};

use ConnectionState::{Closed, Connected, Connecting, Disconnected, Failed, Reconnecting};

#[actix_web::test]
async fn reopen_brings_a_failed_connection_back_with_its_subscribers() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 401,
        retry_after: None,
    });
    let (connection, events) = connect_handle(ConnectionActor::builder(server.url()));
    assert!(events.wait_entered(Failed, 1).await);
    assert!(
        !connection.reconnect().await.expect("alive"),
        "Reconnect does nothing once failed"
    );

    server.set_mode(Mode::Echo);
    assert!(connection.reopen().await.expect("alive"));
    assert!(events.wait_entered(Connected, 1).await);
    let entered = events.entered();
    assert_eq!(
        entered[entered.len() - 4..],
        [Failed, Disconnected, Connecting, Connected]
    );
    let reopened = events.last_entry(Disconnected);
    assert_eq!((reopened.from, reopened.attempt), (Failed, 0));
    assert!(
        !connection.reopen().await.expect("alive"),
        "only a terminal connection reopens"
    );
    assert_eq!(
        connection.send("again").await.expect("written"),
        Delivery::Sent
    );
    assert!(
        events.wait_incoming(1).await,
        "the subscriber is still there"
    );
    assert_eq!(events.incoming_texts(), ["again"]);
}

#[actix_web::test]
async fn reopen_brings_a_closed_connection_back() {
    let server = setup().await;
    let (connection, events) = connect_handle(ConnectionActor::builder(server.url()));
    connection.connected(PATIENCE).await.expect("connected");
    assert_eq!(connection.close().await.expect("alive"), Closed);
    assert!(connection.send("refused").await.is_err());

    assert!(connection.reopen().await.expect("alive"));
    connection
        .connected(PATIENCE)
        .await
        .expect("connected again");
    assert_eq!(events.times_entered(Connected), 2);
    assert_eq!(server.handshakes(), 2);
    assert_eq!(
        connection.send("after reopen").await.expect("written"),
        Delivery::Sent
    );
    assert!(wait_until(PATIENCE, || server.received_texts() == ["after reopen"]).await);
    // And it closes again as usual.
    assert_eq!(connection.close().await.expect("alive"), Closed);
}

#[actix_web::test]
async fn reconnect_cuts_a_long_backoff_short() {
    let server = setup().await;
    let (connection, events) =
        connect_handle_with(ConnectionActor::builder(server.url()), |config| {
            config
                .base_backoff(Duration::from_secs(60))
                .max_backoff(Duration::from_secs(60))
        });
    connection.connected(PATIENCE).await.expect("connected");
    server.stop().await;
    assert!(events.wait_entered(Reconnecting, 1).await);
    assert_eq!(
        events.last_entry(Reconnecting).next_delay,
        Some(Duration::from_secs(60))
    );
    server.restart().await;

    assert!(connection.reconnect().await.expect("alive"));
    // Bounded generously, yet far below the 60 s backoff.
    connection
        .connected(PATIENCE)
        .await
        .expect("connected long before the backoff ends");
    assert_eq!(events.times_entered(Connected), 2);
}

#[actix_web::test]
async fn reconnect_replaces_a_live_link_at_once() {
    let server = setup().await;
    let (connection, events) =
        connect_handle_with(ConnectionActor::builder(server.url()), |config| {
            config
                .base_backoff(Duration::from_secs(60))
                .max_backoff(Duration::from_secs(60))
        });
    connection.connected(PATIENCE).await.expect("connected");
    assert!(connection.reconnect().await.expect("alive"));
    assert!(events.wait_entered(Connected, 2).await);
    let dropped = events.last_entry(Disconnected);
    assert_eq!(dropped.reason, Some(DisconnectReason::ReconnectRequested));
    assert_eq!(
        events.last_entry(Reconnecting).next_delay,
        Some(Duration::ZERO)
    );
    assert!(wait_until(PATIENCE, || server.closes_received() == [Some(1000)]).await);
    assert_eq!(server.handshakes(), 2);
}

#[actix_web::test]
async fn requested_reconnects_are_not_attempts_and_never_use_up_the_limit() {
    let server = setup().await;
    let (connection, events) =
        connect_handle_with(ConnectionActor::builder(server.url()), |config| {
            config
                .max_reconnect_attempts(Some(1))
                // Never stable within the test: only a requested reconnect could keep
                // the counter from growing.
                .stable_uptime(Duration::from_secs(600))
        });
    connection.connected(PATIENCE).await.expect("connected");
    for round in 2..=6 {
        assert!(
            connection.reconnect().await.expect("alive"),
            "round {round}"
        );
        assert!(
            events.wait_entered(Connected, round).await,
            "{:?}",
            events.entered()
        );
    }
    assert_eq!(events.times_entered(Failed), 0, "{:?}", events.entered());
    assert!(events
        .states()
        .iter()
        .filter(|change| change.to == Reconnecting)
        .all(|change| change.attempt == 0));
    assert_eq!(connection.status().await.expect("alive").attempt, 0);
    assert_eq!(server.handshakes(), 6);
}

#[actix_web::test]
async fn close_with_a_code_and_reason_reaches_the_server() {
    let server = setup().await;
    let (connection, _events) = connect_handle(ConnectionActor::builder(server.url()));
    connection.connected(PATIENCE).await.expect("connected");
    let refused = connection
        .close_with(Close::with_code(1006, "reserved"))
        .await
        .expect("alive");
    assert!(refused.is_err(), "1006 may not be sent");
    assert_eq!(connection.status().await.expect("alive").state, Connected);

    let closed = connection
        .close_with(Close::with_code(4000, "bye"))
        .await
        .expect("alive");
    assert_eq!(closed, Ok(Closed));
    assert!(
        wait_until(PATIENCE, || {
            server.close_frames_received() == [(4000, Some("bye".to_owned()))]
        })
        .await,
        "server saw {:?}",
        server.close_frames_received()
    );
}

#[actix_web::test]
async fn close_with_a_deadline_while_connecting_delivers_everything_first() {
    let server = setup().await;
    // The first handshake hangs: the connection is Connecting when the close arrives.
    server.set_mode(Mode::Hang);
    let (connection, events) = connect_handle(ConnectionActor::builder(server.url()));
    assert!(wait_until(PATIENCE, || server.handshake_attempts() >= 1).await);
    assert_eq!(connection.status().await.expect("alive").state, Connecting);
    for i in 0..5 {
        let delivery = connection.send(format!("m{i}")).await.expect("accepted");
        assert_eq!(delivery, Delivery::Buffered);
    }
    // `Addr::send` queues at once: the close is in the mailbox before "late".
    let closing = connection.addr().send(Close::after_flush(PATIENCE));
    let late = connection.send("late").await;
    assert!(
        matches!(late, Err(DeliveryError::Closed(ref payload)) if payload.as_text() == Some("late")),
        "refused once the close is under way: {late:?}"
    );
    // The hung handshake is refused (503); the next attempt connects and flushes.
    server.set_mode(Mode::Echo);
    let outcome = closing.await.expect("alive");
    assert_eq!(outcome, Ok(Closed));
    assert_eq!(server.received_texts(), ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(events.times_entered(Connected), 1);
    assert_eq!(events.current(), Some(Closed));
    assert!(events.undelivered().is_empty());
    assert!(wait_until(PATIENCE, || server.closes_received() == [Some(1000)]).await);
}

#[actix_web::test]
async fn close_with_a_deadline_while_reconnecting_does_not_wait_out_the_backoff() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 503,
        retry_after: None,
    });
    // A backoff far beyond the close's deadline.
    let (connection, events) =
        connect_handle_with(ConnectionActor::builder(server.url()), |config| {
            config
                .base_backoff(Duration::from_secs(600))
                .max_backoff(Duration::from_secs(600))
        });
    assert!(events.wait_entered(Reconnecting, 1).await);
    for i in 0..3 {
        let delivery = connection.send(format!("m{i}")).await.expect("accepted");
        assert_eq!(delivery, Delivery::Buffered);
    }
    server.set_mode(Mode::Echo);
    let outcome = connection
        .close_with(Close::after_flush(PATIENCE))
        .await
        .expect("alive");
    assert_eq!(outcome, Ok(Closed));
    assert_eq!(server.received_texts(), ["m0", "m1", "m2"]);
    assert_eq!(events.times_entered(Connected), 1);
    assert!(events.undelivered().is_empty());
}
