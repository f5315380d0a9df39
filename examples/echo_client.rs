//! The smallest complete use of tether-actix: connect, send three messages, print the
//! echoes, close.
//!
//! Run an echo server (`cargo run --example echo_server` prints its URL), then
//! `cargo run --example echo_client -- ws://127.0.0.1:PORT/ws`.
//!
//! With `--watch` after the URL it goes on: a message a second and every state change
//! printed until Ctrl-C, to watch it ride out a server stopped and started again.

use std::time::Duration;

use actix::prelude::*;
use tether_actix::{message, ConnectionActor, Incoming, StateChanged};

/// Prints every message the server sends, and every state change.
struct Printer;

impl Actor for Printer {
    type Context = Context<Self>;
}

impl Handler<Incoming> for Printer {
    type Result = ();
    fn handle(&mut self, incoming: Incoming, _: &mut Context<Self>) {
        println!("echo: {:?}", incoming.payload);
    }
}

impl Handler<StateChanged> for Printer {
    type Result = ();
    fn handle(&mut self, event: StateChanged, _: &mut Context<Self>) {
        let reason = event.reason.map(|r| format!(": {r}")).unwrap_or_default();
        let delay = event
            .next_delay
            .map(|d| format!(", next attempt in {d:?}"))
            .unwrap_or_default();
        println!("state: {} → {}{reason}{delay}", event.from, event.to);
    }
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: echo_client ws://HOST:PORT/PATH [--watch]");
        std::process::exit(2);
    };
    let watch = std::env::args().nth(2).as_deref() == Some("--watch");
    let printer = Printer.start();
    let connection = ConnectionActor::builder(url)
        .on_incoming(printer.clone().recipient())
        .on_state(printer.recipient())
        .start()?;
    for text in ["one", "two", "three"] {
        let delivery = connection.send(message::Outgoing::text(text)).await??;
        println!("{text}: {delivery:?}");
    }
    if watch {
        let stop = actix_web::rt::signal::ctrl_c();
        tokio::pin!(stop);
        for n in 1.. {
            tokio::select! {
                _ = &mut stop => break,
                () = actix::clock::sleep(Duration::from_secs(1)) => {}
            }
            // Buffered while the server is away, written in order once it is back.
            let delivery = connection
                .send(message::Outgoing::text(format!("tick {n}")))
                .await?;
            println!("tick {n}: {delivery:?}");
        }
    }
    actix::clock::sleep(Duration::from_millis(500)).await; // echoes arrive
    println!("closed: {}", connection.send(message::Close).await?);
    Ok(())
}
