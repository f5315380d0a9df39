use std::time::Duration;

use actix::Message;
use tether::ConnectionState;

use crate::CloseError;

/// Close the connection for good.
///
/// When Connected, the buffered messages are written first and the server is asked to
/// confirm everything written (a ping); then a close frame with code 1000 (normal
/// closure) goes out, and tether waits up to a second for the server to answer it. The
/// whole close is bounded by `close_timeout` (plus that second), whatever the server or
/// a stuck subscriber does: what is not written or confirmed by then is handed back as
/// usual. When not connected, the buffered messages are handed back at once (to their
/// waiting senders, or to undelivered subscribers); [`Close::after_flush`] waits for a
/// connection instead.
///
/// The connection then stays in `Closed`: it never reconnects (unless
/// [`Reopen`](super::Reopen)ed), and every later `Outgoing` is answered with
/// [`DeliveryError::Closed`](crate::DeliveryError::Closed). The reply is the terminal
/// state: `Closed`, or `Failed` if the connection had already given up.
///
/// For another close code, a reason, or a deadline, send a [`CloseWith`] (built by
/// [`Close::with_code`] or [`Close::after_flush`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Message)]
#[rtype(result = "ConnectionState")]
pub struct Close;

impl Close {
    /// A close whose close frame carries `code` and `reason`
    /// (`Close::with_code(4000, "bye")`). The code must be one an endpoint may send:
    /// 1000, or 3000 to 4999 (registered and private codes); the reason at most 123
    /// bytes. Otherwise the reply is a [`CloseError`].
    pub fn with_code(code: u16, reason: impl Into<String>) -> CloseWith {
        CloseWith::default().with_code(code, reason)
    }

    /// A close that first waits, up to `deadline`, for everything buffered to be
    /// written and confirmed: when not connected it keeps reconnecting (under the
    /// retry policy) instead of handing the messages back at once; while Reconnecting,
    /// the next attempt starts at once instead of waiting out its backoff (the
    /// attempts after it wait as usual). Once `deadline` passes, what is left is
    /// handed back as usual and the connection is closed. When Connected, `deadline`
    /// replaces `close_timeout`.
    pub fn after_flush(deadline: Duration) -> CloseWith {
        CloseWith::default().after_flush(deadline)
    }
}

/// A [`Close`] with a close code and reason, or a flush deadline. Built with
/// [`Close::with_code`] and [`Close::after_flush`], which combine:
/// `Close::with_code(4000, "bye").after_flush(Duration::from_secs(5))`.
///
/// The reply is the terminal state, or a [`CloseError`] for a code or reason that may
/// not be sent (nothing is closed then). If a close is already under way, its code,
/// reason and deadline stand; the reply comes when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Message)]
#[rtype(result = "Result<ConnectionState, CloseError>")]
pub struct CloseWith {
    code: u16,
    reason: Option<String>,
    deadline: Option<Duration>,
}

impl Default for CloseWith {
    /// Code 1000, no reason, no deadline: the same as [`Close`].
    fn default() -> Self {
        Self {
            code: 1000,
            reason: None,
            deadline: None,
        }
    }
}

/// Longest close reason: a control frame's payload is at most 125 bytes, two of which
/// hold the code.
const MAX_REASON_BYTES: usize = 123;

impl CloseWith {
    /// The close frame carries `code` and `reason` (see [`Close::with_code`]).
    pub fn with_code(mut self, code: u16, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        self.code = code;
        self.reason = (!reason.is_empty()).then_some(reason);
        self
    }

    /// Wait up to `deadline` for what is buffered to be flushed (see
    /// [`Close::after_flush`]).
    pub fn after_flush(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The close code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The close reason, if any.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The flush deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether the code and reason may be sent (RFC 6455 §7.4).
    pub(crate) fn validate(&self) -> Result<(), CloseError> {
        if !(self.code == 1000 || (3000..5000).contains(&self.code)) {
            return Err(CloseError::InvalidCode { code: self.code });
        }
        if let Some(reason) = &self.reason {
            if reason.len() > MAX_REASON_BYTES {
                return Err(CloseError::ReasonTooLong { len: reason.len() });
            }
        }
        Ok(())
    }

    pub(crate) fn into_parts(self) -> (u16, Option<String>, Option<Duration>) {
        (self.code, self.reason, self.deadline)
    }
}

impl From<Close> for CloseWith {
    fn from(Close: Close) -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sendable_codes_and_short_reasons_are_valid() {
        assert!(Close::with_code(4000, "bye").validate().is_ok());
        assert!(Close::with_code(1000, "").validate().is_ok());
        assert!(Close::with_code(3000, "x".repeat(123)).validate().is_ok());
        for code in [0, 999, 1001, 1005, 1006, 1015, 2999, 5000] {
            assert_eq!(
                Close::with_code(code, "").validate(),
                Err(CloseError::InvalidCode { code })
            );
        }
        assert_eq!(
            Close::with_code(4000, "x".repeat(124)).validate(),
            Err(CloseError::ReasonTooLong { len: 124 })
        );
        let combined = Close::with_code(4001, "later").after_flush(Duration::from_secs(2));
        assert_eq!(
            (combined.code(), combined.reason(), combined.deadline()),
            (4001, Some("later"), Some(Duration::from_secs(2)))
        );
        assert_eq!(CloseWith::from(Close), CloseWith::default());
    }
}
