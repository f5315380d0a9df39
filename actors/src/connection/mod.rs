//! The supervised connection actor.
//!
//! `ConnectionActor` runs under an actix [`Supervisor`](actix::Supervisor). Every failure
//! (connect error, handshake refusal, stream end, close frame, heartbeat timeout, write
//! error) is published, then the actor stops its context; the supervisor restarts it and
//! `started` waits the backoff delay before connecting again. What must outlive a
//! connection (buffer, attempt counter, subscribers, counters) lives in the actor's
//! fields, which survive restarts; what belongs to one connection lives in a [`Link`],
//! dropped with it.
//!
//! A supervised actor cannot stop for good while an address is alive, so the terminal
//! states `Closed` and `Failed` are dormant: the actor stays, answers every `Send` with
//! an error that hands the message back, and never reconnects.

mod assembler;
mod builder;
mod dialer;
mod frame_limit;
mod handlers;
mod heartbeat;
mod lifecycle;
mod link;
mod outbound;
mod reader;
mod retry_after;
mod subscriptions;
mod writer;

use std::fmt;
use std::time::Duration;

use actix::{Actor, Context, Supervised};
use tether::{
    Backoff, ConnectionState, MessageBuffer, ResiliencyConfig, StateMachine, UnconfirmedWindow,
};
use tokio::sync::oneshot;

pub use builder::ConnectionBuilder;

use self::dialer::Dialer;
use self::link::Link;
use self::outbound::Outbound;
use crate::subscribers::Subscribers;
use crate::{ConnectionId, Counters, DisconnectReason, RetryPolicy};

/// One WebSocket client connection that keeps itself alive.
///
/// Build and start it with [`ConnectionActor::builder`]; talk to it with the commands in
/// [`message`](crate::message).
pub struct ConnectionActor {
    id: ConnectionId,
    config: ResiliencyConfig,
    dialer: Dialer,
    policy: Box<dyn RetryPolicy>,
    machine: StateMachine,
    backoff: Backoff,
    buffer: MessageBuffer<Outbound>,
    /// Written, not yet confirmed by the server.
    window: UnconfirmedWindow<Outbound>,
    subscribers: Subscribers,
    counters: Counters,
    /// The live connection, while Connected.
    link: Option<Link>,
    /// Incremented per attempt, so callbacks of an earlier attempt are recognised.
    generation: u64,
    started_once: bool,
    mailbox_capacity: usize,
    /// A floor for the next delay (a server's `Retry-After`).
    not_before: Option<Duration>,
    next_delay: Option<Duration>,
    last_reason: Option<DisconnectReason>,
    /// `Close` arrived while Connected: flushing before the close frame.
    closing: bool,
    close_waiters: Vec<oneshot::Sender<ConnectionState>>,
    /// Incoming messages still being handed to full subscriber mailboxes; the reader
    /// pauses while any are. Survives restarts: those hand-overs finish regardless.
    deliveries_pending: usize,
    span: tracing::Span,
}

impl ConnectionActor {
    /// Starts building a connection to `url` (`ws://`; `wss://` needs TLS support).
    ///
    /// Nothing is validated or connected until [`ConnectionBuilder::start`].
    pub fn builder(url: impl Into<String>) -> ConnectionBuilder {
        ConnectionBuilder::new(url.into())
    }

    /// This connection's id, as carried by its events.
    pub fn id(&self) -> ConnectionId {
        self.id
    }
}

impl Actor for ConnectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.mailbox_capacity);
        if self.machine.state().is_terminal() {
            // Dormant: the supervisor restarted a closed or failed connection.
            return;
        }
        if self.started_once {
            self.schedule_reconnect(ctx);
        } else {
            self.started_once = true;
            self.begin_connect(ctx);
        }
    }
}

impl Supervised for ConnectionActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        // The context already dropped the reader, timers and writer of the old link.
        self.link = None;
    }
}

impl fmt::Debug for ConnectionActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionActor")
            .field("id", &self.id)
            .field("target", self.dialer.target())
            .field("state", &self.machine.state())
            .field("attempts", &self.machine.attempts())
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}
