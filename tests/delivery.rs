//! End-to-end: messages reach the server and come back, across outages, in order, whole.

mod support;

use std::time::Duration;

use support::{connect, setup, wait_until, Received, ServerMessage, PATIENCE};
use tether_actix::message::{self, Delivery, GetStatus};
use tether_actix::{ConnectionState, DeliveryError, Payload};

#[actix_web::test]
async fn echo_round_trip() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    let delivery = connection
        .send(message::Outgoing::text("ping?"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert_eq!(delivery, Delivery::Sent);
    connection
        .send(message::Outgoing::binary(vec![1_u8, 2, 3]))
        .await
        .expect("actor alive")
        .expect("accepted");

    assert!(events.wait_incoming(2).await);
    assert_eq!(
        events.incoming(),
        [Payload::from("ping?"), Payload::from(vec![1_u8, 2, 3])]
    );
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.counters.sent, 2);
    assert_eq!(status.counters.received, 2);
    assert_eq!(status.counters.connects, 1);
}

#[actix_web::test]
async fn messages_sent_before_the_server_exists_arrive_in_order_once_it_starts() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| config);

    for n in 0..50 {
        let delivery = connection
            .send(message::Outgoing::text(format!("early-{n}")))
            .await
            .expect("actor alive")
            .expect("accepted while down");
        assert_eq!(delivery, Delivery::Buffered);
    }
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.buffered, 50);
    assert_ne!(status.state, ConnectionState::Connected);

    server.restart().await;
    assert!(wait_until(PATIENCE, || server.received_count() == 50).await);
    let expected: Vec<_> = (0..50)
        .map(|n| Received::Text(format!("early-{n}")))
        .collect();
    assert_eq!(server.received(), expected);

    // Echoes come back in the same order.
    assert!(events.wait_incoming(50).await);
    let texts = events.incoming_texts();
    assert_eq!(
        texts,
        (0..50).map(|n| format!("early-{n}")).collect::<Vec<_>>()
    );
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.counters.flushed, 50);
    assert_eq!(status.buffered, 0);
}

#[actix_web::test]
async fn the_buffer_survives_a_server_restart_and_flushes_before_newer_messages() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(message::Outgoing::text("before"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(wait_until(PATIENCE, || server.received_count() == 1).await);

    server.stop().await;
    assert!(events.wait_entered(ConnectionState::Disconnected, 1).await);
    for n in 0..5 {
        let reply = connection
            .send(message::Outgoing::text(format!("during-{n}")))
            .await
            .expect("actor alive")
            .expect("accepted while down");
        assert_eq!(reply, Delivery::Buffered);
    }

    server.restart().await;
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
    connection
        .send(message::Outgoing::text("after"))
        .await
        .expect("actor alive")
        .expect("accepted");

    assert!(wait_until(PATIENCE, || server.received_count() == 7).await);
    let mut expected = vec![Received::Text("before".into())];
    expected.extend((0..5).map(|n| Received::Text(format!("during-{n}"))));
    expected.push(Received::Text("after".into()));
    assert_eq!(server.received(), expected);
}

#[actix_web::test]
async fn a_full_buffer_hands_the_message_back() {
    let server = setup().await;
    server.stop().await;
    let (connection, _events) = connect(&server.url(), |config| config.message_buffer_size(3));

    for n in 0..3 {
        connection
            .send(message::Outgoing::text(format!("kept-{n}")))
            .await
            .expect("actor alive")
            .expect("fits");
    }
    let refused = connection
        .send(message::Outgoing::text("one too many"))
        .await
        .expect("actor alive");
    match refused {
        Err(DeliveryError::BufferFull { message, .. }) => {
            assert_eq!(message.as_text(), Some("one too many"))
        }
        other => panic!("expected BufferFull, got {other:?}"),
    }
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.buffered, 3);
    assert_eq!(status.counters.rejected, 1);

    // The three kept messages are the ones delivered.
    server.restart().await;
    assert!(wait_until(PATIENCE, || server.received_count() == 3).await);
    let expected: Vec<_> = (0..3)
        .map(|n| Received::Text(format!("kept-{n}")))
        .collect();
    assert_eq!(server.received(), expected);
}

#[actix_web::test]
async fn fragmented_and_one_mebibyte_messages_arrive_whole() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    server.send_all(ServerMessage::FragmentedText(vec![
        "hel".into(),
        "lo ".into(),
        "world".into(),
    ]));
    server.send_all(ServerMessage::FragmentedBinary(vec![
        vec![1],
        vec![2, 3],
        vec![4],
    ]));
    assert!(events.wait_incoming(2).await);
    assert_eq!(
        events.incoming(),
        [
            Payload::from("hello world"),
            Payload::from(vec![1_u8, 2, 3, 4])
        ]
    );

    // 1 MiB is far above awc's 64 KiB default frame limit, well within tether's 16 MiB.
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    connection
        .send(message::Outgoing::binary(big.clone()))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(3).await);
    assert_eq!(events.incoming()[2], Payload::from(big.clone()));
    assert!(wait_until(PATIENCE, || server.received_count() == 1).await);
    assert_eq!(server.received(), [Received::Binary(big)]);
    assert_eq!(
        events.times_entered(ConnectionState::Connected),
        1,
        "no reconnect"
    );
}

#[actix_web::test]
async fn sends_wait_for_the_socket_and_stay_ordered_under_load() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    let replies = futures_util::future::join_all(
        (0..200).map(|n| connection.send(message::Outgoing::text(format!("m{n}")))),
    )
    .await;
    for reply in replies {
        assert_eq!(
            reply.expect("actor alive").expect("accepted"),
            Delivery::Sent
        );
    }
    assert!(wait_until(Duration::from_secs(10), || server.received_count() == 200).await);
    let expected: Vec<_> = (0..200).map(|n| Received::Text(format!("m{n}"))).collect();
    assert_eq!(server.received(), expected);
}
