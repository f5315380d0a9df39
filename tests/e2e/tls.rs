//! End-to-end: `wss://` against a local actix-web TLS server with a certificate made at
//! test time; certificate problems are final, not a retry loop.

use crate::support::{assert_failed_at_once, connect_with, trusting_a_stranger, TlsEchoServer};
use tether_actix::{message, ConnectionActor, ConnectionState, DisconnectReason};

fn is_certificate_failure(reason: &DisconnectReason) -> bool {
    matches!(reason, DisconnectReason::TlsCertificate { .. })
}

#[actix_web::test]
async fn wss_with_a_private_root_store_carries_messages() {
    let server = TlsEchoServer::start(&["127.0.0.1"]);
    let (connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{}/ws", server.port()))
            .tls_config(server.client_config(&[])),
    );
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(message::Outgoing::text("over tls"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), ["over tls"]);
}

#[actix_web::test]
async fn a_certificate_for_another_host_is_final() {
    let server = TlsEchoServer::start(&["other.test"]);
    let (_connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{}/ws", server.port()))
            .tls_config(server.client_config(&[])),
    );
    assert_failed_at_once(&events, is_certificate_failure).await;
}

#[actix_web::test]
async fn an_untrusted_certificate_is_final() {
    let server = TlsEchoServer::start(&["127.0.0.1"]);
    let (_connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{}/ws", server.port()))
            .tls_config(trusting_a_stranger()),
    );
    assert_failed_at_once(&events, is_certificate_failure).await;
}
