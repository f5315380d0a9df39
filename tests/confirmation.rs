//! End-to-end: ping-acknowledged writes, at-most-once and at-least-once delivery.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::join_all;
use support::{connect, setup, wait_status, wait_until, Events, Mode, PATIENCE};
use tether_actix::message::{self, Delivery};
use tether_actix::{ConnectionState, DeliveryError, DeliveryMode, UndeliveredReason};

use ConnectionState::{Connected, Disconnected};

/// A heartbeat quick enough that a silent server is caught in well under a second.
fn quick_heartbeat(
    config: tether_actix::ResiliencyConfigBuilder,
) -> tether_actix::ResiliencyConfigBuilder {
    config
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(150))
        .confirm_interval(Duration::from_millis(10))
}

#[actix_web::test]
async fn a_confirmed_send_answers_once_the_server_read_it() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), quick_heartbeat);
    assert!(events.wait_entered(Connected, 1).await);

    let delivery = connection
        .send(message::Outgoing::text("are you there").with_confirmation())
        .await
        .expect("actor alive")
        .expect("confirmed");
    assert_eq!(delivery, Delivery::Confirmed);
    assert_eq!(server.received_texts(), ["are you there"]);
    let (status, confirmed) =
        wait_status(&connection, |status| status.counters.confirmed == 1).await;
    assert!(confirmed, "{status:?}");
    assert_eq!(status.unconfirmed, 0);
}

#[actix_web::test]
async fn at_most_once_reports_every_unconfirmed_message_when_pings_go_unanswered() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), quick_heartbeat);
    assert!(events.wait_entered(Connected, 1).await);
    // The server still reads and records, but answers nothing: no confirmation.
    server.set_mode(Mode::Silent);

    for n in 0..20 {
        let reply = connection
            .send(message::Outgoing::text(format!("m{n}")))
            .await
            .expect("actor alive")
            .expect("accepted");
        assert_eq!(reply, Delivery::Sent);
    }
    assert!(events.wait_entered(Disconnected, 1).await);
    let loss = events.first_entry(Disconnected);
    assert_eq!(loss.unconfirmed, 20);
    let (status, _) = wait_status(&connection, |status| status.counters.unconfirmed == 20).await;
    assert_eq!(status.counters.unconfirmed, 20);
    assert_eq!(
        status.counters.undelivered, 0,
        "nothing unsent was handed back"
    );

    // Every one is reported back, in order; here all of them had in fact arrived,
    // which is exactly the uncertainty at-most-once reports.
    let expected: Vec<_> = (0..20).map(|n| format!("m{n}")).collect();
    assert!(wait_until(PATIENCE, || events.undelivered().len() == 20).await);
    assert_eq!(
        events.undelivered_texts(UndeliveredReason::Unconfirmed),
        expected
    );
    assert_eq!(server.received_texts(), expected);

    // Never written twice.
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 2).await);
    connection
        .send(message::Outgoing::text("fresh").with_confirmation())
        .await
        .expect("actor alive")
        .expect("confirmed");
    let mut expected_server = expected;
    expected_server.push("fresh".into());
    assert_eq!(server.received_texts(), expected_server);
}

#[actix_web::test]
async fn at_most_once_confirmation_waiters_get_their_message_back() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), quick_heartbeat);
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);
    let reply = connection
        .send(message::Outgoing::text("unsure").with_confirmation())
        .await
        .expect("actor alive");
    assert!(
        matches!(reply, Err(DeliveryError::Unconfirmed(payload)) if payload.as_text() == Some("unsure"))
    );
    assert_eq!(server.received_texts(), ["unsure"]);
}

#[actix_web::test]
async fn at_least_once_writes_unconfirmed_messages_again_after_reconnect() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        quick_heartbeat(config).delivery(DeliveryMode::AtLeastOnce)
    });
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);
    let replies =
        join_all((0..10).map(|n| {
            connection.send(message::Outgoing::text(format!("m{n}")).with_confirmation())
        }));
    // The heartbeat finds the silent link dead; the server answers again.
    let recovery = async {
        assert!(events.wait_entered(Disconnected, 1).await);
        server.set_mode(Mode::Echo);
    };
    let (replies, ()) = tokio::join!(replies, recovery);
    for reply in replies {
        assert_eq!(
            reply.expect("actor alive").expect("confirmed"),
            Delivery::Confirmed
        );
    }

    // All ten twice: once to the silent link, once again after the reconnect, in order.
    let expected: Vec<_> = (0..10).map(|n| format!("m{n}")).collect();
    let doubled: Vec<_> = expected.iter().chain(expected.iter()).cloned().collect();
    assert_eq!(server.received_texts(), doubled);
    let (status, _) = wait_status(&connection, |status| status.counters.confirmed == 10).await;
    assert_eq!(status.counters.resent, 10);
    assert_eq!(status.counters.undelivered, 0);
    assert_eq!(
        status.counters.unconfirmed, 10,
        "the dead link took ten unconfirmed"
    );
    assert!(events.undelivered().is_empty());
}

#[actix_web::test]
async fn a_full_window_applies_back_pressure_and_bounds_memory() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        config
            .unconfirmed_window(8)
            .message_buffer_size(16)
            .confirm_interval(Duration::from_millis(10))
    });
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);

    let replies =
        join_all((0..40).map(|n| connection.send(message::Outgoing::text(format!("m{n}")))));
    let observe = async {
        let (status, full) = wait_status(&connection, |status| status.unconfirmed == 8).await;
        assert!(full, "the window should fill: {status:?}");
        // Nothing more is written while nothing is confirmed...
        assert!(!wait_until(Duration::from_millis(200), || server.received_count() > 8).await);
        // ...and what waits is bounded by the buffer.
        let (status, _) = wait_status(&connection, |_| true).await;
        assert_eq!(status.unconfirmed, 8);
        assert!(status.buffered <= 16, "{status:?}");
        assert_eq!(status.buffered as u64 + 8 + status.counters.rejected, 40);
        server.set_mode(Mode::Echo);
    };
    let (replies, ()) = tokio::join!(replies, observe);

    let mut sent = 0;
    let mut refused = 0;
    for reply in replies {
        match reply.expect("actor alive") {
            Ok(Delivery::Sent) => sent += 1,
            Err(DeliveryError::BufferFull { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sent + refused, 40);
    assert!(
        sent > 8,
        "waiting senders were answered once the window moved"
    );
    assert!(wait_until(PATIENCE, || server.received_count() == sent).await);
    assert_eq!(
        events.times_entered(Disconnected),
        0,
        "back-pressure is not a failure"
    );
}

/// The accounting every mode must satisfy, across a server restart mid-stream.
async fn stream_through_a_restart(mode: DeliveryMode) -> (Vec<String>, Events) {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        quick_heartbeat(config)
            .delivery(mode)
            .message_buffer_size(1024)
    });
    assert!(events.wait_entered(Connected, 1).await);

    let mut sent = Vec::new();
    for n in 0..300 {
        if n == 100 {
            server.stop().await;
        }
        if n == 200 {
            server.restart().await;
        }
        let text = format!("m{n}");
        connection
            .send(message::Outgoing::text(text.clone()))
            .await
            .expect("actor alive")
            .expect("accepted");
        sent.push(text);
    }
    let (status, drained) = wait_status(&connection, |status| {
        status.state == Connected && status.buffered == 0 && status.unconfirmed == 0
    })
    .await;
    assert!(drained, "{status:?}");
    let received = server.received_texts();
    // Everything the server got was sent, and nothing was sent that is unaccounted.
    let sent_set: BTreeSet<_> = sent.iter().cloned().collect();
    assert!(received.iter().all(|text| sent_set.contains(text)));
    (received, events)
}

#[actix_web::test]
async fn at_most_once_accounts_for_every_message_across_a_restart() {
    let (received, events) = stream_through_a_restart(DeliveryMode::AtMostOnce).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for text in &received {
        *counts.entry(text.clone()).or_default() += 1;
    }
    assert!(counts.values().all(|&count| count == 1), "no duplicates");
    let reported: BTreeSet<_> = events
        .undelivered_texts(UndeliveredReason::Unconfirmed)
        .into_iter()
        .collect();
    for n in 0..300 {
        let text = format!("m{n}");
        assert!(
            counts.contains_key(&text) || reported.contains(&text),
            "{text} neither arrived nor was reported"
        );
    }
}

#[actix_web::test]
async fn at_least_once_delivers_every_message_across_a_restart() {
    let (received, events) = stream_through_a_restart(DeliveryMode::AtLeastOnce).await;
    let arrived: BTreeSet<_> = received.iter().cloned().collect();
    for n in 0..300 {
        assert!(arrived.contains(&format!("m{n}")), "m{n} lost");
    }
    // First deliveries keep the send order.
    let mut seen = BTreeSet::new();
    let firsts: Vec<_> = received
        .iter()
        .filter(|text| seen.insert((*text).clone()))
        .collect();
    let expected: Vec<_> = (0..300).map(|n| format!("m{n}")).collect();
    assert_eq!(firsts, expected.iter().collect::<Vec<_>>());
    assert!(events.undelivered().is_empty());
}

#[actix_web::test]
async fn a_server_that_talks_but_never_answers_pings_cannot_stall_the_window() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), quick_heartbeat);
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);
    connection
        .send(message::Outgoing::text("needs a pong"))
        .await
        .expect("actor alive")
        .expect("accepted");
    // The server keeps sending data (so frames do arrive) but never a Pong.
    let chatter = async {
        while events.times_entered(Disconnected) == 0 {
            server.send_all(support::ServerMessage::Text("chatter".into()));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let detected = tokio::time::timeout(PATIENCE, chatter).await;
    assert!(detected.is_ok(), "the link was never declared dead");
    let loss = events.first_entry(Disconnected);
    assert!(matches!(
        loss.reason,
        Some(tether_actix::DisconnectReason::HeartbeatTimeout { .. })
    ));
    assert_eq!(loss.unconfirmed, 1);
    assert!(
        !events.incoming_texts().is_empty(),
        "data did arrive meanwhile"
    );
}
