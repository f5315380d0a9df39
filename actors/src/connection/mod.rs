//! The supervised connection actor.
//!
//! `ConnectionActor` runs under an actix [`Supervisor`](actix::Supervisor). Every failure
//! (connect error, handshake refusal, stream end, close frame, heartbeat timeout, write
//! error) is published, then the actor stops its context; the supervisor restarts it and
//! `started` waits the backoff delay before connecting again. What must outlive a
//! connection (outbox, inbox, attempt counter, subscribers, counters) lives in the
//! actor's fields, which survive restarts; what belongs to one connection lives in a
//! [`Link`], dropped with it.
//!
//! The outbound path: `handlers.rs` accepts a `Outgoing` into the [`Outbox`]; `writer.rs`
//! moves it into the socket; `reader.rs` confirms it on a Pong; `settle.rs` answers or
//! reports whatever is left when a link, a close or the actor ends.
//!
//! A supervised actor cannot stop for good while an address is alive, so the terminal
//! states `Closed` and `Failed` are dormant: the actor stays, answers every `Outgoing` with
//! an error that hands the message back, and never reconnects. Once the last address is
//! gone, it hands everything back and stops (`watch.rs`).

mod assembler;
mod attempt;
mod builder;
mod closing;
mod control;
mod dialer;
mod endpoints;
mod frame_limit;
mod handlers;
mod heartbeat;
mod inbox;
mod journal;
mod lifecycle;
mod link;
mod metrics;
mod outbound;
mod reader;
mod retry_after;
mod settle;
mod setup;
mod subscriptions;
mod task;
mod watch;
mod writer;

use std::fmt;
use std::sync::Arc;

use actix::{Actor, AsyncContext, Context, Supervised};
use tether::{Backoff, Outbox, ResiliencyConfig, StateMachine};

pub use builder::ConnectionBuilder;
pub(crate) use settle::SettleOrphans;

use self::closing::Closing;
use self::endpoints::Endpoints;
use self::inbox::Inbox;
use self::lifecycle::Attempts;
use self::link::Link;
use self::metrics::Meter;
use self::outbound::Outbound;
use self::setup::Setup;
use self::watch::AddressWatch;
use crate::message::Orphans;
use crate::subscribers::Subscribers;
use crate::{ConnectionId, Counters, RetryPolicy};

/// One WebSocket client connection that keeps itself alive.
///
/// Build and start it with [`ConnectionActor::builder`]; talk to it with the commands in
/// [`message`](crate::message).
pub struct ConnectionActor {
    id: ConnectionId,
    /// The name given with [`ConnectionBuilder::name`], carried by events and metrics.
    name: Option<Arc<str>>,
    span: tracing::Span,
    config: ResiliencyConfig,
    /// The endpoints, their dialers and the credentials provider.
    dialer: Endpoints,
    policy: Box<dyn RetryPolicy>,
    machine: StateMachine,
    backoff: Backoff,
    attempts: Attempts,
    /// Every outbound message, from `Outgoing` to confirmation or hand-back.
    outbox: Outbox<Outbound>,
    /// The durable store of the outbox, in durable mode, and the messages' numbers.
    journal: journal::Journal,
    /// Incoming messages on their way to slow subscribers.
    inbox: Inbox,
    /// Errors of batch messages whose sender stopped waiting, to report as undelivered.
    orphans: Orphans,
    subscribers: Subscribers,
    counters: Counters,
    /// The live connection, while Connected.
    link: Option<Link>,
    /// Incremented per attempt, so callbacks of an earlier attempt are recognised.
    generation: u64,
    /// A `Close` under way: flushing before the close frame.
    closing: Option<Closing>,
    /// Counts closes, so a deadline timer knows its own.
    close_serial: u64,
    /// What every new link writes first (`ConnectionBuilder::on_connect`).
    setup: Option<Setup>,
    /// `WaitConnected` callers, answered on Connected or on a terminal state.
    ready_waiters: Vec<tokio::sync::oneshot::Sender<Result<(), tether::ConnectionState>>>,
    mailbox_capacity: usize,
    /// Metrics (nothing without the `metrics` feature).
    meter: Meter,
}

impl ConnectionActor {
    /// Starts building a connection to `url` (`ws://`; `wss://` needs TLS support).
    ///
    /// Nothing is validated or connected until [`ConnectionBuilder::start`].
    pub fn builder(url: impl Into<String>) -> ConnectionBuilder {
        ConnectionBuilder::new(vec![url.into()])
    }

    /// Starts building a connection with several endpoints, in failover order (the
    /// first is preferred): see [`ConnectionBuilder::endpoint`] for the failover rule.
    /// An empty list is a [`BuildError::NoEndpoint`](crate::BuildError::NoEndpoint).
    pub fn builder_for<I>(urls: I) -> ConnectionBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        ConnectionBuilder::new(urls.into_iter().map(Into::into).collect())
    }

    /// This connection's id, as carried by its events.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// This connection's name, if [`ConnectionBuilder::name`] gave it one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether a link is up and its setup done: a message is written now.
    fn is_ready(&self) -> bool {
        self.link.as_ref().is_some_and(|link| !link.in_setup())
    }
}

impl Actor for ConnectionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.mailbox_capacity);
        self.inbox.attach(ctx.address().downgrade());
        ctx.spawn(AddressWatch);
        if self.machine.state().is_terminal() {
            // Dormant: the supervisor restarted a closed or failed connection.
            return;
        }
        self.resume(ctx);
    }
}

impl Supervised for ConnectionActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        // The context already dropped the task and timers of the old link.
        self.link = None;
    }
}

impl Drop for ConnectionActor {
    fn drop(&mut self) {
        self.settle_on_drop();
    }
}

impl fmt::Debug for ConnectionActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionActor")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("target", self.dialer.target())
            .field("state", &self.machine.state())
            .field("attempts", &self.machine.attempts())
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}
