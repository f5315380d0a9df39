//! State and message subscribers as separate actors, watching a connection survive a
//! server restart.
//!
//! Run: `cargo run --example subscribers` (prefix `RUST_LOG=tether_actix=debug` to see
//! the library's own log as well). It exits by itself after about five seconds.
//!
//! The example starts an echo server on a free port of 127.0.0.1, connects to it and
//! sends a message every 200 ms. After one second it stops the server, dropping the
//! connection; a second later it starts the server again on the same port. Meanwhile:
//!
//! - `StateLogger`, subscribed with `ConnectionBuilder::on_state` and `on_undelivered`,
//!   prints every `StateChanged` (the transition, the attempt counter, the reason, the
//!   delay before the next attempt, the messages the lost link took unconfirmed) and
//!   every `Undelivered` message;
//! - `EchoCounter`, subscribed to the running connection with
//!   `message::SubscribeIncoming`, counts the echoes (`Incoming`).
//!
//! Messages sent while the server is down are answered `Buffered` and written after the
//! reconnect. One written in the instant the link dies is answered `Sent` but never
//! confirmed by the server: in the default at-most-once mode it is handed back as
//! `Undelivered` (reason `Unconfirmed`), not written again.

use std::time::Duration;

use actix::prelude::*;
use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use tether_actix::{message, ConnectionActor, Incoming, StateChanged, Undelivered};

/// Prints every state change of the connection, and every message it hands back.
struct StateLogger;

impl Actor for StateLogger {
    type Context = Context<Self>;
}

impl Handler<StateChanged> for StateLogger {
    type Result = ();

    fn handle(&mut self, change: StateChanged, _: &mut Context<Self>) {
        let reason = change
            .reason
            .map_or_else(|| "-".to_owned(), |r| r.to_string());
        println!(
            "[state]  {} -> {}  attempt={} reason={} next_delay={:?} unconfirmed={}",
            change.from, change.to, change.attempt, reason, change.next_delay, change.unconfirmed
        );
    }
}

impl Handler<Undelivered> for StateLogger {
    type Result = ();

    fn handle(&mut self, lost: Undelivered, _: &mut Context<Self>) {
        println!("[lost]   {:?}: {:?}", lost.payload, lost.reason);
    }
}

/// Counts the messages the server sends back.
#[derive(Default)]
struct EchoCounter {
    received: usize,
}

impl Actor for EchoCounter {
    type Context = Context<Self>;
}

impl Handler<Incoming> for EchoCounter {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, _: &mut Context<Self>) {
        self.received += 1;
        let text = incoming.payload.as_text().unwrap_or("<binary>");
        println!("[echo]   #{} {text}", self.received);
    }
}

/// Asks an [`EchoCounter`] how many messages it has counted.
#[derive(Message)]
#[rtype(result = "usize")]
struct Count;

impl Handler<Count> for EchoCounter {
    type Result = usize;

    fn handle(&mut self, _: Count, _: &mut Context<Self>) -> usize {
        self.received
    }
}

/// One WebSocket session of the embedded server: echoes data, answers pings.
struct Echo;

impl Actor for Echo {
    type Context = ws::WebsocketContext<Self>;
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Echo {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match frame {
            Ok(ws::Message::Text(text)) => ctx.text(text),
            Ok(ws::Message::Binary(bytes)) => ctx.binary(bytes),
            Ok(ws::Message::Ping(bytes)) => ctx.pong(&bytes),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(_) => {}
            Err(_) => ctx.stop(),
        }
    }
}

/// Upgrades `GET /ws` to a WebSocket served by [`Echo`].
async fn upgrade(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    ws::start(Echo, &req, body)
}

/// Starts the echo server on `127.0.0.1:port` (0: a free port) in the current system,
/// retrying the bind for a while when the port is still held by the previous server.
async fn serve(port: u16) -> std::io::Result<(u16, ServerHandle)> {
    let mut tries = 0;
    let server = loop {
        let bound = HttpServer::new(|| App::new().route("/ws", web::get().to(upgrade)))
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", port));
        match bound {
            Ok(server) => break server,
            Err(_) if tries < 50 => tries += 1,
            Err(error) => return Err(error),
        }
        actix::clock::sleep(Duration::from_millis(100)).await;
    };
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok((port, handle))
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let (port, handle) = serve(0).await?;
    let url = format!("ws://127.0.0.1:{port}/ws");
    println!("[server] listening on {url}");

    let logger = StateLogger.start();
    let connection = ConnectionActor::builder(url)
        // Short delays, so the reconnect happens within the example's few seconds.
        .configure(|config| {
            config
                .base_backoff(Duration::from_millis(200))
                .max_backoff(Duration::from_secs(1))
        })
        .on_state(logger.clone().recipient())
        .on_undelivered(logger.recipient())
        .start()?;
    let counter = EchoCounter::default().start();
    connection
        .send(message::SubscribeIncoming(counter.clone().recipient()))
        .await?;

    let mut handle = Some(handle);
    let mut sent = 0;
    for i in 1..=20 {
        if i == 6 {
            if let Some(handle) = handle.take() {
                println!("[server] stopping");
                handle.stop(false).await;
            }
        }
        if i == 11 {
            println!("[server] starting again on port {port}");
            handle = Some(serve(port).await?.1);
        }
        let result = connection
            .send(message::Outgoing::text(format!("message {i}")))
            .await?;
        println!("[send]   message {i}: {result:?}");
        sent += usize::from(result.is_ok());
        actix::clock::sleep(Duration::from_millis(200)).await;
    }

    actix::clock::sleep(Duration::from_millis(500)).await; // the last echoes
    let state = connection.send(message::Close).await?;
    let echoed = counter.send(Count).await?;
    let lost = connection
        .send(message::GetStatus)
        .await?
        .counters
        .undelivered;
    println!("[done]   connection {state}; {sent} accepted, {echoed} echoed, {lost} handed back");
    if let Some(handle) = handle {
        handle.stop(true).await;
    }
    Ok(())
}
