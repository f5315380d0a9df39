//! The hub: an actix-web WebSocket server that hands tasks to bots, counts what they
//! report, and misbehaves on request (see [`chaos`]).
//!
//! It listens on two ports, the primary and the backup, with the same routes:
//! - `GET /token`: a fresh connect token (see [`tokens`]);
//! - `GET /bots/{name}`: the WebSocket of bot `name`;
//! - `GET /stats`: what the hub has seen, as JSON ([`HubStats`]).
//!
//! When the hub has a secret, `/token` and `/stats` want `Authorization: Bearer
//! <secret>`, and `/bots/{name}` wants `Authorization: Bearer <connect token>`, a
//! token from `/token` not used before; 401 otherwise.

pub(crate) mod chaos;
mod dispatch;
mod ledger;
mod server;
mod session;
mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix::Addr;
use actix_web::dev::ServerHandle;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

pub(crate) use self::chaos::{Misbehaved, Misbehaviour};
use self::dispatch::{Desk, TaskIds};
use self::ledger::Ledger;
pub(crate) use self::ledger::Tally;
use self::session::{Kick, Session};
use self::tokens::Tokens;
use crate::protocol::{decode, BotEvent};

/// How long a restart retries binding its old port before giving up.
const REBIND_DEADLINE: Duration = Duration::from_secs(5);
/// How long a stop waits for every session to be gone.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// How the hub is set up.
#[derive(Debug, Clone)]
pub(crate) struct HubConfig {
    /// Where the primary port listens; port 0 picks a free one.
    pub(crate) listen: SocketAddr,
    /// Where the backup port listens; port 0 picks a free one.
    pub(crate) backup: SocketAddr,
    /// The secret that `/token` and `/stats` want, if any; with it, every WebSocket
    /// handshake needs a fresh connect token.
    pub(crate) token: Option<String>,
    /// Seeds the hub's choices (prompts, steers, cancels).
    pub(crate) seed: u64,
    /// How often each session considers sending the bot something.
    pub(crate) tick: Duration,
}

/// How the hub treats connections right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Normal service.
    Serving,
    /// Playing dead, like a hung process: handshakes still succeed and TCP stays
    /// open, but nothing is answered (not even pings) and nothing is read until the
    /// hub wakes up.
    Silent,
    /// New handshakes at the primary port are refused with 503 (the backup serves).
    Refusing,
}

/// What the hub knows about one bot.
#[derive(Debug, Default)]
struct BotRecord {
    ledger: Ledger,
    desk: Desk,
    /// Events that arrived on connections the bot gave up while the hub played dead:
    /// read when it wakes up.
    backlog: Vec<String>,
}

impl BotRecord {
    /// Counts one event of bot `name` and updates its tasks; `late` if it waited
    /// unread while the hub played dead.
    fn receive(&mut self, name: &str, text: &str, late: bool) {
        let event = match decode::<BotEvent>(text) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(bot = name, %error, "hub: unreadable event");
                return;
            }
        };
        if !self.ledger.record(event.seq, late) {
            tracing::warn!(bot = name, seq = event.seq, "hub: duplicate event");
        }
        self.desk.observe(&event.kind);
    }
}

/// Everything the server, its sessions and the chaos schedule share.
#[derive(Debug)]
struct State {
    mode: Mode,
    token: Option<String>,
    tick: Duration,
    /// Per port (0: primary, 1: backup), while it listens.
    servers: [Option<ServerHandle>; 2],
    sessions: HashMap<u64, Addr<Session>>,
    /// The sessions that came in through each port (some may have ended).
    by_port: [Vec<Addr<Session>>; 2],
    /// Handshakes accepted per port.
    port_handshakes: [u64; 2],
    tokens: Tokens,
    next_session: u64,
    bots: BTreeMap<String, BotRecord>,
    ids: TaskIds,
    rng: StdRng,
    misbehaved: Vec<Misbehaved>,
    handshakes: u64,
    refused: u64,
    unauthorized: u64,
    registrations: u64,
    registration_violations: u64,
}

type Shared = Arc<Mutex<State>>;

/// Locks the state. A panic while holding the lock cannot leave it inconsistent in a
/// way that matters here (counters only), so poisoning is ignored.
fn lock(shared: &Mutex<State>) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running hub. Cheap to clone; all clones control the same server.
#[derive(Debug, Clone)]
pub(crate) struct Hub {
    shared: Shared,
    /// Primary, backup.
    addrs: [SocketAddr; 2],
}

/// What the hub has seen, served as JSON by `GET /stats`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct HubStats {
    /// Per bot, by name.
    pub(crate) bots: BTreeMap<String, BotStats>,
    /// WebSocket sessions open now.
    pub(crate) open_sessions: usize,
    /// Handshakes accepted.
    pub(crate) handshakes: u64,
    /// Handshakes refused with 503.
    pub(crate) refused: u64,
    /// Requests refused with 401.
    pub(crate) unauthorized: u64,
    /// Handshakes accepted at the primary and at the backup port.
    #[serde(default)]
    pub(crate) port_handshakes: [u64; 2],
    /// Connect tokens issued by `/token`.
    #[serde(default)]
    pub(crate) tokens_issued: u64,
    /// Handshakes that presented a fresh connect token (when the hub has a secret).
    #[serde(default)]
    pub(crate) tokens_redeemed: u64,
    /// Handshakes refused for a missing, used or expired connect token.
    #[serde(default)]
    pub(crate) tokens_refused: u64,
    /// Tasks assigned in all.
    pub(crate) tasks_issued: u64,
    /// Bot registrations (one per connection on which the bot's setup arrived).
    #[serde(default)]
    pub(crate) registrations: u64,
    /// Events that arrived on a connection before its registration: 0, since
    /// tether writes the setup before anything buffered.
    #[serde(default)]
    pub(crate) registration_violations: u64,
}

/// What the hub has seen from one bot.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BotStats {
    /// Its events, by sequence number.
    pub(crate) events: Tally,
    /// Tasks it reported complete.
    pub(crate) completed: u64,
    /// Tasks it reported failed or cancelled.
    pub(crate) failed: u64,
}

impl Hub {
    /// Binds `config.listen` and starts serving. Call inside a running actix system.
    pub(crate) fn start(config: HubConfig) -> io::Result<Hub> {
        let shared = Arc::new(Mutex::new(State {
            mode: Mode::Serving,
            token: config.token,
            tick: config.tick,
            servers: [None, None],
            sessions: HashMap::new(),
            by_port: [Vec::new(), Vec::new()],
            port_handshakes: [0, 0],
            tokens: Tokens::default(),
            next_session: 0,
            bots: BTreeMap::new(),
            ids: TaskIds::default(),
            rng: StdRng::seed_from_u64(config.seed),
            misbehaved: Vec::new(),
            handshakes: 0,
            refused: 0,
            unauthorized: 0,
            registrations: 0,
            registration_violations: 0,
        }));
        let (primary, handle) = server::launch(shared.clone(), config.listen, 0)?;
        lock(&shared).servers[0] = Some(handle);
        let (backup, handle) = server::launch(shared.clone(), config.backup, 1)?;
        lock(&shared).servers[1] = Some(handle);
        Ok(Hub {
            shared,
            addrs: [primary, backup],
        })
    }

    /// The primary port's address (the same across restarts).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The base URLs of both ports, primary first: the bots' endpoints.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.addrs
            .iter()
            .map(|addr| format!("ws://{addr}"))
            .collect()
    }

    /// A snapshot of what the hub has seen.
    pub(crate) fn stats(&self) -> HubStats {
        snapshot(&lock(&self.shared))
    }

    /// Every misbehaviour so far, in order.
    pub(crate) fn misbehaved(&self) -> Vec<Misbehaved> {
        lock(&self.shared).misbehaved.clone()
    }

    /// Switches how new and open connections are treated. Waking up from
    /// [`Mode::Silent`] reads what bots sent on connections they have given up since.
    pub(crate) fn set_mode(&self, mode: Mode) {
        let mut state = lock(&self.shared);
        let was = mem::replace(&mut state.mode, mode);
        if was == Mode::Silent && mode != Mode::Silent {
            for (name, record) in &mut state.bots {
                for text in mem::take(&mut record.backlog) {
                    record.receive(name, &text, true);
                }
            }
        }
    }

    /// Drops every connection that came in through `port` (0: primary, 1: backup).
    pub(crate) fn drop_port(&self, port: usize) -> usize {
        let sessions = {
            let mut state = lock(&self.shared);
            let Some(list) = state.by_port.get_mut(port) else {
                return 0;
            };
            list.retain(Addr::connected);
            list.clone()
        };
        for session in &sessions {
            session.do_send(Kick);
        }
        sessions.len()
    }

    /// Drops every open connection abruptly: TCP closed, no close frame.
    pub(crate) fn drop_all(&self) -> usize {
        let sessions: Vec<_> = lock(&self.shared).sessions.values().cloned().collect();
        for session in &sessions {
            session.do_send(Kick);
        }
        sessions.len()
    }

    /// Stops the server on both ports (dropping every connection), stays down for
    /// `down`, then listens again on the same ports.
    pub(crate) async fn restart(&self, down: Duration) -> io::Result<()> {
        self.stop().await;
        actix::clock::sleep(down).await;
        for (port, &addr) in self.addrs.iter().enumerate() {
            let deadline = Instant::now() + REBIND_DEADLINE;
            loop {
                match server::launch(self.shared.clone(), addr, port) {
                    Ok((_, handle)) => {
                        lock(&self.shared).servers[port] = Some(handle);
                        break;
                    }
                    // The old listener may take a moment to be released.
                    Err(error) if Instant::now() < deadline => {
                        tracing::debug!(%error, "rebinding {addr}; retrying");
                        actix::clock::sleep(Duration::from_millis(20)).await;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(())
    }

    /// Stops listening and drops every open connection; returns once they are gone
    /// (or after a few seconds).
    pub(crate) async fn stop(&self) {
        self.drop_all();
        let handles = lock(&self.shared).servers.each_mut().map(Option::take);
        for handle in handles.into_iter().flatten() {
            // Not graceful: a graceful stop would wait for WebSocket sessions, which
            // never end by themselves.
            handle.stop(false).await;
        }
        let deadline = Instant::now() + DRAIN_DEADLINE;
        while !lock(&self.shared).sessions.is_empty() && Instant::now() < deadline {
            actix::clock::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Records a misbehaviour for the summary and the timeline.
    fn record(&self, what: Misbehaviour, from: Instant) {
        let to = Instant::now();
        lock(&self.shared)
            .misbehaved
            .push(Misbehaved { what, from, to });
    }
}

/// What the hub has seen, from its state.
fn snapshot(state: &State) -> HubStats {
    HubStats {
        bots: state
            .bots
            .iter()
            .map(|(name, record)| {
                let stats = BotStats {
                    events: record.ledger.tally(),
                    completed: record.desk.completed,
                    failed: record.desk.failed,
                };
                (name.clone(), stats)
            })
            .collect(),
        open_sessions: state.sessions.len(),
        handshakes: state.handshakes,
        refused: state.refused,
        unauthorized: state.unauthorized,
        port_handshakes: state.port_handshakes,
        tokens_issued: state.tokens.issued,
        tokens_redeemed: state.tokens.redeemed,
        tokens_refused: state.tokens.refused,
        tasks_issued: state.ids.issued(),
        registrations: state.registrations,
        registration_violations: state.registration_violations,
    }
}
