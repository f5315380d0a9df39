//! The smallest complete use of tether-actix: connect, send three messages, print the
//! echoes, close.
//!
//! Run an echo server (`cargo run --example echo_server` prints its URL), then
//! `cargo run --example echo_client -- ws://127.0.0.1:PORT/ws`.

use actix::prelude::*;
use tether_actix::{message, ConnectionActor, Incoming};

/// Prints every message the server sends.
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

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: echo_client ws://HOST:PORT/PATH");
        std::process::exit(2);
    };
    let printer = Printer.start().recipient();
    let connection = ConnectionActor::builder(url).on_message(printer).start()?;
    for text in ["one", "two", "three"] {
        let delivery = connection.send(message::Send::text(text)).await??;
        println!("{text}: {delivery:?}");
    }
    actix::clock::sleep(std::time::Duration::from_millis(500)).await; // echoes arrive
    println!("closed: {}", connection.send(message::Close).await?);
    Ok(())
}
