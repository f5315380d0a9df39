use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Message;
use tether::ConnectionState;

use crate::{ConnectionId, DisconnectReason, Endpoint};

/// One state transition of a connection, published to every state subscriber.
///
/// Each transition is published exactly once, in the order the transitions happened,
/// and the connection never waits for a subscriber. A subscriber whose mailbox stays
/// full gets the transitions later, still in order, but at most 256 wait for it: beyond
/// that the oldest waiting one is dropped, and [`skipped`](Self::skipped) on the next one
/// it gets says how many it missed just before that one.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct StateChanged {
    /// The connection that changed.
    pub connection: ConnectionId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// The endpoint the transition concerns: the one connecting, connected or lost;
    /// on entering `Reconnecting`, the one the next attempt goes to.
    pub endpoint: Endpoint,
    /// The state it left.
    pub from: ConnectionState,
    /// The state it entered.
    pub to: ConnectionState,
    /// The reconnect attempt counter after the transition.
    pub attempt: u32,
    /// Why, for transitions caused by a failure or a close.
    pub reason: Option<DisconnectReason>,
    /// The delay before the next connect, on entering `Reconnecting`.
    pub next_delay: Option<Duration>,
    /// On losing a link: messages written to it but not confirmed by the server. In
    /// at-most-once mode they are handed back as undelivered; in at-least-once mode
    /// they are written again after the reconnect.
    pub unconfirmed: usize,
    /// When the transition happened.
    pub at: Instant,
    /// Transitions just before this one that this subscriber did not get, its mailbox
    /// full while too many waited for it: 0 for a subscriber that keeps up.
    pub skipped: u64,
}
