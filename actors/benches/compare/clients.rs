//! The two clients under test: tether (a `ConnectionActor` plus a subscriber actor) and
//! raw awc (the framed sink and stream used directly, no actor).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::{Actor, Addr, Context, Handler};
use actix_codec::Framed;
use awc::ws::{Codec, Frame, Message};
use awc::BoxedSocket;
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tether_actix::message::{self, Delivery, OutgoingBatch};
use tether_actix::{
    ByteString, ConnectionActor, ConnectionBuilder, ConnectionState, DeliveryError, Incoming,
    IncomingBatch, ResiliencyConfigBuilder, StateChanged,
};
use tokio::sync::Notify;

/// Generous bound on anything the harness waits for: turns a hang into an error.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// tether

#[derive(Debug, Default)]
struct ProbeLog {
    /// Whole messages received (any connection).
    received: u64,
    /// When `received` reached `wake_at` (the last message of a batch).
    reached_at: Option<Instant>,
    wake_at: u64,
    /// Every state change, when `keep_states`.
    states: Vec<StateChanged>,
    keep_states: bool,
    connected: u64,
    disconnected: u64,
}

/// The subscriber actor: counts incoming messages, keeps state changes. Lives on the
/// bench thread, so it shares its log through an `Rc`.
#[derive(Debug)]
struct ProbeActor {
    log: Rc<RefCell<ProbeLog>>,
    incoming: Rc<Notify>,
    states: Rc<Notify>,
}

impl Actor for ProbeActor {
    type Context = Context<Self>;
}

impl Handler<Incoming> for ProbeActor {
    type Result = ();

    fn handle(&mut self, _incoming: Incoming, _: &mut Context<Self>) {
        let mut log = self.log.borrow_mut();
        log.received += 1;
        if log.received == log.wake_at {
            log.reached_at = Some(Instant::now());
            self.incoming.notify_one();
        }
    }
}

impl Handler<IncomingBatch> for ProbeActor {
    type Result = ();

    fn handle(&mut self, batch: IncomingBatch, _: &mut Context<Self>) {
        let mut log = self.log.borrow_mut();
        let before = log.received;
        log.received += batch.messages.len() as u64;
        if before < log.wake_at && log.received >= log.wake_at {
            log.reached_at = Some(Instant::now());
            self.incoming.notify_one();
        }
    }
}

impl Handler<StateChanged> for ProbeActor {
    type Result = ();

    fn handle(&mut self, change: StateChanged, _: &mut Context<Self>) {
        let mut log = self.log.borrow_mut();
        match change.to {
            ConnectionState::Connected => log.connected += 1,
            ConnectionState::Disconnected => log.disconnected += 1,
            _ => {}
        }
        if log.keep_states {
            log.states.push(change);
        }
        self.states.notify_one();
    }
}

/// The bench's side of a subscriber actor.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    addr: Addr<ProbeActor>,
    log: Rc<RefCell<ProbeLog>>,
    incoming: Rc<Notify>,
    states: Rc<Notify>,
}

impl Probe {
    /// A subscriber; `keep_states` records every `StateChanged` (not only counts).
    pub(crate) fn start(keep_states: bool) -> Self {
        let log = Rc::new(RefCell::new(ProbeLog {
            keep_states,
            ..ProbeLog::default()
        }));
        let incoming = Rc::new(Notify::new());
        let states = Rc::new(Notify::new());
        let addr = ProbeActor {
            log: log.clone(),
            incoming: incoming.clone(),
            states: states.clone(),
        }
        .start();
        Self {
            addr,
            log,
            incoming,
            states,
        }
    }

    /// Starts a supervised connection publishing to this probe.
    pub(crate) fn connect(
        &self,
        url: &str,
        configure: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
    ) -> Addr<ConnectionActor> {
        ConnectionActor::builder(url)
            .configure(configure)
            .on_incoming(self.addr.clone().recipient())
            .on_state(self.addr.clone().recipient())
            .start()
            .expect("valid connection config")
            .into_addr()
    }

    /// Like [`connect`](Self::connect), with the probe subscribed to `IncomingBatch`.
    pub(crate) fn connect_batched(
        &self,
        url: &str,
        configure: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
    ) -> Addr<ConnectionActor> {
        ConnectionActor::builder(url)
            .configure(configure)
            .on_incoming_batch(self.addr.clone().recipient())
            .on_state(self.addr.clone().recipient())
            .start()
            .expect("valid connection config")
            .into_addr()
    }

    /// Starts `builder`'s connection with this probe subscribed to `IncomingBatch`: for
    /// connections configured beyond a URL (a durable one, say).
    #[allow(dead_code)]
    pub(crate) fn start_batched(&self, builder: ConnectionBuilder) -> Addr<ConnectionActor> {
        builder
            .on_incoming_batch(self.addr.clone().recipient())
            .on_state(self.addr.clone().recipient())
            .start()
            .expect("valid connection config")
            .into_addr()
    }

    /// Starts `builder` (its own transport settings, default timings) publishing to
    /// this probe.
    pub(crate) fn connect_builder(
        &self,
        builder: tether_actix::ConnectionBuilder,
    ) -> Addr<ConnectionActor> {
        builder
            .on_incoming(self.addr.clone().recipient())
            .on_state(self.addr.clone().recipient())
            .start()
            .expect("valid connection config")
            .into_addr()
    }

    pub(crate) fn received(&self) -> u64 {
        self.log.borrow().received
    }

    pub(crate) fn connected(&self) -> u64 {
        self.log.borrow().connected
    }

    pub(crate) fn disconnected(&self) -> u64 {
        self.log.borrow().disconnected
    }

    pub(crate) fn states(&self) -> Vec<StateChanged> {
        self.log.borrow().states.clone()
    }

    /// Arms the probe: the instant the total received count reaches `total` is kept.
    pub(crate) fn expect_total(&self, total: u64) {
        let mut log = self.log.borrow_mut();
        log.wake_at = total;
        log.reached_at = None;
    }

    /// Waits until the armed total is reached; the instant the last message arrived.
    pub(crate) async fn reached(&self) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.log.borrow().reached_at {
                return at;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let log = self.log.borrow();
                panic!(
                    "tether: {} of {} messages echoed after {PATIENCE:?}",
                    log.received, log.wake_at
                );
            }
            let _ = tokio::time::timeout(left, self.incoming.notified()).await;
        }
    }

    /// Waits until `done(log)` holds; false after `patience`.
    async fn wait(&self, patience: Duration, done: impl Fn(&ProbeLog) -> bool) -> bool {
        let deadline = Instant::now() + patience;
        loop {
            if done(&self.log.borrow()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left, self.states.notified()).await;
        }
    }

    /// Waits until `Connected` was entered `n` times in total.
    pub(crate) async fn wait_connected(&self, n: u64, patience: Duration) -> bool {
        self.wait(patience, |log| log.connected >= n).await
    }

    /// Waits until `Disconnected` was entered `n` times in total.
    pub(crate) async fn wait_disconnected(&self, n: u64, patience: Duration) -> bool {
        self.wait(patience, |log| log.disconnected >= n).await
    }
}

/// What a batch of tether sends came back with.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SendTally {
    pub(crate) sent: u64,
    pub(crate) buffered: u64,
    /// `DeliveryError::BufferFull` answers (the message was sent again).
    pub(crate) full: u64,
}

/// Sends `n` copies of `payload` the documented way: `addr.send(..)` awaited, with at
/// most `in_flight` sends outstanding. A `BufferFull` answer is retried (and counted).
pub(crate) async fn tether_send_many(
    addr: &Addr<ConnectionActor>,
    payload: &ByteString,
    n: u64,
    in_flight: usize,
) -> SendTally {
    let mut tally = SendTally::default();
    let mut pending = FuturesUnordered::new();
    let mut issued = 0;
    let mut answered = 0;
    while answered < n {
        while issued < n && pending.len() < in_flight {
            pending.push(addr.send(message::Outgoing::text(payload.clone())));
            issued += 1;
        }
        let Some(reply) = pending.next().await else {
            break;
        };
        match reply.expect("connection actor alive") {
            Ok(Delivery::Buffered) => {
                tally.buffered += 1;
                answered += 1;
            }
            Ok(_) => {
                tally.sent += 1;
                answered += 1;
            }
            Err(DeliveryError::BufferFull { .. }) => {
                tally.full += 1;
                issued -= 1;
            }
            Err(other) => panic!("tether send failed: {other}"),
        }
    }
    tally
}

/// Sends `n` copies of `payload` in `OutgoingBatch`es of `batch` messages, at most
/// `in_flight` batches outstanding. Refused messages are sent again (and counted).
pub(crate) async fn tether_send_batches(
    addr: &Addr<ConnectionActor>,
    payload: &ByteString,
    n: u64,
    batch: u64,
    in_flight: usize,
) -> SendTally {
    let mut tally = SendTally::default();
    let mut pending = FuturesUnordered::new();
    let mut issued = 0;
    let mut answered = 0;
    while answered < n {
        while issued < n && pending.len() < in_flight {
            let size = (n - issued).min(batch);
            let messages = (0..size).map(|_| payload.clone());
            pending.push(addr.send(OutgoingBatch::new(messages)));
            issued += size;
        }
        let Some(reply) = pending.next().await else {
            break;
        };
        let report = reply.expect("connection actor alive");
        tally.sent += (report.sent + report.confirmed) as u64;
        tally.buffered += report.buffered as u64;
        answered += report.accepted() as u64;
        for refused in report.refused {
            match refused {
                DeliveryError::BufferFull { .. } => {
                    tally.full += 1;
                    issued -= 1;
                }
                other => panic!("tether batch send failed: {other}"),
            }
        }
    }
    tally
}

/// Sends `n` copies of `payload` with `do_send` (no reply, no mailbox bound), paced:
/// every chunk of 64 ends with one awaited `send`, and at most two chunks are
/// outstanding. Messages are handled in order, so once a chunk's last reply is in, the
/// whole chunk was written, and at most 128 messages ever wait: the outbound buffer
/// (256) never fills (a full buffer would drop a `do_send` message, its error unseen).
pub(crate) async fn tether_do_send_many(
    addr: &Addr<ConnectionActor>,
    payload: &ByteString,
    n: u64,
) {
    const CHUNK: u64 = 64;
    let mut pending = FuturesUnordered::new();
    let mut issued = 0;
    while issued < n || !pending.is_empty() {
        while issued < n && pending.len() < 2 {
            let chunk = (n - issued).min(CHUNK);
            for _ in 1..chunk {
                addr.do_send(message::Outgoing::text(payload.clone()));
            }
            pending.push(addr.send(message::Outgoing::text(payload.clone())));
            issued += chunk;
        }
        if let Some(reply) = pending.next().await {
            reply
                .expect("connection actor alive")
                .expect("paced do_send never fills the buffer");
        }
    }
}

/// Closes every connection and waits for the answers.
pub(crate) async fn close_all(addrs: &[Addr<ConnectionActor>]) {
    let closing: FuturesUnordered<_> = addrs.iter().map(|a| a.send(message::Close)).collect();
    let _: Vec<_> = closing.collect().await;
}

// ---------------------------------------------------------------------------------------
// raw awc

pub(crate) type RawFramed = Framed<BoxedSocket, Codec>;

/// One raw awc connection, split for concurrent reading and writing.
pub(crate) struct RawConn {
    pub(crate) sink: SplitSink<RawFramed, Message>,
    pub(crate) stream: SplitStream<RawFramed>,
}

/// A raw awc client, shared by all raw connections of a scenario (the natural usage).
/// Its connector is unlimited: awc's default pool admits 100 connections per client,
/// WebSocket tunnels included, and holds the 101st handshake until one closes.
pub(crate) fn raw_client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .connector(awc::Connector::new().limit(0))
        .finish()
}

/// Connects: TCP + WebSocket handshake.
pub(crate) async fn raw_connect(client: &awc::Client, url: &str) -> Result<RawConn, String> {
    let (_response, framed) = client
        .ws(url)
        .max_frame_size(16 * 1024 * 1024)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let (sink, stream) = framed.split();
    Ok(RawConn { sink, stream })
}

impl std::fmt::Debug for RawConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConn").finish_non_exhaustive()
    }
}

impl RawConn {
    /// The next data message; pings are answered, pongs skipped.
    pub(crate) async fn next_data(&mut self) -> Option<Frame> {
        loop {
            match self.stream.next().await? {
                Ok(frame @ (Frame::Text(_) | Frame::Binary(_))) => return Some(frame),
                Ok(Frame::Ping(payload)) => {
                    self.sink.send(Message::Pong(payload)).await.ok()?;
                }
                Ok(Frame::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Writes `n` copies of the text message (fed, flushed when the codec's buffer fills and
    /// at the end) while reading the echoes; the instant the last echo arrived.
    pub(crate) async fn pipelined(&mut self, text: &ByteString, n: u64) -> Instant {
        let Self { sink, stream } = self;
        let write = async {
            for _ in 0..n {
                sink.feed(Message::Text(text.clone()))
                    .await
                    .expect("raw write");
            }
            sink.flush().await.expect("raw flush");
        };
        let read = async {
            let mut got = 0;
            while got < n {
                match stream.next().await {
                    Some(Ok(Frame::Text(_) | Frame::Binary(_))) => got += 1,
                    Some(Ok(_)) => {}
                    other => panic!("raw: link lost after {got} of {n} echoes: {other:?}"),
                }
            }
            Instant::now()
        };
        let ((), last) = futures_util::future::join(write, read).await;
        last
    }
}

// ---------------------------------------------------------------------------------------
// raw tokio-tungstenite

/// One raw tokio-tungstenite connection: what a user might pick instead of awc.
pub(crate) struct TungsteniteConn(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl std::fmt::Debug for TungsteniteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TungsteniteConn").finish_non_exhaustive()
    }
}

impl TungsteniteConn {
    pub(crate) async fn connect(url: &str) -> Result<Self, String> {
        let (stream, _response) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self(stream))
    }

    /// Writes `n` copies of the text (fed, flushed at the end) while reading the echoes;
    /// the instant the last echo arrived.
    pub(crate) async fn pipelined(&mut self, text: &str, n: u64) -> Instant {
        use tokio_tungstenite::tungstenite::Message as TMessage;
        let (mut sink, mut stream) = (&mut self.0).split();
        let text: tokio_tungstenite::tungstenite::Utf8Bytes = text.into();
        let write = async {
            for _ in 0..n {
                sink.feed(TMessage::Text(text.clone()))
                    .await
                    .expect("tungstenite write");
            }
            sink.flush().await.expect("tungstenite flush");
        };
        let read = async {
            let mut got = 0;
            while got < n {
                match stream.next().await {
                    Some(Ok(TMessage::Text(_) | TMessage::Binary(_))) => got += 1,
                    Some(Ok(_)) => {}
                    other => panic!("tungstenite: link lost after {got} of {n}: {other:?}"),
                }
            }
            Instant::now()
        };
        let ((), last) = futures_util::future::join(write, read).await;
        last
    }
}
