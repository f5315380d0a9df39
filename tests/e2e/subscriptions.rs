//! End-to-end: subscribing actors to a connection's events and unsubscribing them, with
//! a real echo server. An actor subscribed twice receives each event once; an
//! unsubscribed one receives nothing more.
//!
//! Each test keeps the usual recorder subscribed as a witness: once the recorder has an
//! event, the connection has handed that event to every subscriber's mailbox, and a
//! query sent to a subscriber after that is answered after everything queued before it.

use crate::support;
use crate::support::{connect, recorded, setup, Events, ServerMessage};
use actix::prelude::*;
use tether_actix::message::{
    SubscribeIncoming, SubscribeState, SubscribeUndelivered, UnsubscribeIncoming, UnsubscribeState,
    UnsubscribeUndelivered,
};
use tether_actix::{ConnectionActor, ConnectionState, Incoming, StateChanged, Undelivered};

use ConnectionState::{Connected, Connecting, Disconnected, Reconnecting};

/// Counts what one subscriber receives.
#[derive(Debug, Default)]
struct Tally {
    texts: Vec<String>,
    states: Vec<ConnectionState>,
}

impl Actor for Tally {
    type Context = Context<Self>;
}

impl Handler<Incoming> for Tally {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, _: &mut Context<Self>) {
        let text = incoming.payload.as_text().unwrap_or("<binary>").to_owned();
        self.texts.push(text);
    }
}

impl Handler<StateChanged> for Tally {
    type Result = ();

    fn handle(&mut self, change: StateChanged, _: &mut Context<Self>) {
        self.states.push(change.to);
    }
}

impl Handler<Undelivered> for Tally {
    type Result = ();

    fn handle(&mut self, _: Undelivered, _: &mut Context<Self>) {}
}

/// What a [`Tally`] has received so far (texts, states).
#[derive(Message)]
#[rtype(result = "(Vec<String>, Vec<ConnectionState>)")]
struct Read;

impl Handler<Read> for Tally {
    type Result = MessageResult<Read>;

    fn handle(&mut self, _: Read, _: &mut Context<Self>) -> Self::Result {
        MessageResult((self.texts.clone(), self.states.clone()))
    }
}

async fn read(tally: &Addr<Tally>) -> (Vec<String>, Vec<ConnectionState>) {
    tally.send(Read).await.expect("tally alive")
}

/// The server drops the link without a close frame; waits until the connection is back.
async fn drop_link(server: &support::TestServer, events: &Events, connects: usize) {
    server.close_all(None);
    assert!(events.wait_entered(Connected, connects).await);
}

/// Subscribes `tally` at run time to incoming messages, states and, with
/// `undelivered`, undelivered reports.
async fn subscribe(connection: &Addr<ConnectionActor>, tally: &Addr<Tally>, undelivered: bool) {
    connection
        .send(SubscribeIncoming(tally.clone().recipient()))
        .await
        .expect("actor alive");
    connection
        .send(SubscribeState(tally.clone().recipient()))
        .await
        .expect("actor alive");
    if undelivered {
        connection
            .send(SubscribeUndelivered(tally.clone().recipient()))
            .await
            .expect("actor alive");
    }
}

#[actix_web::test]
async fn subscribing_twice_delivers_each_event_once() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);
    let tally = Tally::default().start();
    for _ in 0..2 {
        subscribe(&connection, &tally, false).await;
    }
    server.send_all(ServerMessage::Text("one".into()));
    assert!(events.wait_incoming(1).await);
    drop_link(&server, &events, 2).await;
    let (texts, states) = read(&tally).await;
    assert_eq!(texts, ["one"]);
    assert_eq!(states, [Disconnected, Reconnecting, Connecting, Connected]);
}

#[actix_web::test]
async fn subscribing_twice_at_build_time_delivers_each_event_once() {
    let server = setup().await;
    let tally = Tally::default().start();
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .on_state(tally.clone().recipient())
            .on_state(tally.clone().recipient())
            .on_incoming(tally.clone().recipient())
            .on_incoming(tally.clone().recipient()),
    );
    let _connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(Connected, 1).await);
    server.send_all(ServerMessage::Text("one".into()));
    assert!(events.wait_incoming(1).await);
    let (texts, states) = read(&tally).await;
    assert_eq!(texts, ["one"]);
    assert_eq!(states, [Connecting, Connected]);
}

#[actix_web::test]
async fn an_unsubscribed_actor_receives_nothing_more() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);
    let tally = Tally::default().start();
    subscribe(&connection, &tally, true).await;
    server.send_all(ServerMessage::Text("before".into()));
    assert!(events.wait_incoming(1).await);
    assert_eq!(read(&tally).await.0, ["before"]);

    // Each kind answers whether the actor was subscribed: yes once, then no.
    for expected in [true, false] {
        let incoming = connection
            .send(UnsubscribeIncoming(tally.clone().recipient()))
            .await
            .expect("actor alive");
        let state = connection
            .send(UnsubscribeState(tally.clone().recipient()))
            .await
            .expect("actor alive");
        let undelivered = connection
            .send(UnsubscribeUndelivered(tally.clone().recipient()))
            .await
            .expect("actor alive");
        assert_eq!(
            (incoming, state, undelivered),
            (expected, expected, expected)
        );
    }

    server.send_all(ServerMessage::Text("after".into()));
    assert!(events.wait_incoming(2).await);
    drop_link(&server, &events, 2).await;
    let (texts, states) = read(&tally).await;
    assert_eq!(texts, ["before"], "a message after unsubscribing");
    assert_eq!(states, [], "a state change after unsubscribing");
}

#[actix_web::test]
async fn a_subscriber_from_the_builder_can_unsubscribe() {
    let server = setup().await;
    let tally = Tally::default().start();
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .configure(support::quick)
            .on_state(tally.clone().recipient()),
    );
    let connection = builder.start().expect("valid").into_addr();
    assert!(events.wait_entered(Connected, 1).await);
    let removed = connection
        .send(UnsubscribeState(tally.clone().recipient()))
        .await
        .expect("actor alive");
    assert!(removed);
    drop_link(&server, &events, 2).await;
    assert_eq!(read(&tally).await.1, [Connecting, Connected]);
}
