//! The writer: moves messages from the outbox and control frames into the socket.
//!
//! actix's `SinkWrite` queues without bound and cannot say what was written when a link
//! dies. This writer takes messages from the [`Outbox`](tether::Outbox) only while the
//! socket is ready for them and the unconfirmed window has room, as many as it can in
//! one poll, then flushes once; it answers each sender once the socket accepted its
//! message. Anything not yet taken stays in the outbox for the next connection.

use std::pin::Pin;
use std::task::{self, Poll};

use actix::{ActorFuture, Context};
use awc::error::WsProtocolError;

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
        // Durable mode: messages are written once on disk (the commit at the end of the
        // drain that accepted them wakes this writer); confirmed ones leave the store.
        act.journal.remove_confirmed();
        let step = act.write_ready(self.generation, task);
        act.settle_orphans();
        act.sync_meter();
        if matches!(step, Step::Waiting | Step::Idle) {
            // Something may have entered the unconfirmed window.
            act.arm_confirm(ctx);
        }
        match step {
            Step::Waiting => Poll::Pending,
            Step::Idle if act.closing.is_some() => {
                if act.outbox.is_empty() {
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
                if act.outbox.unchecked() > 0 {
                    if let Some(link) = act.link.as_mut() {
                        link.liveness().want_ping();
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
            outbox,
            counters,
            span,
            journal,
            ..
        } = self;
        let Some(link) = link::current(link, generation) else {
            return Step::Gone;
        };
        // New messages and control frames wake this task through it.
        link.park_writer(task);
        // A full window pauses data (not control frames) until a Pong makes room.
        while link.has_control() || outbox.has_writable() {
            match link.poll_ready(task) {
                Poll::Pending => return Step::Waiting,
                Poll::Ready(Err(error)) => return Step::Failed(error),
                Poll::Ready(Ok(())) => {}
            }
            match link.write_control(outbox) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => return Step::Failed(error),
            }
            let Some(mut next) = outbox.next_to_write() else {
                break;
            };
            if !journal.is_writable(next.item().seq()) {
                // Durable mode: not on disk yet; the commit's answer wakes this writer.
                outbox.unwritten(next);
                break;
            }
            if let Err(error) = link.write(next.item().payload().to_frame()) {
                // Not written: it stays first in line for the next connection.
                outbox.unwritten(next);
                return Step::Failed(error);
            }
            let resend = next.is_resend();
            counters.sent += 1;
            counters.bytes_sent += next.item().payload().len() as u64;
            counters.flushed += u64::from(next.item().was_buffered() && !resend);
            counters.resent += u64::from(resend);
            tracing::trace!(parent: &*span, bytes = next.item().payload().len(), "message written");
            next.item_mut().written();
            outbox.written(next);
            // Half a window (or a full one) without a confirmation ping: ask now, not at
            // the next interval, so the window keeps moving.
            if outbox.wants_checkpoint() {
                link.liveness().want_ping();
            }
        }
        match link.poll_flush(task) {
            Poll::Ready(Ok(())) => Step::Idle,
            Poll::Pending => Step::Waiting,
            Poll::Ready(Err(error)) => Step::Failed(error),
        }
    }
}
