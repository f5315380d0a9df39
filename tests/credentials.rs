//! End-to-end: credentials travel in headers, are refreshed per attempt, and never
//! reach the logs.

mod support;

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use support::{recorded, TestServer, PATIENCE};
use tether_actix::{ConnectionActor, ConnectionState};
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const STATIC_TOKEN: &str = "static-SECRET-7f3a";
const ROTATING_PREFIX: &str = "rotating-SECRET-";

/// One test, so the process-wide subscriber captures exactly this connection's logs.
#[actix_web::test]
async fn tokens_go_in_headers_are_fresh_per_attempt_and_never_logged() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .init();

    let server = TestServer::start().await;
    let issued = Rc::new(Cell::new(0_u32));
    let counter = Rc::clone(&issued);
    let url = format!("{}?token=query-SECRET", server.url());
    let (builder, events) = recorded(
        ConnectionActor::builder(url)
            .configure(support::quick)
            .header("x-api-key", STATIC_TOKEN)
            .on_request(move |request| {
                counter.set(counter.get() + 1);
                request.bearer_auth(format!("{ROTATING_PREFIX}{}", counter.get()))
            }),
    );
    let connection = builder.start().expect("valid");
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // A full reconnect cycle: the link drops, the next attempt gets a new token.
    server.close_all(None);
    assert!(events.wait_entered(ConnectionState::Connected, 2).await);
    connection
        .send(tether_actix::message::Outgoing::text("hello"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(support::wait_until(PATIENCE, || server.received_count() == 1).await);

    let headers = server.request_headers();
    assert_eq!(headers.len(), 2);
    for (n, request) in headers.iter().enumerate() {
        let get = |name: &str| {
            request
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        assert_eq!(get("x-api-key").as_deref(), Some(STATIC_TOKEN));
        assert_eq!(
            get("authorization"),
            Some(format!("Bearer {ROTATING_PREFIX}{}", n + 1))
        );
    }
    assert_eq!(issued.get(), 2);

    // Proxy credentials: in neither Debug output, the published reasons nor the logs.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port");
    for proxy in [
        format!("http://proxy-user:proxy-SECRET@{closed}"),
        format!("socks5h://proxy-user:proxy-SECRET@{closed}"),
    ] {
        let builder = ConnectionActor::builder(server.url())
            .configure(support::quick)
            .proxy(&proxy);
        let shown = format!("{builder:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        let built = ConnectionActor::builder(server.url())
            .proxy(&proxy)
            .build()
            .expect("valid");
        let shown = format!("{built:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        let (builder, proxied) = recorded(builder);
        let _connection = builder.start().expect("valid");
        assert!(proxied.wait_entered(ConnectionState::Reconnecting, 2).await);
        for change in proxied.states() {
            let shown = format!("{change:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
            if let Some(reason) = &change.reason {
                let shown = reason.to_string();
                assert!(!shown.contains("SECRET"), "{shown}");
                assert!(shown.contains(&closed.to_string()), "{shown}");
            }
        }
    }

    let text = logs.text();
    assert!(text.contains("state changed"), "the capture works: {text}");
    assert!(
        text.contains("127.0.0.1"),
        "the URL is logged without secrets"
    );
    assert!(
        !text.contains("SECRET"),
        "a credential leaked into the logs:\n{text}"
    );
}
