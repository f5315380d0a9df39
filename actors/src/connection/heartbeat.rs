//! The heartbeat of a link: when its pings are due and when each is checked, and the
//! confirmation pings. What they mean is decided by the link's
//! [`Liveness`](tether::Liveness); this file only keeps the time. The link's task
//! (`task.rs`) runs the heartbeat on its one timer.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use actix::{AsyncContext, Context};
use tether::Verdict;

use super::{link, ConnectionActor};
use crate::DisconnectReason;

/// When the heartbeat of one link next pings, and the pings still to be checked.
#[derive(Debug)]
pub(super) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    /// When each heartbeat ping not yet checked was sent, oldest first: with a timeout
    /// longer than the interval, several are checked in turn.
    unchecked: VecDeque<Instant>,
}

impl Heartbeat {
    /// The first ping `first` from `now`, then one every `interval`, each checked
    /// `timeout` after it.
    pub(super) fn new(
        interval: Duration,
        timeout: Duration,
        now: Instant,
        first: Duration,
    ) -> Self {
        Self {
            interval,
            timeout,
            next_ping: now + first,
            unchecked: VecDeque::new(),
        }
    }

    /// When something is due next: a ping or a check.
    pub(super) fn deadline(&self) -> Instant {
        match self.unchecked.front() {
            Some(sent_at) => self.next_ping.min(*sent_at + self.timeout),
            None => self.next_ping,
        }
    }

    /// Whether a ping is due at `now`; if so, the next one is scheduled an interval
    /// later (an interval from `now` if a whole one was missed: no catching up).
    pub(super) fn ping_due(&mut self, now: Instant) -> bool {
        if now < self.next_ping {
            return false;
        }
        let next = self.next_ping + self.interval;
        self.next_ping = if next <= now {
            now + self.interval
        } else {
            next
        };
        true
    }

    /// A heartbeat ping counts as sent at `sent_at`: check it `timeout` later.
    pub(super) fn sent(&mut self, sent_at: Instant) {
        self.unchecked.push_back(sent_at);
    }

    /// The oldest ping whose check is due at `now`, taken.
    pub(super) fn check_due(&mut self, now: Instant) -> Option<Instant> {
        let sent_at = *self.unchecked.front()?;
        if now < sent_at + self.timeout {
            return None;
        }
        self.unchecked.pop_front()
    }
}

impl ConnectionActor {
    /// The schedule of the heartbeat of a link connected at `now`: its first ping after
    /// a random phase within the interval, so a fleet that connected together does not
    /// ping in step, then one every `heartbeat_interval`.
    pub(super) fn heartbeat(&mut self, now: Instant) -> Heartbeat {
        let interval = self.config.heartbeat_interval();
        let first = self.backoff.phase(interval);
        Heartbeat::new(interval, self.config.heartbeat_timeout(), now, first)
    }

    /// The heartbeat interval elapsed at `now`: asks for a ping, unless the previous one
    /// is still within its timeout. Returns when the ping counts as sent.
    pub(super) fn heartbeat_tick(&mut self, generation: u64, now: Instant) -> Option<Instant> {
        self.machine.refresh(now);
        let link = link::current(&mut self.link, generation)?;
        link.note_progress();
        // The heartbeat ping doubles as a confirmation ping (its payload is a checkpoint).
        let sent_at = link.liveness().heartbeat_due(now)?;
        link.wake_writer();
        Some(sent_at)
    }

    /// The timeout of the heartbeat ping of `sent_at` elapsed: the verdict.
    pub(super) fn check_heartbeat(
        &mut self,
        generation: u64,
        sent_at: Instant,
        ctx: &mut Context<Self>,
    ) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_follow_the_phase_then_the_interval_and_each_is_checked_in_turn() {
        let t0 = Instant::now();
        let (second, ms) = (Duration::from_secs(1), Duration::from_millis);
        let mut beat = Heartbeat::new(second, ms(2500), t0, ms(300));
        assert_eq!(beat.deadline(), t0 + ms(300));
        assert!(!beat.ping_due(t0 + ms(299)));
        assert!(beat.ping_due(t0 + ms(300)));
        beat.sent(t0 + ms(300));
        assert!(beat.ping_due(t0 + ms(1300)));
        beat.sent(t0 + ms(1300));
        assert_eq!(beat.deadline(), t0 + ms(2300), "the next ping first");
        assert!(beat.ping_due(t0 + ms(2300)));
        assert_eq!(beat.deadline(), t0 + ms(2800), "then the first check");
        assert_eq!(beat.check_due(t0 + ms(2799)), None);
        assert_eq!(beat.check_due(t0 + ms(2800)), Some(t0 + ms(300)));
        assert_eq!(beat.check_due(t0 + ms(2800)), None);
        assert_eq!(beat.deadline(), t0 + ms(3300));
        assert_eq!(beat.check_due(t0 + ms(3800)), Some(t0 + ms(1300)));
    }

    #[test]
    fn a_late_timer_does_not_make_pings_catch_up() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut beat = Heartbeat::new(second, second, t0, second);
        assert!(beat.ping_due(t0 + 10 * second));
        assert!(!beat.ping_due(t0 + 10 * second + second / 4));
        assert!(beat.deadline() > t0 + 10 * second);
    }
}
