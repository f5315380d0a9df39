//! The heartbeat: pings on an interval and declares the link dead when nothing answers.

use std::time::Instant;

use actix::{AsyncContext, Context};

use super::{link, ConnectionActor};
use crate::DisconnectReason;

impl ConnectionActor {
    /// Runs every `heartbeat_interval` while Connected.
    pub(super) fn heartbeat_tick(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        self.machine.refresh(now);
        let timeout = self.config.heartbeat_timeout();
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if link.ping_sent_at.is_some() {
            return; // the previous ping is still within its timeout
        }
        // The heartbeat ping doubles as a confirmation ping (its payload is a checkpoint).
        link.pending_ping = true;
        link.ping_sent_at = Some(now);
        link.wake_writer();
        let generation = link.generation;
        // One check per ping, `timeout` after it: detection never waits for the next tick.
        ctx.run_later(timeout, move |act, ctx| {
            act.check_heartbeat(generation, now, ctx);
        });
    }

    /// Schedules a confirmation check `confirm_interval` from now, if messages wait
    /// for confirmation and none is scheduled.
    pub(super) fn arm_confirm(&mut self, ctx: &mut Context<Self>) {
        let waiting = !self.window.is_empty();
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if link.confirm_armed || !waiting {
            return;
        }
        link.confirm_armed = true;
        let generation = link.generation;
        ctx.run_later(self.config.confirm_interval(), move |act, ctx| {
            act.confirm_tick(generation, ctx);
        });
    }

    /// While messages wait for confirmation, asks for a ping unless one went out within
    /// the interval. Asking again even when an earlier ping covers them matters: a
    /// server may answer only its latest ping, or have dropped one while it was busy.
    fn confirm_tick(&mut self, generation: u64, ctx: &mut Context<Self>) {
        let interval = self.config.confirm_interval();
        let waiting = !self.window.is_empty();
        let Some(link) = link::current(&mut self.link, generation) else {
            return;
        };
        link.confirm_armed = false;
        let recent = link.last_ping_at.is_some_and(|at| at.elapsed() < interval);
        if waiting && !recent && !link.pending_ping {
            link.pending_ping = true;
            link.wake_writer();
        }
        self.arm_confirm(ctx);
    }

    fn check_heartbeat(&mut self, generation: u64, sent_at: Instant, ctx: &mut Context<Self>) {
        let (span, pending) = (&self.span, self.deliveries_pending);
        let Some(link) = link::current(&mut self.link, generation) else {
            return;
        };
        // Any frame shows the link is alive, but while messages wait for confirmation
        // only a Pong shows the server still answers pings: a server that sends data
        // and never answers would otherwise stall the window (and `Close`) forever.
        // Paused reading (a slow subscriber) is not the server's silence.
        // A frame still arriving is a sign of life too (a large frame on a slow link), and
        // excuses a missing Pong: a Pong cannot come in the middle of a frame.
        let receiving = link.receiving.get().is_some_and(|at| at >= sent_at);
        let answered = receiving
            || (link.last_seen >= sent_at && (self.window.is_empty() || link.last_pong >= sent_at));
        if link.read_paused && !answered {
            // Not the server's fault, but worth saying: a stuck subscriber stalls the
            // connection (this repeats at most once per heartbeat).
            tracing::warn!(
                parent: span,
                pending,
                "reading paused: a message subscriber is not keeping up"
            );
        }
        if answered || link.read_paused {
            link.ping_sent_at = None;
            return;
        }
        let timeout = self.config.heartbeat_timeout();
        self.fail(ctx, DisconnectReason::HeartbeatTimeout { timeout });
    }
}
