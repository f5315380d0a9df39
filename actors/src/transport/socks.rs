//! The SOCKS5 handshake with a proxy (RFC 1928, password method RFC 1929), by
//! `tokio-socks`.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;
use tokio_socks::TargetAddr;

use super::credentials::Credentials;
use super::failure::TransportFailure;

/// Where the proxy should connect.
pub(crate) enum Destination<'a> {
    /// An address resolved here, or pinned.
    Addr(SocketAddr),
    /// A name the proxy resolves (`socks5h`).
    Name(&'a str, u16),
}

/// Asks the proxy behind `stream` to connect to `destination`.
pub(crate) async fn tunnel(
    stream: TcpStream,
    destination: Destination<'_>,
    credentials: Option<&Credentials>,
) -> io::Result<TcpStream> {
    let target = match destination {
        Destination::Addr(addr) => TargetAddr::Ip(addr),
        Destination::Name(host, port) => TargetAddr::Domain(host.into(), port),
    };
    let connected = match credentials {
        None => Socks5Stream::connect_with_socket(stream, target).await,
        Some(credentials) => {
            Socks5Stream::connect_with_password_and_socket(
                stream,
                target,
                credentials.username(),
                credentials.password(),
            )
            .await
        }
    };
    connected
        .map(Socks5Stream::into_inner)
        .map_err(|error| failure(error).into_io())
}

fn failure(error: tokio_socks::Error) -> TransportFailure {
    use tokio_socks::Error as E;
    let reply = |code: u8| TransportFailure::SocksReply {
        code,
        message: error.to_string(),
    };
    match &error {
        E::NoAcceptableAuthMethods
        | E::PasswordAuthFailure(_)
        | E::AuthorizationRequired
        | E::InvalidAuthValues(_) => TransportFailure::SocksAuth {
            message: error.to_string(),
        },
        // The reply codes of RFC 1928, section 6.
        E::GeneralSocksServerFailure => reply(1),
        E::ConnectionNotAllowedByRuleset => reply(2),
        E::NetworkUnreachable => reply(3),
        E::HostUnreachable => reply(4),
        E::ConnectionRefused => reply(5),
        E::TtlExpired => reply(6),
        E::CommandNotSupported => reply(7),
        E::AddressTypeNotSupported => reply(8),
        E::Io(io) => TransportFailure::Protocol {
            message: format!("SOCKS5 handshake failed: {io}"),
        },
        _ => TransportFailure::Protocol {
            message: format!("SOCKS5 handshake failed: {error}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_follow_rfc_1928() {
        for (error, code) in [
            (tokio_socks::Error::GeneralSocksServerFailure, 1),
            (tokio_socks::Error::ConnectionNotAllowedByRuleset, 2),
            (tokio_socks::Error::HostUnreachable, 4),
            (tokio_socks::Error::ConnectionRefused, 5),
            (tokio_socks::Error::AddressTypeNotSupported, 8),
        ] {
            assert!(matches!(
                failure(error),
                TransportFailure::SocksReply { code: got, .. } if got == code
            ));
        }
        assert!(matches!(
            failure(tokio_socks::Error::PasswordAuthFailure(1)),
            TransportFailure::SocksAuth { .. }
        ));
    }
}
