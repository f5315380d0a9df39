//! Connection lifecycle states and the machine that enforces their order.

mod error;
mod machine;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

use std::fmt;

pub use error::TransitionError;
pub use machine::{StateMachine, Transition};

/// Lifecycle state of a resilient connection.
///
/// ```text
/// Disconnected ──► Connecting ──► Connected
///    │   ▲  ▲           │             │
///    │   │  └───────────┘             │
///    │   └────────────────────────────┘
///    ▼
/// Reconnecting ──► Connecting
/// ```
///
/// Every non-terminal state may also move to `Closed` or `Failed`, which are
/// terminal. [`StateMachine`] enforces these rules and counts attempts.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Not connected and not trying; the initial state.
    Disconnected,
    /// A connection attempt is in progress.
    Connecting,
    /// The WebSocket is open.
    Connected,
    /// Waiting out the backoff delay before the next attempt.
    Reconnecting,
    /// Closed on purpose; final.
    Closed,
    /// Gave up (attempts exhausted or a non-retryable failure); final.
    Failed,
}

impl ConnectionState {
    /// Whether no transition leaves this state (`Closed`, `Failed`).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Failed)
    }

    /// Whether the connection is open.
    pub fn is_connected(self) -> bool {
        self == Self::Connected
    }

    /// Whether moving from `self` to `next` is legal.
    ///
    /// - `Disconnected` → `Connecting` | `Reconnecting` | `Closed` | `Failed`
    /// - `Connecting` → `Connected` | `Disconnected` | `Closed` | `Failed`
    /// - `Connected` → `Disconnected` | `Closed` | `Failed`
    /// - `Reconnecting` → `Connecting` | `Closed` | `Failed`
    /// - `Closed`, `Failed` → nothing
    ///
    /// A state never transitions to itself.
    pub fn can_transition_to(self, next: ConnectionState) -> bool {
        use ConnectionState::*;
        match (self, next) {
            (Closed | Failed, _) => false,
            (_, Closed | Failed) => true,
            (Disconnected, Connecting | Reconnecting) => true,
            (Connecting, Connected | Disconnected) => true,
            (Connected, Disconnected) => true,
            (Reconnecting, Connecting) => true,
            _ => false,
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Closed => "closed",
            Self::Failed => "failed",
        })
    }
}
