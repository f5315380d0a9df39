//! Transitions: connecting, failing, waiting, and the terminal states.

use std::cell::Cell;
use std::mem;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::clock::timeout;
use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, SpawnHandle, WrapFuture};
use actix_codec::Framed;
use awc::error::WsClientError;
use awc::ws::{CloseReason, Codec, Frame, Message};
use awc::{BoxedSocket, ClientResponse};
use futures_util::{SinkExt, StreamExt};
use tether::endpoints::Choice;
use tether::{ConnectionState, Liveness};
use tokio::sync::oneshot;

use super::assembler::Assembler;
use super::attempt::Verdict;
use super::frame_limit::FrameLimit;
use super::link::Link;
use super::setup::SetupPhase;
use super::task::LinkTask;
use super::ConnectionActor;
use crate::{Credentials, DisconnectReason, LinkInfo, StateChanged};

/// How long a closing link may take to write its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

type Dialed = Result<Result<(ClientResponse, Framed<BoxedSocket, Codec>), WsClientError>, ()>;

/// Callers of `Close` waiting for the terminal state.
pub(super) type CloseWaiters = Vec<oneshot::Sender<ConnectionState>>;

/// What the actor remembers between attempts (it survives restarts).
#[derive(Debug, Default)]
pub(super) struct Attempts {
    started_once: bool,
    /// Where the next attempt goes and how long it waits (chosen on failure).
    choice: Option<Choice>,
    /// The delay of the pending reconnect, while Reconnecting.
    next_delay: Option<Duration>,
    /// Why the last link or attempt failed, for the Reconnecting event.
    last_reason: Option<DisconnectReason>,
    /// The next reconnect skips the backoff wait (`Reconnect`).
    immediate: bool,
    /// The next reconnect was asked for (`Reconnect` on a live link): not an attempt.
    requested: bool,
    /// The backoff timer, while Reconnecting (`Reconnect` cancels it).
    pending: Option<SpawnHandle>,
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
        let outcome = self.machine.transition(to, at);
        self.publish_if_accepted(outcome, reason, next_delay, unconfirmed, at)
    }

    /// Enters Reconnecting for a `Reconnect` the application asked for, without
    /// counting an attempt; `false` if the transition was refused.
    fn enter_requested_reconnect(
        &mut self,
        reason: Option<DisconnectReason>,
        delay: Duration,
    ) -> bool {
        let outcome = self.machine.reconnect_on_request();
        self.publish_if_accepted(outcome, reason, Some(delay), 0, Instant::now())
    }

    /// Publishes the transition the machine accepted; `false` if it refused it.
    fn publish_if_accepted(
        &mut self,
        outcome: Result<tether::Transition, tether::TransitionError>,
        reason: Option<DisconnectReason>,
        next_delay: Option<Duration>,
        unconfirmed: usize,
        at: Instant,
    ) -> bool {
        match outcome {
            Ok(transition) => {
                self.published(transition, reason, next_delay, unconfirmed, at);
                true
            }
            Err(refused) => {
                tracing::debug!(parent: &self.span, %refused, "transition refused");
                false
            }
        }
    }

    /// Logs, records and publishes an accepted transition; answers `WaitConnected`
    /// callers once it settles whether they get a connection.
    fn published(
        &mut self,
        transition: tether::Transition,
        reason: Option<DisconnectReason>,
        next_delay: Option<Duration>,
        unconfirmed: usize,
        at: Instant,
    ) {
        tracing::info!(
            parent: &self.span,
            from = %transition.from,
            to = %transition.to,
            attempt = transition.attempt,
            endpoint = %self.dialer.endpoint(),
            reason = reason.as_ref().map(tracing::field::display),
            next_delay = next_delay.map(tracing::field::debug),
            unconfirmed,
            "state changed"
        );
        self.meter.state(transition.to, reason.as_ref(), at);
        self.sync_meter();
        self.counters.state_events_skipped += self.subscribers.publish_state(StateChanged {
            connection: self.id,
            name: self.name.clone(),
            endpoint: self.dialer.endpoint().clone(),
            from: transition.from,
            to: transition.to,
            attempt: transition.attempt,
            reason,
            next_delay,
            unconfirmed,
            at,
            skipped: 0,
        });
        let answer = match transition.to {
            ConnectionState::Connected => Ok(()),
            terminal if terminal.is_terminal() => Err(terminal),
            _ => return,
        };
        for waiter in self.ready_waiters.drain(..) {
            let _ = waiter.send(answer);
        }
    }

    /// Runs in `started`: the first connect at once, after a restart the backoff wait.
    pub(super) fn resume(&mut self, ctx: &mut Context<Self>) {
        if let Some(closing) = &self.closing {
            // A restart dropped the timers: the close keeps its deadline.
            let serial = closing.serial();
            let left = closing.deadline().saturating_duration_since(Instant::now());
            ctx.run_later(left, move |act, ctx| act.close_expired(serial, ctx));
        }
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
        self.authenticate(generation, ctx);
    }

    /// Sends the handshake of attempt `generation`, with its credentials.
    pub(super) fn dial(
        &mut self,
        generation: u64,
        credentials: Option<Credentials>,
        ctx: &mut Context<Self>,
    ) {
        let request = match self.dialer.current_mut().request(credentials.as_ref()) {
            Ok(request) => request,
            Err(reason) => return self.fail(ctx, reason),
        };
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
                let reason = self.dialer.current().classify(error, timeout);
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
        let now = Instant::now();
        // Its writer writes the setup, then flushes the buffer, oldest first, before
        // anything newer.
        let task = ctx.spawn(LinkTask::new(generation, self.heartbeat(now)));
        self.link = Some(Link::new(
            generation,
            halves,
            task,
            Assembler::new(limit),
            Liveness::new(&self.config, now),
            progress,
        ));
        self.counters.connects += 1;
        let setup = self.setup.as_ref().and_then(|setup| {
            let info = LinkInfo {
                connection: self.id,
                name: self.name.clone(),
                link: self.counters.connects,
                attempt: self.machine.attempts(),
            };
            SetupPhase::new((setup.hook)(&info), setup.confirm, generation)
        });
        let in_setup = setup.is_some();
        if let Some(link) = self.link.take() {
            self.link = Some(link.with_setup(setup));
        }
        if in_setup {
            // Still Connecting: Connected is published once the setup is done.
            let after = self.config.setup_timeout();
            ctx.run_later(after, move |act, ctx| {
                if super::link::current(&mut act.link, generation).is_some_and(|l| l.in_setup()) {
                    let cause = Box::new(DisconnectReason::SetupTimeout { after });
                    act.fail(ctx, DisconnectReason::SetupFailed { cause });
                }
            });
        } else {
            self.link_ready();
        }
    }

    /// The link is ready for the buffer: publish Connected.
    pub(super) fn link_ready(&mut self) {
        if let Some(link) = self.link.as_mut() {
            link.end_setup();
            link.wake_writer();
        }
        self.attempts.last_reason = None;
        self.enter(ConnectionState::Connected, None, None, 0);
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
        let in_setup = self.link.as_ref().is_some_and(|link| link.in_setup());
        let reason = match reason {
            DisconnectReason::SetupFailed { .. } | DisconnectReason::ReconnectRequested => reason,
            cause if in_setup => DisconnectReason::SetupFailed {
                cause: Box::new(cause),
            },
            other => other,
        };
        if let Some(link) = self.link.take() {
            self.counters.disconnects += 1;
            let frame = reason.close_code().map(|code| CloseReason {
                code: code.into(),
                description: None,
            });
            self.teardown(ctx, link, frame, Vec::new(), ConnectionState::Disconnected);
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
        if self
            .closing
            .as_ref()
            .is_some_and(|closing| !closing.flush())
        {
            self.finish(
                ctx,
                ConnectionState::Closed,
                DisconnectReason::CloseRequested,
            );
            return;
        }
        if reason == DisconnectReason::ReconnectRequested {
            // Asked for by the application: not a failure for the policy to judge,
            // nor an attempt to count against the limit.
            self.attempts.immediate = true;
            self.attempts.requested = true;
            ctx.stop();
            return;
        }
        match self.judge(&reason) {
            Verdict::GiveUp => self.finish(ctx, ConnectionState::Failed, reason),
            Verdict::Exhausted => {
                let attempts = self.machine.attempts();
                self.finish(
                    ctx,
                    ConnectionState::Failed,
                    DisconnectReason::AttemptsExhausted { attempts },
                );
            }
            Verdict::Retry(choice) => {
                self.attempts.choice = Some(choice);
                ctx.stop();
            }
        }
    }

    /// Runs in `started` after a restart: enter Reconnecting and wait the backoff delay.
    fn schedule_reconnect(&mut self, ctx: &mut Context<Self>) {
        // Attempt n (0 = first retry) is the counter before entering Reconnecting.
        let index = self.machine.attempts();
        if index == 0 {
            self.backoff.reset();
        }
        let choice = self.attempts.choice.take();
        let mut delay = self.wait_before(choice);
        if mem::take(&mut self.attempts.immediate) {
            delay = Duration::ZERO;
        }
        let reason = self.attempts.last_reason.clone();
        let entered = if mem::take(&mut self.attempts.requested) {
            self.enter_requested_reconnect(reason, delay)
        } else {
            self.enter(ConnectionState::Reconnecting, reason, Some(delay), 0)
        };
        if !entered {
            let attempts = self.machine.attempts();
            self.finish(
                ctx,
                ConnectionState::Failed,
                DisconnectReason::AttemptsExhausted { attempts },
            );
            return;
        }
        self.attempts.next_delay = Some(delay);
        let pending = ctx.run_later(delay, |act, ctx| {
            act.attempts.pending = None;
            act.begin_connect(ctx);
        });
        self.attempts.pending = Some(pending);
    }

    /// `Reconnect`: cut the backoff wait short, or replace the live link now. Whether
    /// anything was done.
    pub(super) fn reconnect_now(&mut self, ctx: &mut Context<Self>) -> bool {
        match self.machine.state() {
            ConnectionState::Reconnecting => match self.attempts.pending.take() {
                Some(pending) => {
                    ctx.cancel_future(pending);
                    self.begin_connect(ctx);
                    true
                }
                None => false,
            },
            ConnectionState::Connected | ConnectionState::Connecting if self.link.is_some() => {
                self.fail(ctx, DisconnectReason::ReconnectRequested);
                true
            }
            ConnectionState::Disconnected => {
                // Between a failure and the restart that schedules the next attempt.
                self.attempts.immediate = true;
                true
            }
            _ => false,
        }
    }

    /// `Reopen`: a terminal connection starts over. Whether it was terminal.
    pub(super) fn reopen(&mut self, ctx: &mut Context<Self>) -> bool {
        let Ok(transition) = self.machine.reopen() else {
            return false;
        };
        self.published(transition, None, None, 0, Instant::now());
        self.backoff.reset();
        self.dialer.revive();
        self.closing = None;
        self.attempts = Attempts {
            started_once: true,
            ..Attempts::default()
        };
        self.begin_connect(ctx);
        true
    }

    /// A requested close ran out of `close_timeout`: close now, handing back what is
    /// left.
    pub(super) fn close_expired(&mut self, serial: u64, ctx: &mut Context<Self>) {
        let current = self
            .closing
            .as_ref()
            .is_some_and(|closing| closing.serial() == serial);
        if current && !self.machine.state().is_terminal() {
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
        let closing = self.closing.take();
        let frame = match &closing {
            Some(closing) if reason == DisconnectReason::CloseRequested => Some(closing.frame()),
            _ => reason.close_code().map(|code| CloseReason {
                code: code.into(),
                description: None,
            }),
        };
        let waiters = closing
            .map(|closing| closing.into_waiters())
            .unwrap_or_default();
        match self.link.take() {
            Some(link) => self.teardown(ctx, link, frame, waiters, terminal),
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
    /// link's task is cancelled; the confirmation timer finds no link of its generation
    /// and ends by itself.
    fn teardown(
        &mut self,
        ctx: &mut Context<Self>,
        link: Link,
        frame: Option<CloseReason>,
        waiters: CloseWaiters,
        outcome: ConnectionState,
    ) {
        let (task, mut sink, mut stream) = link.into_parts();
        ctx.cancel_future(task);
        let span = self.span.clone();
        actix::spawn(async move {
            if let Some(frame) = frame {
                let code = u16::from(frame.code);
                let frame = Message::Close(Some(frame));
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
