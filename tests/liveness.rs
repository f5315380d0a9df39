//! End-to-end: what keeps a link "alive", and what bounds waiting on one.
//!
//! A frame still arriving counts as a sign of life only while it makes progress, and a
//! requested close never waits longer than `close_timeout` (plus the closing
//! handshake's grace), however the server behaves.

mod support;

use std::time::{Duration, Instant};

use support::{
    connect, frame_header, setup, wait_until, Events, Mode, RawServer, Step, OP_BINARY, PATIENCE,
};
use tether_actix::message::{self, Delivery};
use tether_actix::{ConnectionState, DisconnectReason, UndeliveredReason};

use ConnectionState::{Closed, Connected, Disconnected};

/// How long after `close_timeout` the closing handshake may still take.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

fn first_loss(events: &Events) -> Option<DisconnectReason> {
    events
        .states()
        .into_iter()
        .find(|change| change.to == Disconnected)
        .and_then(|change| change.reason)
}

#[actix_web::test]
async fn a_trickled_frame_does_not_keep_a_link_alive() {
    // One byte of a 64 KiB frame every 50 ms: always "arriving", never progressing.
    let mut script = vec![
        Step::Upgrade,
        Step::Bytes(frame_header(OP_BINARY, true, 64 * 1024)),
    ];
    for _ in 0..2_000 {
        script.push(Step::Pause(Duration::from_millis(50)));
        script.push(Step::Bytes(vec![0]));
    }
    let server = RawServer::start(script).await;
    support::init_tracing();
    let (connection, events) = connect(&server.url(), |config| {
        config
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(300))
    });
    assert!(events.wait_entered(Connected, 1).await);
    // A message waits for a confirmation the server will never give.
    let sent = connection
        .send(message::Outgoing::text("waiting"))
        .await
        .expect("actor alive")
        .expect("written");
    assert_eq!(sent, Delivery::Sent);
    assert!(
        events.wait_entered(Disconnected, 1).await,
        "the link stayed up: {:?}",
        events.entered()
    );
    assert!(
        matches!(
            first_loss(&events),
            Some(DisconnectReason::HeartbeatTimeout { .. })
        ),
        "{:?}",
        first_loss(&events)
    );
}

#[actix_web::test]
async fn close_is_bounded_by_close_timeout_when_the_server_stops_answering() {
    const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        // The heartbeat is far away: only the close timeout can bound the wait.
        config
            .heartbeat_interval(Duration::from_secs(60))
            .close_timeout(CLOSE_TIMEOUT)
    });
    assert!(events.wait_entered(Connected, 1).await);
    server.set_mode(Mode::Silent);
    for n in 0..3 {
        connection
            .send(message::Outgoing::text(format!("c{n}")))
            .await
            .expect("actor alive")
            .expect("written");
    }
    let started = Instant::now();
    let state = tokio::time::timeout(PATIENCE, connection.send(message::Close))
        .await
        .expect("Close answered")
        .expect("actor alive");
    let took = started.elapsed();
    assert_eq!(state, Closed);
    assert!(
        took >= CLOSE_TIMEOUT,
        "closed after {took:?} without confirmations"
    );
    assert!(
        took <= CLOSE_TIMEOUT + CLOSE_GRACE + Duration::from_millis(500),
        "{took:?}"
    );
    assert!(wait_until(PATIENCE, || events.undelivered().len() == 3).await);
    assert!(events
        .undelivered()
        .iter()
        .all(|undelivered| undelivered.reason == UndeliveredReason::Unconfirmed));
    assert_eq!(events.last_entry(Closed).unconfirmed, 3);
}
