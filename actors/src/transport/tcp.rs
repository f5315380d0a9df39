//! Plain TCP: resolving a host and connecting to the first address that answers.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::TcpStream;

/// The addresses of `host:port`; an IP address is not looked up.
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no address found for {host}"),
        ));
    }
    Ok(addrs)
}

/// Connects to each address in turn until one accepts; sets `TCP_NODELAY` as asked.
pub(crate) async fn dial(addrs: &[SocketAddr], nodelay: bool) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address to connect to");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                stream.set_nodelay(nodelay)?;
                return Ok(stream);
            }
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// `host:port` as written in a request line (IPv6 in brackets).
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_brackets_ipv6() {
        assert_eq!(authority("::1", 443), "[::1]:443");
        assert_eq!(authority("example.org", 80), "example.org:80");
    }

    #[tokio::test]
    async fn nodelay_is_set_as_asked() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for nodelay in [true, false] {
            let stream = dial(&[addr], nodelay).await.unwrap();
            assert_eq!(stream.nodelay().unwrap(), nodelay);
        }
    }

    #[tokio::test]
    async fn the_next_address_is_tried_when_one_refuses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap()
        };
        let stream = dial(&[closed, listener.local_addr().unwrap()], true)
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
        assert!(dial(&[closed], true).await.is_err());
    }
}
