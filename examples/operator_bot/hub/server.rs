//! The HTTP side of the hub: binding, authentication, refusing, upgrading.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws::WsResponseBuilder;

use super::session::Session;
use super::{lock, snapshot, Mode, Shared, State};

/// Which of the hub's ports a request came in through (0: primary, 1: backup).
#[derive(Debug, Clone, Copy)]
struct Port(usize);

/// Binds `addr` as port `port` (0: primary, 1: backup), starts serving on the current
/// actix system and returns the bound address and the server's handle.
pub(super) fn launch(
    shared: Shared,
    addr: SocketAddr,
    port: usize,
) -> io::Result<(SocketAddr, ServerHandle)> {
    let data = web::Data::from(shared);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::Data::new(Port(port)))
            .route("/token", web::get().to(token))
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

/// `GET /token`: with the hub's secret, a fresh single-use connect token (plain text).
async fn token(req: HttpRequest, shared: web::Data<Mutex<State>>) -> HttpResponse {
    let mut state = lock(&shared);
    if !authorized(&req, state.token.as_deref()) {
        state.unauthorized += 1;
        return unauthorized();
    }
    let token = state.tokens.issue(Instant::now());
    HttpResponse::Ok().body(token)
}

/// `GET /bots/{name}`: authenticate with a fresh connect token, then refuse or upgrade
/// according to the mode and the port.
async fn connect(
    req: HttpRequest,
    body: web::Payload,
    name: web::Path<String>,
    shared: web::Data<Mutex<State>>,
    port: web::Data<Port>,
) -> actix_web::Result<HttpResponse> {
    let shared = shared.into_inner();
    let Port(port) = **port;
    {
        let mut state = lock(&shared);
        if state.token.is_some() {
            let fresh =
                bearer(&req).is_some_and(|given| state.tokens.redeem(given, Instant::now()));
            if !fresh {
                state.unauthorized += 1;
                return Ok(unauthorized());
            }
        }
        if state.mode == Mode::Refusing && port == 0 {
            state.refused += 1;
            return Ok(HttpResponse::ServiceUnavailable().body("hub is refusing connections"));
        }
        state.handshakes += 1;
        state.port_handshakes[port] += 1;
    }
    let session = Session::new(name.into_inner(), shared.clone());
    let (addr, response) = WsResponseBuilder::new(session, &req, body).start_with_addr()?;
    lock(&shared).by_port[port].push(addr);
    Ok(response)
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

/// Whether the request carries the hub's secret (always, when it has none).
fn authorized(req: &HttpRequest, secret: Option<&str>) -> bool {
    let Some(secret) = secret else {
        return true;
    };
    bearer(req).is_some_and(|given| given == secret)
}

/// The request's bearer token, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
}

/// 401, with the challenge RFC 6750 asks for.
fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
        .body("missing, wrong or stale bearer token")
}
