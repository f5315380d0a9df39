//! Builds the handshake request for each attempt and classifies its failures.

use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use awc::error::{ConnectError, HttpError, SendRequestError, WsClientError};
use awc::http::header::{HeaderName, HeaderValue, InvalidHeaderName, InvalidHeaderValue};
use awc::ws::WebsocketsRequest;
use tether::ResiliencyConfig;
use url::Url;

use super::retry_after::{CaptureRetryAfter, RetryAfterSlot};
use crate::credentials::header_names;
use crate::target::Target;
pub(crate) use crate::transport::clients::TlsConfig;
use crate::transport::clients::{self, SharedClient};
use crate::transport::connector::TetherConnector;
use crate::transport::{self, Transport, TransportConfig};
use crate::{BuildError, Credentials, DisconnectReason};

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

/// What is wrong with a request awc refused to build, in fixed words: the error's own
/// text is not used, so that no header value (perhaps a credential) can leak into it.
fn invalid_request(error: &HttpError) -> &'static str {
    if error.is::<InvalidHeaderValue>() {
        "a header value is invalid (it holds a control character such as a newline)"
    } else if error.is::<InvalidHeaderName>() {
        "a header name is invalid"
    } else {
        "the request could not be built"
    }
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
    max_retry_after: Duration,
    /// The current attempt's `Retry-After` slot.
    retry_after: Option<RetryAfterSlot>,
}

impl Dialer {
    /// A dialer for `target` with the connect timeout, message size and `Retry-After`
    /// cap of `config`.
    pub(crate) fn new(
        target: Target,
        (headers, customize): (Vec<(HeaderName, HeaderValue)>, Option<Customize>),
        config: &ResiliencyConfig,
        tls: Option<TlsConfig>,
        transport: &TransportConfig,
    ) -> Result<Self, BuildError> {
        let connect_timeout = config.connect_timeout();
        let max_message_size = config.max_message_size();
        let max_retry_after = config.max_retry_after();
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
            max_retry_after,
            retry_after: None,
        })
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// The handshake request for the next attempt: fixed headers first, then the
    /// attempt's credentials (headers replacing fixed ones of the same name, query pairs
    /// appended to the URL), then the per-attempt closure. Each request gets a fresh
    /// `Retry-After` slot; the previous attempt's is dropped.
    pub(crate) fn request(
        &mut self,
        credentials: Option<&Credentials>,
    ) -> Result<WebsocketsRequest, DisconnectReason> {
        let url = match credentials {
            Some(credentials) if !credentials.query_pairs().is_empty() => {
                let mut url = Url::parse(self.target.as_str()).map_err(|_| {
                    DisconnectReason::InvalidRequest {
                        message: "the URL is invalid".to_owned(),
                    }
                })?;
                url.query_pairs_mut()
                    .extend_pairs(credentials.query_pairs());
                String::from(url)
            }
            _ => self.target.as_str().to_owned(),
        };
        let mut request = self
            .client
            .client()
            .ws(url)
            .max_frame_size(self.max_message_size);
        if let Some(addr) = self.pin {
            // The connector dials this address; `Host` and SNI stay the URL's.
            request = request.address(addr);
        }
        for (name, value) in &self.headers {
            request = request.set_header(name.clone(), value.clone());
        }
        if let Some(credentials) = credentials {
            if credentials.has_invalid_header() {
                return Err(DisconnectReason::InvalidRequest {
                    message: "a credentials header name or value is invalid".to_owned(),
                });
            }
            for (name, value) in credentials.headers() {
                request = request.set_header(name.clone(), value.clone());
            }
        }
        let request = match &self.customize {
            Some(customize) => customize(request),
            None => request,
        };
        let slot = RetryAfterSlot::new();
        let request = slot.mark(request);
        self.retry_after = Some(slot);
        Ok(request)
    }

    /// Turns awc's error into the reason published and judged by the retry policy.
    pub(crate) fn classify(&self, error: WsClientError, timeout: Duration) -> DisconnectReason {
        match error {
            WsClientError::InvalidResponseStatus(status) => DisconnectReason::HandshakeRejected {
                status: status.as_u16(),
                retry_after: self
                    .retry_after
                    .as_ref()
                    .and_then(|slot| slot.take(self.max_retry_after)),
            },
            WsClientError::SendRequest(SendRequestError::Http(error)) => {
                DisconnectReason::InvalidRequest {
                    message: invalid_request(&error).to_owned(),
                }
            }
            WsClientError::SendRequest(SendRequestError::Url(_)) => {
                DisconnectReason::InvalidRequest {
                    message: "the URL is invalid".to_owned(),
                }
            }
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
                    let kind = Some(error.kind());
                    DisconnectReason::ConnectFailed {
                        message: SendRequestError::Connect(ConnectError::Io(error)).to_string(),
                        kind,
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
                kind: None,
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
            .field("headers", &header_names(&self.headers))
            .field("customized", &self.customize.is_some())
            .field("max_message_size", &self.max_message_size)
            .field("max_retry_after", &self.max_retry_after)
            .finish_non_exhaustive()
    }
}
