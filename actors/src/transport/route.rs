//! What the connector does for each connection: the path to the server.

use std::fmt;

use super::proxy::Proxy;

/// How the TCP stream reaches the server.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Route {
    /// Straight to the server (its resolved address, or the pinned one).
    Direct,
    /// Through this proxy.
    Proxy(Proxy),
}

/// Everything the connector needs besides the request: shared by all connections
/// with equal settings (the awc client is cached by it).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Transport {
    pub(crate) route: Route,
    /// `TCP_NODELAY` on the socket (to the proxy, when there is one).
    pub(crate) nodelay: bool,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            route: Route::Direct,
            nodelay: true,
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct => f.write_str("direct"),
            // `Proxy`'s Debug shows no credentials.
            Self::Proxy(proxy) => write!(f, "{proxy:?}"),
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("route", &self.route)
            .field("nodelay", &self.nodelay)
            .finish()
    }
}
