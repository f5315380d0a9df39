//! Transitions: connecting, failing, waiting, and the terminal states.

use std::cell::Cell;
use std::mem;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::clock::timeout;
use actix::{ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use actix_codec::Framed;
use awc::error::WsClientError;
use awc::ws::{CloseReason, Codec, Message};
use awc::{BoxedSocket, ClientResponse};
use futures_util::{SinkExt, StreamExt};
use tether::{ConnectionState, DeliveryMode};
use tokio::sync::oneshot;

use super::frame_limit::FrameLimit;
use super::link::Link;
use super::outbound::Outbound;
use super::reader::LinkReader;
use super::writer::LinkWriter;
use super::ConnectionActor;
use crate::{
    DisconnectReason, RetryDecision, SendError, StateChanged, Undelivered, UndeliveredReason,
};

/// How long a closing link may take to write its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

type Dialed = Result<Result<(ClientResponse, Framed<BoxedSocket, Codec>), WsClientError>, ()>;

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
                self.subscribers.publish_state(StateChanged {
                    connection: self.id,
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

    /// Starts one connection attempt without blocking the mailbox.
    pub(super) fn begin_connect(&mut self, ctx: &mut Context<Self>) {
        if !self.enter(ConnectionState::Connecting, None, None, 0) {
            return;
        }
        self.next_delay = None;
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
        let receiving = Rc::new(Cell::new(None));
        let noted = receiving.clone();
        let (sink, stream) = framed
            .into_map_codec(move |codec| FrameLimit::new(codec, limit, noted.clone()))
            .split();
        let reader = ctx.spawn(LinkReader::new(generation, stream));
        let heartbeat = ctx.run_interval(self.config.heartbeat_interval(), |act, ctx| {
            act.heartbeat_tick(ctx);
        });
        self.link = Some(Link::new(
            generation,
            sink,
            [reader, heartbeat],
            self.config.max_message_size(),
            receiving,
        ));
        self.counters.connects += 1;
        self.last_reason = None;
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
        let in_flight = self.window.take_all();
        let unconfirmed = in_flight.len();
        self.last_reason = Some(reason.clone());
        self.enter(
            ConnectionState::Disconnected,
            Some(reason.clone()),
            None,
            unconfirmed,
        );
        self.settle_in_flight(in_flight);
        self.release_waiting_senders();
        if self.closing {
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
                self.not_before = Some(floor);
                ctx.stop();
            }
            RetryDecision::Retry => ctx.stop(),
        }
    }

    /// Runs in `started` after a restart: enter Reconnecting and wait the backoff delay.
    pub(super) fn schedule_reconnect(&mut self, ctx: &mut Context<Self>) {
        // Attempt n (0 = first retry) is the counter before entering Reconnecting.
        let index = self.machine.attempts();
        if index == 0 {
            self.backoff.reset();
        }
        let mut delay = self.backoff.delay(index);
        if let Some(floor) = self.not_before.take() {
            delay = delay.max(floor);
        }
        if !self.enter(
            ConnectionState::Reconnecting,
            self.last_reason.clone(),
            Some(delay),
            0,
        ) {
            let attempts = self.machine.attempts();
            self.finish(
                ctx,
                ConnectionState::Failed,
                DisconnectReason::AttemptsExhausted { attempts },
            );
            return;
        }
        self.next_delay = Some(delay);
        ctx.run_later(delay, |act, ctx| act.begin_connect(ctx));
    }

    /// Enters a terminal state: the link is closed, waiting `Close` callers are
    /// answered, and every buffered message is handed back.
    pub(super) fn finish(
        &mut self,
        ctx: &mut Context<Self>,
        terminal: ConnectionState,
        reason: DisconnectReason,
    ) {
        let waiters = mem::take(&mut self.close_waiters);
        match self.link.take() {
            Some(link) => self.teardown(ctx, link, reason.close_code(), waiters, terminal),
            None => {
                for waiter in waiters {
                    let _ = waiter.send(terminal);
                }
            }
        }
        self.enter(terminal, Some(reason), None, 0);
        self.next_delay = None;
        self.closing = false;
        self.hand_back_buffer(terminal);
    }

    /// Stops reading and the heartbeat now; writes the close frame (if any) in the
    /// background, bounded by [`CLOSE_GRACE`], then drops the socket.
    fn teardown(
        &mut self,
        ctx: &mut Context<Self>,
        link: Link,
        close_code: Option<u16>,
        waiters: Vec<oneshot::Sender<ConnectionState>>,
        outcome: ConnectionState,
    ) {
        ctx.cancel_future(link.reader);
        ctx.cancel_future(link.heartbeat);
        let mut sink = link.sink;
        let span = self.span.clone();
        actix::spawn(async move {
            if let Some(code) = close_code {
                let frame = Message::Close(Some(CloseReason {
                    code: code.into(),
                    description: None,
                }));
                let written = timeout(CLOSE_GRACE, async {
                    sink.send(frame).await?;
                    sink.close().await
                })
                .await;
                tracing::debug!(parent: &span, code, ok = matches!(written, Ok(Ok(()))), "close frame");
            }
            drop(sink);
            for waiter in waiters {
                let _ = waiter.send(outcome);
            }
        });
    }

    /// The link died with these messages written but unconfirmed (oldest first).
    fn settle_in_flight(&mut self, in_flight: Vec<Outbound>) {
        self.counters.unconfirmed += in_flight.len() as u64;
        match self.config.delivery() {
            DeliveryMode::AtLeastOnce => {
                // Back to the front, in order: written again before anything newer.
                for mut item in in_flight.into_iter().rev() {
                    item.mark_resend();
                    self.buffer.push_front(item);
                }
            }
            _ => {
                for item in in_flight {
                    if let Some(payload) = item.reject(SendError::Unconfirmed) {
                        self.publish_undelivered(payload, UndeliveredReason::Unconfirmed);
                    }
                }
            }
        }
    }

    /// Messages whose senders wait for a write stay buffered for the next connection;
    /// their senders learn that now.
    fn release_waiting_senders(&mut self) {
        let mut released = 0;
        self.buffer.for_each_mut(|item| {
            released += u64::from(item.release_as_buffered());
        });
        self.counters.buffered += released;
    }

    fn hand_back_buffer(&mut self, terminal: ConnectionState) {
        let (error, why): (fn(_) -> SendError, _) = if terminal == ConnectionState::Closed {
            (SendError::Closed, UndeliveredReason::Closed)
        } else {
            (SendError::Failed, UndeliveredReason::Failed)
        };
        let items: Vec<_> = self.buffer.drain().collect();
        for item in items {
            self.counters.undelivered += 1;
            if let Some(payload) = item.reject(error) {
                self.publish_undelivered(payload, why);
            }
        }
    }

    /// Hands a message nobody waits for to the undelivered subscribers.
    pub(super) fn publish_undelivered(
        &mut self,
        payload: crate::Payload,
        reason: UndeliveredReason,
    ) {
        let bytes = payload.len();
        let received = self.subscribers.publish_undelivered(Undelivered {
            connection: self.id,
            payload,
            reason,
        });
        if !received {
            // Still not silent: no subscriber asked for these, so the log says it.
            tracing::warn!(parent: &self.span, ?reason, bytes, "message not delivered and no undelivered subscriber");
        }
    }
}
