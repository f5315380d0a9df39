//! The HTTP `CONNECT` handshake with a proxy (RFC 9110, section 9.3.6).

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::credentials::Credentials;
use super::failure::TransportFailure;

/// The most a proxy's answer may take, headers included.
const MAX_RESPONSE: usize = 16 * 1024;

fn protocol(message: impl Into<String>) -> io::Error {
    TransportFailure::Protocol {
        message: message.into(),
    }
    .into_io()
}

/// Asks the proxy for a tunnel to `authority` (`host:port`) and waits for its answer.
/// On success the stream carries bytes to and from the server.
pub(crate) async fn tunnel(
    stream: &mut TcpStream,
    authority: &str,
    credentials: Option<&Credentials>,
) -> io::Result<()> {
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = credentials {
        request.push_str("Proxy-Authorization: ");
        request.push_str(&credentials.basic_authorization());
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| protocol(format!("writing CONNECT failed: {error}")))?;
    let (head, end) = read_head(stream).await?;
    match status_of(&head[..end])? {
        // The server speaks only after the client, so bytes after a successful answer
        // mean a confused proxy. A refusal may have a body: it is not read.
        200..=299 if end != head.len() => {
            Err(protocol("the proxy sent data after its CONNECT answer"))
        }
        200..=299 => Ok(()),
        status => Err(TransportFailure::ProxyStatus { status }.into_io()),
    }
}

/// Reads until the blank line that ends the answer's head; returns what was read and
/// where the head ends.
async fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, usize)> {
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|error| protocol(format!("reading the CONNECT answer failed: {error}")))?;
        if read == 0 {
            return Err(protocol(
                "the proxy closed the connection before answering CONNECT",
            ));
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_end(&head) {
            return Ok((head, end));
        }
        if head.len() > MAX_RESPONSE {
            return Err(protocol("the proxy's CONNECT answer is too long"));
        }
    }
}

/// The index just past `\r\n\r\n`.
fn find_end(head: &[u8]) -> Option<usize> {
    head.windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

fn status_of(head: &[u8]) -> io::Result<u16> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => response
            .code
            .ok_or_else(|| protocol("the CONNECT answer has no status")),
        Ok(httparse::Status::Partial) => Err(protocol("the CONNECT answer is incomplete")),
        Err(error) => Err(protocol(format!("the CONNECT answer is not HTTP: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_status_of_an_answer() {
        assert_eq!(
            status_of(b"HTTP/1.0 200 Connection established\r\nProxy-agent: x\r\n\r\n").unwrap(),
            200
        );
        assert_eq!(
            status_of(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").unwrap(),
            407
        );
        assert!(status_of(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(find_end(b"HTTP/1.1 200 OK\r\n\r\n"), Some(19));
        assert_eq!(find_end(b"HTTP/1.1 200 OK\r\n"), None);
    }
}
