//! The one task of a link: it reads, writes, and keeps the heartbeat's time.
//!
//! actix allocates every task and timer of a context on its own, and polls all of them
//! whenever the context wakes. So a link is one task with one timer, rather than a
//! reader, a writer, an interval timer and a timer per heartbeat check.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{self, Poll};
use std::time::Instant;

use actix::{ActorFuture, Context};
use tokio::time::Sleep;

use super::heartbeat::Heartbeat;
use super::{link, ConnectionActor};

/// The task of the link of one generation; ends when the link does.
#[derive(Debug)]
pub(super) struct LinkTask {
    generation: u64,
    heartbeat: Heartbeat,
    /// Fires at the heartbeat's next deadline.
    timer: Pin<Box<Sleep>>,
}

impl LinkTask {
    pub(super) fn new(generation: u64, heartbeat: Heartbeat) -> Self {
        let timer = Box::pin(tokio::time::sleep_until(heartbeat.wake_at().into()));
        Self {
            generation,
            heartbeat,
            timer,
        }
    }

    /// Runs what the heartbeat has due; `Ready` once the link is gone.
    fn poll_heartbeat(
        &mut self,
        act: &mut ConnectionActor,
        ctx: &mut Context<ConnectionActor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        // The clock is read only when the timer fired.
        while self.timer.as_mut().poll(task).is_ready() {
            let now = Instant::now();
            if self.heartbeat.ping_due(now) {
                if let Some(sent_at) = act.heartbeat_tick(self.generation, now) {
                    self.heartbeat.sent(sent_at);
                }
            }
            while let Some(sent_at) = self.heartbeat.check_due(now) {
                act.check_heartbeat(self.generation, sent_at, ctx);
            }
            if link::current(&mut act.link, self.generation).is_none() {
                return Poll::Ready(());
            }
            let wake_at = self.heartbeat.wake_at();
            self.timer.as_mut().reset(wake_at.into());
        }
        Poll::Pending
    }
}

impl ActorFuture<ConnectionActor> for LinkTask {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut ConnectionActor,
        ctx: &mut Context<ConnectionActor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        let this = self.get_mut();
        let Some(link) = link::current(&mut act.link, this.generation) else {
            return Poll::Ready(());
        };
        // The writer runs last in this very poll: waking it meanwhile would only poll
        // the whole context once more.
        link.unpark_writer();
        if this.poll_heartbeat(act, ctx, task).is_ready() {
            return Poll::Ready(());
        }
        if act.read_turn(this.generation, ctx, task).is_ready() {
            return Poll::Ready(());
        }
        act.write_turn(this.generation, ctx, task)
    }
}
