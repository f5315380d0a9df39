//! End-to-end: several endpoints with failover. Final failures and `Retry-After` are
//! per endpoint; events and status name the endpoint.

use std::time::Duration;

use crate::support;
use crate::support::{recorded, wait_status, wait_until, Mode, TestServer, PATIENCE};
use tether_actix::message::Outgoing;
use tether_actix::{BuildError, ConnectionActor, ConnectionState, DisconnectReason};

/// The endpoint index of every transition into `state`, in order.
fn endpoints_entering(events: &support::Events, state: ConnectionState) -> Vec<usize> {
    events
        .states()
        .into_iter()
        .filter(|change| change.to == state)
        .map(|change| change.endpoint.index)
        .collect()
}

#[actix_web::test]
async fn fails_over_from_503_then_401_and_stays_on_the_healthy_endpoint() {
    support::init_tracing();
    let primary = TestServer::start().await;
    let backup = TestServer::start().await;
    primary.set_mode(Mode::Refuse {
        status: 503,
        retry_after: None,
    });
    let (builder, events) = recorded(
        ConnectionActor::builder(format!("{}?key=SECRET", primary.url()))
            .endpoint(backup.url())
            .configure(support::quick),
    );
    let connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // 503 at the primary: straight to the backup, without a backoff wait.
    let connected = events.first_entry(ConnectionState::Connected);
    assert_eq!(connected.endpoint.index, 1);
    assert_eq!(&*connected.endpoint.url, backup.url());
    let switch = events.first_entry(ConnectionState::Reconnecting);
    assert_eq!(
        switch.endpoint.index, 1,
        "Reconnecting names the next endpoint"
    );
    assert_eq!(switch.next_delay, Some(Duration::ZERO));
    let lost = events.first_entry(ConnectionState::Disconnected);
    assert_eq!(lost.endpoint.index, 0);
    assert_eq!(&*lost.endpoint.url, primary.url(), "the query is redacted");
    let (status, _) = wait_status(&connection, |status| status.endpoint.index == 1).await;
    assert_eq!(status.state, ConnectionState::Connected);
    assert_eq!(&*status.endpoint.url, backup.url());

    // The backup drops the link: a full pass, so back to the primary, which now says
    // 401. That gives up on the primary only; the backup takes over again.
    primary.set_mode(Mode::Refuse {
        status: 401,
        retry_after: None,
    });
    backup.close_all(None);
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
    assert_eq!(
        endpoints_entering(&events, ConnectionState::Connected),
        [1, 1]
    );
    assert_eq!(primary.handshake_attempts(), 2);
    let refusals: Vec<_> = events
        .states()
        .into_iter()
        .filter(|change| change.to == ConnectionState::Disconnected)
        .filter_map(|change| match change.reason {
            Some(DisconnectReason::HandshakeRejected { status, .. }) => {
                Some((change.endpoint.index, status))
            }
            _ => None,
        })
        .collect();
    assert_eq!(refusals, [(0, 503), (0, 401)]);

    // With the primary given up, losing the backup again goes back to the backup.
    backup.close_all(None);
    assert!(events.wait_entered(ConnectionState::Connected, 3).await);
    assert_eq!(
        endpoints_entering(&events, ConnectionState::Connected),
        [1, 1, 1]
    );
    assert_eq!(
        primary.handshake_attempts(),
        2,
        "a dead endpoint is not retried"
    );
    assert_eq!(events.times_entered(ConnectionState::Failed), 0);
    connection
        .send(Outgoing::text("still here"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(wait_until(PATIENCE, || backup.received_texts() == ["still here"]).await);
}

#[actix_web::test]
async fn every_endpoint_final_fails_the_connection_with_the_last_reason() {
    support::init_tracing();
    let first = TestServer::start().await;
    let second = TestServer::start().await;
    first.set_mode(Mode::Refuse {
        status: 401,
        retry_after: None,
    });
    second.set_mode(Mode::Refuse {
        status: 403,
        retry_after: None,
    });
    let (builder, events) = recorded(
        ConnectionActor::builder_for([first.url(), second.url()]).configure(support::quick),
    );
    let _connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    let failed = events.last_entry(ConnectionState::Failed);
    assert_eq!(
        failed.reason,
        Some(DisconnectReason::HandshakeRejected {
            status: 403,
            retry_after: None
        })
    );
    assert_eq!(failed.endpoint.index, 1);
    assert_eq!(
        endpoints_entering(&events, ConnectionState::Connecting),
        [0, 1]
    );
    assert_eq!(first.handshake_attempts(), 1);
    assert_eq!(second.handshake_attempts(), 1);
}

#[actix_web::test]
async fn retry_after_holds_back_only_its_endpoint() {
    support::init_tracing();
    let busy = TestServer::start().await;
    let spare = TestServer::start().await;
    // A minute's Retry-After at the first endpoint; the test's patience is ten seconds.
    busy.set_mode(Mode::Refuse {
        status: 429,
        retry_after: Some(60),
    });
    spare.set_mode(Mode::Refuse {
        status: 503,
        retry_after: None,
    });
    let (builder, events) = recorded(
        ConnectionActor::builder(busy.url())
            .endpoint(spare.url())
            .configure(support::quick),
    );
    let _connection = builder.start().expect("valid");
    // The spare refuses a few times, and is retried on its own backoff meanwhile.
    assert!(wait_until(PATIENCE, || spare.handshake_attempts() >= 3).await);
    spare.set_mode(Mode::Echo);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert_eq!(busy.handshake_attempts(), 1, "held back by its Retry-After");
    assert_eq!(
        events.last_entry(ConnectionState::Connected).endpoint.index,
        1
    );
}

#[actix_web::test]
async fn a_bad_endpoint_is_named_by_its_index() {
    let server = TestServer::start().await;
    let built = ConnectionActor::builder(server.url())
        .endpoint("http://127.0.0.1:1/ws")
        .build();
    match built {
        Err(BuildError::InvalidEndpoint { index: 1, source }) => {
            assert!(
                matches!(*source, BuildError::UnsupportedScheme(ref scheme) if scheme == "http")
            );
        }
        other => panic!("expected endpoint 1 to be refused: {other:?}"),
    }
    let none = ConnectionActor::builder_for(Vec::<String>::new()).build();
    assert!(matches!(none, Err(BuildError::NoEndpoint)), "{none:?}");
    // A single endpoint keeps the plain error.
    let single = ConnectionActor::builder("http://127.0.0.1:1/ws").build();
    assert!(
        matches!(single, Err(BuildError::UnsupportedScheme(_))),
        "{single:?}"
    );
}

#[actix_web::test]
async fn reopen_after_every_endpoint_failed_starts_over_at_the_first() {
    let first = TestServer::start().await;
    let second = TestServer::start().await;
    for server in [&first, &second] {
        server.set_mode(Mode::Refuse {
            status: 401,
            retry_after: None,
        });
    }
    let (builder, events) = recorded(
        ConnectionActor::builder_for([first.url(), second.url()]).configure(support::quick),
    );
    let connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);

    // The credentials were fixed: both endpoints are worth trying again.
    first.set_mode(Mode::Echo);
    second.set_mode(Mode::Echo);
    assert!(connection.reopen().await.expect("actor alive"));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert_eq!(
        events.last_entry(ConnectionState::Connected).endpoint.index,
        0
    );
    assert_eq!(
        endpoints_entering(&events, ConnectionState::Connecting),
        [0, 1, 0]
    );
}
