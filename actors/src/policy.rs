//! Which failures are retried and which are final.

use std::fmt;
use std::time::Duration;

use crate::DisconnectReason;

/// What to do after a failure.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Reconnect after the computed backoff delay.
    Retry,
    /// Reconnect, but no sooner than this delay (the longer of it and the backoff wins).
    RetryNotBefore(Duration),
    /// Stop for good: the connection enters `Failed`.
    GiveUp,
}

/// Decides, for each failure, whether the connection tries again.
///
/// Attempt limits (`max_reconnect_attempts`) are applied after the policy: a policy only
/// says whether a failure of this kind is worth retrying.
///
/// ```
/// use tether_actix::{DisconnectReason, RetryDecision, RetryPolicy};
///
/// /// Never retry after the server closed the connection on purpose.
/// #[derive(Debug)]
/// struct ServerHasTheLastWord;
///
/// impl RetryPolicy for ServerHasTheLastWord {
///     fn decide(&self, reason: &DisconnectReason) -> RetryDecision {
///         match reason {
///             DisconnectReason::ClosedByServer { .. } => RetryDecision::GiveUp,
///             other => tether_actix::DefaultRetryPolicy.decide(other),
///         }
///     }
/// }
/// # let _ = ServerHasTheLastWord;
/// ```
pub trait RetryPolicy: fmt::Debug + 'static {
    /// Judge one failure.
    fn decide(&self, reason: &DisconnectReason) -> RetryDecision;
}

/// The default policy.
///
/// | failure | decision |
/// |---|---|
/// | network errors, timeouts, stream ended, protocol errors, heartbeat timeout, write errors | retry |
/// | reading paused too long for stalled message subscribers | retry |
/// | handshake 5xx | retry |
/// | handshake 429 | retry, no sooner than its `Retry-After` (at most `max_retry_after`) |
/// | handshake 4xx other than 429 (401, 403, 404, ...) | give up |
/// | handshake 1xx/2xx/3xx (not a WebSocket endpoint; redirects are not followed) | give up |
/// | handshake answered 101 but invalid | give up |
/// | handshake request invalid (never sent) | give up |
/// | server TLS certificate rejected (untrusted, wrong host, expired) | give up |
/// | close code 1008 (policy violation) | give up |
/// | proxy unreachable, proxy protocol error | retry |
/// | proxy answers 5xx (502, 503) | retry |
/// | proxy answers 407, or another 4xx | give up |
/// | SOCKS5 authentication refused | give up |
/// | SOCKS5 reply "not allowed by ruleset", "command" or "address type not supported" | give up |
/// | any other SOCKS5 failure reply (host or network unreachable, refused, TTL expired) | retry |
/// | the server negotiated HTTP/2 (no WebSocket upgrade) | give up |
/// | any other close code, or none | retry |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultRetryPolicy;

impl RetryPolicy for DefaultRetryPolicy {
    fn decide(&self, reason: &DisconnectReason) -> RetryDecision {
        match reason {
            DisconnectReason::HandshakeRejected {
                status: 429,
                retry_after,
            } => retry_after.map_or(RetryDecision::Retry, RetryDecision::RetryNotBefore),
            DisconnectReason::HandshakeRejected { status, .. } if (500..600).contains(status) => {
                RetryDecision::Retry
            }
            DisconnectReason::ProxyRejected { status } if (500..600).contains(status) => {
                RetryDecision::Retry
            }
            DisconnectReason::SocksRefused {
                code: 2 | 7 | 8, ..
            } => RetryDecision::GiveUp,
            DisconnectReason::HandshakeRejected { .. }
            | DisconnectReason::ProxyRejected { .. }
            | DisconnectReason::ProxyAuthRequired
            | DisconnectReason::SocksAuthRefused { .. }
            | DisconnectReason::TunnelUnsupported { .. }
            | DisconnectReason::HandshakeInvalid { .. }
            | DisconnectReason::InvalidRequest { .. }
            | DisconnectReason::TlsCertificate { .. }
            | DisconnectReason::CloseRequested
            | DisconnectReason::Abandoned
            | DisconnectReason::AttemptsExhausted { .. } => RetryDecision::GiveUp,
            DisconnectReason::ClosedByServer {
                code: Some(1008), ..
            } => RetryDecision::GiveUp,
            _ => RetryDecision::Retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(reason: DisconnectReason) -> RetryDecision {
        DefaultRetryPolicy.decide(&reason)
    }

    fn rejected(status: u16) -> DisconnectReason {
        DisconnectReason::HandshakeRejected {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn client_errors_are_final_except_429() {
        for status in [400, 401, 403, 404, 410] {
            assert_eq!(decide(rejected(status)), RetryDecision::GiveUp, "{status}");
        }
        assert_eq!(decide(rejected(429)), RetryDecision::Retry);
        let with_retry_after = DisconnectReason::HandshakeRejected {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(with_retry_after),
            RetryDecision::RetryNotBefore(Duration::from_secs(7))
        );
    }

    #[test]
    fn server_errors_and_network_failures_are_retried() {
        for status in [500, 502, 503, 504] {
            assert_eq!(decide(rejected(status)), RetryDecision::Retry, "{status}");
        }
        for reason in [
            DisconnectReason::StreamEnded,
            DisconnectReason::ConnectTimeout {
                after: Duration::from_secs(1),
            },
            DisconnectReason::HeartbeatTimeout {
                timeout: Duration::from_secs(1),
            },
            DisconnectReason::ConnectFailed {
                message: "refused".into(),
            },
            DisconnectReason::SubscriberStalled {
                paused_for: Duration::from_secs(30),
            },
        ] {
            assert_eq!(decide(reason), RetryDecision::Retry);
        }
    }

    #[test]
    fn close_codes_follow_the_policy_table() {
        let closed = |code| DisconnectReason::ClosedByServer {
            code,
            description: None,
        };
        assert_eq!(decide(closed(Some(1008))), RetryDecision::GiveUp);
        for code in [None, Some(1000), Some(1001), Some(1011), Some(4000)] {
            assert_eq!(decide(closed(code)), RetryDecision::Retry, "{code:?}");
        }
    }

    #[test]
    fn an_invalid_request_is_final() {
        let reason = DisconnectReason::InvalidRequest {
            message: "a header value is invalid".into(),
        };
        assert_eq!(decide(reason), RetryDecision::GiveUp);
    }

    #[test]
    fn proxy_failures_follow_the_policy_table() {
        let retried = [
            DisconnectReason::ProxyUnreachable {
                message: "refused".into(),
            },
            DisconnectReason::ProxyRejected { status: 502 },
            DisconnectReason::ProxyRejected { status: 503 },
            DisconnectReason::SocksRefused {
                code: 4,
                message: "Host unreachable".into(),
            },
            DisconnectReason::SocksRefused {
                code: 5,
                message: "Connection refused".into(),
            },
            DisconnectReason::ProxyProtocol {
                message: "garbage".into(),
            },
        ];
        for reason in retried {
            assert_eq!(decide(reason.clone()), RetryDecision::Retry, "{reason}");
        }
        let final_ = [
            DisconnectReason::ProxyAuthRequired,
            DisconnectReason::ProxyRejected { status: 403 },
            DisconnectReason::SocksAuthRefused {
                message: "refused".into(),
            },
            DisconnectReason::SocksRefused {
                code: 2,
                message: "not allowed".into(),
            },
            DisconnectReason::TunnelUnsupported {
                message: "h2".into(),
            },
        ];
        for reason in final_ {
            assert_eq!(decide(reason.clone()), RetryDecision::GiveUp, "{reason}");
        }
    }

    #[test]
    fn non_upgrade_statuses_are_final() {
        for status in [200, 301, 302] {
            assert_eq!(decide(rejected(status)), RetryDecision::GiveUp, "{status}");
        }
    }
}
