//! The timers of a link: heartbeat pings and their checks, and confirmation pings. What
//! they mean is decided by the link's [`Liveness`](tether::Liveness); this file only
//! schedules them.

use std::time::Instant;

use actix::{AsyncContext, Context};
use tether::Verdict;

use super::{link, ConnectionActor};
use crate::DisconnectReason;

impl ConnectionActor {
    /// Starts the heartbeat of the link of `generation`: its first ping after a random
    /// phase within the interval, so a fleet that connected together does not ping in
    /// step, then one every `heartbeat_interval` while the link lives (one interval
    /// timer, cancelled with the link).
    pub(super) fn start_heartbeat(&mut self, generation: u64, ctx: &mut Context<Self>) {
        let interval = self.config.heartbeat_interval();
        let first = self.backoff.phase(interval);
        ctx.run_later(first, move |act, ctx| {
            if link::current(&mut act.link, generation).is_none() {
                return;
            }
            act.heartbeat_tick(generation, ctx);
            let ticks = ctx.run_interval(interval, move |act, ctx| {
                act.heartbeat_tick(generation, ctx);
            });
            match link::current(&mut act.link, generation) {
                Some(link) => link.set_heartbeat(ticks),
                // The first tick found the link dead.
                None => {
                    ctx.cancel_future(ticks);
                }
            }
        });
    }

    fn heartbeat_tick(&mut self, generation: u64, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.machine.refresh(now);
        let Some(link) = link::current(&mut self.link, generation) else {
            return;
        };
        link.note_progress();
        // The heartbeat ping doubles as a confirmation ping (its payload is a checkpoint).
        if let Some(sent_at) = link.liveness().heartbeat_due(now) {
            link.wake_writer();
            let timeout = link.liveness().heartbeat_timeout();
            // One check per ping, `timeout` after it: detection never waits for the next tick.
            ctx.run_later(timeout, move |act, ctx| {
                act.check_heartbeat(generation, sent_at, ctx);
            });
        }
    }

    fn check_heartbeat(&mut self, generation: u64, sent_at: Instant, ctx: &mut Context<Self>) {
        let waiting = self.outbox.unconfirmed() > 0;
        let (span, held, pending) = (&self.span, self.inbox.held(), self.inbox.pending());
        let Some(link) = link::current(&mut self.link, generation) else {
            return;
        };
        link.note_progress();
        let verdict = link.liveness().verdict(Instant::now(), sent_at, waiting);
        match verdict {
            Verdict::Alive => {}
            Verdict::Excused if link.liveness().read_paused_since().is_some() => {
                // Not the server's fault, but worth saying: a stuck subscriber stalls the
                // connection (this repeats at most once per heartbeat).
                tracing::warn!(
                    parent: span,
                    held,
                    pending,
                    "reading paused: a message subscriber is not keeping up"
                );
            }
            Verdict::Excused => {
                tracing::debug!(parent: span, "no answer yet, but a frame is still arriving");
            }
            Verdict::Stalled { paused_for } => {
                self.fail(ctx, DisconnectReason::SubscriberStalled { paused_for });
            }
            _ => {
                let timeout = self.config.heartbeat_timeout();
                self.fail(ctx, DisconnectReason::HeartbeatTimeout { timeout });
            }
        }
    }

    /// Schedules a confirmation check `confirm_interval` from now, if messages wait
    /// for confirmation and none is scheduled.
    pub(super) fn arm_confirm(&mut self, ctx: &mut Context<Self>) {
        let waiting = self.outbox.unconfirmed() > 0;
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if !link.liveness().arm_confirm(waiting) {
            return;
        }
        let generation = link.generation();
        ctx.run_later(self.config.confirm_interval(), move |act, ctx| {
            act.confirm_tick(generation, ctx);
        });
    }

    fn confirm_tick(&mut self, generation: u64, ctx: &mut Context<Self>) {
        let waiting = self.outbox.unconfirmed() > 0;
        let Some(link) = link::current(&mut self.link, generation) else {
            return;
        };
        if link.liveness().confirm_due(Instant::now(), waiting) {
            link.wake_writer();
        }
        self.arm_confirm(ctx);
    }
}
