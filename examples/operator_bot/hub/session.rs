//! One bot's WebSocket session on the hub.

use std::collections::VecDeque;
use std::mem;

use actix::{Actor, ActorContext, AsyncContext, Handler, Message, StreamHandler};
use actix_web_actors::ws;

use super::{lock, Mode, Shared, State};
use crate::protocol::{decode, encode, Register};

/// Ends a session at once: TCP closed, no close frame.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub(super) struct Kick;

/// The hub's end of one bot connection.
///
/// While the hub plays dead ([`Mode::Silent`]) the session behaves like a hung process:
/// it answers nothing and reads nothing, so frames wait (here in `held`, standing in
/// for the socket's buffers) and are read, in order, once the hub wakes up. Pings
/// held that long are answered far too late: the bot's heartbeat has given up by then,
/// and what it sent before hanging up is read from the bot's backlog on waking.
#[derive(Debug)]
pub(super) struct Session {
    /// Registry key, set in `started`.
    id: u64,
    bot: String,
    shared: Shared,
    /// Frames that arrived while the hub played dead, oldest first.
    held: VecDeque<ws::Message>,
    /// The open tasks are still to be (re)sent: the session began while the hub
    /// played dead.
    greet: bool,
    /// Killed by the hub: what it held dies with it, as with a killed process.
    kicked: bool,
    /// The bot registered on this connection.
    registered: bool,
}

impl Session {
    pub(super) fn new(bot: String, shared: Shared) -> Self {
        Self {
            id: 0,
            bot,
            shared,
            held: VecDeque::new(),
            greet: true,
            kicked: false,
            registered: false,
        }
    }

    /// Whether `text` is this connection's registration (not an event). An event
    /// before the registration is counted as a violation.
    fn register(&mut self, text: &str, state: &mut State) -> bool {
        if let Ok(register) = decode::<Register>(text) {
            if register.bot == self.bot && !self.registered {
                self.registered = true;
                state.registrations += 1;
            }
            return true;
        }
        if !self.registered {
            state.registration_violations += 1;
            tracing::warn!(bot = %self.bot, "hub: an event before the registration");
        }
        false
    }

    fn silent(&self) -> bool {
        lock(&self.shared).mode == Mode::Silent
    }

    /// Periodically: catch up after playing dead, then maybe a new task, a steer or a
    /// cancel.
    fn tick(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if self.silent() {
            return;
        }
        self.wake(ctx);
        let command = {
            let mut guard = lock(&self.shared);
            let state = &mut *guard;
            let record = state.bots.entry(self.bot.clone()).or_default();
            record.desk.tick(&mut state.ids, &mut state.rng)
        };
        if let Some(command) = command {
            ctx.text(encode(&command));
        }
    }

    /// Not (or no longer) playing dead: greet and read what was held.
    fn wake(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if self.greet {
            self.greet = false;
            // Whatever was in flight when the last connection died may be lost either
            // way: repeat the open assignments; the bot answers for tasks it already
            // finished.
            let reassign = lock(&self.shared)
                .bots
                .entry(self.bot.clone())
                .or_default()
                .desk
                .reassignments();
            for command in reassign {
                ctx.text(encode(&command));
            }
        }
        while let Some(frame) = self.held.pop_front() {
            self.read(frame, true, ctx);
        }
    }

    /// Reads one frame; `late` if it was held while the hub played dead.
    fn read(&mut self, frame: ws::Message, late: bool, ctx: &mut ws::WebsocketContext<Self>) {
        match frame {
            ws::Message::Text(text) => self.receive(&text, late),
            ws::Message::Ping(payload) => ctx.pong(&payload),
            ws::Message::Close(reason) => {
                ctx.close(reason);
                ctx.stop();
            }
            ws::Message::Binary(_) => {
                tracing::debug!(bot = %self.bot, "hub: ignoring a binary frame");
            }
            _ => {}
        }
    }

    /// Counts one event and updates the bot's tasks.
    fn receive(&mut self, text: &str, late: bool) {
        let shared = self.shared.clone();
        let mut guard = lock(&shared);
        let state = &mut *guard;
        if self.register(text, state) {
            return;
        }
        state
            .bots
            .entry(self.bot.clone())
            .or_default()
            .receive(&self.bot, text, late);
    }
}

impl Actor for Session {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let tick = {
            let mut state = lock(&self.shared);
            state.next_session += 1;
            self.id = state.next_session;
            state.sessions.insert(self.id, ctx.address());
            state.tick
        };
        if !self.silent() {
            self.wake(ctx);
        }
        ctx.run_interval(tick, |session, ctx| session.tick(ctx));
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let shared = self.shared.clone();
        let mut guard = lock(&shared);
        let state = &mut *guard;
        state.sessions.remove(&self.id);
        if self.kicked {
            return;
        }
        // The bot hung up on a hung hub (actix-web ends the session with the TCP
        // connection): what it sent before is still read, late, once the hub wakes.
        let silent = state.mode == Mode::Silent;
        for frame in mem::take(&mut self.held) {
            if let ws::Message::Text(text) = frame {
                // Checked in this connection's order, whenever the events are counted.
                if self.register(&text, state) {
                    continue;
                }
                let record = state.bots.entry(self.bot.clone()).or_default();
                if silent {
                    record.backlog.push(text.to_string());
                } else {
                    record.receive(&self.bot, &text, true);
                }
            }
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Session {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        let Ok(frame) = frame else {
            ctx.stop();
            return;
        };
        if self.silent() {
            self.held.push_back(frame);
            return;
        }
        // Held frames first: the socket delivers in order.
        self.wake(ctx);
        self.read(frame, false, ctx);
    }
}

impl Handler<Kick> for Session {
    type Result = ();

    fn handle(&mut self, _kick: Kick, ctx: &mut Self::Context) {
        self.kicked = true;
        ctx.stop();
    }
}
