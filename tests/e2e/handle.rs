//! End-to-end: the `Connection` handle hands every payload back, even once its actor
//! is gone, and waits for Connected without polling.

use std::time::Duration;

use crate::support::{connect_handle, setup, wait_status, wait_until, Mode, PATIENCE};
use tether_actix::message::{Delivery, OutgoingBatch};
use tether_actix::{
    Connection, ConnectionActor, ConnectionState, DeliveryError, NotConnected, Payload,
};

/// A connection whose actor runs on its own arbiter, so that the test can stop it
/// while holding the handle.
async fn on_own_arbiter(url: String) -> (Connection, actix::Arbiter) {
    let arbiter = actix::Arbiter::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    arbiter.spawn_fn(move || {
        let connection = ConnectionActor::builder(url).start().expect("valid config");
        let _ = tx.send(connection);
    });
    (rx.await.expect("started"), arbiter)
}

#[actix_web::test]
async fn send_after_the_actor_is_gone_hands_the_payload_back() {
    let server = setup().await;
    let (connection, arbiter) = on_own_arbiter(server.url()).await;
    connection.connected(PATIENCE).await.expect("connected");
    assert_eq!(
        connection.send("first").await.expect("written"),
        Delivery::Sent
    );

    arbiter.stop();
    let stopped = tokio::task::spawn_blocking(move || arbiter.join());
    stopped
        .await
        .expect("joined")
        .expect("arbiter thread ended");

    match connection.send("kept").await {
        Err(DeliveryError::Interrupted(payload)) => assert_eq!(payload, Payload::from("kept")),
        other => panic!("expected the payload back, got {other:?}"),
    }
    match connection.send_confirmed(vec![1u8, 2, 3]).await {
        Err(DeliveryError::Interrupted(payload)) => {
            assert_eq!(payload, Payload::Binary(vec![1u8, 2, 3].into()))
        }
        other => panic!("expected the payload back, got {other:?}"),
    }
    let report = connection.send_batch(OutgoingBatch::new(["a", "b"])).await;
    let back: Vec<Payload> = report
        .refused
        .into_iter()
        .map(DeliveryError::into_message)
        .collect();
    assert_eq!(back, [Payload::from("a"), Payload::from("b")]);
    assert_eq!(
        connection.connected(PATIENCE).await,
        Err(NotConnected::Gone)
    );
    assert!(connection.status().await.is_err());
}

#[actix_web::test]
async fn connected_waits_for_the_connection_or_gives_up_in_time() {
    let server = setup().await;
    server.set_mode(Mode::Hang);
    let (connection, events) = connect_handle(ConnectionActor::builder(server.url()));
    let waited = Duration::from_millis(300);
    assert_eq!(
        connection.connected(waited).await,
        Err(NotConnected::TimedOut { after: waited })
    );
    assert_ne!(
        connection.status().await.expect("alive").state,
        ConnectionState::Connected
    );

    server.set_mode(Mode::Echo);
    connection.connected(PATIENCE).await.expect("connected");
    assert_eq!(events.current(), Some(ConnectionState::Connected));
    assert_eq!(
        connection.connected(Duration::from_millis(1)).await,
        Ok(()),
        "answered at once when connected"
    );
    assert!(connection.id().get() > 0);
    assert_eq!(connection.name(), None);
    let addr = connection.clone().into_addr();
    assert!(addr.connected());

    server.set_mode(Mode::Refuse {
        status: 401,
        retry_after: None,
    });
    server.close_all(None);
    let (status, left) =
        wait_status(connection.addr(), |s| s.state != ConnectionState::Connected).await;
    assert!(left, "still connected: {status:?}");
    assert_eq!(
        connection.connected(PATIENCE).await,
        Err(NotConnected::Ended {
            state: ConnectionState::Failed
        }),
        "a final failure ends the wait"
    );
}

#[actix_web::test]
async fn a_full_mailbox_makes_the_handle_wait_and_loses_nothing() {
    let server = setup().await;
    let (connection, _events) =
        connect_handle(ConnectionActor::builder(server.url()).mailbox_capacity(1));
    connection.connected(PATIENCE).await.expect("connected");
    // All handed over at once through one handle (one actix sender, which actix lets
    // exceed the capacity once, then parks): most find the mailbox full and wait.
    let connection = &connection;
    let sends = (0..200).map(|i| async move { connection.send(format!("m{i}")).await });
    let answers = futures_util::future::join_all(sends).await;
    assert!(
        answers
            .iter()
            .all(|answer| matches!(answer, Ok(Delivery::Sent))),
        "{answers:?}"
    );
    assert!(wait_until(PATIENCE, || server.received_texts().len() >= 200).await);
    let mut received = server.received_texts();
    received.sort();
    let mut sent: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    sent.sort();
    assert_eq!(received, sent, "each message exactly once");
}
