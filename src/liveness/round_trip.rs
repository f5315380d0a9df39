//! Round-trip time of one link, from our pings and the pongs that answer them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Pings remembered while their pong is awaited; past this many, the oldest is
/// forgotten (its pong, if it comes, gives no sample).
const MAX_PINGS_IN_FLIGHT: usize = 32;

/// The round-trip times measured on one link.
///
/// `smoothed` follows RFC 6298's SRTT: the first sample, then
/// `7/8 · smoothed + 1/8 · sample` for each one after it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTrip {
    /// The latest sample.
    pub last: Duration,
    /// The smoothed value.
    pub smoothed: Duration,
    /// The smallest sample.
    pub min: Duration,
    /// Samples taken.
    pub samples: u64,
}

impl RoundTrip {
    fn first(sample: Duration) -> Self {
        Self {
            last: sample,
            smoothed: sample,
            min: sample,
            samples: 1,
        }
    }

    fn add(&mut self, sample: Duration) {
        self.last = sample;
        // 7/8 of the old value plus 1/8 of the sample, in nanoseconds: no float.
        let smoothed = (self.smoothed.as_nanos() * 7 + sample.as_nanos()) / 8;
        self.smoothed = Duration::from_nanos(u64::try_from(smoothed).unwrap_or(u64::MAX));
        self.min = self.min.min(sample);
        self.samples += 1;
    }
}

/// Our pings awaiting their pong, and the estimate so far.
#[derive(Debug, Default)]
pub(super) struct RoundTripMeter {
    /// Checkpoint and send time of each ping, oldest first.
    in_flight: VecDeque<(u64, Instant)>,
    estimate: Option<RoundTrip>,
}

impl RoundTripMeter {
    /// A ping carrying `checkpoint` was written at `at`.
    pub(super) fn ping_written(&mut self, checkpoint: u64, at: Instant) {
        if self.in_flight.len() == MAX_PINGS_IN_FLIGHT {
            self.in_flight.pop_front();
        }
        self.in_flight.push_back((checkpoint, at));
    }

    /// A pong answering the ping of `checkpoint` arrived at `now`: the sample, if that
    /// ping is remembered.
    ///
    /// Pings carrying the same checkpoint (nothing was written between them) are
    /// answered in order, so the oldest one is matched; pings older than the answered
    /// one went unanswered (a server may answer only its latest ping) and are dropped.
    pub(super) fn pong_received(&mut self, checkpoint: u64, now: Instant) -> Option<Duration> {
        while self
            .in_flight
            .front()
            .is_some_and(|&(id, _)| id < checkpoint)
        {
            self.in_flight.pop_front();
        }
        let &(id, sent_at) = self.in_flight.front()?;
        if id != checkpoint {
            return None;
        }
        self.in_flight.pop_front();
        let sample = now.saturating_duration_since(sent_at);
        match self.estimate.as_mut() {
            Some(estimate) => estimate.add(sample),
            None => self.estimate = Some(RoundTrip::first(sample)),
        }
        Some(sample)
    }

    pub(super) fn estimate(&self) -> Option<RoundTrip> {
        self.estimate
    }
}
