//! Builds the handshake request for each attempt and classifies its failures.

use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use awc::error::{ConnectError, SendRequestError, WsClientError};
use awc::http::header::{HeaderName, HeaderValue};
use awc::ws::WebsocketsRequest;

use super::retry_after::{take_retry_after, CaptureRetryAfter};
use crate::target::Target;
pub(crate) use crate::transport::clients::TlsConfig;
use crate::transport::clients::{self, SharedClient};
use crate::transport::connector::TetherConnector;
use crate::transport::{self, Transport, TransportConfig};
use crate::{BuildError, DisconnectReason};

/// Whether a connect error is rustls refusing the server's certificate.
#[cfg(feature = "rustls")]
fn certificate_rejected(error: &std::io::Error) -> bool {
    matches!(
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType
        )
    )
}

#[cfg(not(feature = "rustls"))]
fn certificate_rejected(_error: &std::io::Error) -> bool {
    false
}

/// A closure that adjusts the handshake request of every attempt.
pub(crate) type Customize = Rc<dyn Fn(WebsocketsRequest) -> WebsocketsRequest>;

fn build_client(
    connect_timeout: Duration,
    transport: Transport,
    tls: Option<&TlsConfig>,
) -> Result<awc::Client, BuildError> {
    let connector = awc::Connector::new()
        .connector(TetherConnector::new(transport))
        .timeout(connect_timeout)
        // WebSocket connections are tunnels, not pooled requests: with awc's default
        // limit of 100, the 101st handshake on a shared client would wait for a slot.
        .limit(0);
    // Never `max_http_version`: it rebuilds awc's own TLS configuration, with the
    // process-wide crypto provider. ALPN is set on ours instead.
    #[cfg(feature = "rustls")]
    let connector = connector.rustls_0_23(crate::transport::tls::for_websocket(tls)?);
    #[cfg(not(feature = "rustls"))]
    let _ = tls; // `Option<&Infallible>`: always `None` without TLS support
    Ok(awc::Client::builder()
        // Bounds the handshake; the connector's own timeout bounds TCP connect and the
        // proxy handshake.
        .timeout(connect_timeout)
        .connector(connector)
        .wrap(CaptureRetryAfter)
        .finish())
}

/// Everything needed to start one connection attempt.
pub(crate) struct Dialer {
    client: Rc<SharedClient>,
    target: Target,
    /// Connect here instead of resolving the URL's host.
    pin: Option<SocketAddr>,
    headers: Vec<(HeaderName, HeaderValue)>,
    customize: Option<Customize>,
    max_message_size: usize,
}

impl Dialer {
    pub(crate) fn new(
        target: Target,
        headers: Vec<(HeaderName, HeaderValue)>,
        customize: Option<Customize>,
        connect_timeout: Duration,
        max_message_size: usize,
        tls: Option<TlsConfig>,
        transport: &TransportConfig,
    ) -> Result<Self, BuildError> {
        let (secure, host, port) = target.endpoint();
        let resolved = transport.resolve(secure, host, port)?;
        let client = clients::shared(connect_timeout, &resolved, tls, |tls| {
            build_client(connect_timeout, resolved.clone(), tls)
        })?;
        Ok(Self {
            client,
            target,
            pin: transport.pin,
            headers,
            customize,
            max_message_size,
        })
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// The handshake request for the next attempt: fixed headers first, then the
    /// per-attempt closure (which may replace them, e.g. with a fresh token).
    pub(crate) fn request(&self) -> WebsocketsRequest {
        let mut request = self
            .client
            .client()
            .ws(self.target.as_str())
            .max_frame_size(self.max_message_size);
        if let Some(addr) = self.pin {
            // The connector dials this address; `Host` and SNI stay the URL's.
            request = request.address(addr);
        }
        for (name, value) in &self.headers {
            request = request.set_header(name.clone(), value.clone());
        }
        match &self.customize {
            Some(customize) => customize(request),
            None => request,
        }
    }

    /// Turns awc's error into the reason published and judged by the retry policy.
    pub(crate) fn classify(&self, error: WsClientError, timeout: Duration) -> DisconnectReason {
        match error {
            WsClientError::InvalidResponseStatus(status) => DisconnectReason::HandshakeRejected {
                status: status.as_u16(),
                retry_after: take_retry_after(),
            },
            WsClientError::SendRequest(SendRequestError::Timeout)
            | WsClientError::SendRequest(SendRequestError::Connect(ConnectError::Timeout)) => {
                DisconnectReason::ConnectTimeout { after: timeout }
            }
            WsClientError::SendRequest(SendRequestError::Connect(ConnectError::Io(error))) => {
                if certificate_rejected(&error) {
                    DisconnectReason::TlsCertificate {
                        message: error.to_string(),
                    }
                } else if let Some(reason) = transport::classify(&error) {
                    reason
                } else {
                    DisconnectReason::ConnectFailed {
                        message: SendRequestError::Connect(ConnectError::Io(error)).to_string(),
                    }
                }
            }
            WsClientError::SendRequest(SendRequestError::TunnelNotSupported) => {
                DisconnectReason::TunnelUnsupported {
                    message: SendRequestError::TunnelNotSupported.to_string(),
                }
            }
            WsClientError::SendRequest(error) => DisconnectReason::ConnectFailed {
                message: error.to_string(),
            },
            WsClientError::Protocol(error) => DisconnectReason::ProtocolError {
                message: error.to_string(),
            },
            other => DisconnectReason::HandshakeInvalid {
                message: other.to_string(),
            },
        }
    }
}

impl fmt::Debug for Dialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: only their names are shown.
        f.debug_struct("Dialer")
            .field("target", &self.target)
            .field("transport", self.client.transport())
            .field("pin", &self.pin)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("customized", &self.customize.is_some())
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}
