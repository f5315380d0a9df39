//! End-to-end through a real HTTP CONNECT proxy (`tinyproxy`, Debian package
//! `tinyproxy`), started by each test on 127.0.0.1: echo, Basic credentials, refused
//! credentials are final, the proxy killed and restarted mid-stream, a silent server
//! behind the tunnel, an unreachable proxy, a proxy that cannot reach the server.

mod support;

use std::time::Duration;

use support::{
    connect_with, setup, wait_until, Events, Mode, ProxyKind, ProxyServer, Received, PATIENCE,
};
use tether_actix::message::{Delivery, Outgoing};
use tether_actix::{ConnectionActor, ConnectionState, DisconnectReason};

/// The reasons of every Disconnected transition so far.
fn disconnect_reasons(events: &Events) -> Vec<DisconnectReason> {
    events
        .states()
        .into_iter()
        .filter(|change| change.to == ConnectionState::Disconnected)
        .filter_map(|change| change.reason)
        .collect()
}

/// Asserts the connection failed for good on its first attempt, for `expected`.
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
    // No retry follows: the 20 ms backoff would have fired many times by now.
    assert!(!wait_until(Duration::from_millis(300), || events.states().len() > 3).await);
}

#[actix_web::test]
async fn echo_through_tinyproxy() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text("through the tunnel"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), ["through the tunnel"]);
    let log = proxy.log();
    assert!(
        log.contains(&format!("CONNECT 127.0.0.1:{}", server.port())),
        "the proxy carried the connection:\n{log}"
    );
}

#[actix_web::test]
async fn basic_credentials_open_the_tunnel() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, Some(("tether", "pa55word"))).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text("authenticated"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert_eq!(events.incoming_texts(), ["authenticated"]);
}

#[actix_web::test]
async fn wrong_proxy_credentials_are_final() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, Some(("tether", "pa55word"))).await;
    let (_connection, events) = connect_with(
        ConnectionActor::builder(server.url()).proxy(proxy.url_with("tether", "wrong")),
    );
    // tinyproxy answers wrong credentials with 401 and none with 407: both mean the
    // proxy refuses this client.
    assert_final(&events, |reason| {
        matches!(reason, DisconnectReason::ProxyAuthRequired)
    })
    .await;
    assert_eq!(server.handshake_attempts(), 0);
}

#[actix_web::test]
async fn missing_proxy_credentials_are_final() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, Some(("tether", "pa55word"))).await;
    let without = format!("http://127.0.0.1:{}", proxy.port());
    let (_connection, events) = connect_with(ConnectionActor::builder(server.url()).proxy(without));
    assert_final(&events, |reason| {
        matches!(reason, DisconnectReason::ProxyAuthRequired)
    })
    .await;
}

#[actix_web::test]
async fn proxy_killed_and_restarted_mid_stream_delivers_the_buffer_in_order() {
    let server = setup().await;
    let mut proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text("before"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(wait_until(PATIENCE, || server.received_count() == 1).await);
    assert!(events.wait_incoming(1).await);

    proxy.kill();
    // The tunnel is cut; then attempts fail at the proxy itself.
    assert!(events.wait_entered(ConnectionState::Disconnected, 2).await);
    assert!(
        wait_until(PATIENCE, || disconnect_reasons(&events).iter().any(
            |reason| matches!(reason, DisconnectReason::ProxyUnreachable { .. })
        ))
        .await,
        "{:?}",
        disconnect_reasons(&events)
    );
    for text in ["one", "two", "three"] {
        let delivery = connection
            .send(Outgoing::text(text))
            .await
            .expect("actor alive")
            .expect("buffered");
        assert_eq!(delivery, Delivery::Buffered);
    }

    proxy.resume().await;
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
    assert!(wait_until(PATIENCE, || server.received_count() == 4).await);
    assert_eq!(
        server.received(),
        ["before", "one", "two", "three"].map(|text| Received::Text(text.into()))
    );
    assert!(events.wait_incoming(4).await);
    assert_eq!(events.incoming_texts(), ["before", "one", "two", "three"]);
    assert_eq!(server.handshakes(), 2);
}

#[actix_web::test]
async fn a_silent_server_behind_the_proxy_is_found_by_the_heartbeat() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let (_connection, events) = connect_with(
        ConnectionActor::builder(server.url())
            .proxy(proxy.url())
            .configure(|config| {
                config
                    .heartbeat_interval(Duration::from_millis(100))
                    .heartbeat_timeout(Duration::from_millis(300))
            }),
    );
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    // The proxy keeps both TCP legs open; only the missing answers tell.
    server.set_mode(Mode::Silent);
    assert!(events.wait_entered(ConnectionState::Disconnected, 1).await);
    let reason = events.first_entry(ConnectionState::Disconnected).reason;
    assert!(
        matches!(reason, Some(DisconnectReason::HeartbeatTimeout { .. })),
        "{reason:?}"
    );
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
}

#[actix_web::test]
async fn an_unreachable_proxy_is_retried() {
    let server = setup().await;
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port");
    let (_connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(format!("http://{closed}")));
    assert!(events.wait_entered(ConnectionState::Reconnecting, 2).await);
    let reasons = disconnect_reasons(&events);
    assert!(
        reasons.iter().all(
            |reason| matches!(reason, DisconnectReason::ProxyUnreachable { message }
                if message.contains(&closed.to_string()))
        ),
        "{reasons:?}"
    );
    assert_eq!(server.handshake_attempts(), 0);
}

#[actix_web::test]
async fn a_proxy_that_cannot_reach_the_server_is_retried_until_it_can() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    server.stop().await;
    let (_connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy(proxy.url()));
    assert!(events.wait_entered(ConnectionState::Reconnecting, 2).await);
    let reasons = disconnect_reasons(&events);
    // tinyproxy answers "500 Unable to connect"; other proxies 502 or 503: all 5xx.
    assert!(
        reasons.iter().all(|reason| matches!(
            reason,
            DisconnectReason::ProxyRejected { status } if (500..600).contains(status)
        )),
        "{reasons:?}"
    );
    server.restart().await;
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
}
