//! [`TestServer`]: a real actix-web WebSocket server on `127.0.0.1` whose behaviour a
//! test can switch at run time (echo, silent, refuse, hang), that can be stopped and
//! restarted on the same port, and that records what it saw.
//!
//! The server runs one worker in the test's own actix `System`. Each WebSocket session
//! is an actix-web-actors actor registered in shared state, so the test can push
//! messages to it, close it or kill it.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use actix::{Actor, ActorContext, Addr, Handler, StreamHandler};
use actix_http::ws::{CloseCode, CloseReason, Item, Message, ProtocolError};
use actix_web::{
    dev::ServerHandle,
    http::{header, StatusCode},
    web, App, HttpRequest, HttpResponse, HttpServer,
};
use actix_web_actors::ws::{WebsocketContext, WsResponseBuilder};
use bytes::Bytes;

use super::ledger::{Headers, Ledger, Received};
use super::wait_until;

/// Largest frame the server accepts from a client (32 MiB), far above awc's 64 KiB default.
pub(crate) const MAX_FRAME_SIZE: usize = 32 * 1024 * 1024;

/// How long `stop` waits for every session to be gone before failing the test.
const STOP_DEADLINE: Duration = Duration::from_secs(5);
/// How long `restart` retries binding the old port.
const REBIND_DEADLINE: Duration = Duration::from_secs(5);
/// How often a hung handshake checks whether it should give up.
const HANG_POLL: Duration = Duration::from_millis(5);

/// How the server treats handshakes and frames; switch with [`TestServer::set_mode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Upgrade every handshake; echo text and binary messages (client fragments are
    /// echoed as one whole message), answer pings with pongs and a close with a close.
    Echo,
    /// Half-dead link: handshakes are still accepted and TCP stays open, but no session
    /// (existing ones included) answers anything, not even pings or a close. The server
    /// still reads and records every message and ping.
    Silent,
    /// New handshakes get this HTTP status instead of an upgrade, with a
    /// `Retry-After: N` header when `retry_after` is `Some(N)`. Open sessions echo.
    Refuse {
        /// HTTP status of the refusal (e.g. 401, 503).
        status: u16,
        /// Seconds to put in a `Retry-After` header.
        retry_after: Option<u64>,
    },
    /// New handshakes are never answered while the mode stays `Hang`; TCP stays open.
    /// When the mode changes or the server stops, a held handshake is answered with 503
    /// (never upgraded, so it does not count as a handshake). Open sessions echo.
    Hang,
}

/// A message pushed by the server to every open client ([`TestServer::send_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerMessage {
    /// One text frame.
    Text(String),
    /// One binary frame.
    Binary(Vec<u8>),
    /// A text message split into continuation frames: `FirstText`, `Continue`…, `Last`,
    /// one frame per part. With fewer than two parts, empty parts are added so there is
    /// always a first and a last frame.
    FragmentedText(Vec<String>),
    /// Like `FragmentedText`, starting with `FirstBinary`.
    FragmentedBinary(Vec<Vec<u8>>),
}

/// Everything the server, its handlers and its sessions share.
#[derive(Debug)]
struct State {
    mode: Mode,
    /// Bumped by every stop: hung handshakes of an older generation give up.
    generation: u64,
    port: u16,
    handle: Option<ServerHandle>,
    sessions: HashMap<u64, Addr<Session>>,
    next_session: u64,
    ledger: Ledger,
    /// The code of every close frame received (`None`: a close frame without one).
    closes: Vec<Option<u16>>,
    /// When set, a handshake without `Authorization: Bearer <token>` is refused with 401
    /// before the mode is looked at.
    required_bearer: Option<String>,
    /// The query string of every handshake attempt (empty when none), in order.
    queries: Vec<String>,
    /// The code and reason of every close frame that had a code.
    close_frames: Vec<(u16, Option<String>)>,
    /// Every text message with the session it arrived on, in arrival order (forgotten
    /// with the ledger's messages by `take_received`, so a long test does not grow).
    texts_by_session: Vec<(u64, String)>,
}

type Shared = Arc<Mutex<State>>;

/// Locks the state, ignoring poisoning (a failed assertion elsewhere must not cascade).
fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A WebSocket server on `127.0.0.1` with an endpoint at `/ws` (and the same one at
/// `/bots/{name}`, where the operator bot connects). See the module docs.
///
/// Dropping it kills its sessions and stops the server without waiting.
#[derive(Debug)]
pub(crate) struct TestServer {
    shared: Shared,
}

impl TestServer {
    /// Starts a server in [`Mode::Echo`] on a free port of `127.0.0.1`.
    pub(crate) async fn start() -> TestServer {
        let server = TestServer {
            shared: Arc::new(Mutex::new(State {
                mode: Mode::Echo,
                generation: 0,
                port: 0,
                handle: None,
                sessions: HashMap::new(),
                next_session: 0,
                ledger: Ledger::default(),
                closes: Vec::new(),
                required_bearer: None,
                queries: Vec::new(),
                close_frames: Vec::new(),
                texts_by_session: Vec::new(),
            })),
        };
        server.launch(0).expect("bind 127.0.0.1:0");
        server
    }

    /// The port, the same across restarts.
    pub(crate) fn port(&self) -> u16 {
        lock(&self.shared).port
    }

    /// The listening address, `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port()))
    }

    /// The WebSocket URL, `ws://127.0.0.1:PORT/ws`.
    pub(crate) fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port())
    }

    /// The server's base URL, `ws://127.0.0.1:PORT`, as the operator bot's `--url` takes
    /// it.
    pub(crate) fn base_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port())
    }

    /// Stops accepting and drops every open connection abruptly (TCP closed, no close
    /// frame). Returns once every session is gone; panics if that takes over 5 s.
    /// Stopping a stopped server does nothing.
    pub(crate) async fn stop(&self) {
        let (handle, sessions) = {
            let mut state = lock(&self.shared);
            state.generation += 1;
            (
                state.handle.take(),
                state.sessions.values().cloned().collect::<Vec<_>>(),
            )
        };
        // A graceful stop would keep WebSocket connections until the shutdown timeout.
        // A forced one drops them, but only after `stop` has returned (the worker's
        // arbiter ends later), hence the kill and the wait for the sessions below.
        for session in sessions {
            session.do_send(Command::Kill);
        }
        if let Some(handle) = handle {
            handle.stop(false).await;
        }
        let drained = wait_until(STOP_DEADLINE, || self.open_sessions() == 0).await;
        assert!(
            drained,
            "TestServer::stop: sessions still open after {STOP_DEADLINE:?}"
        );
    }

    /// Starts the server again on the same port, stopping it first if it is running.
    /// Retries the bind for up to 5 s if the port is momentarily busy.
    pub(crate) async fn restart(&self) {
        self.stop().await;
        let port = self.port();
        let deadline = tokio::time::Instant::now() + REBIND_DEADLINE;
        loop {
            match self.launch(port) {
                Ok(()) => return,
                Err(err) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!("rebinding 127.0.0.1:{port}: {err}; retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("TestServer::restart: cannot bind 127.0.0.1:{port}: {err}"),
            }
        }
    }

    /// Switches the mode; takes effect at once for new handshakes and, for `Silent` (and
    /// back), for open sessions too.
    pub(crate) fn set_mode(&self, mode: Mode) {
        lock(&self.shared).mode = mode;
    }

    /// Refuse with 401 every handshake whose `Authorization` is not `Bearer <token>`
    /// (`None`: no check, the default). Takes effect for new handshakes.
    pub(crate) fn require_bearer(&self, token: Option<String>) {
        lock(&self.shared).required_bearer = token;
    }

    /// The query string of every handshake attempt so far (empty when there was none).
    pub(crate) fn request_queries(&self) -> Vec<String> {
        lock(&self.shared).queries.clone()
    }

    /// Every open session sends a close frame with `code` and ends; with `None` it
    /// closes TCP without a close frame.
    pub(crate) fn close_all(&self, code: Option<u16>) {
        self.broadcast(Command::Close(code));
    }

    /// Pushes `msg` to every open client.
    pub(crate) fn send_all(&self, msg: ServerMessage) {
        self.broadcast(Command::Push(msg));
    }

    /// Every data message any session received (Silent included), in arrival order,
    /// except those already handed over by [`TestServer::take_received`].
    pub(crate) fn received(&self) -> Vec<Received> {
        lock(&self.shared).ledger.messages().to_vec()
    }

    /// The text messages of [`TestServer::received`], in arrival order.
    pub(crate) fn received_texts(&self) -> Vec<String> {
        lock(&self.shared)
            .ledger
            .messages()
            .iter()
            .filter_map(|received| match received {
                Received::Text(text) => Some(text.clone()),
                Received::Binary(_) => None,
            })
            .collect()
    }

    /// Hands over what [`TestServer::received`] would return and forgets it, so that a
    /// long test keeps only what it has not checked yet. Counts are not reset.
    pub(crate) fn take_received(&self) -> Vec<Received> {
        let mut state = lock(&self.shared);
        state.texts_by_session.clear();
        state.ledger.take_messages()
    }

    /// How many data messages have been received, taken ones included.
    pub(crate) fn received_count(&self) -> usize {
        lock(&self.shared).ledger.message_count()
    }

    /// Accepted upgrades.
    pub(crate) fn handshakes(&self) -> usize {
        lock(&self.shared).ledger.handshakes()
    }

    /// Every request to `/ws`, refused and hung ones included.
    pub(crate) fn handshake_attempts(&self) -> usize {
        lock(&self.shared).ledger.attempts()
    }

    /// Sessions currently alive.
    pub(crate) fn open_sessions(&self) -> usize {
        lock(&self.shared).sessions.len()
    }

    /// Ping frames received from clients (Silent included).
    pub(crate) fn pings_received(&self) -> usize {
        lock(&self.shared).ledger.pings()
    }

    /// The code of every close frame received from clients, in order (Silent
    /// included); `None` for a close frame without a code.
    pub(crate) fn closes_received(&self) -> Vec<Option<u16>> {
        lock(&self.shared).closes.clone()
    }

    /// The code and reason of every close frame with a code received from clients, in
    /// order.
    pub(crate) fn close_frames_received(&self) -> Vec<(u16, Option<String>)> {
        lock(&self.shared).close_frames.clone()
    }

    /// Every text message received, with the number of the session (1, 2, ... in
    /// handshake order) it arrived on, in arrival order, except those already handed
    /// over by [`TestServer::take_received`].
    pub(crate) fn texts_by_session(&self) -> Vec<(u64, String)> {
        lock(&self.shared).texts_by_session.clone()
    }

    /// The headers of every request to `/ws` (one entry per attempt, refused ones
    /// included), names lower-case, except those already handed over by
    /// [`TestServer::take_request_headers`].
    pub(crate) fn request_headers(&self) -> Vec<Headers> {
        lock(&self.shared).ledger.requests().to_vec()
    }

    /// Hands over what [`TestServer::request_headers`] would return and forgets it.
    /// [`TestServer::handshake_attempts`] still counts them.
    pub(crate) fn take_request_headers(&self) -> Vec<Headers> {
        lock(&self.shared).ledger.take_requests()
    }

    /// Sends `cmd` to every open session.
    fn broadcast(&self, cmd: Command) {
        let sessions: Vec<_> = lock(&self.shared).sessions.values().cloned().collect();
        for session in sessions {
            session.do_send(cmd.clone());
        }
    }

    /// Binds `127.0.0.1:port` (0 = any), starts the server and records port and handle.
    fn launch(&self, port: u16) -> std::io::Result<()> {
        let data = web::Data::from(self.shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .service(web::resource("/ws").to(ws_endpoint))
                // The operator bot's path, for the tests that run it against this server.
                .service(web::resource("/bots/{name}").to(ws_endpoint))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        // Close TCP as soon as a session ends. With the default (1 s) actix-http lingers,
        // reading and discarding, until the client hangs up or the timeout passes.
        .client_disconnect_timeout(Duration::ZERO)
        .bind((Ipv4Addr::LOCALHOST, port))?;
        let port = server.addrs()[0].port();
        let server = server.run();
        let mut state = lock(&self.shared);
        state.port = port;
        state.handle = Some(server.handle());
        actix_web::rt::spawn(server);
        Ok(())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = {
            let mut state = lock(&self.shared);
            state.generation += 1;
            for session in state.sessions.values() {
                session.do_send(Command::Kill);
            }
            state.handle.take()
        };
        if let Some(handle) = handle {
            // The command is sent at once; nobody waits for its completion.
            drop(handle.stop(false));
        }
    }
}

/// The `/ws` handler: records the attempt, then refuses, hangs or upgrades by mode.
async fn ws_endpoint(
    req: HttpRequest,
    payload: web::Payload,
    shared: web::Data<Mutex<State>>,
) -> actix_web::Result<HttpResponse> {
    let shared = shared.into_inner();
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let authorized = |state: &State| match &state.required_bearer {
        None => true,
        Some(token) => {
            req.headers()
                .get(header::AUTHORIZATION)
                .map(|value| value.as_bytes())
                == Some(format!("Bearer {token}").as_bytes())
        }
    };
    let (mode, generation) = {
        let mut state = lock(&shared);
        state.ledger.attempt(headers);
        state.queries.push(req.query_string().to_owned());
        if !authorized(&state) {
            return Ok(HttpResponse::Unauthorized().finish());
        }
        (state.mode.clone(), state.generation)
    };
    match mode {
        Mode::Refuse {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = HttpResponse::build(status);
            if let Some(secs) = retry_after {
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            return Ok(response.finish());
        }
        Mode::Hang => {
            while still_hung(&shared, generation) {
                tokio::time::sleep(HANG_POLL).await;
            }
            return Ok(HttpResponse::ServiceUnavailable().finish());
        }
        Mode::Echo | Mode::Silent => {}
    }
    let id = {
        let mut state = lock(&shared);
        state.next_session += 1;
        state.next_session
    };
    let session = Session {
        id,
        shared: shared.clone(),
        fragments: None,
    };
    let (addr, response) = WsResponseBuilder::new(session, &req, payload)
        .frame_size(MAX_FRAME_SIZE)
        .start_with_addr()?;
    let mut state = lock(&shared);
    state.ledger.handshake();
    state.sessions.insert(id, addr);
    Ok(response)
}

/// Whether a handshake held in [`Mode::Hang`] since `generation` must go on waiting.
fn still_hung(shared: &Mutex<State>, generation: u64) -> bool {
    let state = lock(shared);
    state.mode == Mode::Hang && state.generation == generation
}

/// What the test asks of a session.
#[derive(Debug, Clone)]
enum Command {
    /// Send a message.
    Push(ServerMessage),
    /// Send a close frame with this code (none: no close frame) and end.
    Close(Option<u16>),
    /// End at once, no close frame.
    Kill,
}

impl actix::Message for Command {
    type Result = ();
}

/// One WebSocket connection.
#[derive(Debug)]
struct Session {
    id: u64,
    shared: Shared,
    /// A client message being reassembled from continuation frames: (is text, bytes).
    fragments: Option<(bool, Vec<u8>)>,
}

impl Session {
    /// Records a whole data message and, unless silent, echoes it.
    fn deliver(&self, msg: Received, silent: bool, ctx: &mut WebsocketContext<Self>) {
        {
            let mut state = lock(&self.shared);
            if let Received::Text(text) = &msg {
                state.texts_by_session.push((self.id, text.clone()));
            }
            state.ledger.message(msg.clone());
        }
        if !silent {
            match msg {
                Received::Text(text) => ctx.text(text),
                Received::Binary(data) => ctx.binary(data),
            }
        }
    }

    /// Handles one client continuation frame; a protocol violation ends the session.
    fn continuation(&mut self, item: Item, silent: bool, ctx: &mut WebsocketContext<Self>) {
        match (item, self.fragments.as_mut()) {
            (Item::FirstText(data), None) => self.fragments = Some((true, data.to_vec())),
            (Item::FirstBinary(data), None) => self.fragments = Some((false, data.to_vec())),
            (Item::Continue(data), Some((_, buf))) => buf.extend_from_slice(&data),
            (Item::Last(data), Some((_, buf))) => {
                buf.extend_from_slice(&data);
                let (text, buf) = self.fragments.take().expect("fragments in progress");
                let msg = if text {
                    Received::Text(String::from_utf8_lossy(&buf).into_owned())
                } else {
                    Received::Binary(buf)
                };
                self.deliver(msg, silent, ctx);
            }
            _ => ctx.stop(),
        }
    }
}

impl Actor for Session {
    type Context = WebsocketContext<Self>;
}

impl Drop for Session {
    fn drop(&mut self) {
        lock(&self.shared).sessions.remove(&self.id);
    }
}

impl StreamHandler<Result<Message, ProtocolError>> for Session {
    fn handle(&mut self, frame: Result<Message, ProtocolError>, ctx: &mut Self::Context) {
        let Ok(frame) = frame else {
            ctx.stop();
            return;
        };
        let silent = lock(&self.shared).mode == Mode::Silent;
        match frame {
            Message::Text(text) => self.deliver(Received::Text(text.to_string()), silent, ctx),
            Message::Binary(data) => self.deliver(Received::Binary(data.to_vec()), silent, ctx),
            Message::Continuation(item) => self.continuation(item, silent, ctx),
            Message::Ping(data) => {
                lock(&self.shared).ledger.ping();
                if !silent {
                    ctx.pong(&data);
                }
            }
            Message::Close(reason) => {
                let code = reason.as_ref().map(|reason| u16::from(reason.code));
                {
                    let mut state = lock(&self.shared);
                    state.closes.push(code);
                    if let Some(reason) = &reason {
                        let frame = (u16::from(reason.code), reason.description.clone());
                        state.close_frames.push(frame);
                    }
                }
                if !silent {
                    ctx.close(reason);
                    ctx.stop();
                }
            }
            Message::Pong(_) | Message::Nop => {}
        }
    }
}

impl Handler<Command> for Session {
    type Result = ();

    fn handle(&mut self, cmd: Command, ctx: &mut Self::Context) {
        match cmd {
            Command::Push(ServerMessage::Text(text)) => ctx.text(text),
            Command::Push(ServerMessage::Binary(data)) => ctx.binary(data),
            Command::Push(ServerMessage::FragmentedText(parts)) => {
                write_fragments(ctx, true, parts.into_iter().map(Bytes::from).collect());
            }
            Command::Push(ServerMessage::FragmentedBinary(parts)) => {
                write_fragments(ctx, false, parts.into_iter().map(Bytes::from).collect());
            }
            Command::Close(code) => {
                if let Some(code) = code {
                    ctx.close(Some(CloseReason::from(CloseCode::from(code))));
                }
                ctx.stop();
            }
            Command::Kill => ctx.stop(),
        }
    }
}

/// Writes `parts` as continuation frames: first, continue…, last.
fn write_fragments(ctx: &mut WebsocketContext<Session>, text: bool, mut parts: Vec<Bytes>) {
    while parts.len() < 2 {
        parts.push(Bytes::new());
    }
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        let item = match i {
            0 if text => Item::FirstText(part),
            0 => Item::FirstBinary(part),
            i if i == last => Item::Last(part),
            _ => Item::Continue(part),
        };
        ctx.write_raw(Message::Continuation(item));
    }
}
