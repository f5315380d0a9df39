//! A plain WebSocket echo server at `ws://127.0.0.1:PORT/ws`, for `echo_client`.
//!
//! Run: `cargo run --example echo_server [-- PORT]` (default: a free port). It prints
//! its URL, then echoes every text and binary message and answers pings until Ctrl-C
//! or SIGTERM, which drop every connection at once: a client sees its link end and
//! reconnects when the server is back (see the README's Examples section).

use actix::{Actor, ActorContext, StreamHandler};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;

/// One client connection.
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

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = match std::env::args().nth(1) {
        Some(port) => port.parse().map_err(std::io::Error::other)?,
        None => 0,
    };
    let server = HttpServer::new(|| App::new().route("/ws", web::get().to(upgrade)))
        .workers(1)
        // actix-web's graceful shutdown waits for open connections, and a WebSocket stays
        // open: without this, stopping the server would leave every client connected to a
        // process that is going away, and no client would see a disconnect.
        .shutdown_timeout(0)
        .bind(("127.0.0.1", port))?;
    println!("ws://{}/ws", server.addrs()[0]);
    server.run().await
}
