//! The heartbeat of a link: when its pings are due and when each is checked, and the
//! confirmation pings. What they mean is decided by the link's
//! [`Liveness`](tether::Liveness); this file only keeps the time. The link's task
//! (`task.rs`) runs the heartbeat on its one timer.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix::{AsyncContext, Context};
use tether::Verdict;

use super::{link, ConnectionActor};
use crate::DisconnectReason;

/// The widest slot a heartbeat's timer is rounded up to.
const MAX_SLACK: Duration = Duration::from_millis(10);

/// When the heartbeat of one link next pings, and the pings still to be checked.
#[derive(Debug)]
pub(super) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    /// The timer fires on slots of this width counted from `epoch`, the same for every
    /// link of the process: see [`wake_at`](Self::wake_at).
    slack: Duration,
    epoch: Instant,
    /// When each heartbeat ping not yet checked was sent, oldest first: with a timeout
    /// longer than the interval, several are checked in turn.
    unchecked: VecDeque<Instant>,
}

impl Heartbeat {
    /// The first ping `first` from `now`, then one every `interval`, each checked
    /// `timeout` after it. The timer's slots count from `epoch`.
    pub(super) fn new(
        interval: Duration,
        timeout: Duration,
        now: Instant,
        first: Duration,
        epoch: Instant,
    ) -> Self {
        Self {
            interval,
            timeout,
            next_ping: now + first,
            slack: (interval.min(timeout) / 50).min(MAX_SLACK),
            epoch,
            unchecked: VecDeque::new(),
        }
    }

    /// When the timer should fire: the [`deadline`](Self::deadline) rounded up to the
    /// end of its slot (10 ms, or a fiftieth of the interval or timeout if that is
    /// less). A ping's check falls due a moment after a later ping (the ping counts as
    /// sent when its tick ran, a little after the tick was due), so without slots each
    /// link would wake twice per interval; and links ping at random phases, so a
    /// thousand of them would wake the thread a thousand times a second. With slots,
    /// both run in one wake-up, and idle links wake the thread at most a hundred times
    /// a second, however many there are. Never before the deadline.
    pub(super) fn wake_at(&self) -> Instant {
        let deadline = self.deadline();
        let slack = self.slack.as_nanos();
        let late = match deadline.checked_duration_since(self.epoch) {
            Some(since) if slack > 0 => since.as_nanos() % slack,
            _ => 0,
        };
        if late == 0 {
            return deadline;
        }
        // Below `slack`, which is at most 10 ms.
        let early = u64::try_from(slack - late).unwrap_or(0);
        deadline + Duration::from_nanos(early)
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

/// Where the heartbeat timers' slots count from: one instant for the whole process, so
/// that the links' timers share slots.
fn timer_epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl ConnectionActor {
    /// The schedule of the heartbeat of a link connected at `now`: its first ping after
    /// a random phase within the interval, so a fleet that connected together does not
    /// ping in step, then one every `heartbeat_interval`.
    pub(super) fn heartbeat(&mut self, now: Instant) -> Heartbeat {
        let interval = self.config.heartbeat_interval();
        let first = self.backoff.phase(interval);
        Heartbeat::new(
            interval,
            self.config.heartbeat_timeout(),
            now,
            first,
            timer_epoch(),
        )
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
        let mut beat = Heartbeat::new(second, ms(2500), t0, ms(300), t0);
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
        let mut beat = Heartbeat::new(second, second, t0, second, t0);
        assert!(beat.ping_due(t0 + 10 * second));
        assert!(!beat.ping_due(t0 + 10 * second + second / 4));
        assert!(beat.deadline() > t0 + 10 * second);
    }

    #[test]
    fn the_timer_fires_at_the_end_of_the_deadline_s_slot_never_before() {
        let epoch = Instant::now();
        let (second, ms) = (Duration::from_secs(1), Duration::from_millis);
        let us = Duration::from_micros;
        // 10 ms slots for a 1 s interval.
        let mut beat = Heartbeat::new(second, 5 * second, epoch, ms(300) + us(1), epoch);
        assert_eq!(beat.deadline(), epoch + ms(300) + us(1));
        assert_eq!(beat.wake_at(), epoch + ms(310));
        // A deadline on a slot's end stays.
        let on_slot = Heartbeat::new(second, 5 * second, epoch, ms(300), epoch);
        assert_eq!(on_slot.wake_at(), epoch + ms(300));
        // The check of a ping that ran late shares the wake-up of a later ping.
        assert!(beat.ping_due(epoch + ms(300) + us(700)));
        beat.sent(epoch + ms(300) + us(700));
        for tick in 1..5 {
            let due = epoch + ms(300) + us(1) + tick * second;
            assert!(beat.ping_due(due));
            beat.sent(due);
        }
        let ping = epoch + ms(300) + us(1) + 5 * second;
        assert_eq!(beat.deadline(), ping, "the fifth ping first");
        assert!(beat.ping_due(ping));
        let check = epoch + ms(300) + us(700) + 5 * second;
        assert_eq!(beat.deadline(), check, "its check 0.7 ms later");
        assert_eq!(
            beat.wake_at(),
            epoch + ms(310) + 5 * second,
            "one slot for both"
        );
        // Short heartbeats get narrower slots: a fiftieth of the shorter of the two.
        let quick = Heartbeat::new(ms(100), ms(200), epoch, us(1), epoch);
        assert_eq!(quick.wake_at(), epoch + ms(2));
    }
}
