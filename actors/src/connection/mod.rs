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
mod builder;
mod dialer;
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
mod subscriptions;
mod watch;
mod writer;

use std::fmt;
use std::sync::Arc;

use actix::{Actor, AsyncContext, Context, Supervised};
use tether::{Backoff, Outbox, ResiliencyConfig, StateMachine};

pub use builder::ConnectionBuilder;

use self::dialer::Dialer;
use self::inbox::Inbox;
use self::lifecycle::{Attempts, CloseWaiters};
use self::link::Link;
use self::metrics::Meter;
use self::outbound::Outbound;
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
    dialer: Dialer,
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
    /// `Close` arrived while Connected: flushing before the close frame.
    closing: Option<CloseWaiters>,
    mailbox_capacity: usize,
    /// Metrics (nothing without the `metrics` feature).
    meter: Meter,
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

    /// This connection's name, if [`ConnectionBuilder::name`] gave it one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
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
        // The context already dropped the reader, timers and writer of the old link.
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
