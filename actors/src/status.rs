//! A snapshot of a connection's state and counters.

use std::sync::Arc;
use std::time::Duration;

use tether::{ConnectionState, RoundTrip};

use crate::{ConnectionId, Endpoint};

/// A snapshot of a connection, answered to [`GetStatus`](crate::message::GetStatus).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The connection.
    pub connection: ConnectionId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// The endpoint of the current link or attempt (while `Reconnecting`: of the next
    /// attempt).
    pub endpoint: Endpoint,
    /// Its current state.
    pub state: ConnectionState,
    /// The reconnect attempt counter.
    pub attempt: u32,
    /// The delay of the pending reconnect, while `Reconnecting`.
    pub next_delay: Option<Duration>,
    /// Messages waiting in the outbound buffer.
    pub buffered: usize,
    /// Bytes waiting in the outbound buffer.
    pub buffered_bytes: usize,
    /// Messages written but not yet confirmed by the server.
    pub unconfirmed: usize,
    /// The round-trip time of the current link, from the pongs answering its pings;
    /// `None` while not Connected or before the first answer.
    pub round_trip: Option<RoundTrip>,
    /// Totals since the connection was built.
    pub counters: Counters,
}

/// Totals since a connection was built. They survive reconnects.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Successful connects (handshakes completed).
    pub connects: u64,
    /// Links lost after being Connected.
    pub disconnects: u64,
    /// Messages written to the socket (re-sent ones included).
    pub sent: u64,
    /// Written messages the server confirmed.
    pub confirmed: u64,
    /// Messages written again after their link died unconfirmed (at-least-once).
    pub resent: u64,
    /// Whole messages received.
    pub received: u64,
    /// Payload bytes of the messages written (re-sent ones included).
    pub bytes_sent: u64,
    /// Payload bytes of the whole messages received.
    pub bytes_received: u64,
    /// Messages buffered because the link was down.
    pub buffered: u64,
    /// Messages refused because the buffer was full.
    pub rejected: u64,
    /// Buffered messages written after a (re)connect.
    pub flushed: u64,
    /// Messages evicted from the buffer by newer ones (`DropOldest`).
    pub evicted: u64,
    /// Buffered messages, never written, handed back because the connection closed or
    /// failed.
    pub undelivered: u64,
    /// Written messages whose link died before the server confirmed them: handed back
    /// in at-most-once mode (they may or may not have arrived), written again in
    /// at-least-once mode (see `resent`).
    pub unconfirmed: u64,
    /// State transitions a state subscriber did not get, summed over the subscribers:
    /// its mailbox stayed full while more than 256 waited for it (see
    /// [`StateChanged::skipped`](crate::StateChanged::skipped)).
    pub state_events_skipped: u64,
}
