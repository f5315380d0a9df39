use std::time::{Duration, Instant};

use super::{ConnectionState, TransitionError};
use crate::ResiliencyConfig;

/// A state change accepted by [`StateMachine::transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// State before the change.
    pub from: ConnectionState,
    /// State after the change.
    pub to: ConnectionState,
    /// Reconnect attempt counter after the change.
    pub attempt: u32,
}

/// Enforces the legal order of [`ConnectionState`]s and counts reconnect attempts.
///
/// Starts `Disconnected` with zero attempts. Entering `Reconnecting` counts an
/// attempt; the counter resets only once a connection has stayed up for
/// `stable_uptime` (immediately on connect when that is zero). A disconnect
/// alone never resets it, so a server that accepts and at once drops
/// connections still meets growing backoff and the attempt limit.
///
/// Time is passed in rather than read, so the machine stays runtime-free and
/// deterministic in tests.
///
/// # Example
///
/// ```
/// use std::time::{Duration, Instant};
/// use tether::{ConnectionState, StateMachine, TransitionError};
///
/// let mut sm = StateMachine::new(Some(1), Duration::ZERO);
/// let now = Instant::now();
/// sm.transition(ConnectionState::Reconnecting, now)?;
/// sm.transition(ConnectionState::Connecting, now)?;
/// sm.transition(ConnectionState::Disconnected, now)?;
/// assert_eq!(sm.attempts(), 1);
/// assert!(matches!(
///     sm.transition(ConnectionState::Reconnecting, now),
///     Err(TransitionError::AttemptsExhausted { attempts: 1, max: 1 })
/// ));
/// sm.transition(ConnectionState::Failed, now)?;
/// assert!(sm.state().is_terminal());
/// # Ok::<(), TransitionError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StateMachine {
    state: ConnectionState,
    attempts: u32,
    max_attempts: Option<u32>,
    stable_uptime: Duration,
    connected_at: Option<Instant>,
}

impl StateMachine {
    /// Creates a machine in `Disconnected` with zero attempts.
    ///
    /// `max_attempts = None` allows unlimited reconnects; `stable_uptime` is how
    /// long a connection must last before the attempt counter resets.
    pub fn new(max_attempts: Option<u32>, stable_uptime: Duration) -> Self {
        Self {
            state: ConnectionState::Disconnected,
            attempts: 0,
            max_attempts,
            stable_uptime,
            connected_at: None,
        }
    }

    /// Creates a machine from `max_reconnect_attempts` and `stable_uptime`.
    pub fn from_config(config: &ResiliencyConfig) -> Self {
        Self::new(config.max_reconnect_attempts(), config.stable_uptime())
    }

    /// Current state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// Reconnect attempts since the last stable connection.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Configured maximum of attempts; `None` = unlimited.
    pub fn max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// Uptime after which the attempt counter resets.
    pub fn stable_uptime(&self) -> Duration {
        self.stable_uptime
    }

    /// Whether another reconnect attempt is allowed: `attempts < max`, always
    /// when unlimited.
    pub fn should_reconnect(&self) -> bool {
        self.max_attempts.map_or(true, |max| self.attempts < max)
    }

    /// When the current connection was established, while `Connected`.
    pub fn connected_since(&self) -> Option<Instant> {
        self.connected_at
    }

    /// Moves to `to` at time `now`.
    ///
    /// - Entering `Reconnecting` increments the attempt counter (saturating).
    /// - Entering `Connected` records `now`, and resets the counter at once
    ///   when `stable_uptime` is zero.
    /// - Leaving `Connected` resets the counter if the connection lasted at
    ///   least `stable_uptime`.
    ///
    /// # Errors
    ///
    /// The machine is unchanged on error.
    /// - [`TransitionError::Illegal`] when
    ///   [`can_transition_to`](ConnectionState::can_transition_to) forbids the move.
    /// - [`TransitionError::AttemptsExhausted`] when entering `Reconnecting`
    ///   while [`should_reconnect`](Self::should_reconnect) is false.
    pub fn transition(
        &mut self,
        to: ConnectionState,
        now: Instant,
    ) -> Result<Transition, TransitionError> {
        let from = self.state;
        if !from.can_transition_to(to) {
            return Err(TransitionError::Illegal { from, to });
        }
        if to == ConnectionState::Reconnecting {
            if let Some(max) = self.max_attempts.filter(|&max| self.attempts >= max) {
                return Err(TransitionError::AttemptsExhausted {
                    attempts: self.attempts,
                    max,
                });
            }
        }

        if from == ConnectionState::Connected {
            self.refresh(now);
            self.connected_at = None;
        }
        match to {
            ConnectionState::Reconnecting => self.attempts = self.attempts.saturating_add(1),
            ConnectionState::Connected => {
                self.connected_at = Some(now);
                self.refresh(now);
            }
            _ => {}
        }
        self.state = to;
        Ok(Transition {
            from,
            to,
            attempt: self.attempts,
        })
    }

    /// Enters `Reconnecting` for a reconnect the application asked for, not one a
    /// failure made necessary: it is not counted as an attempt, and it is allowed when
    /// the attempts are used up. Legal where entering `Reconnecting` is (from
    /// `Disconnected`).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use tether::{ConnectionState, StateMachine};
    ///
    /// let mut sm = StateMachine::new(Some(1), Duration::from_secs(60));
    /// let now = Instant::now();
    /// sm.transition(ConnectionState::Reconnecting, now)?;
    /// sm.transition(ConnectionState::Connecting, now)?;
    /// sm.transition(ConnectionState::Connected, now)?;
    /// // Not yet stable, and the one attempt is used: asked for, it still goes.
    /// sm.transition(ConnectionState::Disconnected, now)?;
    /// let transition = sm.reconnect_on_request()?;
    /// assert_eq!(transition.to, ConnectionState::Reconnecting);
    /// assert_eq!(sm.attempts(), 1);
    /// # Ok::<(), tether::TransitionError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`TransitionError::Illegal`] from any state but `Disconnected`; the machine is
    /// unchanged.
    pub fn reconnect_on_request(&mut self) -> Result<Transition, TransitionError> {
        let from = self.state;
        let to = ConnectionState::Reconnecting;
        if !from.can_transition_to(to) {
            return Err(TransitionError::Illegal { from, to });
        }
        self.state = to;
        Ok(Transition {
            from,
            to,
            attempt: self.attempts,
        })
    }

    /// Leaves a terminal state (`Closed` or `Failed`) for `Disconnected`, with the
    /// attempt counter reset: the connection starts over as if new. No
    /// [`transition`](Self::transition) leaves a terminal state; this is the one way
    /// back, for an explicit request to reopen.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Illegal`] when the state is not terminal; the machine is
    /// unchanged.
    pub fn reopen(&mut self) -> Result<Transition, TransitionError> {
        let from = self.state;
        if !from.is_terminal() {
            return Err(TransitionError::Illegal {
                from,
                to: ConnectionState::Disconnected,
            });
        }
        self.state = ConnectionState::Disconnected;
        self.attempts = 0;
        self.connected_at = None;
        Ok(Transition {
            from,
            to: ConnectionState::Disconnected,
            attempt: 0,
        })
    }

    /// Resets the attempt counter if the current connection has been up for
    /// `stable_uptime` by `now`; does nothing when not connected.
    ///
    /// Lets a status display show zero attempts once a connection is stable,
    /// without waiting for it to end.
    pub fn refresh(&mut self, now: Instant) {
        if let Some(since) = self.connected_at {
            if now.saturating_duration_since(since) >= self.stable_uptime {
                self.attempts = 0;
            }
        }
    }
}
