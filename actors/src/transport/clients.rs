//! The awc clients of this thread, shared by connections with equal settings.
//!
//! An awc client with its connector and pool costs about half a KiB, and connections
//! with the same settings can share one, as awc intends. An entry lives as long as a
//! connection uses its client: the cache holds it weakly, and dead entries are dropped
//! whenever a client is added, so the cache never outgrows the live connections.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::route::Transport;
use crate::BuildError;

/// The TLS client configuration, when TLS support is built in.
#[cfg(feature = "rustls")]
pub(crate) type TlsConfig = std::sync::Arc<rustls::ClientConfig>;
/// Without TLS support there is no configuration to give.
#[cfg(not(feature = "rustls"))]
pub(crate) type TlsConfig = std::convert::Infallible;

/// An awc client, and the caller's TLS configuration it was made from.
pub(crate) struct SharedClient {
    client: awc::Client,
    transport: Transport,
    /// A rustls configuration is compared by address: keeping it alive while the
    /// client is in use stops another configuration from taking that address.
    _tls: Option<TlsConfig>,
}

impl SharedClient {
    pub(crate) fn client(&self) -> &awc::Client {
        &self.client
    }

    /// The settings of its connector.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClient")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// Settings that make clients different. TLS configurations have no equality: the
/// caller's `Arc` address stands for one.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    connect_timeout: Duration,
    transport: Transport,
    tls: Option<usize>,
}

thread_local! {
    static CLIENTS: RefCell<Vec<(Key, Weak<SharedClient>)>> = const { RefCell::new(Vec::new()) };
}

/// The client for these settings: a live shared one, or a new one from `build`, which
/// is given the TLS configuration.
pub(crate) fn shared(
    connect_timeout: Duration,
    transport: &Transport,
    tls: Option<TlsConfig>,
    build: impl FnOnce(Option<&TlsConfig>) -> Result<awc::Client, BuildError>,
) -> Result<Rc<SharedClient>, BuildError> {
    #[cfg(feature = "rustls")]
    let tls_key = tls
        .as_ref()
        .map(|config| std::sync::Arc::as_ptr(config) as usize);
    #[cfg(not(feature = "rustls"))]
    let tls_key = None;
    let key = Key {
        connect_timeout,
        transport: transport.clone(),
        tls: tls_key,
    };
    CLIENTS.with(|clients| {
        let mut clients = clients.borrow_mut();
        if let Some(live) = clients
            .iter()
            .filter(|(cached, _)| *cached == key)
            .find_map(|(_, client)| client.upgrade())
        {
            return Ok(live);
        }
        clients.retain(|(_, client)| client.strong_count() > 0);
        let shared = Rc::new(SharedClient {
            client: build(tls.as_ref())?,
            transport: transport.clone(),
            _tls: tls,
        });
        clients.push((key, Rc::downgrade(&shared)));
        Ok(shared)
    })
}

/// How many clients the cache of this thread holds, dead or alive.
#[cfg(test)]
pub(crate) fn cached() -> usize {
    CLIENTS.with(|clients| clients.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[actix::test]
    async fn equal_settings_share_a_client_while_it_lives() {
        let transport = Transport::default();
        let first = shared(timeout(1), &transport, None, |_| Ok(awc::Client::new())).unwrap();
        let second = shared(timeout(1), &transport, None, |_| {
            panic!("a live client with equal settings exists")
        })
        .unwrap();
        assert!(Rc::ptr_eq(&first, &second));
        let other = shared(timeout(2), &transport, None, |_| Ok(awc::Client::new())).unwrap();
        assert!(!Rc::ptr_eq(&first, &other));
    }

    #[actix::test]
    async fn ten_thousand_distinct_settings_leave_no_dead_clients() {
        let transport = Transport::default();
        for millis in 0..10_000 {
            let client = shared(
                timeout(millis),
                &transport,
                None,
                |_| Ok(awc::Client::new()),
            )
            .unwrap();
            drop(client);
        }
        assert!(cached() <= 1, "{} clients cached", cached());
    }
}
