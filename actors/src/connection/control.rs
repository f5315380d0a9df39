//! The control commands: `Close` (with a code, a reason, a flush deadline), `Reopen`,
//! `Reconnect`, `WaitConnected`, and the handle's hand-overs.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix::dev::MessageResponse;
use actix::{AsyncContext, Context, Handler, MessageResult, ResponseFuture};
use tether::ConnectionState;
use tokio::sync::oneshot;

use super::closing::Closing;
use super::ConnectionActor;
use crate::message::{
    Close, CloseWith, Handover, Outgoing, OutgoingBatch, Reconnect, Reopen, WaitConnected,
};
use crate::{CloseError, DisconnectReason};

impl Handler<Close> for ConnectionActor {
    type Result = ResponseFuture<ConnectionState>;

    fn handle(&mut self, close: Close, ctx: &mut Context<Self>) -> Self::Result {
        self.begin_close(close.into(), ctx)
    }
}

impl Handler<CloseWith> for ConnectionActor {
    type Result = ResponseFuture<Result<ConnectionState, CloseError>>;

    fn handle(&mut self, close: CloseWith, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(refused) = close.validate() {
            return Box::pin(async move { Err(refused) });
        }
        let closed = self.begin_close(close, ctx);
        Box::pin(async move { Ok(closed.await) })
    }
}

impl ConnectionActor {
    /// Starts a close (or joins the one under way); the future is its terminal state.
    fn begin_close(
        &mut self,
        close: CloseWith,
        ctx: &mut Context<Self>,
    ) -> Pin<Box<dyn Future<Output = ConnectionState>>> {
        let state = self.machine.state();
        if state.is_terminal() {
            return Box::pin(async move { state });
        }
        let (tx, rx) = oneshot::channel();
        if let Some(closing) = self.closing.as_mut() {
            closing.wait(tx);
        } else {
            let (code, reason, deadline) = close.into_parts();
            self.close_serial += 1;
            let serial = self.close_serial;
            let wait = deadline.unwrap_or(self.config.close_timeout());
            let mut closing = Closing::new(
                (code, reason),
                deadline.is_some(),
                Instant::now() + wait,
                serial,
            );
            closing.wait(tx);
            self.closing = Some(closing);
            let flush = self.is_ready() || (deadline.is_some() && !self.outbox.is_empty());
            if flush {
                // The writer finishes the buffer (once a link is up, with a deadline),
                // then sends the close frame; the timer bounds how long that may take.
                if let Some(link) = self.link.as_mut() {
                    link.wake_writer();
                }
                if state == ConnectionState::Reconnecting {
                    // The application is leaving: a backoff wait could outlast the
                    // deadline, so the next attempt starts now. Later ones wait as usual.
                    self.reconnect_now(ctx);
                }
                ctx.run_later(wait, move |act, ctx| act.close_expired(serial, ctx));
            } else {
                self.finish(
                    ctx,
                    ConnectionState::Closed,
                    DisconnectReason::CloseRequested,
                );
            }
        }
        Box::pin(async move { rx.await.unwrap_or(ConnectionState::Closed) })
    }
}

impl Handler<Reopen> for ConnectionActor {
    type Result = MessageResult<Reopen>;

    fn handle(&mut self, _reopen: Reopen, ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.reopen(ctx))
    }
}

impl Handler<Reconnect> for ConnectionActor {
    type Result = MessageResult<Reconnect>;

    fn handle(&mut self, _reconnect: Reconnect, ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(self.reconnect_now(ctx))
    }
}

impl Handler<WaitConnected> for ConnectionActor {
    type Result = ResponseFuture<Result<(), ConnectionState>>;

    fn handle(&mut self, _wait: WaitConnected, _ctx: &mut Context<Self>) -> Self::Result {
        let state = self.machine.state();
        if state == ConnectionState::Connected {
            return Box::pin(async { Ok(()) });
        }
        if state.is_terminal() {
            return Box::pin(async move { Err(state) });
        }
        // Callers that stopped waiting are forgotten, so polling cannot pile them up.
        self.ready_waiters.retain(|waiter| !waiter.is_closed());
        let (tx, rx) = oneshot::channel();
        self.ready_waiters.push(tx);
        Box::pin(async move { rx.await.unwrap_or(Err(ConnectionState::Closed)) })
    }
}

impl Handler<Handover<Outgoing>> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, handover: Handover<Outgoing>, ctx: &mut Context<Self>) {
        if let Some((message, reply)) = handover.take() {
            let answer = <Self as Handler<Outgoing>>::handle(self, message, ctx);
            MessageResponse::<Self, Outgoing>::handle(answer, ctx, Some(reply));
        }
    }
}

impl Handler<Handover<OutgoingBatch>> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, handover: Handover<OutgoingBatch>, ctx: &mut Context<Self>) {
        if let Some((batch, reply)) = handover.take() {
            let answer = <Self as Handler<OutgoingBatch>>::handle(self, batch, ctx);
            MessageResponse::<Self, OutgoingBatch>::handle(answer, ctx, Some(reply));
        }
    }
}
