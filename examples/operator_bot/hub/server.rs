//! The HTTP side of the hub: binding, authentication, refusing, upgrading.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws::WsResponseBuilder;

use super::session::Session;
use super::{lock, snapshot, Mode, Shared, State};

/// Binds `addr`, starts serving on the current actix system and returns the bound
/// address and the server's handle.
pub(super) fn launch(shared: Shared, addr: SocketAddr) -> io::Result<(SocketAddr, ServerHandle)> {
    let data = web::Data::from(shared);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/bots/{name}", web::get().to(connect))
            .route("/stats", web::get().to(stats))
    })
    // One worker is plenty for a handful of bots and keeps the machine free for them.
    .workers(1)
    // The example handles Ctrl-C itself; the hub must not stop the whole program.
    .disable_signals()
    .shutdown_timeout(1)
    // Close TCP as soon as a session ends, instead of lingering up to a second: a
    // dropped connection must look dropped to the bot at once.
    .client_disconnect_timeout(Duration::ZERO)
    .bind(addr)?;
    let bound = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok((bound, handle))
}

/// `GET /bots/{name}`: authenticate, then refuse or upgrade according to the mode.
async fn connect(
    req: HttpRequest,
    body: web::Payload,
    name: web::Path<String>,
    shared: web::Data<Mutex<State>>,
) -> actix_web::Result<HttpResponse> {
    let shared = shared.into_inner();
    {
        let mut state = lock(&shared);
        if !authorized(&req, state.token.as_deref()) {
            state.unauthorized += 1;
            return Ok(unauthorized());
        }
        if state.mode == Mode::Refusing {
            state.refused += 1;
            return Ok(HttpResponse::ServiceUnavailable().body("hub is refusing connections"));
        }
        state.handshakes += 1;
    }
    let session = Session::new(name.into_inner(), shared);
    WsResponseBuilder::new(session, &req, body).start()
}

/// `GET /stats`: what the hub has seen, as JSON.
async fn stats(req: HttpRequest, shared: web::Data<Mutex<State>>) -> HttpResponse {
    let mut state = lock(&shared);
    if !authorized(&req, state.token.as_deref()) {
        state.unauthorized += 1;
        return unauthorized();
    }
    let stats = snapshot(&state);
    drop(state);
    HttpResponse::Ok().json(stats)
}

/// Whether the request carries the hub's bearer token (always, when it has none).
fn authorized(req: &HttpRequest, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| given == token)
}

/// 401, with the challenge RFC 6750 asks for.
fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .body("missing or wrong bearer token")
}
