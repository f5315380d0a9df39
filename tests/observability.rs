//! End-to-end: what a connection tells about itself: its name in events, status and
//! hand-backs, and the round-trip time measured from the pongs answering its pings.

mod support;

use support::{connect_with, setup, wait_status, wait_until, PATIENCE};
use tether_actix::message::{self, Delivery};
use tether_actix::{BuildError, ConnectionActor, ConnectionState, UndeliveredReason};

#[actix_web::test]
async fn a_named_connection_carries_its_name_everywhere() {
    let server = setup().await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).name("feed-eu-1"));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // A confirmed send: its confirmation ping's pong gives a round-trip sample.
    let delivery = connection
        .send(message::Outgoing::text("hello").with_confirmation())
        .await
        .expect("actor alive")
        .expect("sent");
    assert_eq!(delivery, Delivery::Confirmed);
    let (status, measured) = wait_status(&connection, |s| s.round_trip.is_some()).await;
    assert!(measured, "no round trip measured: {status:?}");
    assert_eq!(status.name.as_deref(), Some("feed-eu-1"));
    let rtt = status.round_trip.expect("measured");
    assert!(rtt.samples >= 1, "{rtt:?}");
    assert!(rtt.min <= rtt.last && rtt.min <= rtt.smoothed, "{rtt:?}");
    assert!(rtt.last < PATIENCE, "{rtt:?}");

    // Down: a message buffered, then handed back on Close, carries the name too.
    server.stop().await;
    assert!(events.wait_entered(ConnectionState::Disconnected, 1).await);
    let (status, _) = wait_status(&connection, |s| s.state != ConnectionState::Connected).await;
    assert_eq!(
        status.round_trip, None,
        "no link, no round trip: {status:?}"
    );
    connection.do_send(message::Outgoing::text("never sent"));
    let closed = connection.send(message::Close).await.expect("actor alive");
    assert_eq!(closed, ConnectionState::Closed);
    assert!(wait_until(PATIENCE, || !events.undelivered().is_empty()).await);
    let undelivered = events.undelivered();
    assert_eq!(undelivered[0].reason, UndeliveredReason::Closed);
    assert_eq!(undelivered[0].name.as_deref(), Some("feed-eu-1"));
    let states = events.states();
    assert!(states.len() >= 3);
    assert!(
        states
            .iter()
            .all(|s| s.name.as_deref() == Some("feed-eu-1")),
        "{states:?}"
    );
}

#[actix_web::test]
async fn an_unnamed_connection_is_known_by_its_id_and_an_empty_name_is_refused() {
    let server = setup().await;
    let (connection, events) = connect_with(ConnectionActor::builder(server.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    let (status, _) = wait_status(&connection, |_| true).await;
    assert_eq!(status.name, None);
    assert!(events.states().iter().all(|s| s.name.is_none()));
    assert!(events
        .states()
        .iter()
        .all(|s| s.connection == status.connection));

    let refused = ConnectionActor::builder(server.url()).name("").build();
    assert!(matches!(refused, Err(BuildError::EmptyName)), "{refused:?}");
}
