//! End-to-end: a state subscriber that is stuck while its connection reconnects again and
//! again never slows the connection, holds only a bounded backlog, and, once it
//! resumes, gets the transitions in order with `skipped` accounting for every one it
//! missed.

use std::time::Duration;

use crate::support::{gated, recorded, setup, wait_until, Mode, PATIENCE};
use tether_actix::message::GetStatus;
use tether_actix::{ConnectionActor, ConnectionState, StateChanged};

/// More transitions than a stuck subscriber may have waiting (256), several times over.
const TRANSITIONS: usize = 1_500;

#[actix_web::test]
async fn a_stuck_state_subscriber_misses_the_oldest_transitions_and_is_told_how_many() {
    let server = setup().await;
    server.set_mode(Mode::Refuse {
        status: 503,
        retry_after: None,
    });
    let (stuck, gate) = gated::<StateChanged>();
    let (builder, events) = recorded(ConnectionActor::builder(server.url()).configure(|config| {
        config
            .base_backoff(Duration::from_millis(1))
            .max_backoff(Duration::from_millis(2))
            .jitter_percent(0)
            .max_reconnect_attempts(None)
    }));
    let connection = builder
        .on_state(stuck.recipient())
        .start()
        .expect("valid configuration")
        .into_addr();

    // Refused again and again while the subscriber is stuck: the connection goes on.
    assert!(
        wait_until(PATIENCE * 3, || events.states().len() >= TRANSITIONS).await,
        "{} transitions",
        events.states().len()
    );
    let status = tokio::time::timeout(PATIENCE, connection.send(GetStatus))
        .await
        .expect("the connection answers while its subscriber is stuck")
        .expect("actor alive");
    assert!(status.attempt > 100, "{status:?}");

    // Let it connect, so the transitions end, then let the subscriber go.
    server.set_mode(Mode::Echo);
    assert!(
        wait_until(PATIENCE, || events.current()
            == Some(ConnectionState::Connected))
        .await
    );
    gate.open();
    let all = events.states();
    assert!(
        wait_until(PATIENCE, || gate.got().last().map(|c| c.at)
            == all.last().map(|c| c.at))
        .await,
        "the stuck subscriber gets the latest transition once it resumes"
    );

    // Every transition the healthy subscriber saw is, for the stuck one, received or
    // counted in the `skipped` of the next one it received, in order.
    assert!(
        all.iter().all(|change| change.skipped == 0),
        "the recorder kept up"
    );
    let got = gate.got();
    let mut next = 0;
    for change in got.iter() {
        let index = next + change.skipped as usize;
        let mut expected = all[index].clone();
        expected.skipped = change.skipped;
        assert_eq!(*change, expected, "transition {index} of {}", all.len());
        next = index + 1;
    }
    assert_eq!(next, all.len(), "nothing unaccounted for at the end");
    assert!(
        got.len() < 300,
        "a bounded backlog: {} of {} delivered",
        got.len(),
        all.len()
    );
    assert!(got.iter().any(|change| change.skipped > 0));
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(
        status.counters.state_events_skipped,
        got.iter().map(|change| change.skipped).sum::<u64>(),
        "the counter is what the subscriber was told it missed"
    );
}
