//! Whether one link is still alive: its pings, the pongs it owes, and the verdict.
//!
//! [`Liveness`] is told what happens on a link (frames arriving, pings and pongs, a
//! frame still arriving, reading paused for a slow subscriber) together with the time
//! it happened, and answers two questions: which control frame to write next, and,
//! `heartbeat_timeout` after each heartbeat ping, whether the link is still alive. It
//! owns no timer and reads no clock, so every rule below is tested with time as an
//! input.
//!
//! The rules of the verdict, for the heartbeat ping sent at `t`:
//! - Alive when a whole frame arrived after `t`; while messages wait for confirmation it
//!   must be a Pong answering one of our pings, since a server that keeps sending data
//!   but never answers pings would otherwise stall the confirmation window for ever.
//! - A frame still arriving excuses a missing answer (no Pong can come in the middle of
//!   a frame) only if it made progress: at least [`MIN_FRAME_PROGRESS`] bytes since `t`.
//!   While messages wait for confirmation, at most [`MAX_EXCUSED_HEARTBEATS`] heartbeats
//!   in a row are excused this way: a server that trickles a frame cannot keep a link
//!   "alive" for ever while nothing gets confirmed.
//! - Reading paused because message subscribers do not keep up is not the server's
//!   silence, and is excused, but for at most `max_read_pause`: then the verdict is
//!   [`Verdict::Stalled`].
//! - Otherwise the link is [`Verdict::Dead`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tether::liveness::{Control, Liveness, Verdict};
//! use tether::ResiliencyConfig;
//!
//! let config = ResiliencyConfig::default();
//! let start = Instant::now();
//! let mut link: Liveness<Vec<u8>> = Liveness::new(&config, start);
//! let tick = start + config.heartbeat_interval();
//! let sent = link.heartbeat_due(tick).expect("no ping outstanding");
//! assert!(matches!(link.take_control(tick), Some(Control::Ping)));
//! // Nothing came back within the timeout.
//! let later = sent + config.heartbeat_timeout();
//! assert_eq!(link.verdict(later, sent, false), Verdict::Dead);
//! ```

mod round_trip;
#[cfg(test)]
mod tests;

pub use round_trip::RoundTrip;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use self::round_trip::RoundTripMeter;
use crate::ResiliencyConfig;

/// Pongs owed to the server at most. Each ping is answered (the conformance suite and
/// most servers expect it); past this many unanswered ones, the oldest is forgotten,
/// which RFC 6455 allows (answering only the most recent ping is enough).
pub const MAX_OWED_PONGS: usize = 32;

/// Bytes a frame still arriving must gain between a heartbeat ping and its check for
/// the partial frame to count as a sign of life.
pub const MIN_FRAME_PROGRESS: usize = 1024;

/// Heartbeats in a row that a frame still arriving may excuse while messages wait for
/// confirmation.
pub const MAX_EXCUSED_HEARTBEATS: u32 = 8;

/// The next control frame to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control<P> {
    /// Answer a ping of the server's, echoing its payload.
    Pong(P),
    /// A ping of ours: its payload is a confirmation checkpoint, taken now.
    Ping,
}

/// The verdict on a link, at the check of one heartbeat ping.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server answered, or a sign of life counts as an answer.
    Alive,
    /// No answer, but not the server's fault: a frame still arriving, or reading
    /// paused for a slow subscriber (within `max_read_pause`).
    Excused,
    /// No answer within the heartbeat timeout: the link is dead.
    Dead,
    /// Reading has been paused for message subscribers longer than `max_read_pause`.
    Stalled {
        /// How long reading has been paused.
        paused_for: Duration,
    },
}

/// The progress of a frame not yet whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Partial {
    at: Instant,
    bytes: usize,
}

/// The liveness of one link. See the [module documentation](self).
///
/// `P` is the payload type of the server's pings (echoed back in pongs).
#[derive(Debug)]
pub struct Liveness<P> {
    heartbeat_timeout: Duration,
    confirm_interval: Duration,
    max_read_pause: Duration,
    /// When the last whole frame arrived.
    last_seen: Instant,
    /// When the last Pong answering one of our pings arrived.
    last_pong: Instant,
    /// The heartbeat ping still within its timeout.
    heartbeat_sent_at: Option<Instant>,
    /// When the last ping of any kind was written.
    last_ping_at: Option<Instant>,
    ping_wanted: bool,
    pongs_owed: VecDeque<P>,
    partial: Option<Partial>,
    /// Bytes of the partial frame when the heartbeat ping went out.
    partial_at_ping: Option<Partial>,
    /// Heartbeats excused in a row by a frame still arriving.
    excused: u32,
    read_paused_since: Option<Instant>,
    confirm_armed: bool,
    round_trip: RoundTripMeter,
}

impl<P> Liveness<P> {
    /// A link that was established at `now`.
    pub fn new(config: &ResiliencyConfig, now: Instant) -> Self {
        Self {
            heartbeat_timeout: config.heartbeat_timeout(),
            confirm_interval: config.confirm_interval(),
            max_read_pause: config.max_read_pause(),
            last_seen: now,
            last_pong: now,
            heartbeat_sent_at: None,
            last_ping_at: None,
            ping_wanted: false,
            pongs_owed: VecDeque::new(),
            partial: None,
            partial_at_ping: None,
            excused: 0,
            read_paused_since: None,
            confirm_armed: false,
            round_trip: RoundTripMeter::default(),
        }
    }

    /// A whole frame arrived.
    pub fn frame_arrived(&mut self, now: Instant) {
        self.last_seen = now;
        self.partial = None;
    }

    /// Part of a frame has arrived: `bytes` of it so far, the last of them at `at`.
    pub fn frame_arriving(&mut self, at: Instant, bytes: usize) {
        self.partial = Some(Partial { at, bytes });
    }

    /// The server sent a ping: a Pong is owed. Returns `false` when the oldest owed
    /// Pong had to be forgotten to stay within [`MAX_OWED_PONGS`].
    pub fn ping_received(&mut self, payload: P) -> bool {
        self.pongs_owed.push_back(payload);
        if self.pongs_owed.len() > MAX_OWED_PONGS {
            self.pongs_owed.pop_front();
            return false;
        }
        true
    }

    /// A Pong arrived at `now`; `answer` is the checkpoint of ours it carries, `None`
    /// for an unsolicited Pong (only a sign of life). Returns the round-trip time it
    /// measured, if it answers a ping written through
    /// [`ping_written`](Self::ping_written).
    pub fn pong_received(&mut self, now: Instant, answer: Option<u64>) -> Option<Duration> {
        self.heartbeat_sent_at = None;
        let checkpoint = answer?;
        self.last_pong = now;
        self.excused = 0;
        self.round_trip.pong_received(checkpoint, now)
    }

    /// The ping just taken with [`take_control`](Self::take_control) at `at` carries
    /// `checkpoint`: its Pong measures the round-trip time.
    pub fn ping_written(&mut self, checkpoint: u64, at: Instant) {
        self.round_trip.ping_written(checkpoint, at);
    }

    /// The round-trip time measured so far on this link; `None` before the first
    /// answered ping.
    pub fn round_trip(&self) -> Option<RoundTrip> {
        self.round_trip.estimate()
    }

    /// Pongs owed and not yet written.
    pub fn owed_pongs(&self) -> usize {
        self.pongs_owed.len()
    }

    /// Asks for a confirmation ping, written with the next control frames.
    pub fn want_ping(&mut self) {
        self.ping_wanted = true;
    }

    /// Whether a control frame waits to be written.
    pub fn has_control(&self) -> bool {
        self.ping_wanted || !self.pongs_owed.is_empty()
    }

    /// The next control frame to write at `now`: owed pongs first (the server may be
    /// waiting for one), then our ping.
    pub fn take_control(&mut self, now: Instant) -> Option<Control<P>> {
        if let Some(payload) = self.pongs_owed.pop_front() {
            return Some(Control::Pong(payload));
        }
        if std::mem::take(&mut self.ping_wanted) {
            self.last_ping_at = Some(now);
            return Some(Control::Ping);
        }
        None
    }

    /// The heartbeat interval elapsed at `now`. Returns when the heartbeat ping counts
    /// as sent (check it with [`verdict`](Self::verdict) `heartbeat_timeout` later), or
    /// `None` when the previous one is still within its timeout.
    pub fn heartbeat_due(&mut self, now: Instant) -> Option<Instant> {
        if self.heartbeat_sent_at.is_some() {
            return None;
        }
        self.ping_wanted = true;
        self.heartbeat_sent_at = Some(now);
        self.partial_at_ping = self.partial;
        Some(now)
    }

    /// The heartbeat timeout of the ping sent at `sent_at` elapsed at `now`:
    /// `waiting` says whether messages wait for confirmation.
    pub fn verdict(&mut self, now: Instant, sent_at: Instant, waiting: bool) -> Verdict {
        let verdict = self.judge(now, sent_at, waiting);
        if verdict != Verdict::Dead {
            // The next heartbeat ping may go out.
            self.heartbeat_sent_at = None;
        }
        verdict
    }

    fn judge(&mut self, now: Instant, sent_at: Instant, waiting: bool) -> Verdict {
        if let Some(since) = self.read_paused_since {
            let paused_for = now.saturating_duration_since(since);
            return if paused_for >= self.max_read_pause {
                Verdict::Stalled { paused_for }
            } else {
                Verdict::Excused
            };
        }
        if self.last_seen >= sent_at && (!waiting || self.last_pong >= sent_at) {
            return Verdict::Alive;
        }
        if self.partial_progressed(sent_at) {
            if !waiting {
                return Verdict::Alive;
            }
            if self.excused < MAX_EXCUSED_HEARTBEATS {
                self.excused += 1;
                return Verdict::Excused;
            }
        }
        Verdict::Dead
    }

    /// Whether a frame still arriving gained [`MIN_FRAME_PROGRESS`] bytes since the
    /// ping of `sent_at`.
    fn partial_progressed(&self, sent_at: Instant) -> bool {
        let Some(now) = self.partial.filter(|partial| partial.at >= sent_at) else {
            return false;
        };
        // The same frame as at the ping, or a new one begun since (bytes from zero).
        let before = self
            .partial_at_ping
            .filter(|then| then.bytes <= now.bytes)
            .map_or(0, |then| then.bytes);
        now.bytes - before >= MIN_FRAME_PROGRESS
    }

    /// Reading stopped at `now` because message subscribers do not keep up.
    pub fn reading_paused(&mut self, now: Instant) {
        self.read_paused_since.get_or_insert(now);
    }

    /// Reading resumed at `now`: the server gets a fresh timeout, since not reading was
    /// our choice.
    pub fn reading_resumed(&mut self, now: Instant) {
        if self.read_paused_since.take().is_some() {
            self.last_seen = now;
        }
    }

    /// Since when reading has been paused, if it is.
    pub fn read_paused_since(&self) -> Option<Instant> {
        self.read_paused_since
    }

    /// Whether a confirmation check should be scheduled `confirm_interval` from now:
    /// messages wait and none is scheduled. A `true` answer counts as scheduled.
    pub fn arm_confirm(&mut self, waiting: bool) -> bool {
        if self.confirm_armed || !waiting {
            return false;
        }
        self.confirm_armed = true;
        true
    }

    /// The scheduled confirmation check ran at `now`. Asks for a ping when messages
    /// still wait and none went out within the interval: asking again even when an
    /// earlier ping covers them matters, since a server may answer only its latest
    /// ping, or have dropped one while it was busy. Returns whether a ping is wanted.
    pub fn confirm_due(&mut self, now: Instant, waiting: bool) -> bool {
        self.confirm_armed = false;
        let recent = self
            .last_ping_at
            .is_some_and(|at| now.saturating_duration_since(at) < self.confirm_interval);
        if waiting && !recent && !self.ping_wanted {
            self.ping_wanted = true;
            return true;
        }
        false
    }

    /// The heartbeat timeout this link is judged by.
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout
    }
}
