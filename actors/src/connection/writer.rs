//! The writer: moves buffered messages and control frames into the socket.
//!
//! actix's `SinkWrite` queues without bound and cannot say what was written when a link
//! dies. This writer takes one message at a time from the bounded buffer, only when the
//! socket is ready for it, and answers its sender once the socket accepted it; anything
//! not yet taken stays in the buffer for the next connection.

use std::pin::Pin;
use std::task::{self, Poll};

use actix::{ActorFuture, Context};
use awc::error::WsProtocolError;
use futures_util::SinkExt as _;

use super::{link, ConnectionActor};
use crate::DisconnectReason;

/// The writer task of one link; ends when the link does.
#[derive(Debug)]
pub(super) struct LinkWriter {
    generation: u64,
}

impl LinkWriter {
    pub(super) fn new(generation: u64) -> Self {
        Self { generation }
    }
}

impl ActorFuture<ConnectionActor> for LinkWriter {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut ConnectionActor,
        ctx: &mut Context<ConnectionActor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        let step = act.write_ready(self.generation, task);
        if matches!(step, Step::Waiting | Step::Idle) {
            // Something may have entered the unconfirmed window.
            act.arm_confirm(ctx);
        }
        match step {
            Step::Waiting => Poll::Pending,
            Step::Idle if act.closing => {
                if act.window.is_empty() {
                    // Everything buffered before `Close` is written and confirmed: now
                    // the close frame.
                    act.finish(
                        ctx,
                        tether::ConnectionState::Closed,
                        DisconnectReason::CloseRequested,
                    );
                    return Poll::Ready(());
                }
                // Ask the server to confirm the rest; its Pong wakes this writer.
                if act.window.unchecked() > 0 {
                    if let Some(link) = act.link.as_mut() {
                        link.pending_ping = true;
                    }
                    task.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Step::Idle => Poll::Pending,
            Step::Gone => Poll::Ready(()),
            Step::Failed(error) => {
                act.fail(
                    ctx,
                    DisconnectReason::WriteFailed {
                        message: error.to_string(),
                    },
                );
                Poll::Ready(())
            }
        }
    }
}

enum Step {
    /// Everything is written and flushed.
    Idle,
    /// The socket is busy; it wakes the writer when it can take more.
    Waiting,
    /// The link this writer belonged to is gone.
    Gone,
    Failed(WsProtocolError),
}

impl ConnectionActor {
    fn write_ready(&mut self, generation: u64, task: &mut task::Context<'_>) -> Step {
        let Self {
            link,
            buffer,
            window,
            counters,
            span,
            ..
        } = self;
        let Some(link) = link::current(link, generation) else {
            return Step::Gone;
        };
        // New messages and control frames wake this task through it.
        if !link
            .writer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(task.waker()))
        {
            link.writer_waker = Some(task.waker().clone());
        }
        // A full window pauses data (not control frames) until a Pong makes room.
        while link.has_control() || (!buffer.is_empty() && !window.is_full()) {
            match link.sink.poll_ready_unpin(task) {
                Poll::Pending => return Step::Waiting,
                Poll::Ready(Err(error)) => return Step::Failed(error),
                Poll::Ready(Ok(())) => {}
            }
            if let Some(frame) = link.take_control(window) {
                if let Err(error) = link.sink.start_send_unpin(frame) {
                    return Step::Failed(error);
                }
                continue;
            }
            let Some(mut item) = buffer.pop_front() else {
                break;
            };
            if let Err(error) = link.sink.start_send_unpin(item.payload().to_frame()) {
                // Not written: it stays first in line for the next connection.
                buffer.push_front(item);
                return Step::Failed(error);
            }
            counters.sent += 1;
            counters.flushed += u64::from(item.was_buffered() && !item.is_resend());
            counters.resent += u64::from(item.is_resend());
            tracing::trace!(parent: &*span, bytes = item.payload().len(), "message written");
            item.written();
            window.record(item);
            // Half a window (or a full one) without a confirmation ping: ask now, not at
            // the next interval, so the window keeps moving.
            if window.unchecked().saturating_mul(2) >= window.max_len() || window.is_full() {
                link.pending_ping = true;
            }
        }
        match link.sink.poll_flush_unpin(task) {
            Poll::Ready(Ok(())) => Step::Idle,
            Poll::Pending => Step::Waiting,
            Poll::Ready(Err(error)) => Step::Failed(error),
        }
    }
}
