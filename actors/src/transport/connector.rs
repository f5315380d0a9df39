//! The TCP connector awc uses for every tether connection.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use actix_service::Service;
use actix_tls::connect::{ConnectError, ConnectInfo, Connection};
use awc::http::Uri;
use futures_util::future::LocalBoxFuture;
use tokio::net::TcpStream;

use super::failure::TransportFailure;
use super::proxy::{Proxy, ProxyProtocol};
use super::route::{Route, Transport};
use super::socks::{self, Destination};
use super::{http_connect, tcp};

/// Makes the TCP stream for a request: directly or through the proxy, to the request's
/// pinned address when it has one (`WebsocketsRequest::address`), else to its host.
///
/// The request's URL is untouched: awc's TLS layer, on top of this stream, checks the
/// certificate and sends SNI for the URL's host, and the `Host` header keeps its port.
#[derive(Debug, Clone)]
pub(crate) struct TetherConnector {
    transport: Rc<Transport>,
}

impl TetherConnector {
    pub(crate) fn new(transport: Transport) -> Self {
        Self {
            transport: Rc::new(transport),
        }
    }
}

impl Service<ConnectInfo<Uri>> for TetherConnector {
    type Response = Connection<Uri, TcpStream>;
    type Error = ConnectError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_service::always_ready!();

    fn call(&self, info: ConnectInfo<Uri>) -> Self::Future {
        let transport = self.transport.clone();
        Box::pin(async move {
            let host = info
                .hostname()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = info.port();
            let pinned = info.addrs().next();
            let stream = open(&transport, &host, port, pinned)
                .await
                // Never `ConnectError::InvalidInput`: awc panics on it.
                .map_err(ConnectError::Io)?;
            Ok(Connection::new(info.request().clone(), stream))
        })
    }
}

async fn open(
    transport: &Transport,
    host: &str,
    port: u16,
    pinned: Option<SocketAddr>,
) -> io::Result<TcpStream> {
    let nodelay = transport.nodelay;
    let proxy = match &transport.route {
        Route::Direct => {
            let addrs = match pinned {
                Some(addr) => vec![addr],
                None => tcp::resolve(host, port).await?,
            };
            return tcp::dial(&addrs, nodelay).await;
        }
        Route::Proxy(proxy) => proxy,
    };
    let mut stream = dial_proxy(proxy, nodelay).await?;
    match proxy.protocol() {
        ProxyProtocol::HttpConnect => {
            let authority = match pinned {
                Some(addr) => addr.to_string(),
                None => tcp::authority(host, port),
            };
            http_connect::tunnel(&mut stream, &authority, proxy.credentials()).await?;
            Ok(stream)
        }
        ProxyProtocol::Socks5 { remote_dns } => {
            let destination = match pinned {
                Some(addr) => Destination::Addr(addr),
                None if remote_dns => Destination::Name(host, port),
                None => {
                    let resolved = tcp::resolve(host, port).await?;
                    let first = resolved.first().copied().ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotFound, "no address for the server")
                    })?;
                    Destination::Addr(first)
                }
            };
            socks::tunnel(stream, destination, proxy.credentials()).await
        }
    }
}

async fn dial_proxy(proxy: &Proxy, nodelay: bool) -> io::Result<TcpStream> {
    let unreachable = |source| {
        TransportFailure::ProxyUnreachable {
            proxy: proxy.to_string(),
            source,
        }
        .into_io()
    };
    let addrs = tcp::resolve(proxy.host(), proxy.port())
        .await
        .map_err(unreachable)?;
    tcp::dial(&addrs, nodelay).await.map_err(unreachable)
}
