//! End-to-end: an async credentials provider is asked before every attempt; its
//! failures, its timeout and its final errors are failed attempts judged like any other.

use std::cell::RefCell;
use std::future;
use std::rc::Rc;
use std::time::Duration;

use crate::support;
use crate::support::{recorded, wait_until, TestServer, PATIENCE};
use tether_actix::message::{Delivery, Outgoing};
use tether_actix::{
    Attempt, ConnectionActor, ConnectionState, Credentials, CredentialsError, DisconnectReason,
};

/// What the provider was asked: (attempt counter, endpoint index).
type Asked = Rc<RefCell<Vec<(u32, usize)>>>;

#[actix_web::test]
async fn a_provider_failing_twice_then_answering_connects_with_its_token() {
    let server = support::setup().await;
    server.require_bearer(Some("fresh-3".into()));
    let asked: Asked = Rc::default();
    let log = Rc::clone(&asked);
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .credentials(move |attempt: &Attempt| {
                log.borrow_mut()
                    .push((attempt.attempt, attempt.endpoint.index));
                let call = log.borrow().len();
                async move {
                    // An identity service that answers after a while, and fails twice.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if call <= 2 {
                        Err(CredentialsError::new(format!(
                            "identity service down ({call})"
                        )))
                    } else {
                        Ok(Credentials::new()
                            .bearer_auth(format!("fresh-{call}"))
                            .query("tenant", "blue sky"))
                    }
                }
            }),
    );
    let connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    assert_eq!(*asked.borrow(), [(0, 0), (1, 0), (2, 0)]);
    // The failed attempts never reached the server; the third carried its token.
    assert_eq!(server.handshake_attempts(), 1);
    assert_eq!(server.handshakes(), 1);
    assert_eq!(server.request_queries(), ["tenant=blue+sky"]);
    let failures: Vec<_> = events
        .states()
        .into_iter()
        .filter(|change| change.to == ConnectionState::Disconnected)
        .map(|change| change.reason.expect("a failure has a reason"))
        .collect();
    assert_eq!(
        failures,
        [
            DisconnectReason::CredentialsFailed {
                message: "identity service down (1)".into(),
                is_final: false
            },
            DisconnectReason::CredentialsFailed {
                message: "identity service down (2)".into(),
                is_final: false
            },
        ]
    );
    connection
        .send(Outgoing::text("authenticated"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(wait_until(PATIENCE, || server.received_texts() == ["authenticated"]).await);
}

#[actix_web::test]
async fn sends_are_buffered_while_the_provider_runs() {
    let server = support::setup().await;
    server.require_bearer(Some("slow".into()));
    let release = Rc::new(tokio::sync::Notify::new());
    let gate = Rc::clone(&release);
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .credentials(move |_: &Attempt| {
                let gate = Rc::clone(&gate);
                async move {
                    gate.notified().await;
                    Ok(Credentials::new().bearer_auth("slow"))
                }
            }),
    );
    let connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(ConnectionState::Connecting, 1).await);
    // The mailbox is not blocked by the provider: the message is answered Buffered.
    let delivery = connection
        .send(Outgoing::text("early"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert_eq!(delivery, Delivery::Buffered);
    assert_eq!(server.handshake_attempts(), 0);
    release.notify_one();
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert!(wait_until(PATIENCE, || server.received_texts() == ["early"]).await);
}

#[actix_web::test]
async fn a_provider_that_never_answers_times_out_and_is_retried() {
    let server = support::setup().await;
    let calls = Rc::new(RefCell::new(0_u32));
    let counter = Rc::clone(&calls);
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(|config| {
                support::quick(config).credentials_timeout(Duration::from_millis(100))
            })
            .credentials(move |_: &Attempt| {
                *counter.borrow_mut() += 1;
                let first = *counter.borrow() == 1;
                async move {
                    if first {
                        future::pending::<()>().await;
                    }
                    Ok(Credentials::new().header("x-token", "second"))
                }
            }),
    );
    let _connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    let timed_out = events.first_entry(ConnectionState::Disconnected);
    assert_eq!(
        timed_out.reason,
        Some(DisconnectReason::CredentialsTimedOut {
            after: Duration::from_millis(100)
        })
    );
    assert_eq!(*calls.borrow(), 2);
    assert_eq!(server.handshake_attempts(), 1);
    let headers = server.request_headers();
    assert!(headers[0]
        .iter()
        .any(|(name, value)| name == "x-token" && value == "second"));
}

#[actix_web::test]
async fn a_final_provider_error_fails_the_connection_whatever_the_policy() {
    /// Retries everything: the provider's final word must still win.
    #[derive(Debug)]
    struct AlwaysRetry;
    impl tether_actix::RetryPolicy for AlwaysRetry {
        fn decide(&self, _: &DisconnectReason) -> tether_actix::RetryDecision {
            tether_actix::RetryDecision::Retry
        }
    }

    let server = support::setup().await;
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .retry_policy(AlwaysRetry)
            .credentials(|_: &Attempt| async {
                Err::<Credentials, _>(CredentialsError::final_("account locked"))
            }),
    );
    let connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    let failed = events.last_entry(ConnectionState::Failed);
    assert_eq!(
        failed.reason,
        Some(DisconnectReason::CredentialsFailed {
            message: "account locked".into(),
            is_final: true
        })
    );
    assert_eq!(events.times_entered(ConnectionState::Connecting), 1);
    assert_eq!(server.handshake_attempts(), 0);
    let delivery = connection
        .send(Outgoing::text("too late"))
        .await
        .expect("actor alive");
    assert!(delivery.is_err(), "a failed connection hands messages back");
}

#[actix_web::test]
async fn an_invalid_credentials_header_is_an_invalid_request_without_its_value() {
    let server = TestServer::start().await;
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .credentials(|_: &Attempt| async {
                Ok(Credentials::new().header("x-token", "line\nbreak-SECRET"))
            }),
    );
    let _connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    let reason = events
        .last_entry(ConnectionState::Failed)
        .reason
        .expect("reason");
    assert!(
        matches!(reason, DisconnectReason::InvalidRequest { .. }),
        "{reason:?}"
    );
    assert!(!format!("{reason:?}").contains("SECRET"));
    assert_eq!(server.handshake_attempts(), 0);
}
