//! End-to-end: the proxy environment variables, read by `proxy_from_env`, with a real
//! `tinyproxy` (Debian package `tinyproxy`). One test: the variables are process-wide.

mod support;

use support::{connect_with, setup, ProxyKind, ProxyServer};
use tether_actix::message::Outgoing;
use tether_actix::{ConnectionActor, ConnectionState, DisconnectReason};

const VARIABLES: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn set_env(pairs: &[(&str, &str)]) {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in pairs {
        std::env::set_var(name, value);
    }
}

#[actix_web::test]
async fn the_environment_chooses_the_proxy_and_no_proxy_bypasses_it() {
    let server = setup().await;
    let proxy = ProxyServer::start(ProxyKind::Tinyproxy, None).await;
    let connect_line = format!("CONNECT 127.0.0.1:{}", server.port());

    // HTTP_PROXY serves ws://.
    set_env(&[("HTTP_PROXY", &proxy.url())]);
    let (connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy_from_env());
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    connection
        .send(Outgoing::text("via env"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_incoming(1).await);
    assert!(proxy.log().contains(&connect_line), "{}", proxy.log());
    let through_proxy = proxy.log().matches(&connect_line).count();

    // NO_PROXY lists the server: direct, although the proxy variable points nowhere.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port");
    for no_proxy in ["127.0.0.1", "127.0.0.0/8", "localhost,127.0.0.1", "*"] {
        set_env(&[
            ("http_proxy", &format!("http://{closed}")),
            ("NO_PROXY", no_proxy),
        ]);
        let (_connection, events) =
            connect_with(ConnectionActor::builder(server.url()).proxy_from_env());
        assert!(
            events.wait_entered(ConnectionState::Connected, 1).await,
            "NO_PROXY={no_proxy}: {:?}",
            events.states()
        );
    }
    assert_eq!(proxy.log().matches(&connect_line).count(), through_proxy);

    // A NO_PROXY that does not match: the (dead) proxy is used, and fails.
    set_env(&[
        ("ALL_PROXY", &format!("http://{closed}")),
        ("NO_PROXY", "example.org,10.0.0.0/8"),
    ]);
    let (_connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy_from_env());
    assert!(events.wait_entered(ConnectionState::Disconnected, 1).await);
    let reason = events.first_entry(ConnectionState::Disconnected).reason;
    assert!(
        matches!(reason, Some(DisconnectReason::ProxyUnreachable { .. })),
        "{reason:?}"
    );

    // Without proxy_from_env the environment is not read.
    let (_connection, events) = connect_with(ConnectionActor::builder(server.url()));
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // HTTPS_PROXY is for wss:// only: a ws:// URL ignores it.
    set_env(&[("HTTPS_PROXY", &format!("http://{closed}"))]);
    let (_connection, events) =
        connect_with(ConnectionActor::builder(server.url()).proxy_from_env());
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // A variable that is not a proxy URL is a build error, not a silent direct link.
    set_env(&[("HTTP_PROXY", "ftp://user:SECRET@proxy.test")]);
    let error = ConnectionActor::builder(server.url())
        .proxy_from_env()
        .build()
        .expect_err("ftp is not a proxy scheme");
    assert!(
        !error.to_string().contains("SECRET"),
        "the error shows no credentials: {error}"
    );
    set_env(&[]);
}
