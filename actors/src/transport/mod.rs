//! How the TCP stream under each WebSocket connection is made: directly or through an
//! HTTP CONNECT or SOCKS5 proxy, to the URL's host or to a pinned address, with
//! `TCP_NODELAY` set.
//!
//! awc plugs in a TCP connector service; [`connector::TetherConnector`] is that service
//! for every tether connection. TLS for `wss://` stays awc's, on top of whatever stream
//! the connector returns, so the certificate and SNI are checked against the URL's host
//! even through a proxy tunnel.

pub(crate) mod clients;
mod config;
pub(crate) mod connector;
mod credentials;
mod env;
mod failure;
mod http_connect;
mod no_proxy;
mod proxy;
mod route;
mod socks;
mod tcp;
#[cfg(feature = "rustls")]
pub(crate) mod tls;

pub(crate) use config::{ProxyChoice, TransportConfig};
pub(crate) use failure::classify;
pub(crate) use route::Transport;
