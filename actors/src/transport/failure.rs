//! Why the connector could not make a stream, and how that becomes a
//! [`DisconnectReason`].
//!
//! awc only carries I/O errors out of a connector, so a failure travels inside an
//! `io::Error` and is recognised again when the attempt is classified.

use std::io;

use crate::DisconnectReason;

/// A failure of the proxy leg of a connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportFailure {
    /// No TCP connection to the proxy (refused, unreachable, its name does not resolve).
    #[error("proxy {proxy} unreachable: {source}")]
    ProxyUnreachable {
        /// The proxy, in its log-safe form.
        proxy: String,
        source: io::Error,
    },
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx.
    #[error("proxy answered CONNECT with HTTP {status}")]
    ProxyStatus { status: u16 },
    /// The SOCKS5 proxy refused the credentials, or accepts no offered method.
    #[error("SOCKS5 proxy refused authentication: {message}")]
    SocksAuth { message: String },
    /// The SOCKS5 proxy answered the request with a failure reply.
    #[error("SOCKS5 proxy could not connect: {message} (reply {code})")]
    SocksReply { code: u8, message: String },
    /// The proxy's answer was not the protocol, or it hung up during the handshake.
    #[error("proxy handshake failed: {message}")]
    Protocol { message: String },
}

impl TransportFailure {
    /// Wrapped for awc, which takes connector errors as I/O errors.
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    fn reason(&self) -> DisconnectReason {
        match self {
            Self::ProxyUnreachable { .. } => DisconnectReason::ProxyUnreachable {
                message: self.to_string(),
            },
            // 401 is not a proxy status, but tinyproxy answers wrong credentials with it.
            Self::ProxyStatus { status: 401 | 407 } => DisconnectReason::ProxyAuthRequired,
            Self::ProxyStatus { status } => DisconnectReason::ProxyRejected { status: *status },
            Self::SocksAuth { message } => DisconnectReason::SocksAuthRefused {
                message: message.clone(),
            },
            Self::SocksReply { code, message } => DisconnectReason::SocksRefused {
                code: *code,
                message: message.clone(),
            },
            Self::Protocol { message } => DisconnectReason::ProxyProtocol {
                message: message.clone(),
            },
        }
    }
}

/// The reason for a connect error made by the transport, if it is one.
pub(crate) fn classify(error: &io::Error) -> Option<DisconnectReason> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<TransportFailure>())
        .map(TransportFailure::reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_reason_after_the_round_trip_through_io() {
        let cases = [
            (
                TransportFailure::ProxyStatus { status: 407 },
                DisconnectReason::ProxyAuthRequired,
            ),
            (
                TransportFailure::ProxyStatus { status: 503 },
                DisconnectReason::ProxyRejected { status: 503 },
            ),
            (
                TransportFailure::SocksReply {
                    code: 4,
                    message: "Host unreachable".into(),
                },
                DisconnectReason::SocksRefused {
                    code: 4,
                    message: "Host unreachable".into(),
                },
            ),
        ];
        for (failure, expected) in cases {
            assert_eq!(classify(&failure.into_io()), Some(expected));
        }
        let unreachable = TransportFailure::ProxyUnreachable {
            proxy: "http://127.0.0.1:1".into(),
            source: io::ErrorKind::ConnectionRefused.into(),
        };
        assert!(matches!(
            classify(&unreachable.into_io()),
            Some(DisconnectReason::ProxyUnreachable { message }) if message.contains("127.0.0.1:1")
        ));
        assert_eq!(classify(&io::ErrorKind::ConnectionRefused.into()), None);
    }
}
