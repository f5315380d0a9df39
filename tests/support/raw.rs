//! [`RawServer`]: a scripted TCP server on `127.0.0.1` that speaks just enough HTTP and
//! WebSocket to misbehave on purpose (garbage instead of HTTP, a plain `200 OK`, bad
//! frames, fragments with control frames in between, oversized messages), and records
//! what the client sent back.
//!
//! Every accepted connection runs the same script: the request head is read (up to its
//! blank line), then each [`Step`] is played in order. After the last step the socket
//! stays open, and the server keeps reading (and, once upgraded, recording client
//! frames) until the client hangs up, unless the script ends with [`Step::Close`].
//!
//! Server frames are built with [`frame`] (unmasked, as RFC 6455 requires of a server);
//! client frames are unmasked when read and kept as [`ClientFrame`]s.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};

/// Opcode of a continuation frame.
pub(crate) const OP_CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub(crate) const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub(crate) const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub(crate) const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub(crate) const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub(crate) const OP_PONG: u8 = 0xA;

/// Longest request head the server reads before giving up on a connection.
const MAX_HEAD: usize = 16 * 1024;
/// Largest client frame payload the server records; a bigger one ends the connection.
const MAX_CLIENT_FRAME: u64 = 16 * 1024 * 1024;

/// One step of a [`RawServer`] script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A correct `101 Switching Protocols` answer to the client's handshake
    /// (`Sec-WebSocket-Accept` computed from its key). Client frames are recorded from
    /// here on.
    Upgrade,
    /// Write these bytes as they are.
    Bytes(Vec<u8>),
    /// Write `chunk` this many times: a long stream without holding it in memory.
    Repeat {
        /// The bytes written each time.
        chunk: Vec<u8>,
        /// How many times.
        times: usize,
    },
    /// Read (and record) client frames until one with this opcode arrives.
    AwaitFrame(u8),
    /// Do nothing for this long (a server that trickles its answer). Paces the server;
    /// tests still wait for outcomes with `wait_until`.
    Pause(Duration),
    /// Close the socket (TCP FIN) now; later steps are skipped.
    Close,
}

/// A frame the client sent, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFrame {
    /// Which accepted connection (1-based) it came on.
    pub(crate) connection: usize,
    /// The opcode (`OP_*`).
    pub(crate) opcode: u8,
    /// The FIN bit.
    pub(crate) fin: bool,
    /// The payload, unmasked.
    pub(crate) payload: Vec<u8>,
}

impl ClientFrame {
    /// The status code of a close frame, when it is one and has a code.
    pub(crate) fn close_code(&self) -> Option<u16> {
        match (self.opcode, self.payload.as_slice()) {
            (OP_CLOSE, [hi, lo, ..]) => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }
}

/// What the server saw.
#[derive(Debug, Default)]
struct Record {
    accepted: usize,
    requests: Vec<String>,
    frames: Vec<ClientFrame>,
}

#[derive(Debug)]
struct Shared {
    script: Vec<Step>,
    record: Mutex<Record>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Shared {
    fn record(&self) -> MutexGuard<'_, Record> {
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn track(&self, task: AbortHandle) {
        self.tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(task);
    }
}

/// A scripted server on a free port of `127.0.0.1`; see the module docs.
///
/// Dropping it stops accepting and drops every connection it holds.
#[derive(Debug)]
pub(crate) struct RawServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl RawServer {
    /// Starts serving `script` to every connection.
    pub(crate) async fn start(script: Vec<Step>) -> RawServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared {
            script,
            record: Mutex::default(),
            tasks: Mutex::default(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        shared.track(accept.abort_handle());
        RawServer { addr, shared }
    }

    /// The WebSocket URL, `ws://127.0.0.1:PORT/ws`.
    pub(crate) fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Connections accepted so far.
    pub(crate) fn accepted(&self) -> usize {
        self.shared.record().accepted
    }

    /// The request heads received, one per connection that sent a whole one.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.shared.record().requests.clone()
    }

    /// Every frame clients sent after an upgrade, in arrival order.
    pub(crate) fn frames(&self) -> Vec<ClientFrame> {
        self.shared.record().frames.clone()
    }

    /// The codes of the close frames clients sent, in arrival order.
    pub(crate) fn close_codes(&self) -> Vec<u16> {
        self.shared
            .record()
            .frames
            .iter()
            .filter_map(ClientFrame::close_code)
            .collect()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let tasks = std::mem::take(
            &mut *self
                .shared
                .tasks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for task in tasks {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let connection = {
            let mut record = shared.record();
            record.accepted += 1;
            record.accepted
        };
        let task = tokio::spawn(serve(stream, connection, shared.clone()));
        shared.track(task.abort_handle());
    }
}

/// Plays the script on one connection, then reads until the client hangs up.
async fn serve(mut stream: TcpStream, connection: usize, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let Some(head) = read_head(&mut stream, &mut buf).await else {
        return;
    };
    shared.record().requests.push(head.clone());
    let mut upgraded = false;
    for step in &shared.script {
        let written = match step {
            Step::Upgrade => {
                upgraded = true;
                stream.write_all(&upgrade_response(&head)).await
            }
            Step::Bytes(bytes) => stream.write_all(bytes).await,
            Step::Repeat { chunk, times } => {
                let mut result = Ok(());
                for _ in 0..*times {
                    result = stream.write_all(chunk).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            Step::AwaitFrame(opcode) => loop {
                match read_frame(&mut stream, &mut buf, connection).await {
                    Some(frame) => {
                        let found = frame.opcode == *opcode;
                        shared.record().frames.push(frame);
                        if found {
                            break Ok(());
                        }
                    }
                    None => return,
                }
            },
            Step::Pause(duration) => {
                tokio::time::sleep(*duration).await;
                Ok(())
            }
            Step::Close => {
                let _ = stream.shutdown().await;
                return;
            }
        };
        if written.is_err() {
            return; // the client went away
        }
    }
    if upgraded {
        while let Some(frame) = read_frame(&mut stream, &mut buf, connection).await {
            shared.record().frames.push(frame);
        }
    } else {
        let mut sink = [0_u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    }
}

/// Reads up to the end of the request head; what follows stays in `buf`.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
        if buf.len() > MAX_HEAD || !fill(stream, buf).await {
            return None;
        }
    }
}

/// Reads more bytes into `buf`; `false` at end of stream or on error.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0_u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// Reads one masked client frame; `None` at end of stream, on error or on a frame
/// that is not masked or too large.
async fn read_frame(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    connection: usize,
) -> Option<ClientFrame> {
    loop {
        match parse_client_frame(buf) {
            Ok(Some((frame_len, opcode, fin, payload))) => {
                buf.drain(..frame_len);
                return Some(ClientFrame {
                    connection,
                    opcode,
                    fin,
                    payload,
                });
            }
            Ok(None) => {
                if !fill(stream, buf).await {
                    return None;
                }
            }
            Err(()) => return None,
        }
    }
}

/// `(bytes used, opcode, fin, unmasked payload)` of the first frame in `buf`, `None` if
/// it is incomplete, `Err` if it is unmasked or too large.
#[allow(clippy::type_complexity)]
fn parse_client_frame(buf: &[u8]) -> Result<Option<(usize, u8, bool, Vec<u8>)>, ()> {
    let [first, second, rest @ ..] = buf else {
        return Ok(None);
    };
    if second & 0x80 == 0 {
        return Err(()); // clients must mask
    }
    let (len, rest) = match second & 0x7F {
        126 if rest.len() >= 2 => (
            u64::from(u16::from_be_bytes([rest[0], rest[1]])),
            &rest[2..],
        ),
        127 if rest.len() >= 8 => {
            let mut len = [0_u8; 8];
            len.copy_from_slice(&rest[..8]);
            (u64::from_be_bytes(len), &rest[8..])
        }
        126 | 127 => return Ok(None),
        len => (u64::from(len), rest),
    };
    if len > MAX_CLIENT_FRAME {
        return Err(());
    }
    let len = usize::try_from(len).map_err(|_| ())?;
    if rest.len() < 4 + len {
        return Ok(None);
    }
    let (mask, data) = rest.split_at(4);
    let payload = data[..len]
        .iter()
        .enumerate()
        .map(|(i, byte)| byte ^ mask[i % 4])
        .collect();
    let used = buf.len() - rest.len() + 4 + len;
    Ok(Some((used, first & 0x0F, first & 0x80 != 0, payload)))
}

/// A correct `101` answer to `head` (the accept key is computed from its
/// `Sec-WebSocket-Key`; a missing key gives a wrong accept, which is the client's
/// problem to detect).
fn upgrade_response(head: &str) -> Vec<u8> {
    let key = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map_or("", |(_, value)| value.trim());
    let accept = actix_http::ws::hash_key(key.as_bytes());
    let mut response = b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Accept: "
        .to_vec();
    response.extend_from_slice(&accept);
    response.extend_from_slice(b"\r\n\r\n");
    response
}

/// The header of an unmasked server frame announcing `len` payload bytes.
pub(crate) fn frame_header(opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let first = if fin { 0x80 } else { 0x00 } | (opcode & 0x0F);
    let mut header = vec![first];
    match len {
        0..=125 => header.push(len as u8),
        126..=0xFFFF => {
            header.push(126);
            header.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            header.push(127);
            header.extend_from_slice(&len.to_be_bytes());
        }
    }
    header
}

/// An unmasked server frame.
pub(crate) fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut frame = frame_header(opcode, fin, payload.len() as u64);
    frame.extend_from_slice(payload);
    frame
}

/// A close frame with `code` and `description`.
pub(crate) fn close_frame(code: u16, description: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(description.as_bytes());
    frame(OP_CLOSE, true, &payload)
}
