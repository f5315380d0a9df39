//! The transport settings given to the builder, resolved for one server URL.

use std::fmt;
use std::net::SocketAddr;

use super::env::ProxyEnv;
use super::proxy::Proxy;
use super::route::{Route, Transport};
use crate::BuildError;

/// Where the proxy comes from.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// No proxy (the default, and [`no_proxy`](crate::ConnectionBuilder::no_proxy)).
    #[default]
    Direct,
    /// This proxy URL, parsed when the connection is built.
    Explicit(Box<str>),
    /// The proxy environment variables, read when the connection is built.
    FromEnv,
}

impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct => f.write_str("Direct"),
            // The URL may carry a password: parsed first, shown without it.
            Self::Explicit(raw) => match Proxy::parse(raw) {
                Ok(proxy) => write!(f, "Explicit({proxy:?})"),
                Err(_) => f.write_str("Explicit(<invalid>)"),
            },
            Self::FromEnv => f.write_str("FromEnv"),
        }
    }
}

/// The builder's transport settings.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub(crate) proxy: ProxyChoice,
    pub(crate) nodelay: bool,
    /// Connect here instead of resolving the URL's host.
    pub(crate) pin: Option<SocketAddr>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            proxy: ProxyChoice::Direct,
            nodelay: true,
            pin: None,
        }
    }
}

impl TransportConfig {
    /// The transport for a server at `host:port` (`secure` for `wss://`).
    pub(crate) fn resolve(
        &self,
        secure: bool,
        host: &str,
        port: u16,
    ) -> Result<Transport, BuildError> {
        let route = match &self.proxy {
            ProxyChoice::Direct => Route::Direct,
            ProxyChoice::Explicit(raw) => Route::Proxy(Proxy::parse(raw)?),
            ProxyChoice::FromEnv => match ProxyEnv::from_process().proxy_for(secure, host, port)? {
                Some(proxy) => Route::Proxy(proxy),
                None => Route::Direct,
            },
        };
        Ok(Transport {
            route,
            nodelay: self.nodelay,
        })
    }
}
