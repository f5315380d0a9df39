//! End-to-end: a message subscriber that is slow, stuck, or waits on the connection
//! itself never blocks control frames, sends or `Close`, and nothing it was handed is
//! dropped without a trace.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::{
    gated, recorded, setup, wait_status, wait_until, Mode, ServerMessage, PATIENCE,
};
use actix::prelude::*;
use tether_actix::message::{self, Delivery};
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryError, DisconnectReason, Incoming,
    ResiliencyConfigBuilder,
};

use ConnectionState::{Closed, Connected, Disconnected};

/// How long each `Outgoing` may take to be answered: far above any write, far below a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

fn quick_heartbeat(config: ResiliencyConfigBuilder) -> ResiliencyConfigBuilder {
    support::quick(config)
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(200))
        .confirm_interval(Duration::from_millis(10))
        .close_timeout(Duration::from_secs(2))
}

/// Sends `count` numbered messages one after another, each answered within
/// [`ANSWER_WITHIN`]; returns how many were accepted (`Sent` or `Buffered`).
async fn send_all_answered(connection: &Addr<ConnectionActor>, count: usize) -> usize {
    let mut accepted = 0;
    for n in 0..count {
        let reply = tokio::time::timeout(
            ANSWER_WITHIN,
            connection.send(message::Outgoing::text(format!("m{n}"))),
        )
        .await
        .unwrap_or_else(|_| panic!("send {n} was not answered within {ANSWER_WITHIN:?}"))
        .expect("connection actor alive");
        match reply {
            Ok(Delivery::Sent | Delivery::Buffered) => accepted += 1,
            Err(DeliveryError::BufferFull { .. }) => {}
            other => panic!("send {n}: unexpected answer {other:?}"),
        }
    }
    accepted
}

#[actix_web::test]
async fn a_stuck_subscriber_blocks_neither_sends_nor_the_heartbeat_nor_close() {
    let server = setup().await;
    let (stuck, gate) = gated::<Incoming>();
    let (builder, events) =
        recorded(ConnectionActor::builder(server.url()).configure(quick_heartbeat));
    let connection = builder
        .on_incoming(stuck.recipient())
        .start()
        .expect("valid configuration")
        .into_addr();
    assert!(events.wait_entered(Connected, 1).await);

    // Every message is echoed back to the stuck subscriber.
    let accepted = send_all_answered(&connection, 600).await;
    assert_eq!(
        accepted, 600,
        "the echoes fit the read-ahead: nothing was refused"
    );
    assert!(wait_until(PATIENCE, || server.received_count() == 600).await);
    assert!(gate.count() >= 1, "the subscriber got its first message");
    let (status, confirmed) = wait_status(&connection, |status| status.unconfirmed == 0).await;
    assert!(confirmed, "pongs are still read: {status:?}");

    // A server gone silent meanwhile is still detected and replaced.
    server.set_mode(Mode::Silent);
    connection
        .send(message::Outgoing::text("into the silence"))
        .await
        .expect("actor alive")
        .expect("accepted");
    assert!(events.wait_entered(Disconnected, 1).await);
    let lost = events.first_entry(Disconnected);
    assert!(
        matches!(lost.reason, Some(DisconnectReason::HeartbeatTimeout { .. })),
        "{lost:?}"
    );
    server.set_mode(Mode::Echo);
    assert!(events.wait_entered(Connected, 2).await);

    let started = Instant::now();
    let state = tokio::time::timeout(PATIENCE, connection.send(message::Close))
        .await
        .expect("Close answered")
        .expect("actor alive");
    assert_eq!(state, Closed);
    assert!(
        started.elapsed() <= Duration::from_secs(2) + Duration::from_secs(1),
        "Close took {:?}, beyond its close_timeout",
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_long_stall_fails_the_link_and_every_received_message_is_still_delivered() {
    let server = setup().await;
    let (stuck, gate) = gated::<Incoming>();
    let (builder, events) = recorded(ConnectionActor::builder(server.url()).configure(|config| {
        quick_heartbeat(config)
            // Reading pauses after a few messages, and a pause fails the link soon.
            .read_ahead_bytes(1024)
            .max_read_pause(Duration::from_millis(300))
    }));
    let connection = builder
        .on_incoming(stuck.recipient())
        .start()
        .expect("valid configuration")
        .into_addr();
    assert!(events.wait_entered(Connected, 1).await);

    let payload = "x".repeat(200);
    let mut answered = 0;
    for _ in 0..200 {
        let reply = tokio::time::timeout(
            ANSWER_WITHIN,
            connection.send(message::Outgoing::text(payload.clone())),
        )
        .await
        .expect("every send is answered")
        .expect("actor alive");
        assert!(
            matches!(
                reply,
                Ok(Delivery::Sent | Delivery::Buffered) | Err(DeliveryError::BufferFull { .. })
            ),
            "{reply:?}"
        );
        answered += 1;
    }
    assert_eq!(answered, 200);
    assert!(
        wait_until(PATIENCE, || events.states().iter().any(|change| matches!(
            change.reason,
            Some(DisconnectReason::SubscriberStalled { .. })
        )))
        .await,
        "the stalled reading was given up: {:?}",
        events.entered()
    );
    assert!(
        events.wait_entered(Connected, 2).await,
        "and the link replaced"
    );

    // Close is bounded by its timeout, stalled reading or not.
    let started = Instant::now();
    let state = tokio::time::timeout(PATIENCE, connection.send(message::Close))
        .await
        .expect("Close answered")
        .expect("actor alive");
    assert_eq!(state, Closed);
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The subscriber recovers: everything the connection received reaches it.
    gate.open();
    let (status, _) = wait_status(&connection, |_| true).await;
    let received = status.counters.received as usize;
    assert!(received > 0);
    assert!(
        wait_until(PATIENCE, || gate.count() >= received).await,
        "{} of {received} received messages reached the subscriber",
        gate.count()
    );
}

/// A subscriber that answers every question (`q…`) through the same connection, and
/// waits for that answer to be confirmed before taking the next message.
struct Responder {
    connection: Addr<ConnectionActor>,
    confirmed: Arc<AtomicUsize>,
}

impl Actor for Responder {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1);
    }
}

impl Handler<Incoming> for Responder {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, ctx: &mut Context<Self>) {
        let text = incoming.payload.as_text().unwrap_or_default().to_owned();
        if !text.starts_with('q') {
            return; // the server's echo of an answer
        }
        let reply = message::Outgoing::text(format!("re: {text}")).with_confirmation();
        ctx.wait(
            self.connection
                .send(reply)
                .into_actor(self)
                .map(|answer, act, _| {
                    if matches!(answer, Ok(Ok(Delivery::Confirmed))) {
                        act.confirmed.fetch_add(1, Ordering::SeqCst);
                    }
                }),
        );
    }
}

#[actix_web::test]
async fn a_subscriber_awaiting_its_own_send_does_not_deadlock() {
    const COUNT: usize = 100;
    let server = setup().await;
    let (builder, events) =
        recorded(ConnectionActor::builder(server.url()).configure(quick_heartbeat));
    let connection = builder.start().expect("valid configuration").into_addr();
    let confirmed = Arc::new(AtomicUsize::new(0));
    let responder = Responder {
        connection: connection.clone(),
        confirmed: confirmed.clone(),
    }
    .start();
    connection
        .send(message::SubscribeIncoming(responder.recipient()))
        .await
        .expect("actor alive");
    assert!(events.wait_entered(Connected, 1).await);

    for n in 0..COUNT {
        server.send_all(ServerMessage::Text(format!("q{n}")));
    }
    assert!(
        wait_until(PATIENCE, || confirmed.load(Ordering::SeqCst) == COUNT).await,
        "{} of {COUNT} answers confirmed",
        confirmed.load(Ordering::SeqCst)
    );
    let answers = server.received_texts();
    let expected: Vec<String> = (0..COUNT).map(|n| format!("re: q{n}")).collect();
    assert_eq!(answers, expected, "answered in order, each once");
    assert_eq!(
        events.times_entered(Disconnected),
        0,
        "{:?}",
        events.entered()
    );
}
