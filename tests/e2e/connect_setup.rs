//! End-to-end: the setup of `on_connect`, written before the buffer flushes on every
//! link, optionally confirmed; a setup the server refuses fails the attempt and leaves
//! the buffer intact.

use std::time::Duration;

use crate::support;
use crate::support::{
    connect_handle, setup, wait_status, wait_until, ClientFrame, Events, Mode, RawServer, Step,
    OP_CLOSE, OP_PING, OP_TEXT, PATIENCE,
};
use tether_actix::message::Delivery;
use tether_actix::{
    Connection, ConnectionActor, ConnectionState, DisconnectReason, LinkInfo, Payload,
};

use ConnectionState::{Connected, Connecting};

/// The setup of link `n`: who we are, then what we want.
fn setup_messages(link: &LinkInfo) -> Vec<Payload> {
    vec![
        Payload::from(format!("auth-{}", link.link)),
        Payload::from("subscribe"),
    ]
}

/// The causes of every failed setup (each `Disconnected` with `SetupFailed`).
fn setup_failures(events: &Events) -> Vec<DisconnectReason> {
    events
        .states()
        .into_iter()
        .filter(|change| change.to == ConnectionState::Disconnected)
        .filter_map(|change| match change.reason {
            Some(DisconnectReason::SetupFailed { cause }) => Some(*cause),
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn the_setup_comes_first_on_every_link_across_five_restarts() {
    for confirm in [false, true] {
        let server = setup().await;
        let (connection, events) = connect_handle(
            ConnectionActor::builder(server.url())
                .on_connect(setup_messages)
                .confirm_setup(confirm),
        );
        assert!(events.wait_entered(Connected, 1).await);
        // Read by the server before the first stop (unconfirmed, they may be in flight).
        assert!(wait_until(PATIENCE, || server.texts_by_session().len() >= 2).await);
        for round in 1..=5 {
            server.stop().await;
            let (status, down) = wait_status(connection.addr(), |s| s.state != Connected).await;
            assert!(down, "still connected after the stop: {status:?}");
            for i in 0..3 {
                let delivery = connection.send(format!("r{round}-m{i}")).await;
                assert_eq!(delivery.expect("accepted"), Delivery::Buffered);
            }
            server.restart().await;
            assert!(events.wait_entered(Connected, round + 1).await);
            // Read by the server before the next stop (else at-most-once hands them back).
            let by_now = (round + 1) * 2 + round * 3;
            assert!(
                wait_until(PATIENCE, || server.texts_by_session().len() >= by_now).await,
                "round {round} (confirm: {confirm}): server saw {:?}; states {:?}; status {:?}",
                server.texts_by_session(),
                events
                    .states()
                    .iter()
                    .map(|change| (change.to, change.reason.clone()))
                    .collect::<Vec<_>>(),
                connection.status().await
            );
        }
        // Six links: each wrote its two setup messages, links 2..=6 then the three
        // messages buffered while the server was down.
        let expected = 6 * 2 + 5 * 3;
        assert!(
            wait_until(PATIENCE, || server.texts_by_session().len() >= expected).await,
            "server saw {:?}",
            server.texts_by_session()
        );
        let seen = server.texts_by_session();
        assert_eq!(seen.len(), expected, "nothing twice: {seen:?}");
        for link in 1..=6u64 {
            let texts: Vec<&str> = seen
                .iter()
                .filter(|(session, _)| *session == link)
                .map(|(_, text)| text.as_str())
                .collect();
            let mut wanted = vec![format!("auth-{link}"), "subscribe".to_owned()];
            if link > 1 {
                wanted.extend((0..3).map(|i| format!("r{}-m{i}", link - 1)));
            }
            assert_eq!(texts, wanted, "link {link} (confirm: {confirm})");
        }
        // Connected means ready: never published before the setup was done.
        assert_eq!(events.times_entered(Connected), 6);
        assert!(setup_failures(&events).is_empty());
        let status = connection.status().await.expect("alive");
        assert_eq!((status.buffered, status.counters.connects), (0, 6));
    }
}

#[actix_web::test]
async fn an_unconfirmed_setup_fails_the_attempt_and_keeps_the_buffer() {
    let server = setup().await;
    // Handshakes succeed, but nothing is answered: the setup's ping gets no Pong.
    server.set_mode(Mode::Silent);
    let (connection, events) = connect_handle(
        ConnectionActor::builder(server.url())
            .on_connect(setup_messages)
            .confirm_setup(true)
            .configure(|config| config.setup_timeout(Duration::from_millis(300))),
    );
    for i in 0..3 {
        let delivery = connection.send(format!("m{i}")).await.expect("accepted");
        assert_eq!(delivery, Delivery::Buffered);
    }
    assert!(
        wait_until(PATIENCE, || setup_failures(&events).len() >= 2).await,
        "states: {:?}",
        events.entered()
    );
    assert_eq!(
        setup_failures(&events)[0],
        DisconnectReason::SetupTimeout {
            after: Duration::from_millis(300)
        }
    );
    assert_eq!(events.times_entered(Connected), 0);
    let status = connection.status().await.expect("alive");
    assert_eq!(status.buffered, 3, "the buffer is intact");
    assert!(status.attempt >= 1, "failed setups count as attempts");
    // The server read the setup of each link, and nothing buffered.
    assert!(server
        .received_texts()
        .iter()
        .all(|text| text.starts_with("auth-") || text == "subscribe"));

    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 1).await);
    assert!(
        wait_until(PATIENCE, || server
            .received_texts()
            .iter()
            .any(|t| t == "m2"))
        .await
    );
    let seen = server.texts_by_session();
    let last = seen.last().expect("something arrived").0;
    let texts: Vec<&str> = seen
        .iter()
        .filter(|(session, _)| *session == last)
        .map(|(_, text)| text.as_str())
        .collect();
    assert_eq!(
        texts[2..],
        ["m0", "m1", "m2"],
        "the buffer after the setup: {texts:?}"
    );
    assert!(texts[0].starts_with("auth-") && texts[1] == "subscribe");
}

/// A server that upgrades every connection, reads the setup message and refuses it
/// with a close frame, and a connection to it whose setup must be confirmed.
async fn refusing_the_setup(code: u16, reason: &str) -> (RawServer, Connection, Events) {
    let server = RawServer::start(vec![
        Step::Upgrade,
        Step::AwaitFrame(OP_TEXT),
        Step::Bytes(support::close_frame(code, reason)),
        Step::AwaitFrame(OP_CLOSE),
        Step::Close,
    ])
    .await;
    let (connection, events) = connect_handle(
        ConnectionActor::builder(server.url())
            .on_connect(|_: &LinkInfo| vec![Payload::from("auth")])
            .confirm_setup(true),
    );
    (server, connection, events)
}

#[actix_web::test]
async fn a_server_that_closes_during_the_setup_fails_the_attempt() {
    support::init_tracing();
    let (server, connection, events) = refusing_the_setup(4003, "who are you").await;
    assert_eq!(
        connection.send("buffered").await.expect("accepted"),
        Delivery::Buffered
    );
    assert!(wait_until(PATIENCE, || setup_failures(&events).len() >= 2).await);
    assert_eq!(
        setup_failures(&events)[0],
        DisconnectReason::ClosedByServer {
            code: Some(4003),
            description: Some("who are you".to_owned()),
        }
    );
    assert_eq!(events.times_entered(Connected), 0);
    assert!(events.times_entered(Connecting) >= 2, "retried");
    let status = connection.status().await.expect("alive");
    assert_eq!(status.buffered, 1);
    let texts: Vec<ClientFrame> = server
        .frames()
        .into_iter()
        .filter(|frame| frame.opcode == OP_TEXT)
        .collect();
    assert!(texts.len() >= 2);
    assert!(
        texts.iter().all(|frame| frame.payload == b"auth"),
        "nothing buffered was written: {texts:?}"
    );
    // The setup's ping follows its message on the wire.
    assert!(server.frames().iter().any(|frame| frame.opcode == OP_PING));
}

#[actix_web::test]
async fn a_setup_refused_with_policy_violation_is_final() {
    // The server reads the setup and answers 1008: its credentials are not accepted.
    let (_server, connection, events) = refusing_the_setup(1008, "bad token").await;
    assert!(events.wait_entered(ConnectionState::Failed, 1).await);
    assert_eq!(
        setup_failures(&events),
        [DisconnectReason::ClosedByServer {
            code: Some(1008),
            description: Some("bad token".to_owned()),
        }]
    );
    assert_eq!(events.times_entered(Connecting), 1, "not retried");
    let status = connection.status().await.expect("alive");
    assert_eq!(status.state, ConnectionState::Failed);
}
