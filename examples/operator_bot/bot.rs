//! An operator bot: an actor that does the hub's tasks and streams events back through
//! its own tether [`ConnectionActor`].
//!
//! The bot never waits for the network. It hands each event to tether and records what
//! tether answered (written, buffered, refused); buffered events that tether later
//! hands back arrive as [`Undelivered`]. Events go out one at a time, in sequence order,
//! so the hub sees them in order and tether's FIFO buffer keeps that order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tether_actix::message::{self, Delivery};
use tether_actix::{
    BuildError, ConnectionActor, ConnectionState, DeliveryError, Incoming, LinkInfo, Payload,
    StateChanged, Undelivered, UndeliveredReason,
};
use tokio::sync::oneshot;

use crate::accounting::{Fate, Later, Outcomes};
use crate::protocol::{decode, encode, BotEvent, EventKind, HubCommand, Register};
use crate::timings::{humanize, Timings};
use crate::token::TokenSource;
use crate::work::Work;

/// What a bot needs to start.
#[derive(Debug, Clone)]
pub(crate) struct BotSettings {
    /// Its name, also the last segment of its URL.
    pub(crate) name: String,
    /// The hub's base URLs, `ws://HOST:PORT`, primary port first: the bot's endpoints.
    pub(crate) hub_urls: Vec<String>,
    /// The hub's secret: with it, the bot fetches a fresh connect token before every
    /// connect. Without it, the handshake carries no token.
    pub(crate) token: Option<String>,
    /// Seeds the backoff jitter and the task lengths.
    pub(crate) seed: u64,
    /// Connection settings and pace.
    pub(crate) timings: Timings,
    /// The directory of its durable outbox, if it keeps one (named after the bot).
    pub(crate) durable: Option<std::path::PathBuf>,
}

/// A started bot: its actor and its connection.
#[derive(Debug, Clone)]
pub(crate) struct BotHandle {
    /// The bot's name.
    pub(crate) name: String,
    /// The bot actor.
    pub(crate) bot: Addr<Bot>,
    /// Its connection, for status queries.
    pub(crate) connection: Addr<ConnectionActor>,
}

/// Stop producing, let every event get its answer, then close the connection. Answers
/// with the state `Close` ended in (`None`: the connection actor was gone).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<ConnectionState>")]
pub(crate) struct Shutdown;

/// Asks for the bot's record of its run.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "BotRecord")]
pub(crate) struct GetRecord;

/// What a bot recorded about its run.
#[derive(Debug, Clone, Default)]
pub(crate) struct BotRecord {
    /// The fate of every event.
    pub(crate) outcomes: Outcomes,
    /// Every state its connection entered, and when.
    pub(crate) transitions: Vec<(Instant, ConnectionState)>,
    /// Every connect: when, and to which endpoint (0: the hub's primary port).
    pub(crate) connects: Vec<(Instant, usize)>,
    /// The longest wait for tether to answer a `Outgoing`.
    pub(crate) longest_send_wait: Duration,
    /// Tasks completed.
    pub(crate) completed: u64,
}

/// The bot actor. See the module docs.
#[derive(Debug)]
pub(crate) struct Bot {
    name: String,
    connection: Addr<ConnectionActor>,
    timings: Timings,
    rng: StdRng,
    work: Work,
    /// Events produced, not yet handed to tether.
    outbox: VecDeque<BotEvent>,
    /// When the `Outgoing` now waiting for tether's answer was made.
    in_flight: Option<Instant>,
    producing: bool,
    /// Told once the outbox is empty and nothing is in flight, after `Shutdown`.
    drained: Option<oneshot::Sender<()>>,
    outcomes: Outcomes,
    transitions: Vec<(Instant, ConnectionState)>,
    connects: Vec<(Instant, usize)>,
    longest_send_wait: Duration,
}

impl Bot {
    /// Starts a bot and its connection on the current arbiter.
    pub(crate) fn start(settings: BotSettings) -> Result<BotHandle, BuildError> {
        // The connection needs the bot's address for its subscriptions, before the bot
        // exists: create the context first, start the actor in it last.
        let context = Context::<Bot>::new();
        let me = context.address();
        let urls = settings
            .hub_urls
            .iter()
            .map(|hub| format!("{hub}/bots/{}", settings.name));
        let timings = settings.timings.clone();
        let mut builder = ConnectionActor::builder_for(urls)
            .name(settings.name.as_str())
            .configure(|config| timings.connection(config))
            .seed(settings.seed)
            .on_state(me.clone().recipient())
            .on_incoming(me.clone().recipient())
            .on_undelivered(me.recipient())
            .on_connect({
                // On every connect, before anything buffered: tell the hub who this is.
                let bot = settings.name.clone();
                move |link: &LinkInfo| {
                    let register = Register {
                        bot: bot.clone(),
                        link: link.link,
                    };
                    vec![Payload::from(encode(&register))]
                }
            });
        if let Some(secret) = &settings.token {
            builder = builder.credentials(TokenSource::new(secret.clone()).provider());
        }
        if let Some(dir) = &settings.durable {
            builder = builder.name(settings.name.clone()).durable(dir);
        }
        let connection = builder.start()?.into_addr();
        let bot = Bot {
            name: settings.name.clone(),
            connection: connection.clone(),
            timings,
            rng: StdRng::seed_from_u64(settings.seed),
            work: Work::default(),
            outbox: VecDeque::new(),
            in_flight: None,
            producing: true,
            drained: None,
            outcomes: Outcomes::default(),
            transitions: Vec::new(),
            connects: Vec::new(),
            longest_send_wait: Duration::ZERO,
        };
        Ok(BotHandle {
            name: settings.name,
            bot: context.run(bot),
            connection,
        })
    }

    /// Queues an event for the hub.
    fn emit(&mut self, kind: EventKind, ctx: &mut Context<Self>) {
        if !self.producing {
            return;
        }
        let seq = self.outcomes.issue();
        self.outbox.push_back(BotEvent { seq, kind });
        self.pump(ctx);
    }

    /// Hands the next event to tether, unless one is already waiting for its answer.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight.is_some() {
            return;
        }
        let Some(event) = self.outbox.pop_front() else {
            if !self.producing {
                if let Some(drained) = self.drained.take() {
                    let _ = drained.send(());
                }
            }
            return;
        };
        self.in_flight = Some(Instant::now());
        let seq = event.seq;
        let send = self
            .connection
            .send(message::Outgoing::text(encode(&event)));
        // `spawn`, not `wait`: hub commands and state changes keep being handled while
        // tether writes.
        ctx.spawn(send.into_actor(self).map(move |reply, bot, ctx| {
            if let Some(since) = bot.in_flight.take() {
                bot.longest_send_wait = bot.longest_send_wait.max(since.elapsed());
            }
            bot.settle(seq, reply);
            bot.pump(ctx);
        }));
    }

    /// Records tether's answer to the `Outgoing` of event `seq`.
    fn settle(&mut self, seq: u64, reply: Result<Result<Delivery, DeliveryError>, MailboxError>) {
        let fate = match reply {
            Ok(Ok(Delivery::Sent | Delivery::Confirmed)) => Fate::Written,
            // Buffered, or any acceptance added to tether later: its fate is settled at
            // the end, from tether's buffer and counters.
            Ok(Ok(_)) => Fate::Buffered,
            Ok(Err(DeliveryError::BufferFull { .. })) => {
                tracing::debug!(bot = %self.name, seq, "buffer full: event refused");
                Fate::Rejected
            }
            Ok(Err(DeliveryError::Unconfirmed(_))) => Fate::Unconfirmed,
            Ok(Err(error)) => {
                tracing::warn!(bot = %self.name, seq, %error, "event handed back");
                Fate::NotSent
            }
            Err(error) => {
                tracing::error!(bot = %self.name, seq, %error, "connection actor gone");
                Fate::Unknown
            }
        };
        self.outcomes.answered(seq, fate);
    }

    fn on_command(&mut self, command: HubCommand, ctx: &mut Context<Self>) {
        tracing::debug!(bot = %self.name, ?command, "command");
        for event in self.work.command(command, &mut self.rng) {
            self.emit(event, ctx);
        }
    }
}

impl Actor for Bot {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Tether buffers while the link is down, so the work goes on regardless.
        ctx.run_interval(self.timings.work_tick, |bot, ctx| {
            if let Some(event) = bot.work.step() {
                bot.emit(event, ctx);
            }
        });
        ctx.run_interval(self.timings.bot_heartbeat, |bot, ctx| {
            let task_id = bot.work.current();
            bot.emit(EventKind::Heartbeat { task_id }, ctx);
        });
    }
}

impl Handler<StateChanged> for Bot {
    type Result = ();

    fn handle(&mut self, change: StateChanged, _ctx: &mut Context<Self>) {
        self.transitions.push((change.at, change.to));
        if change.to == ConnectionState::Connected {
            self.connects.push((change.at, change.endpoint.index));
        }
        // Entering Reconnecting repeats the reason of the Disconnected just before.
        let reason = change
            .reason
            .as_ref()
            .filter(|_| change.to != ConnectionState::Reconnecting)
            .map(|reason| format!(": {reason}"))
            .unwrap_or_default();
        let delay = change
            .next_delay
            .map(|delay| format!(", next try in {}", humanize(delay)))
            .unwrap_or_default();
        let line = format!(
            "{}: {} → {} (endpoint {}){reason}{delay}",
            self.name, change.from, change.to, change.endpoint
        );
        match change.to {
            // Every retry passes through Connecting: keep it out of the default log.
            ConnectionState::Connecting => tracing::debug!("{line}"),
            ConnectionState::Disconnected | ConnectionState::Failed => tracing::warn!("{line}"),
            _ => tracing::info!("{line} (attempt {})", change.attempt),
        }
    }
}

impl Handler<Incoming> for Bot {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, ctx: &mut Context<Self>) {
        let Some(text) = incoming.payload.as_text() else {
            tracing::warn!(bot = %self.name, "ignoring a binary message");
            return;
        };
        match decode::<HubCommand>(text) {
            Ok(command) => self.on_command(command, ctx),
            Err(error) => tracing::warn!(bot = %self.name, %error, "unreadable command"),
        }
    }
}

impl Handler<Undelivered> for Bot {
    type Result = ();

    fn handle(&mut self, undelivered: Undelivered, _ctx: &mut Context<Self>) {
        let event = undelivered
            .payload
            .as_text()
            .and_then(|text| decode::<BotEvent>(text).ok());
        let later = match undelivered.reason {
            UndeliveredReason::Unconfirmed => Some(Later::Unconfirmed),
            UndeliveredReason::Closed | UndeliveredReason::Failed | UndeliveredReason::Evicted => {
                Some(Later::NotSent)
            }
            // A reason added to tether later: the reconciliation will flag the event.
            _ => None,
        };
        match (event, later) {
            (Some(event), Some(later)) => {
                tracing::debug!(bot = %self.name, seq = event.seq, reason = ?undelivered.reason, "event handed back");
                self.outcomes.reported(event.seq, later);
            }
            _ => self.outcomes.surprises.push(format!(
                "an undelivered message not understood ({:?})",
                undelivered.reason
            )),
        }
    }
}

impl Handler<Shutdown> for Bot {
    type Result = ResponseFuture<Option<ConnectionState>>;

    fn handle(&mut self, _shutdown: Shutdown, ctx: &mut Context<Self>) -> Self::Result {
        self.producing = false;
        let (drained, wait) = oneshot::channel();
        self.drained = Some(drained);
        self.pump(ctx); // answers at once when nothing is left
        let connection = self.connection.clone();
        Box::pin(async move {
            // Dropped unanswered only if the bot stops; closing is right either way.
            let _ = wait.await;
            connection.send(message::Close).await.ok()
        })
    }
}

impl Handler<GetRecord> for Bot {
    type Result = MessageResult<GetRecord>;

    fn handle(&mut self, _query: GetRecord, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(BotRecord {
            outcomes: self.outcomes.clone(),
            transitions: self.transitions.clone(),
            connects: self.connects.clone(),
            longest_send_wait: self.longest_send_wait,
            completed: self.work.completed,
        })
    }
}
