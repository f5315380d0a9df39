use super::ConnectionState;

/// Why [`StateMachine::transition`](crate::StateMachine::transition) refused a change.
///
/// The machine is left unchanged in both cases.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The move is not allowed from the current state
    /// (see [`ConnectionState::can_transition_to`]).
    #[error("illegal connection state transition from {from} to {to}")]
    Illegal {
        /// Current state.
        from: ConnectionState,
        /// Requested state.
        to: ConnectionState,
    },
    /// Entering `Reconnecting` was refused: all allowed attempts are used up.
    #[error("reconnect attempts exhausted ({attempts} of {max} used)")]
    AttemptsExhausted {
        /// Attempts made so far.
        attempts: u32,
        /// Configured maximum.
        max: u32,
    },
}
