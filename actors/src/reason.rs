//! Why a connection left the Connected or Connecting state.

use std::fmt;
use std::io;
use std::time::Duration;

/// Why a connection attempt failed, a link went down, or the connection ended.
///
/// Carried by [`StateChanged`](crate::StateChanged) and judged by a
/// [`RetryPolicy`](crate::RetryPolicy). Messages of network errors never contain the
/// URL's credentials or any header value.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The TCP (or TLS) connection could not be established: refused, unreachable, DNS.
    ConnectFailed {
        /// The error as text.
        message: String,
        /// The I/O error's kind (`ConnectionRefused`, `TimedOut`, ...), when the
        /// failure was one.
        kind: Option<io::ErrorKind>,
    },
    /// The server's TLS certificate was rejected: untrusted, expired, or not valid for
    /// the host. Final under the default policy: retrying cannot fix it.
    TlsCertificate {
        /// The error as text.
        message: String,
    },
    /// Connecting and the WebSocket handshake took longer than the connect timeout.
    ConnectTimeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The server answered the handshake with an HTTP status other than 101.
    HandshakeRejected {
        /// The HTTP status code.
        status: u16,
        /// The server's `Retry-After`, when it sent one, at most
        /// [`ResiliencyConfig::max_retry_after`](crate::ResiliencyConfig::max_retry_after).
        retry_after: Option<Duration>,
    },
    /// The server answered 101 but the handshake was not valid WebSocket.
    HandshakeInvalid {
        /// The error as text.
        message: String,
    },
    /// The handshake request could not be built, so it was never sent: for example a
    /// header value from [`on_request`](crate::ConnectionBuilder::on_request) holds a
    /// newline. Final under the default policy: the same request would fail again.
    InvalidRequest {
        /// What is wrong, as text. Never contains a header value (it may be a
        /// credential).
        message: String,
    },
    /// The server sent a close frame.
    ClosedByServer {
        /// The close code, when the frame had one.
        code: Option<u16>,
        /// The close description, when the frame had one.
        description: Option<String>,
    },
    /// The byte stream ended without a close frame.
    StreamEnded,
    /// Reading from the socket failed (for example the connection was reset).
    ConnectionLost {
        /// The error as text.
        message: String,
        /// The I/O error's kind (`ConnectionReset`, `BrokenPipe`, ...).
        kind: Option<io::ErrorKind>,
    },
    /// The server broke the WebSocket protocol (bad frame, bad fragment sequence).
    ProtocolError {
        /// The error as text.
        message: String,
    },
    /// No frame arrived within the heartbeat timeout after a ping (or, while messages
    /// wait for confirmation, no Pong did).
    HeartbeatTimeout {
        /// The timeout that expired.
        timeout: Duration,
    },
    /// An incoming message was larger than the configured maximum (close code 1009).
    MessageTooLarge {
        /// The configured maximum in bytes.
        limit: usize,
    },
    /// An incoming text message was not valid UTF-8 (close code 1007).
    InvalidUtf8,
    /// Writing to the socket failed.
    WriteFailed {
        /// The error as text.
        message: String,
        /// The I/O error's kind (`BrokenPipe`, `ConnectionReset`, ...), when the
        /// failure was one.
        kind: Option<io::ErrorKind>,
    },
    /// Reading stayed paused longer than `max_read_pause`, because message subscribers
    /// did not take what was received. The link is replaced like any failed one; the
    /// messages already received are still handed to the subscribers.
    SubscriberStalled {
        /// How long reading had been paused.
        paused_for: Duration,
    },
    /// The application asked to close the connection.
    CloseRequested,
    /// The actor ended without `Close`: its last address was dropped (or its system
    /// stopped). Everything it held was handed back, and the server was sent close
    /// code 1001 (going away).
    Abandoned,
    /// The proxy could not be reached: refused, unreachable, or its name did not resolve.
    ProxyUnreachable {
        /// The error as text (the proxy's scheme, host and port, never its credentials).
        message: String,
    },
    /// The HTTP proxy refused to open a tunnel, with this status (401 and 407 are
    /// [`ProxyAuthRequired`](Self::ProxyAuthRequired)). 5xx (502, 503: the proxy could
    /// not reach the server) is retried; 4xx (403: forbidden by the proxy) is final.
    ProxyRejected {
        /// The HTTP status of the proxy's answer.
        status: u16,
    },
    /// The HTTP proxy answered 407 (or 401, as some proxies do for wrong credentials):
    /// it wants credentials, or refused the ones given. Final under the default policy.
    ProxyAuthRequired,
    /// The SOCKS5 proxy refused the username and password, or accepts no
    /// authentication method tether offers. Final under the default policy.
    SocksAuthRefused {
        /// The error as text (never the credentials).
        message: String,
    },
    /// The SOCKS5 proxy could not connect to the server (RFC 1928 reply `code`: 3
    /// network unreachable, 4 host unreachable, 5 connection refused, ...).
    SocksRefused {
        /// The reply code.
        code: u8,
        /// Its meaning.
        message: String,
    },
    /// The proxy did not speak its protocol, or hung up during the handshake.
    ProxyProtocol {
        /// The error as text.
        message: String,
    },
    /// The server negotiated HTTP/2, which cannot carry a WebSocket upgrade. Final
    /// under the default policy.
    TunnelUnsupported {
        /// The error as text.
        message: String,
    },
    /// The [`CredentialsProvider`](crate::CredentialsProvider) failed, so the attempt
    /// was never sent. Retried under the default policy unless the provider called it
    /// final ([`CredentialsError::final_`](crate::CredentialsError::final_)), which
    /// gives up on the attempt's endpoint whatever the policy says.
    CredentialsFailed {
        /// The provider's message (the provider must keep secrets out of it).
        message: String,
        /// Whether the provider called the failure final.
        is_final: bool,
    },
    /// The credentials provider did not answer within
    /// [`credentials_timeout`](crate::ResiliencyConfig::credentials_timeout). Retried
    /// under the default policy.
    CredentialsTimedOut {
        /// The timeout that expired.
        after: Duration,
    },
    /// The retry policy allowed another attempt, but `max_reconnect_attempts` were used up.
    AttemptsExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// The link was up, but its setup (the messages of
    /// [`on_connect`](crate::ConnectionBuilder::on_connect)) did not complete: the
    /// server closed or dropped the link first, or did not confirm the setup within
    /// `setup_timeout`. The attempt counts as failed; nothing buffered was written.
    /// Retried under the default policy.
    SetupFailed {
        /// What ended the setup ([`SetupTimeout`](Self::SetupTimeout), or the link's
        /// failure).
        cause: Box<DisconnectReason>,
    },
    /// The setup was not written and confirmed within `setup_timeout`; the cause of a
    /// [`SetupFailed`](Self::SetupFailed).
    SetupTimeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// The application asked for a new link ([`message::Reconnect`](crate::message::Reconnect)):
    /// the live one was closed (code 1000) and the connection reconnects at once.
    ReconnectRequested,
}

impl DisconnectReason {
    /// The variant's name in snake case (`"heartbeat_timeout"`), without its details:
    /// a bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConnectFailed { .. } => "connect_failed",
            Self::TlsCertificate { .. } => "tls_certificate",
            Self::ConnectTimeout { .. } => "connect_timeout",
            Self::HandshakeRejected { .. } => "handshake_rejected",
            Self::HandshakeInvalid { .. } => "handshake_invalid",
            Self::ClosedByServer { .. } => "closed_by_server",
            Self::StreamEnded => "stream_ended",
            Self::ConnectionLost { .. } => "connection_lost",
            Self::ProtocolError { .. } => "protocol_error",
            Self::HeartbeatTimeout { .. } => "heartbeat_timeout",
            Self::MessageTooLarge { .. } => "message_too_large",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::WriteFailed { .. } => "write_failed",
            Self::SubscriberStalled { .. } => "subscriber_stalled",
            Self::CloseRequested => "close_requested",
            Self::Abandoned => "abandoned",
            Self::AttemptsExhausted { .. } => "attempts_exhausted",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::ProxyUnreachable { .. } => "proxy_unreachable",
            Self::ProxyRejected { .. } => "proxy_rejected",
            Self::ProxyAuthRequired => "proxy_auth_required",
            Self::SocksAuthRefused { .. } => "socks_auth_refused",
            Self::SocksRefused { .. } => "socks_refused",
            Self::ProxyProtocol { .. } => "proxy_protocol",
            Self::TunnelUnsupported { .. } => "tunnel_unsupported",
            Self::CredentialsFailed { .. } => "credentials_failed",
            Self::CredentialsTimedOut { .. } => "credentials_timed_out",
            Self::SetupFailed { .. } => "setup_failed",
            Self::SetupTimeout { .. } => "setup_timeout",
            Self::ReconnectRequested => "reconnect_requested",
        }
    }

    /// The kind of the I/O error behind a connect, read or write failure, when there was
    /// one: to tell a refused connection (`ConnectionRefused`) from a reset one
    /// (`ConnectionReset`) without reading the message.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Self::ConnectFailed { kind, .. }
            | Self::ConnectionLost { kind, .. }
            | Self::WriteFailed { kind, .. } => *kind,
            _ => None,
        }
    }

    /// The close code tether sends to the server when it drops the link for this reason,
    /// or `None` when no close frame is sent (the link is dead or already closed).
    pub(crate) fn close_code(&self) -> Option<u16> {
        match self {
            Self::MessageTooLarge { .. } => Some(1009),
            Self::InvalidUtf8 => Some(1007),
            Self::ProtocolError { .. } => Some(1002),
            // Echo the server's code, as RFC 6455 §5.5.1 asks.
            Self::ClosedByServer { code, .. } => Some(code.unwrap_or(1000)),
            Self::CloseRequested => Some(1000),
            Self::Abandoned => Some(1001),
            Self::SetupFailed { cause } => cause.close_code(),
            Self::SetupTimeout { .. } | Self::ReconnectRequested => Some(1000),
            _ => None,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectFailed { message, .. } => write!(f, "connect failed: {message}"),
            Self::TlsCertificate { message } => {
                write!(f, "server certificate rejected: {message}")
            }
            Self::ConnectTimeout { after } => write!(f, "connect timed out after {after:?}"),
            Self::HandshakeRejected {
                status,
                retry_after: Some(after),
            } => write!(
                f,
                "handshake rejected with HTTP {status} (retry after {after:?})"
            ),
            Self::HandshakeRejected { status, .. } => {
                write!(f, "handshake rejected with HTTP {status}")
            }
            Self::HandshakeInvalid { message } => write!(f, "invalid handshake: {message}"),
            Self::InvalidRequest { message } => {
                write!(f, "invalid handshake request: {message}")
            }
            Self::ClosedByServer { code, description } => {
                write!(f, "closed by server")?;
                if let Some(code) = code {
                    write!(f, " with code {code}")?;
                }
                if let Some(description) = description {
                    write!(f, ": {description}")?;
                }
                Ok(())
            }
            Self::StreamEnded => write!(f, "stream ended without a close frame"),
            Self::ConnectionLost { message, .. } => write!(f, "connection lost: {message}"),
            Self::ProtocolError { message } => write!(f, "protocol error: {message}"),
            Self::HeartbeatTimeout { timeout } => {
                write!(f, "no answer to a heartbeat ping within {timeout:?}")
            }
            Self::MessageTooLarge { limit } => {
                write!(f, "incoming message larger than {limit} bytes")
            }
            Self::InvalidUtf8 => write!(f, "incoming text message was not valid UTF-8"),
            Self::WriteFailed { message, .. } => write!(f, "write failed: {message}"),
            Self::SubscriberStalled { paused_for } => write!(
                f,
                "reading paused for {paused_for:?}: message subscribers are not keeping up"
            ),
            Self::CloseRequested => write!(f, "close requested"),
            Self::Abandoned => write!(f, "the last address of the connection was dropped"),
            Self::SetupFailed { cause } => write!(f, "setup failed: {cause}"),
            Self::SetupTimeout { after } => write!(f, "setup not confirmed within {after:?}"),
            Self::ReconnectRequested => write!(f, "reconnect requested"),
            Self::ProxyUnreachable { message } => write!(f, "{message}"),
            Self::ProxyRejected { status } => {
                write!(f, "proxy refused the tunnel with HTTP {status}")
            }
            Self::ProxyAuthRequired => {
                write!(f, "proxy requires authentication (HTTP 407)")
            }
            Self::SocksAuthRefused { message } => {
                write!(f, "SOCKS5 authentication refused: {message}")
            }
            Self::SocksRefused { code, message } => {
                write!(
                    f,
                    "SOCKS5 proxy could not connect: {message} (reply {code})"
                )
            }
            Self::ProxyProtocol { message } => write!(f, "{message}"),
            Self::TunnelUnsupported { message } => {
                write!(f, "server cannot upgrade: {message}")
            }
            Self::CredentialsFailed {
                message,
                is_final: true,
            } => write!(f, "credentials failed (final): {message}"),
            Self::CredentialsFailed { message, .. } => write!(f, "credentials failed: {message}"),
            Self::CredentialsTimedOut { after } => {
                write!(f, "credentials provider did not answer within {after:?}")
            }
            Self::AttemptsExhausted { attempts } => {
                write!(f, "gave up after {attempts} reconnect attempts")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use super::DisconnectReason;

    #[test]
    fn kinds_are_distinct_snake_case_names_without_details() {
        let text = || "secret detail 123".to_owned();
        let all = [
            DisconnectReason::ConnectFailed {
                message: text(),
                kind: None,
            },
            DisconnectReason::TlsCertificate { message: text() },
            DisconnectReason::ConnectTimeout {
                after: Duration::from_secs(1),
            },
            DisconnectReason::HandshakeRejected {
                status: 503,
                retry_after: None,
            },
            DisconnectReason::HandshakeInvalid { message: text() },
            DisconnectReason::ClosedByServer {
                code: Some(1001),
                description: Some(text()),
            },
            DisconnectReason::StreamEnded,
            DisconnectReason::ConnectionLost {
                message: text(),
                kind: Some(std::io::ErrorKind::ConnectionReset),
            },
            DisconnectReason::ProtocolError { message: text() },
            DisconnectReason::HeartbeatTimeout {
                timeout: Duration::from_secs(5),
            },
            DisconnectReason::MessageTooLarge { limit: 1 },
            DisconnectReason::InvalidUtf8,
            DisconnectReason::WriteFailed {
                message: text(),
                kind: Some(std::io::ErrorKind::BrokenPipe),
            },
            DisconnectReason::SubscriberStalled {
                paused_for: Duration::from_secs(30),
            },
            DisconnectReason::CloseRequested,
            DisconnectReason::Abandoned,
            DisconnectReason::AttemptsExhausted { attempts: 3 },
            DisconnectReason::InvalidRequest { message: text() },
            DisconnectReason::ProxyUnreachable { message: text() },
            DisconnectReason::ProxyRejected { status: 502 },
            DisconnectReason::ProxyAuthRequired,
            DisconnectReason::SocksAuthRefused { message: text() },
            DisconnectReason::SocksRefused {
                code: 4,
                message: text(),
            },
            DisconnectReason::ProxyProtocol { message: text() },
            DisconnectReason::TunnelUnsupported { message: text() },
            DisconnectReason::CredentialsFailed {
                message: text(),
                is_final: false,
            },
            DisconnectReason::CredentialsTimedOut {
                after: Duration::from_secs(10),
            },
            DisconnectReason::SetupFailed {
                cause: Box::new(DisconnectReason::StreamEnded),
            },
            DisconnectReason::SetupTimeout {
                after: Duration::from_secs(1),
            },
            DisconnectReason::ReconnectRequested,
        ];
        let kinds: HashSet<_> = all.iter().map(DisconnectReason::kind).collect();
        assert_eq!(kinds.len(), all.len());
        for kind in kinds {
            assert!(
                kind.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{kind}"
            );
        }
        assert_eq!(
            DisconnectReason::HeartbeatTimeout {
                timeout: Duration::from_secs(5)
            }
            .kind(),
            "heartbeat_timeout"
        );
    }

    #[test]
    fn io_kinds_are_kept_for_connect_read_and_write_failures() {
        let refused = DisconnectReason::ConnectFailed {
            message: "refused".into(),
            kind: Some(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(
            refused.io_kind(),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        let broken = DisconnectReason::WriteFailed {
            message: "broken pipe".into(),
            kind: Some(std::io::ErrorKind::BrokenPipe),
        };
        assert_eq!(broken.io_kind(), Some(std::io::ErrorKind::BrokenPipe));
        assert_eq!(DisconnectReason::StreamEnded.io_kind(), None);
    }
}
