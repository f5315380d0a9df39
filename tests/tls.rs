//! End-to-end: `wss://` against a local actix-web TLS server with a certificate made at
//! test time; certificate problems are final, not a retry loop.

mod support;

use std::sync::{Arc, Once};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use rcgen::{CertifiedKey, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::{connect_with, wait_until};
use tether_actix::{message, ConnectionActor, ConnectionState, DisconnectReason};

/// Echoes text; enough to prove the TLS link carries WebSocket traffic.
struct Echo;

impl actix::Actor for Echo {
    type Context = ws::WebsocketContext<Self>;
}

impl actix::StreamHandler<Result<ws::Message, ws::ProtocolError>> for Echo {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match frame {
            Ok(ws::Message::Text(text)) => ctx.text(text),
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            _ => {}
        }
    }
}

async fn upgrade(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    ws::start(Echo, &request, body)
}

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A self-signed certificate for `names` (IP addresses or DNS names).
fn certificate(names: &[&str]) -> CertifiedKey {
    let names = names
        .iter()
        .map(|name| (*name).to_owned())
        .collect::<Vec<_>>();
    rcgen::generate_simple_self_signed(names).expect("certificate generation")
}

/// Starts a TLS WebSocket server on 127.0.0.1 presenting `cert`; returns its port.
fn serve(cert: &CertificateDer<'static>, key: &KeyPair) -> u16 {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server certificate");
    let server = HttpServer::new(|| App::new().route("/ws", web::get().to(upgrade)))
        .workers(1)
        .disable_signals()
        .bind_rustls_0_23(("127.0.0.1", 0), config)
        .expect("bind on loopback");
    let port = server.addrs()[0].port();
    actix::spawn(server.run());
    port
}

/// A client configuration trusting exactly `roots`.
fn trusting(roots: &[&CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add((*root).clone()).expect("valid root");
    }
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(store)
            .with_no_client_auth(),
    )
}

#[actix_web::test]
async fn wss_with_a_private_root_store_carries_messages() {
    install_crypto();
    let server_cert = certificate(&["127.0.0.1"]);
    let port = serve(server_cert.cert.der(), &server_cert.key_pair);
    let (connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{port}/ws"))
            .tls_config(trusting(&[server_cert.cert.der()])),
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
    install_crypto();
    let other_host = certificate(&["other.test"]);
    let port = serve(other_host.cert.der(), &other_host.key_pair);
    let (_connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{port}/ws"))
            .tls_config(trusting(&[other_host.cert.der()])),
    );
    assert_final_certificate_failure(&events).await;
}

#[actix_web::test]
async fn an_untrusted_certificate_is_final() {
    install_crypto();
    let served = certificate(&["127.0.0.1"]);
    let unrelated = certificate(&["127.0.0.1"]);
    let port = serve(served.cert.der(), &served.key_pair);
    let (_connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{port}/ws"))
            .tls_config(trusting(&[unrelated.cert.der()])),
    );
    assert_final_certificate_failure(&events).await;
}

async fn assert_final_certificate_failure(events: &support::Events) {
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    assert_eq!(
        events.entered(),
        [
            ConnectionState::Connecting,
            ConnectionState::Disconnected,
            ConnectionState::Failed
        ]
    );
    let failed = events.states().pop().expect("recorded");
    assert!(
        matches!(failed.reason, Some(DisconnectReason::TlsCertificate { .. })),
        "{:?}",
        failed.reason
    );
    // No retry follows: the 20 ms backoff would have fired many times by now.
    assert!(
        !wait_until(std::time::Duration::from_millis(200), || events
            .states()
            .len()
            > 3)
        .await
    );
}
