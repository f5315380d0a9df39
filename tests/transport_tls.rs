//! End-to-end: how the TLS side of the transport is built. `wss://` through a CONNECT
//! proxy (`tinyproxy`, Debian package `tinyproxy`) with a local CA and the server's name
//! for SNI; a caller's configuration offering `h2` still connects; fresh configurations
//! per connection are all freed.

mod support;

use std::sync::{Arc, Weak};

use support::{connect_with, wait_until, ProxyKind, ProxyServer, TlsEchoServer, PATIENCE};
use tether_actix::message::Outgoing;
use tether_actix::{ConnectionActor, ConnectionState, DisconnectReason};

#[actix_web::test]
async fn wss_through_a_connect_proxy_checks_the_servers_certificate() {
    let server = TlsEchoServer::start(&["tether.test"]);
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    // The certificate names tether.test only: TLS must run with the server, for the
    // URL's name, through the tunnel (the proxy is 127.0.0.1 and has no certificate).
    let url = format!("wss://tether.test:{}/ws", server.port());
    let pinned = std::net::SocketAddr::from(([127, 0, 0, 1], server.port()));
    let (connection, events) = connect_with(
        ConnectionActor::builder(url)
            .connect_to(pinned)
            .proxy(proxy.url())
            .tls_config(server.client_config(&[])),
    );
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text("tls in the tunnel"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), ["tls in the tunnel"]);
    assert!(proxy.log().contains(&format!("CONNECT {pinned}")));
}

#[actix_web::test]
async fn a_certificate_for_another_name_is_final_through_the_proxy_too() {
    let server = TlsEchoServer::start(&["other.test"]);
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let (_connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{}/ws", server.port()))
            .proxy(proxy.url())
            .tls_config(server.client_config(&[])),
    );
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    let reason = events.last_entry(ConnectionState::Failed).reason;
    assert!(
        matches!(reason, Some(DisconnectReason::TlsCertificate { .. })),
        "{reason:?}"
    );
}

#[actix_web::test]
async fn a_tls_config_offering_h2_still_connects_with_http_1_1() {
    // actix-web's TLS server offers h2 first: given h2 by the client, it picks it, and
    // a WebSocket upgrade cannot run over HTTP/2.
    let server = TlsEchoServer::start(&["127.0.0.1"]);
    let config = server.client_config(&[b"h2", b"http/1.1"]);
    let (connection, events) = connect_with(
        ConnectionActor::builder(format!("wss://127.0.0.1:{}/ws", server.port()))
            .tls_config(config.clone()),
    );
    assert!(
        events.wait_entered(ConnectionState::Connected, 1).await,
        "{:?}",
        events.states()
    );
    connection
        .send(Outgoing::text("http/1.1"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(
        config.alpn_protocols,
        [b"h2".to_vec(), b"http/1.1".to_vec()],
        "the caller's configuration is left as it was"
    );
}

#[actix_web::test]
async fn ten_thousand_fresh_tls_configs_are_all_freed() {
    let server = TlsEchoServer::start(&["127.0.0.1"]);
    let url = format!("wss://127.0.0.1:{}/ws", server.port());
    let template = server.client_config(&[]);
    let mut configs: Vec<Weak<rustls::ClientConfig>> = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let fresh = Arc::new(rustls::ClientConfig::clone(&template));
        configs.push(Arc::downgrade(&fresh));
        let actor = ConnectionActor::builder(url.as_str())
            .tls_config(fresh)
            .build()
            .expect("valid");
        drop(actor);
    }
    let alive = configs
        .iter()
        .filter(|config| config.strong_count() > 0)
        .count();
    assert_eq!(alive, 0, "configurations kept alive by dropped connections");

    // Live connections share nothing they should not: one with a fresh configuration
    // works, and its configuration is freed once the actor is gone.
    let fresh = Arc::new(rustls::ClientConfig::clone(&template));
    let weak = Arc::downgrade(&fresh);
    let (connection, events) =
        connect_with(ConnectionActor::builder(url.as_str()).tls_config(fresh));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert!(weak.strong_count() > 0);
    connection
        .send(tether_actix::message::Close)
        .await
        .expect("actor alive");
    drop(connection);
    assert!(
        wait_until(PATIENCE, || weak.strong_count() == 0).await,
        "the last connection's configuration was freed"
    );
}
