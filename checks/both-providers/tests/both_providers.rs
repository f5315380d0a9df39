//! tether-actix in a program that links both rustls crypto providers and installs no
//! process-wide one: building and starting `wss://` connections must not panic, and the
//! TLS handshake must begin.

use std::time::Duration;

use tether_actix::rustls;
use tether_actix::ConnectionActor;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// Waits for tether's first bytes on a `wss://` port: a TLS handshake record.
async fn first_bytes(listener: &TcpListener) -> [u8; 3] {
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("tether connects within 10 s")
        .expect("accept");
    let mut head = [0u8; 3];
    tokio::time::timeout(Duration::from_secs(10), socket.read_exact(&mut head))
        .await
        .expect("tether writes within 10 s")
        .expect("read");
    head
}

#[actix::test]
async fn connections_build_and_start_tls_without_a_process_wide_provider() {
    // The premise: this build is the one that panics in rustls' own builder.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let builder_panics = std::panic::catch_unwind(rustls::ClientConfig::builder).is_err();
    assert!(
        builder_panics,
        "rustls' builder should panic with both providers linked and none installed"
    );

    // The default configuration (webpki roots).
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connection = ConnectionActor::builder(format!("wss://127.0.0.1:{port}/ws"))
        .start()
        .expect("builds without panicking");
    // 0x16: handshake record; 0x03: TLS major version. The ClientHello is on its way.
    let head = first_bytes(&listener).await;
    assert_eq!(&head[..2], &[0x16, 0x03], "{head:?}");
    drop(connection);

    // The caller's configuration, built with the other provider, explicitly.
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _connection = ConnectionActor::builder(format!("wss://127.0.0.1:{port}/ws"))
        .tls_config(std::sync::Arc::new(config))
        .start()
        .expect("builds without panicking");
    let head = first_bytes(&listener).await;
    assert_eq!(&head[..2], &[0x16, 0x03], "{head:?}");

    // Still nothing installed behind the application's back.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
}
