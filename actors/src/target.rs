//! The validated server address and its log-safe form.

use std::fmt;

use url::Url;

use crate::BuildError;

/// A validated `ws://` or `wss://` URL.
///
/// Kept as text: one per connection, and a parsed `Url` is several times larger.
#[derive(Clone)]
pub(crate) struct Target {
    url: Box<str>,
    /// The log-safe form.
    redacted: Box<str>,
    /// The host as written (IPv6 without brackets), for choosing a proxy.
    host: Box<str>,
    /// The port, the scheme's default when the URL names none.
    port: u16,
}

impl Target {
    pub(crate) fn parse(raw: &str) -> Result<Self, BuildError> {
        let url = Url::parse(raw)?;
        match url.scheme() {
            "ws" => {}
            "wss" if cfg!(feature = "rustls") => {}
            // Without TLS support a `wss://` URL would fail every attempt: it is refused
            // here instead of turning into a reconnect loop.
            "wss" => return Err(BuildError::TlsUnavailable),
            other => return Err(BuildError::UnsupportedScheme(other.to_owned())),
        }
        let host = url.host_str().ok_or(BuildError::MissingHost)?;
        if host.is_empty() {
            return Err(BuildError::MissingHost);
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
            .into_boxed_str();
        let port = url
            .port_or_known_default()
            .unwrap_or(if url.scheme() == "wss" { 443 } else { 80 });
        let redacted = redact(&url).into_boxed_str();
        Ok(Self {
            url: String::from(url).into_boxed_str(),
            redacted,
            host,
            port,
        })
    }

    /// The full URL, for the request.
    pub(crate) fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether TLS is used (`wss://`), the host (IPv6 without brackets) and the port.
    pub(crate) fn endpoint(&self) -> (bool, &str, u16) {
        (self.url.starts_with("wss:"), &self.host, self.port)
    }

    /// The URL without user info, query or fragment: safe to log.
    pub(crate) fn redacted(&self) -> &str {
        &self.redacted
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// Credentials can hide in the user info and the query (the reference design put its
/// token there), so the log form keeps scheme, host, port and path only.
fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ws_and_keeps_the_full_url_for_the_request() {
        let target = Target::parse("ws://user:secret@127.0.0.1:9000/feed?token=abc").unwrap();
        assert_eq!(
            target.as_str(),
            "ws://user:secret@127.0.0.1:9000/feed?token=abc"
        );
        assert_eq!(target.redacted(), "ws://127.0.0.1:9000/feed");
        assert!(!format!("{target:?}").contains("secret"));
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert!(matches!(
            Target::parse("http://127.0.0.1/"),
            Err(BuildError::UnsupportedScheme(scheme)) if scheme == "http"
        ));
        assert!(matches!(
            Target::parse("not a url"),
            Err(BuildError::InvalidUrl(_))
        ));
        assert!(matches!(
            Target::parse("ws://"),
            Err(BuildError::InvalidUrl(_) | BuildError::MissingHost)
        ));
    }

    #[test]
    fn the_endpoint_has_the_default_port_and_no_brackets() {
        let target = Target::parse("ws://[::1]/feed").unwrap();
        assert_eq!(target.endpoint(), (false, "::1", 80));
        let target = Target::parse("ws://Example.ORG:9000/").unwrap();
        assert_eq!(target.endpoint(), (false, "example.org", 9000));
        if cfg!(feature = "rustls") {
            let target = Target::parse("wss://example.org/").unwrap();
            assert_eq!(target.endpoint(), (true, "example.org", 443));
        }
    }

    #[test]
    fn wss_needs_the_rustls_feature() {
        let parsed = Target::parse("wss://127.0.0.1/");
        if cfg!(feature = "rustls") {
            assert!(parsed.is_ok());
        } else {
            assert!(matches!(parsed, Err(BuildError::TlsUnavailable)));
        }
    }
}
