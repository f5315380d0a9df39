//! The echo WebSocket session that the `echo_server` and `subscribers` examples serve.

use actix::{Actor, ActorContext, StreamHandler};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;

/// One client connection: echoes text and binary messages, answers pings.
pub(crate) struct Echo;

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
pub(crate) async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    ws::start(Echo, &req, body)
}
