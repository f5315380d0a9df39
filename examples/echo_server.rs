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
        // open: stopping the server would leave every client connected to a process that
        // is going away. This server handles the signals itself and stops at once.
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", port))?;
    println!("ws://{}/ws", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        stop_signal().await;
        // Not graceful: every connection is dropped now, so clients see their link end.
        handle.stop(false).await;
    });
    server.await
}

/// Ctrl-C, or SIGTERM where there is one.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use actix_web::rt::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = actix_web::rt::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = actix_web::rt::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = actix_web::rt::signal::ctrl_c().await;
    }
}
