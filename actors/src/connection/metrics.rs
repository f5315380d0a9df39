//! The connection's metrics, recorded through the `metrics` facade when the `metrics`
//! feature is on; with it off, [`Meter`] is empty and every call compiles to nothing.
//!
//! The actor tells the meter about state transitions and round-trip samples as they
//! happen, and has it [`sync`](Meter::sync) its counters at the end of each writer and
//! reader turn: the meter records what changed since the last sync, so the cost per
//! message stays a few additions, whatever the recorder. Handles are taken once, when
//! the connection is built: install the recorder before building connections.
//!
//! Labels are bounded: `connection` (the connection's name, or its id), `state` and
//! `reason` (a [`DisconnectReason::kind`]). The README's Metrics section lists every
//! metric.

use super::ConnectionActor;

#[cfg(not(feature = "metrics"))]
pub(super) use self::off::Meter;
#[cfg(feature = "metrics")]
pub(super) use self::recording::Meter;

impl ConnectionActor {
    /// Records the counters and the outbox as they are now.
    #[inline(always)]
    pub(super) fn sync_meter(&mut self) {
        self.meter.sync(
            &self.counters,
            self.outbox.buffered(),
            self.outbox.unconfirmed(),
        );
    }
}

#[cfg(not(feature = "metrics"))]
mod off {
    use std::time::{Duration, Instant};

    use tether::ConnectionState;

    use crate::{Counters, DisconnectReason};

    /// Without the `metrics` feature: records nothing.
    #[derive(Debug)]
    pub(in crate::connection) struct Meter;

    impl Meter {
        pub(in crate::connection) fn new(_label: &str, _state: ConnectionState) -> Self {
            Self
        }

        #[inline(always)]
        pub(in crate::connection) fn state(
            &mut self,
            _to: ConnectionState,
            _reason: Option<&DisconnectReason>,
            _at: Instant,
        ) {
        }

        #[inline(always)]
        pub(in crate::connection) fn round_trip(&self, _sample: Option<Duration>) {}

        #[inline(always)]
        pub(in crate::connection) fn sync(
            &mut self,
            _counters: &Counters,
            _buffered: usize,
            _unconfirmed: usize,
        ) {
        }
    }
}

#[cfg(feature = "metrics")]
mod recording {
    use std::time::{Duration, Instant};

    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
    use tether::ConnectionState;

    use crate::{Counters, DisconnectReason};

    const STATES: [ConnectionState; 6] = [
        ConnectionState::Disconnected,
        ConnectionState::Connecting,
        ConnectionState::Connected,
        ConnectionState::Reconnecting,
        ConnectionState::Closed,
        ConnectionState::Failed,
    ];

    fn index(state: ConnectionState) -> usize {
        STATES.iter().position(|&s| s == state).unwrap_or(0)
    }

    /// One counter per [`Counters`] field that is exported, and the last value recorded.
    #[derive(Debug)]
    struct Tally {
        handle: Counter,
        recorded: u64,
    }

    impl Tally {
        fn new(name: &'static str, label: &str) -> Self {
            Self {
                handle: counter!(name, "connection" => label.to_owned()),
                recorded: 0,
            }
        }

        fn sync(&mut self, total: u64) {
            if total > self.recorded {
                self.handle.increment(total - self.recorded);
                self.recorded = total;
            }
        }
    }

    /// The metric handles of one connection.
    #[derive(Debug)]
    pub(in crate::connection) struct Meter {
        label: String,
        state: ConnectionState,
        states: [Gauge; 6],
        sent: Tally,
        buffered: Tally,
        flushed: Tally,
        resent: Tally,
        confirmed: Tally,
        rejected: Tally,
        evicted: Tally,
        undelivered: Tally,
        unconfirmed: Tally,
        received: Tally,
        bytes_sent: Tally,
        bytes_received: Tally,
        state_events_skipped: Tally,
        buffered_now: Gauge,
        unconfirmed_now: Gauge,
        round_trip: Histogram,
        time_to_reconnect: Histogram,
        /// Why and when the last link was lost, until the next one is up.
        lost: Option<(&'static str, Instant)>,
    }

    impl Meter {
        pub(in crate::connection) fn new(label: &str, state: ConnectionState) -> Self {
            let states = STATES.map(|state| {
                gauge!("tether_connections", "connection" => label.to_owned(), "state" => state.to_string())
            });
            states[index(state)].increment(1.0);
            Self {
                label: label.to_owned(),
                state,
                states,
                sent: Tally::new("tether_messages_sent_total", label),
                buffered: Tally::new("tether_messages_buffered_total", label),
                flushed: Tally::new("tether_messages_flushed_total", label),
                resent: Tally::new("tether_messages_resent_total", label),
                confirmed: Tally::new("tether_messages_confirmed_total", label),
                rejected: Tally::new("tether_messages_rejected_total", label),
                evicted: Tally::new("tether_messages_evicted_total", label),
                undelivered: Tally::new("tether_messages_undelivered_total", label),
                unconfirmed: Tally::new("tether_messages_unconfirmed_total", label),
                received: Tally::new("tether_messages_received_total", label),
                bytes_sent: Tally::new("tether_bytes_sent_total", label),
                bytes_received: Tally::new("tether_bytes_received_total", label),
                state_events_skipped: Tally::new("tether_state_events_skipped_total", label),
                buffered_now: gauge!("tether_buffered", "connection" => label.to_owned()),
                unconfirmed_now: gauge!("tether_unconfirmed", "connection" => label.to_owned()),
                round_trip: histogram!("tether_round_trip_seconds", "connection" => label.to_owned()),
                time_to_reconnect: histogram!(
                    "tether_time_to_reconnect_seconds",
                    "connection" => label.to_owned()
                ),
                lost: None,
            }
        }

        /// The connection entered `to` at `at`, for `reason` if a failure or close
        /// caused it.
        pub(in crate::connection) fn state(
            &mut self,
            to: ConnectionState,
            reason: Option<&DisconnectReason>,
            at: Instant,
        ) {
            let from = std::mem::replace(&mut self.state, to);
            self.states[index(from)].decrement(1.0);
            self.states[index(to)].increment(1.0);
            match to {
                ConnectionState::Disconnected if from == ConnectionState::Connected => {
                    let kind = reason.map_or("unknown", DisconnectReason::kind);
                    counter!(
                        "tether_disconnects_total",
                        "connection" => self.label.clone(),
                        "reason" => kind
                    )
                    .increment(1);
                    self.lost = Some((kind, at));
                }
                ConnectionState::Connected => {
                    if let Some((kind, since)) = self.lost.take() {
                        counter!(
                            "tether_reconnects_total",
                            "connection" => self.label.clone(),
                            "reason" => kind
                        )
                        .increment(1);
                        self.time_to_reconnect
                            .record(at.saturating_duration_since(since).as_secs_f64());
                    }
                }
                _ => {}
            }
        }

        /// A round-trip sample, if the last Pong gave one.
        pub(in crate::connection) fn round_trip(&self, sample: Option<Duration>) {
            if let Some(sample) = sample {
                self.round_trip.record(sample.as_secs_f64());
            }
        }

        /// Records what changed in `counters` since the last sync, and the outbox now.
        pub(in crate::connection) fn sync(
            &mut self,
            counters: &Counters,
            buffered: usize,
            unconfirmed: usize,
        ) {
            self.sent.sync(counters.sent);
            self.buffered.sync(counters.buffered);
            self.flushed.sync(counters.flushed);
            self.resent.sync(counters.resent);
            self.confirmed.sync(counters.confirmed);
            self.rejected.sync(counters.rejected);
            self.evicted.sync(counters.evicted);
            self.undelivered.sync(counters.undelivered);
            self.unconfirmed.sync(counters.unconfirmed);
            self.received.sync(counters.received);
            self.bytes_sent.sync(counters.bytes_sent);
            self.bytes_received.sync(counters.bytes_received);
            self.state_events_skipped
                .sync(counters.state_events_skipped);
            self.buffered_now.set(buffered as f64);
            self.unconfirmed_now.set(unconfirmed as f64);
        }
    }

    impl Drop for Meter {
        fn drop(&mut self) {
            // The connection is gone: it no longer counts in any state.
            self.states[index(self.state)].decrement(1.0);
        }
    }
}
