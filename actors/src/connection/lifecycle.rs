//! Transitions: connecting, failing, waiting, and the terminal states.

use std::cell::Cell;
use std::mem;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::clock::timeout;
use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use actix_codec::Framed;
use awc::error::WsClientError;
use awc::ws::{CloseReason, Codec, Frame, Message};
use awc::{BoxedSocket, ClientResponse};
use futures_util::{SinkExt, StreamExt};
use tether::{ConnectionState, Liveness};
use tokio::sync::oneshot;

use super::assembler::Assembler;
use super::frame_limit::FrameLimit;
use super::link::Link;
use super::reader::LinkReader;
use super::writer::LinkWriter;
use super::ConnectionActor;
use crate::{DisconnectReason, RetryDecision, StateChanged};

/// How long a closing link may take to write its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

type Dialed = Result<Result<(ClientResponse, Framed<BoxedSocket, Codec>), WsClientError>, ()>;

/// Callers of `Close` waiting for the terminal state.
pub(super) type CloseWaiters = Vec<oneshot::Sender<ConnectionState>>;

/// What the actor remembers between attempts (it survives restarts).
#[derive(Debug, Default)]
pub(super) struct Attempts {
    started_once: bool,
    /// A floor for the next delay (a server's `Retry-After`).
    not_before: Option<Duration>,
    /// The delay of the pending reconnect, while Reconnecting.
    next_delay: Option<Duration>,
    /// Why the last link or attempt failed, for the Reconnecting event.
    last_reason: Option<DisconnectReason>,
}

impl Attempts {
    pub(super) fn next_delay(&self) -> Option<Duration> {
        self.next_delay
    }
}

impl ConnectionActor {
    /// Moves the state machine and publishes the transition; `false` if it was refused.
    pub(super) fn enter(
        &mut self,
        to: ConnectionState,
        reason: Option<DisconnectReason>,
        next_delay: Option<Duration>,
        unconfirmed: usize,
    ) -> bool {
        let at = Instant::now();
        match self.machine.transition(to, at) {
            Ok(transition) => {
                tracing::info!(
                    parent: &self.span,
                    from = %transition.from,
                    to = %transition.to,
                    attempt = transition.attempt,
                    reason = reason.as_ref().map(tracing::field::display),
                    next_delay = next_delay.map(tracing::field::debug),
                    unconfirmed,
                    "state changed"
                );
                self.meter.state(transition.to, reason.as_ref(), at);
                self.sync_meter();
                self.subscribers.publish_state(StateChanged {
                    connection: self.id,
                    name: self.name.clone(),
                    from: transition.from,
                    to: transition.to,
                    attempt: transition.attempt,
                    reason,
                    next_delay,
                    unconfirmed,
                    at,
                });
                true
            }
            Err(refused) => {
                tracing::debug!(parent: &self.span, %refused, "transition refused");
                false
            }
        }
    }

    /// Runs in `started`: the first connect at once, after a restart the backoff wait.
    pub(super) fn resume(&mut self, ctx: &mut Context<Self>) {
        if mem::replace(&mut self.attempts.started_once, true) {
            self.schedule_reconnect(ctx);
        } else {
            self.begin_connect(ctx);
        }
    }

    /// Starts one connection attempt without blocking the mailbox.
    pub(super) fn begin_connect(&mut self, ctx: &mut Context<Self>) {
        if !self.enter(ConnectionState::Connecting, None, None, 0) {
            return;
        }
        self.attempts.next_delay = None;
        self.generation += 1;
        let generation = self.generation;
        let request = self.dialer.request();
        // `spawn`, not `wait`: Sends keep being buffered while the handshake runs.
        let attempt = request
            .connect()
            .into_actor(self)
            .timeout(self.config.connect_timeout())
            .map(move |dialed, act, ctx| act.on_dialed(generation, dialed, ctx));
        ctx.spawn(attempt);
    }

    fn on_dialed(&mut self, generation: u64, dialed: Dialed, ctx: &mut Context<Self>) {
        if generation != self.generation || self.machine.state() != ConnectionState::Connecting {
            return; // closed meanwhile; the socket, if any, is dropped here
        }
        let timeout = self.config.connect_timeout();
        match dialed {
            Err(()) => self.fail(ctx, DisconnectReason::ConnectTimeout { after: timeout }),
            Ok(Err(error)) => {
                let reason = self.dialer.classify(error, timeout);
                self.fail(ctx, reason);
            }
            Ok(Ok((_response, framed))) => self.on_connected(generation, framed, ctx),
        }
    }

    fn on_connected(
        &mut self,
        generation: u64,
        framed: Framed<BoxedSocket, Codec>,
        ctx: &mut Context<Self>,
    ) {
        let limit = self.config.max_message_size();
        let progress = Rc::new(Cell::new(None));
        let noted = progress.clone();
        let halves = framed
            .into_map_codec(move |codec| FrameLimit::new(codec, limit, noted.clone()))
            .split();
        let reader = ctx.spawn(LinkReader::new(generation));
        self.link = Some(Link::new(
            generation,
            halves,
            reader,
            Assembler::new(limit),
            Liveness::new(&self.config, Instant::now()),
            progress,
        ));
        self.start_heartbeat(generation, ctx);
        self.counters.connects += 1;
        self.attempts.last_reason = None;
        self.enter(ConnectionState::Connected, None, None, 0);
        // The writer flushes the buffer, oldest first, before anything newer.
        ctx.spawn(LinkWriter::new(generation));
    }

    /// The failure path: publish, then retry (stop, so the supervisor restarts the
    /// actor) or give up.
    pub(super) fn fail(&mut self, ctx: &mut Context<Self>, reason: DisconnectReason) {
        if !matches!(
            self.machine.state(),
            ConnectionState::Connecting | ConnectionState::Connected
        ) {
            return; // already handled
        }
        if let Some(link) = self.link.take() {
            self.counters.disconnects += 1;
            self.teardown(
                ctx,
                link,
                reason.close_code(),
                Vec::new(),
                ConnectionState::Disconnected,
            );
        }
        self.attempts.last_reason = Some(reason.clone());
        let unconfirmed = self.outbox.unconfirmed();
        self.enter(
            ConnectionState::Disconnected,
            Some(reason.clone()),
            None,
            unconfirmed,
        );
        self.settle_lost_link();
        if self.closing.is_some() {
            self.finish(
                ctx,
                ConnectionState::Closed,
                DisconnectReason::CloseRequested,
            );
            return;
        }
        match self.policy.decide(&reason) {
            RetryDecision::GiveUp => self.finish(ctx, ConnectionState::Failed, reason),
            _ if !self.machine.should_reconnect() => {
                let attempts = self.machine.attempts();
                self.finish(
                    ctx,
                    ConnectionState::Failed,
                    DisconnectReason::AttemptsExhausted { attempts },
                );
            }
            RetryDecision::RetryNotBefore(floor) => {
                self.attempts.not_before = Some(floor);
                ctx.stop();
            }
            RetryDecision::Retry => ctx.stop(),
        }
    }

    /// Runs in `started` after a restart: enter Reconnecting and wait the backoff delay.
    fn schedule_reconnect(&mut self, ctx: &mut Context<Self>) {
        // Attempt n (0 = first retry) is the counter before entering Reconnecting.
        let index = self.machine.attempts();
        if index == 0 {
            self.backoff.reset();
        }
        let mut delay = self.backoff.delay(index);
        if let Some(floor) = self.attempts.not_before.take() {
            delay = delay.max(floor);
        }
        let reason = self.attempts.last_reason.clone();
        if !self.enter(ConnectionState::Reconnecting, reason, Some(delay), 0) {
            let attempts = self.machine.attempts();
            self.finish(
                ctx,
                ConnectionState::Failed,
                DisconnectReason::AttemptsExhausted { attempts },
            );
            return;
        }
        self.attempts.next_delay = Some(delay);
        ctx.run_later(delay, |act, ctx| act.begin_connect(ctx));
    }

    /// A requested close ran out of `close_timeout`: close now, handing back what is
    /// left.
    pub(super) fn close_expired(&mut self, ctx: &mut Context<Self>) {
        if self.closing.is_some() && !self.machine.state().is_terminal() {
            tracing::warn!(
                parent: &self.span,
                buffered = self.outbox.buffered(),
                unconfirmed = self.outbox.unconfirmed(),
                "close timed out; handing back what was not written or confirmed"
            );
            self.finish(
                ctx,
                ConnectionState::Closed,
                DisconnectReason::CloseRequested,
            );
        }
    }

    /// Enters a terminal state: the link is closed, waiting `Close` callers are
    /// answered, and every message still held is handed back.
    pub(super) fn finish(
        &mut self,
        ctx: &mut Context<Self>,
        terminal: ConnectionState,
        reason: DisconnectReason,
    ) {
        let waiters = self.closing.take().unwrap_or_default();
        match self.link.take() {
            Some(link) => self.teardown(ctx, link, reason.close_code(), waiters, terminal),
            None => {
                for waiter in waiters {
                    let _ = waiter.send(terminal);
                }
            }
        }
        let unconfirmed = self.outbox.unconfirmed();
        let ending = self.ending(&reason, terminal);
        self.enter(terminal, Some(reason), None, unconfirmed);
        self.attempts.next_delay = None;
        self.hand_back_all(ending);
    }

    /// The actor ends without `Close`: nobody holds its address any more. Everything it
    /// holds is handed back, the server is told 1001 (going away), and the actor stops
    /// for good (the supervisor restarts it only while an address is alive).
    pub(super) fn abandon(&mut self, ctx: &mut Context<Self>) {
        if !self.machine.state().is_terminal() {
            self.finish(ctx, ConnectionState::Closed, DisconnectReason::Abandoned);
        }
        self.inbox.detach(&mut self.subscribers);
        ctx.stop();
    }

    /// Stops reading now. In the background, bounded by [`CLOSE_GRACE`]: writes the
    /// close frame (if any) and waits for the server to answer it or hang up, since the
    /// server should close TCP first (RFC 6455 §7.1.1; a server may not even read a
    /// close frame followed at once by the client's FIN). Then drops the socket. The
    /// heartbeat is cancelled; the confirmation timer finds no link of its generation
    /// and ends by itself.
    fn teardown(
        &mut self,
        ctx: &mut Context<Self>,
        link: Link,
        close_code: Option<u16>,
        waiters: CloseWaiters,
        outcome: ConnectionState,
    ) {
        let (tasks, mut sink, mut stream) = link.into_parts();
        for task in tasks.into_iter().flatten() {
            ctx.cancel_future(task);
        }
        let span = self.span.clone();
        actix::spawn(async move {
            if let Some(code) = close_code {
                let frame = Message::Close(Some(CloseReason {
                    code: code.into(),
                    description: None,
                }));
                let written = timeout(CLOSE_GRACE, async {
                    sink.send(frame).await?;
                    // Whatever else the server still sends is of no use now.
                    while let Some(Ok(frame)) = stream.next().await {
                        if matches!(frame, Frame::Close(_)) {
                            break;
                        }
                    }
                    sink.close().await
                })
                .await;
                tracing::debug!(parent: &span, code, ok = matches!(written, Ok(Ok(()))), "close frame");
            }
            drop((sink, stream));
            for waiter in waiters {
                let _ = waiter.send(outcome);
            }
        });
    }
}
