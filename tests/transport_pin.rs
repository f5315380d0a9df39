//! End-to-end: address pinning (`connect_to`) keeps the URL's host and port in the
//! `Host` header, directly and through a CONNECT proxy (`tinyproxy`, Debian package
//! `tinyproxy`).

mod support;

use support::{connect_with, setup, ProxyKind, ProxyServer};
use tether_actix::{ConnectionActor, ConnectionState};

/// The `Host` header of the server's only handshake.
fn host_header(server: &support::TestServer) -> Option<String> {
    let requests = server.request_headers();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests[0]
        .iter()
        .find(|(name, _)| name == "host")
        .map(|(_, value)| value.clone())
}

#[actix_web::test]
async fn a_pinned_address_keeps_the_urls_host_and_port() {
    let server = setup().await;
    // `.invalid` never resolves (RFC 2606): only the pin can reach the server.
    let url = format!("ws://tether.invalid:{}/ws", server.port());
    let (_connection, events) =
        connect_with(ConnectionActor::builder(url).connect_to(server.addr()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert_eq!(
        host_header(&server),
        Some(format!("tether.invalid:{}", server.port()))
    );
}

#[actix_web::test]
async fn the_host_header_has_the_urls_port_not_the_pinned_one() {
    let server = setup().await;
    let url = "ws://tether.invalid:8123/ws";
    let (_connection, events) =
        connect_with(ConnectionActor::builder(url).connect_to(server.addr()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert_eq!(host_header(&server).as_deref(), Some("tether.invalid:8123"));
}

#[actix_web::test]
async fn a_pinned_address_through_a_connect_proxy() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let url = "ws://tether.invalid:8123/ws";
    let (_connection, events) = connect_with(
        ConnectionActor::builder(url)
            .connect_to(server.addr())
            .proxy(proxy.url()),
    );
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    assert_eq!(host_header(&server).as_deref(), Some("tether.invalid:8123"));
    // The proxy was asked for the pinned address, never for the unresolvable name.
    let log = proxy.log();
    assert!(log.contains(&format!("CONNECT {}", server.addr())), "{log}");
    assert!(!log.contains("tether.invalid"), "{log}");
}

#[actix_web::test]
async fn without_a_pin_an_unresolvable_host_fails_to_connect() {
    // The control for the tests above: the name alone does not reach anything.
    let (_connection, events) =
        connect_with(ConnectionActor::builder("ws://tether.invalid:8123/ws"));
    assert!(events.wait_entered(ConnectionState::Disconnected, 1).await);
    let reason = events.first_entry(ConnectionState::Disconnected).reason;
    assert!(
        matches!(
            reason,
            Some(
                tether_actix::DisconnectReason::ConnectFailed { .. }
                    | tether_actix::DisconnectReason::ConnectTimeout { .. }
            )
        ),
        "{reason:?}"
    );
}
