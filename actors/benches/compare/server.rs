//! The echo/hub server every scenario talks to: actix-web + actix-web-actors on
//! `127.0.0.1`, one worker thread, able to stop and restart on the same port, to go
//! silent (a black-holed link: TCP open, nothing answered), and to timestamp every
//! handshake request (reconnect arrivals).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, Handler, StreamHandler};
use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws::{self, WebsocketContext, WsResponseBuilder};

/// Largest frame the server accepts (well above the 16 KiB messages of scenario 1).
const MAX_FRAME_SIZE: usize = 1024 * 1024;
/// Listen backlog: a burst of thousands of handshakes must not overflow the accept
/// queue (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: u32 = 8192;

#[derive(Debug)]
struct State {
    port: u16,
    handle: Option<ServerHandle>,
    sessions: HashMap<u64, Addr<Session>>,
    next_session: u64,
    /// When each handshake request arrived (every request to `/ws`).
    arrivals: Vec<Instant>,
}

#[derive(Debug)]
struct Shared {
    /// Black hole: sessions read everything and answer nothing, not even pings.
    silent: AtomicBool,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An echo server on `127.0.0.1`, endpoint `/ws`.
#[derive(Debug)]
pub(crate) struct BenchServer {
    shared: Arc<Shared>,
}

impl BenchServer {
    /// Starts echoing on a free port.
    pub(crate) fn start() -> Self {
        let server = Self {
            shared: Arc::new(Shared {
                silent: AtomicBool::new(false),
                state: Mutex::new(State {
                    port: 0,
                    handle: None,
                    sessions: HashMap::new(),
                    next_session: 0,
                    arrivals: Vec::new(),
                }),
            }),
        };
        server.launch(0).expect("bind 127.0.0.1:0");
        server
    }

    pub(crate) fn port(&self) -> u16 {
        self.shared.lock().port
    }

    pub(crate) fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port())
    }

    /// Black-holes every session (existing and new) or brings them back.
    pub(crate) fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Ordering::SeqCst);
    }

    pub(crate) fn open_sessions(&self) -> usize {
        self.shared.lock().sessions.len()
    }

    /// Handshake request times recorded so far, and forgets them.
    pub(crate) fn take_arrivals(&self) -> Vec<Instant> {
        std::mem::take(&mut self.shared.lock().arrivals)
    }

    /// Stops listening and drops every connection abruptly (no close frame); returns
    /// once every session is gone (or after 10 s).
    pub(crate) async fn stop(&self) {
        let (handle, sessions) = {
            let mut state = self.shared.lock();
            (
                state.handle.take(),
                state.sessions.values().cloned().collect::<Vec<_>>(),
            )
        };
        for session in sessions {
            session.do_send(Kill);
        }
        if let Some(handle) = handle {
            handle.stop(false).await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.open_sessions() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Listens again on the same port (retrying the bind for up to 5 s). Returns the
    /// instant the listening socket was bound, i.e. accepting connections.
    pub(crate) async fn resume(&self) -> Instant {
        let port = self.port();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.launch(port) {
                Ok(at) => return at,
                Err(err) if Instant::now() < deadline => {
                    let _ = err;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(err) => panic!("cannot rebind 127.0.0.1:{port}: {err}"),
            }
        }
    }

    fn launch(&self, port: u16) -> std::io::Result<Instant> {
        let data = web::Data::from(self.shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .service(web::resource("/ws").to(endpoint))
        })
        .workers(1)
        // A server that Nagles its echoes against a client that Nagles its requests
        // stalls on delayed ACKs (40 ms) at the end of every pipelined burst.
        .tcp_nodelay(true)
        .backlog(BACKLOG)
        .max_connections(50_000)
        .disable_signals()
        .shutdown_timeout(1)
        .client_disconnect_timeout(Duration::ZERO)
        .bind((Ipv4Addr::LOCALHOST, port))?;
        // `bind` has called listen(2): connections queue from here on.
        let listening = Instant::now();
        let port = server.addrs()[0].port();
        let server = server.run();
        let mut state = self.shared.lock();
        state.port = port;
        state.handle = Some(server.handle());
        actix_web::rt::spawn(server);
        Ok(listening)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let handle = {
            let mut state = self.shared.lock();
            for session in state.sessions.values() {
                session.do_send(Kill);
            }
            state.handle.take()
        };
        if let Some(handle) = handle {
            drop(handle.stop(false));
        }
    }
}

async fn endpoint(
    req: HttpRequest,
    payload: web::Payload,
    shared: web::Data<Shared>,
) -> actix_web::Result<HttpResponse> {
    let arrived = Instant::now();
    let shared = shared.into_inner();
    let id = {
        let mut state = shared.lock();
        state.arrivals.push(arrived);
        state.next_session += 1;
        state.next_session
    };
    let session = Session {
        id,
        shared: shared.clone(),
    };
    let (addr, response) = WsResponseBuilder::new(session, &req, payload)
        .frame_size(MAX_FRAME_SIZE)
        .start_with_addr()?;
    shared.lock().sessions.insert(id, addr);
    Ok(response)
}

/// Ends a session at once, without a close frame.
#[derive(Debug, Clone, Copy)]
struct Kill;

impl actix::Message for Kill {
    type Result = ();
}

#[derive(Debug)]
struct Session {
    id: u64,
    shared: Arc<Shared>,
}

impl Actor for Session {
    type Context = WebsocketContext<Self>;
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.lock().sessions.remove(&self.id);
    }
}

impl Handler<Kill> for Session {
    type Result = ();

    fn handle(&mut self, _: Kill, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Session {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let Ok(frame) = frame else {
            ctx.stop();
            return;
        };
        if self.shared.silent.load(Ordering::Relaxed) {
            return;
        }
        match frame {
            ws::Message::Text(text) => ctx.text(text),
            ws::Message::Binary(bytes) => ctx.binary(bytes),
            ws::Message::Ping(payload) => ctx.pong(&payload),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Continuation(_) | ws::Message::Pong(_) | ws::Message::Nop => {}
        }
    }
}
