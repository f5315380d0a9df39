//! The proxy environment variables, read when the application opts in.
//!
//! - `wss://` uses `https_proxy`, then `HTTPS_PROXY`;
//! - `ws://` uses `http_proxy`, then `HTTP_PROXY`;
//! - either falls back to `all_proxy`, then `ALL_PROXY`;
//! - `no_proxy`, then `NO_PROXY`, lists the hosts reached directly (see [`NoProxy`]).
//!
//! An empty variable counts as unset. A value without a scheme (`proxy.corp:3128`) is an
//! HTTP proxy, as curl reads it.

use super::no_proxy::NoProxy;
use super::proxy::Proxy;
use crate::BuildError;

/// The proxy settings found in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxyEnv {
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no_proxy: NoProxy,
}

impl ProxyEnv {
    /// Reads the process environment.
    pub(crate) fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (the process environment, or a test's map).
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .filter_map(&lookup)
                .map(|value| value.trim().to_owned())
                .find(|value| !value.is_empty())
        };
        Self {
            http: first(["http_proxy", "HTTP_PROXY"]),
            https: first(["https_proxy", "HTTPS_PROXY"]),
            all: first(["all_proxy", "ALL_PROXY"]),
            no_proxy: NoProxy::parse(&first(["no_proxy", "NO_PROXY"]).unwrap_or_default()),
        }
    }

    /// The proxy for a server URL with this scheme, host and port, or `None` to connect
    /// directly. A variable that does not parse is an error, not a silent direct
    /// connection.
    pub(crate) fn proxy_for(
        &self,
        secure: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<Proxy>, BuildError> {
        let value = if secure { &self.https } else { &self.http };
        let Some(value) = value.as_ref().or(self.all.as_ref()) else {
            return Ok(None);
        };
        if self.no_proxy.matches(host, port) {
            return Ok(None);
        }
        let proxy = if value.contains("://") {
            Proxy::parse(value)
        } else {
            Proxy::parse(&format!("http://{value}"))
        };
        proxy.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        ProxyEnv::from_lookup(|name| vars.get(name).cloned())
    }

    fn chosen(env: &ProxyEnv, secure: bool, host: &str) -> Option<String> {
        env.proxy_for(secure, host, 443)
            .unwrap()
            .map(|proxy| proxy.to_string())
    }

    #[test]
    fn the_scheme_picks_the_variable() {
        let env = env(&[
            ("HTTP_PROXY", "http://plain.test:1"),
            ("HTTPS_PROXY", "http://secure.test:2"),
        ]);
        assert_eq!(
            chosen(&env, false, "a.test").as_deref(),
            Some("http://plain.test:1")
        );
        assert_eq!(
            chosen(&env, true, "a.test").as_deref(),
            Some("http://secure.test:2")
        );
    }

    #[test]
    fn lowercase_wins_and_empty_counts_as_unset() {
        let env = env(&[
            ("https_proxy", "http://lower.test:1"),
            ("HTTPS_PROXY", "http://upper.test:2"),
            ("http_proxy", ""),
            ("HTTP_PROXY", "http://upper.test:3"),
        ]);
        assert_eq!(
            chosen(&env, true, "a.test").as_deref(),
            Some("http://lower.test:1")
        );
        assert_eq!(
            chosen(&env, false, "a.test").as_deref(),
            Some("http://upper.test:3")
        );
    }

    #[test]
    fn all_proxy_is_the_fallback() {
        let env = env(&[
            ("ALL_PROXY", "socks5h://socks.test:1080"),
            ("HTTP_PROXY", "http://plain.test:1"),
        ]);
        assert_eq!(
            chosen(&env, false, "a.test").as_deref(),
            Some("http://plain.test:1")
        );
        assert_eq!(
            chosen(&env, true, "a.test").as_deref(),
            Some("socks5h://socks.test:1080")
        );
    }

    #[test]
    fn no_proxy_bypasses_and_nothing_set_is_direct() {
        let env = env(&[
            ("HTTPS_PROXY", "proxy.test:3128"),
            ("NO_PROXY", "internal.test,127.0.0.0/8"),
        ]);
        assert_eq!(chosen(&env, true, "api.internal.test"), None);
        assert_eq!(chosen(&env, true, "127.0.0.1"), None);
        // Without a scheme: an HTTP proxy.
        assert_eq!(
            chosen(&env, true, "example.org").as_deref(),
            Some("http://proxy.test:3128")
        );
        assert_eq!(chosen(&self::env(&[]), true, "example.org"), None);
    }

    #[test]
    fn a_bad_value_is_an_error() {
        let env = env(&[("HTTPS_PROXY", "ftp://user:hunter2@proxy.test")]);
        match env.proxy_for(true, "example.org", 443) {
            Err(BuildError::InvalidProxy { reason }) => assert!(!reason.contains("hunter2")),
            other => panic!("{other:?}"),
        }
    }
}
