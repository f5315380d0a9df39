//! End-to-end through real SOCKS5 proxies, started by each test on 127.0.0.1:
//! `microsocks` (Debian package `microsocks`, with and without a username/password) and
//! `danted` (package `dante-server`). Echo through each, DNS at the proxy (`socks5h`),
//! refused credentials are final, a proxy that cannot reach the server is retried, the
//! proxy killed and restarted mid-stream.

mod support;

use std::time::Duration;

use actix::Addr;
use support::{
    connect_with, setup, wait_until, Events, ProxyKind, ProxyServer, Received, PATIENCE,
};
use tether_actix::message::Outgoing;
use tether_actix::{ConnectionActor, ConnectionState, DisconnectReason};

async fn assert_echoes(connection: &Addr<ConnectionActor>, events: &Events, text: &str) {
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text(text))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), [text]);
}

async fn assert_final(events: &Events, expected: impl Fn(&DisconnectReason) -> bool) {
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    assert_eq!(
        events.entered(),
        [
            ConnectionState::Connecting,
            ConnectionState::Disconnected,
            ConnectionState::Failed
        ]
    );
    let failed = events.last_entry(ConnectionState::Failed);
    assert!(
        failed.reason.as_ref().is_some_and(&expected),
        "{:?}",
        failed.reason
    );
    assert!(!wait_until(Duration::from_millis(300), || events.states().len() > 3).await);
}

#[actix_web::test]
async fn echo_through_microsocks() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Microsocks, None).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert_echoes(&connection, &events, "socks5").await;
}

#[actix_web::test]
async fn echo_through_microsocks_with_credentials_and_dns_at_the_proxy() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Microsocks, Some(("tether", "pa55word"))).await;
    // `localhost` goes to the proxy as a name (address type 3) for it to resolve.
    let url = format!("ws://localhost:{}/ws", server.port());
    let (connection, events) =
        connect_with(ConnectionActor::builder(url).proxy(proxy.url_scheme("socks5h")));
    assert_echoes(&connection, &events, "socks5h").await;
}

#[actix_web::test]
async fn echo_through_dante() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Dante, None).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert_echoes(&connection, &events, "dante").await;
    let log = proxy.log();
    assert!(
        log.contains(&format!("127.0.0.1.{}", server.port())),
        "dante logged the connection to the server:\n{log}"
    );
}

#[actix_web::test]
async fn wrong_socks_credentials_are_final() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Microsocks, Some(("tether", "pa55word"))).await;
    let (_connection, events) = connect_with(
        ConnectionActor::builder(server.url()).proxy(proxy.url_with("tether", "wrong")),
    );
    assert_final(&events, |reason| {
        matches!(reason, DisconnectReason::SocksAuthRefused { .. })
    })
    .await;
    assert_eq!(server.handshake_attempts(), 0);
}

#[actix_web::test]
async fn no_credentials_for_a_proxy_that_wants_them_is_final() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Microsocks, Some(("tether", "pa55word"))).await;
    let without = format!("socks5://127.0.0.1:{}", proxy.port());
    let (_connection, events) = connect_with(ConnectionActor::builder(server.url()).proxy(without));
    assert_final(&events, |reason| {
        matches!(reason, DisconnectReason::SocksAuthRefused { .. })
    })
    .await;
}

#[actix_web::test]
async fn a_socks_proxy_that_cannot_reach_the_server_is_retried_until_it_can() {
    for kind in [ProxyKind::Microsocks, ProxyKind::Dante] {
        let server = setup().await;
        let proxy = ProxyServer::start(kind, None).await;
        server.stop().await;
        let (_connection, events) =
            connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
        assert!(events.wait_entered(ConnectionState::Reconnecting, 2).await);
        let reasons: Vec<_> = events
            .states()
            .into_iter()
            .filter(|change| change.to == ConnectionState::Disconnected)
            .filter_map(|change| change.reason)
            .collect();
        // The proxy's reply names why: refused (5), host or network unreachable (4, 3),
        // or a general failure (1). All are worth another try.
        assert!(
            reasons.iter().all(|reason| matches!(
                reason,
                DisconnectReason::SocksRefused {
                    code: 1 | 3 | 4 | 5,
                    ..
                }
            )),
            "{kind:?}: {reasons:?}"
        );
        server.restart().await;
        assert!(
            events.wait_entered(ConnectionState::Connected, 1).await,
            "{kind:?}"
        );
    }
}

#[actix_web::test]
async fn socks_proxy_killed_and_restarted_mid_stream_delivers_the_buffer_in_order() {
    let server = setup().await;
    let mut proxy = ProxyServer::start(ProxyKind::Dante, None).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    proxy.kill();
    assert!(events.wait_entered(ConnectionState::Disconnected, 2).await);
    for text in ["one", "two"] {
        connection
            .send(Outgoing::text(text))
            .await
            .expect("actor alive")
            .expect("buffered");
    }
    proxy.resume().await;
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
    assert!(wait_until(PATIENCE, || server.received_count() == 2).await);
    assert_eq!(
        server.received(),
        ["one", "two"].map(|text| Received::Text(text.into()))
    );
}
