//! A proxy server, parsed from its URL.

use std::fmt;

use percent_encoding::percent_decode_str;
use url::Url;

use super::credentials::Credentials;
use crate::BuildError;

/// The port of a SOCKS proxy whose URL names none (the registered SOCKS port).
const SOCKS_DEFAULT_PORT: u16 = 1080;

/// The protocol spoken to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ProxyProtocol {
    /// `http://`: an HTTP `CONNECT` tunnel.
    HttpConnect,
    /// `socks5://` (the client resolves the server's name) or `socks5h://` (the proxy
    /// does).
    Socks5 {
        /// Whether the proxy resolves the server's host name.
        remote_dns: bool,
    },
}

/// A proxy: protocol, address, optional credentials.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Proxy {
    protocol: ProxyProtocol,
    host: Box<str>,
    port: u16,
    credentials: Option<Credentials>,
}

fn invalid(reason: impl Into<String>) -> BuildError {
    BuildError::InvalidProxy {
        reason: reason.into(),
    }
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port]`, `socks5://…` or `socks5h://…`.
    ///
    /// Error messages never contain the URL: it may carry a password.
    pub(crate) fn parse(raw: &str) -> Result<Self, BuildError> {
        let url = Url::parse(raw.trim()).map_err(|error| invalid(error.to_string()))?;
        let protocol = match url.scheme() {
            "http" => ProxyProtocol::HttpConnect,
            "socks5" => ProxyProtocol::Socks5 { remote_dns: false },
            "socks5h" => ProxyProtocol::Socks5 { remote_dns: true },
            "https" => {
                return Err(invalid(
                    "`https://` proxies are not supported: use `http://` (the tunnel to a \
                     `wss://` server is still encrypted end to end)",
                ))
            }
            other => {
                return Err(invalid(format!(
                    "unsupported proxy scheme `{other}`: expected `http`, `socks5` or `socks5h`"
                )))
            }
        };
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.trim_start_matches('[').trim_end_matches(']'),
            _ => return Err(invalid("the proxy URL has no host")),
        };
        let port = match protocol {
            ProxyProtocol::HttpConnect => url.port_or_known_default().unwrap_or(80),
            ProxyProtocol::Socks5 { .. } => url.port().unwrap_or(SOCKS_DEFAULT_PORT),
        };
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |part: &str| {
                percent_decode_str(part)
                    .decode_utf8()
                    .map(|text| text.into_owned())
                    .map_err(|_| invalid("the proxy credentials are not valid UTF-8"))
            };
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        if let (ProxyProtocol::Socks5 { .. }, Some(credentials)) = (protocol, &credentials) {
            // RFC 1929: each is one to 255 bytes.
            let fits = |part: &str| (1..=255).contains(&part.len());
            if !fits(credentials.username()) || !fits(credentials.password()) {
                return Err(invalid(
                    "SOCKS5 username and password must each be 1 to 255 bytes",
                ));
            }
        }
        Ok(Self {
            protocol,
            host: host.into(),
            port,
            credentials,
        })
    }

    pub(crate) fn protocol(&self) -> ProxyProtocol {
        self.protocol
    }

    /// The proxy's host name or IP address (IPv6 without brackets).
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

/// The log-safe form: scheme, host and port, never the credentials.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.protocol {
            ProxyProtocol::HttpConnect => "http",
            ProxyProtocol::Socks5 { remote_dns: false } => "socks5",
            ProxyProtocol::Socks5 { remote_dns: true } => "socks5h",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &format_args!("{self}"))
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_with_its_default_port() {
        let http = Proxy::parse("http://proxy.test").unwrap();
        assert_eq!(http.protocol(), ProxyProtocol::HttpConnect);
        assert_eq!((http.host(), http.port()), ("proxy.test", 80));
        let socks = Proxy::parse("socks5://127.0.0.1").unwrap();
        assert_eq!(
            socks.protocol(),
            ProxyProtocol::Socks5 { remote_dns: false }
        );
        assert_eq!(socks.port(), 1080);
        let socks_h = Proxy::parse("socks5h://[::1]:9050").unwrap();
        assert_eq!(
            socks_h.protocol(),
            ProxyProtocol::Socks5 { remote_dns: true }
        );
        assert_eq!((socks_h.host(), socks_h.port()), ("::1", 9050));
        assert_eq!(socks_h.to_string(), "socks5h://[::1]:9050");
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let proxy = Proxy::parse("http://al%20ice:p%40ss@127.0.0.1:3128").unwrap();
        let credentials = proxy.credentials().unwrap();
        assert_eq!(
            (credentials.username(), credentials.password()),
            ("al ice", "p@ss")
        );
        for shown in [proxy.to_string(), format!("{proxy:?}")] {
            assert!(
                !shown.contains("p@ss") && !shown.contains("p%40ss"),
                "{shown}"
            );
            assert!(!shown.contains("ice"), "{shown}");
        }
    }

    #[test]
    fn refuses_other_schemes_without_echoing_the_url() {
        for raw in [
            "https://user:hunter2@proxy.test",
            "ftp://user:hunter2@proxy.test",
            "socks4://user:hunter2@proxy.test",
            "not a url hunter2",
            "http://",
        ] {
            match Proxy::parse(raw) {
                Err(BuildError::InvalidProxy { reason }) => {
                    assert!(!reason.contains("hunter2"), "{reason}")
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn socks_credentials_must_fit_rfc_1929() {
        assert!(Proxy::parse("socks5://user@127.0.0.1").is_err());
        let long = "x".repeat(256);
        assert!(Proxy::parse(&format!("socks5://{long}:pw@127.0.0.1")).is_err());
        assert!(Proxy::parse("socks5://user:pw@127.0.0.1").is_ok());
    }
}
