//! The writer: moves messages from the outbox and control frames into the socket.
//!
//! actix's `SinkWrite` queues without bound and cannot say what was written when a link
//! dies. This writer takes messages from the [`Outbox`](tether::Outbox) only while the
//! socket is ready for them and the unconfirmed window has room, as many as it can in
//! one poll, then flushes once, with a confirmation ping of its own when no earlier
//! ping waits for its Pong (so what a flush wrote is confirmed a round trip later, not
//! at the next confirmation interval). It answers each sender once the socket accepted
//! its message. Anything not yet taken stays in the outbox for the next connection.

use std::task::{self, Poll};

use actix::Context;
use awc::error::WsProtocolError;

use tether::Outbox;

use super::journal::Journal;
use super::link::{self, Link};
use super::outbound::Outbound;
use super::setup::SetupPhase;
use super::ConnectionActor;
use crate::DisconnectReason;

impl ConnectionActor {
    /// One turn of the writer of the link of `generation`; `Ready` once the link is gone
    /// (or closed, once everything before `Close` was written and confirmed).
    pub(super) fn write_turn(
        &mut self,
        generation: u64,
        ctx: &mut Context<Self>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        // Durable mode: messages are written once on disk (the commit at the end of the
        // drain that accepted them wakes this writer); confirmed ones leave the store.
        self.journal.remove_confirmed();
        let step = self.write_ready(generation, task);
        self.settle_orphans();
        self.sync_meter();
        if matches!(step, Step::Waiting | Step::Idle) {
            // Something may have entered the unconfirmed window.
            self.arm_confirm(ctx);
        }
        match step {
            Step::Waiting | Step::Setup => Poll::Pending,
            Step::SetupDone => {
                self.link_ready();
                // The buffer's turn, in this task's next poll.
                task.waker().wake_by_ref();
                Poll::Pending
            }
            Step::Idle if self.closing.is_some() => {
                if self.outbox.is_empty() {
                    // Everything buffered before `Close` is written and confirmed: now
                    // the close frame.
                    self.finish(
                        ctx,
                        tether::ConnectionState::Closed,
                        DisconnectReason::CloseRequested,
                    );
                    return Poll::Ready(());
                }
                // Ask the server to confirm the rest; its Pong wakes this writer.
                if self.outbox.unchecked() > 0 {
                    if let Some(link) = self.link.as_mut() {
                        link.liveness().want_ping();
                    }
                    task.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Step::Idle => Poll::Pending,
            Step::Gone => Poll::Ready(()),
            Step::Failed(error) => {
                let kind = match &error {
                    WsProtocolError::Io(error) => Some(error.kind()),
                    _ => None,
                };
                self.fail(
                    ctx,
                    DisconnectReason::WriteFailed {
                        message: error.to_string(),
                        kind,
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
    /// The setup is written; its confirmation (a Pong) is awaited.
    Setup,
    /// The setup is written (and needs no confirmation): the buffer may flush.
    SetupDone,
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
        if link.in_setup() {
            return write_setup(link, outbox, task);
        }
        // A full window pauses data (not control frames) until a Pong makes room.
        loop {
            match write_frames(link, outbox, journal, counters, span, task) {
                Some(step) => return step,
                None if outbox.wants_flush_checkpoint() => {
                    // This flush carries its own confirmation ping.
                    link.liveness().want_ping();
                }
                None => break,
            }
        }
        match link.poll_flush(task) {
            Poll::Ready(Ok(())) => Step::Idle,
            Poll::Pending => Step::Waiting,
            Poll::Ready(Err(error)) => Step::Failed(error),
        }
    }
}

/// Writes the setup of a link (and any control frame), nothing from the outbox.
fn write_setup(
    link: &mut Link,
    outbox: &mut Outbox<Outbound>,
    task: &mut task::Context<'_>,
) -> Step {
    loop {
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
        let Some(frame) = link.setup().and_then(SetupPhase::next_frame) else {
            break;
        };
        if let Err(error) = link.write(frame) {
            return Step::Failed(error);
        }
    }
    match link.poll_flush(task) {
        Poll::Ready(Ok(()))
            if link
                .setup()
                .is_some_and(|setup| setup.written_unconfirmed()) =>
        {
            Step::SetupDone
        }
        Poll::Ready(Ok(())) => Step::Setup,
        Poll::Pending => Step::Waiting,
        Poll::Ready(Err(error)) => Step::Failed(error),
    }
}

/// Writes control frames and messages while the socket and the window take them;
/// `None` once nothing more is writable, else why it stopped.
fn write_frames(
    link: &mut Link,
    outbox: &mut Outbox<Outbound>,
    journal: &Journal,
    counters: &mut crate::Counters,
    span: &tracing::Span,
    task: &mut task::Context<'_>,
) -> Option<Step> {
    while link.has_control() || outbox.has_writable() {
        match link.poll_ready(task) {
            Poll::Pending => return Some(Step::Waiting),
            Poll::Ready(Err(error)) => return Some(Step::Failed(error)),
            Poll::Ready(Ok(())) => {}
        }
        match link.write_control(outbox) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => return Some(Step::Failed(error)),
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
            return Some(Step::Failed(error));
        }
        let resend = next.is_resend();
        counters.sent += 1;
        counters.bytes_sent += next.item().payload().len() as u64;
        counters.flushed += u64::from(next.item().was_buffered() && !resend);
        counters.resent += u64::from(resend);
        tracing::trace!(parent: span, bytes = next.item().payload().len(), "message written");
        next.item_mut().written();
        outbox.written(next);
        // Half a window (or a full one) without a confirmation ping: ask now, not at
        // the next interval, so the window keeps moving.
        if outbox.wants_checkpoint() {
            link.liveness().want_ping();
        }
    }
    None
}
