//! [`FaultProxy`]: a TCP proxy on `127.0.0.1` between a client and a server, whose
//! faults a test switches while it runs (black hole, refusal, latency, bandwidth, tiny
//! segments, cuts with FIN or RST), plus [`ChaosSchedule`], a seeded and replayable
//! sequence of outages for long tests.
//!
//! Everything runs as tokio tasks in the test's own runtime (`#[actix_web::test]`); no
//! call blocks. Each proxied connection is one task that dials the upstream when the
//! client is accepted and then pumps both directions. Per direction a reader stamps
//! every chunk it reads with its due time (now + latency) and a writer delivers the
//! chunks in order once due, shaped by the fault in force at write time. Faults apply at
//! once to open connections as well as new ones, except [`Fault::RefuseNew`], which only
//! concerns new ones.
//!
//! End of stream is forwarded faithfully: a FIN from one side becomes a FIN to the other
//! (half-close), a read or write error on either side resets both.

use std::{
    future::poll_fn,
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use rand::{rngs::StdRng, Rng as _, SeedableRng as _};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{
        tcp::{ReadHalf, WriteHalf},
        TcpListener, TcpSocket, TcpStream,
    },
    sync::{mpsc, watch},
    task::JoinHandle,
    time::Instant,
};

/// Largest chunk read from a socket at once.
const CHUNK: usize = 16 * 1024;
/// Chunks read but not yet written, per direction (the latency pipeline's depth).
const IN_FLIGHT: usize = 64;
/// [`Fault::Bandwidth`] writes this many pieces per second, pausing after each.
const PACING_STEPS_PER_SEC: u64 = 50;
/// Backlog of the listening socket.
const BACKLOG: u32 = 128;
/// How long leaving [`Fault::RefuseNew`] keeps retrying to bind the port again.
const REBIND_DEADLINE: Duration = Duration::from_secs(5);
/// Pause between two rebind attempts, and after a failed `accept`.
const RETRY_EVERY: Duration = Duration::from_millis(10);

/// What the proxy does to traffic; switch with [`FaultProxy::set_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Forward everything as it comes.
    PassThrough,
    /// A silent partition: every socket stays open, nothing is forwarded in either
    /// direction. New connections are still accepted and dialled upstream (the client's
    /// TCP connect succeeds, its handshake then hangs), but carry nothing either.
    ///
    /// Nothing is lost: the proxy stops reading, so data waits in the kernel's socket
    /// buffers (and at most one chunk per direction already read by the proxy), and is
    /// delivered late, in order, once the fault is lifted — like TCP after a short
    /// partition. A peer closing its socket meanwhile is only noticed then, too.
    BlackHole,
    /// New connections are refused: the listening socket is closed, so a client's
    /// connect fails with "connection refused" (`ECONNREFUSED`), as with a stopped
    /// server. Open connections are untouched and pass data through. Leaving this fault
    /// binds the same port again at once (`SO_REUSEADDR`), retrying in the background
    /// for up to 5 s should the port be momentarily taken (while closed, the port is
    /// free for others: a rare client connect from that very port, or another test's
    /// bind, can hold it).
    RefuseNew,
    /// Every chunk is delivered this long after the proxy read it, in each direction, so
    /// a round trip takes at least twice as long. Chunks are pipelined: throughput is
    /// not reduced.
    Latency(Duration),
    /// Each direction of each connection is paced to this rate, in pieces of 1/50 s
    /// worth of bytes (at least one byte). `0` counts as 1 byte per second.
    Bandwidth {
        /// Bytes per second, per direction and per connection.
        bytes_per_sec: u64,
    },
    /// Data is forwarded in writes of at most this many bytes (`0` counts as 1), each a
    /// separate TCP segment (`TCP_NODELAY`), yielding to other tasks in between, so the
    /// peer sees its messages split at arbitrary points.
    Slice {
        /// Largest write, in bytes.
        max_segment: usize,
    },
}

/// How [`FaultProxy::cut_all`] ends connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Clean close: a FIN to both sides (their reads end with EOF), then the sockets are
    /// closed. Data not yet forwarded is dropped.
    Fin,
    /// Abortive close: `SO_LINGER` 0, then close, so both sides get a RST (their reads
    /// or writes fail with "connection reset").
    Rst,
}

/// A fault-injecting TCP proxy on a free port of `127.0.0.1`; see the module docs.
///
/// Dropping it closes its port and ends every proxied connection with a FIN.
#[derive(Debug)]
pub(crate) struct FaultProxy {
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

/// Everything the proxy handle and its tasks share.
#[derive(Debug)]
struct Shared {
    /// Where connections are forwarded.
    upstream: SocketAddr,
    /// The proxy's own address, kept across closing and rebinding.
    addr: SocketAddr,
    fault: watch::Sender<Fault>,
    /// Every [`FaultProxy::cut_all`] sends a value; connections cut when it changes.
    cut: watch::Sender<Option<Cut>>,
    control: Mutex<Control>,
    accepted: AtomicUsize,
    open: AtomicUsize,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

/// The listening socket and fault bookkeeping, changed together under one lock.
#[derive(Debug)]
struct Control {
    /// `None` while refusing (or after the proxy is dropped).
    listener: Option<TcpListener>,
    /// The accept task, to wake when the listener is bound again.
    accept_waker: Option<Waker>,
    /// Bumped by every fault change, so that a timed fault only restores the previous
    /// fault if nothing changed it meanwhile.
    generation: u64,
    /// While a timed fault ([`FaultProxy::refuse_for`], a chaos outage) is in force: the
    /// fault it will restore. Overlapping timed faults restore the original one.
    restore_to: Option<Fault>,
    /// The proxy was dropped: never bind again.
    closed: bool,
}

/// Locks `mutex`, ignoring poisoning (a failed assertion elsewhere must not cascade).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FaultProxy {
    /// Starts a proxy in [`Fault::PassThrough`] on a free port of `127.0.0.1`,
    /// forwarding to `upstream`, which must be a loopback address.
    pub(crate) async fn start(upstream: SocketAddr) -> FaultProxy {
        assert!(
            upstream.ip().is_loopback(),
            "FaultProxy only forwards to loopback, not {upstream}"
        );
        let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind the fault proxy on 127.0.0.1:0");
        let addr = listener.local_addr().expect("fault proxy local address");
        let shared = Arc::new(Shared {
            upstream,
            addr,
            fault: watch::Sender::new(Fault::PassThrough),
            cut: watch::Sender::new(None),
            control: Mutex::new(Control {
                listener: Some(listener),
                accept_waker: None,
                generation: 0,
                restore_to: None,
                closed: false,
            }),
            accepted: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
        });
        let accept_task = tokio::spawn(accept_loop(shared.clone()));
        FaultProxy {
            shared,
            accept_task,
        }
    }

    /// The proxy's address, `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The proxy's port.
    pub(crate) fn port(&self) -> u16 {
        self.shared.addr.port()
    }

    /// A WebSocket URL through the proxy: `ws://127.0.0.1:PORT` followed by `path`
    /// (e.g. `"/ws"`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port())
    }

    /// The fault in force.
    pub(crate) fn fault(&self) -> Fault {
        *self.shared.fault.borrow()
    }

    /// Switches the fault; it takes effect at once (see each [`Fault`]), and cancels the
    /// restoring of any timed fault in force.
    pub(crate) fn set_fault(&self, fault: Fault) {
        self.shared.apply(&mut lock(&self.shared.control), fault);
    }

    /// [`Fault::RefuseNew`] for `duration`, then back to the fault in force before (the
    /// one before the first, if calls overlap) — unless the fault was changed meanwhile.
    /// Watch [`FaultProxy::fault`] to know when it is over.
    pub(crate) fn refuse_for(&self, duration: Duration) {
        let (generation, previous) = self.shared.apply_timed(Fault::RefuseNew);
        let shared = self.shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            shared.restore(generation, previous);
        });
    }

    /// Cuts every open proxied connection now, both sides, as `how` says. Connections
    /// accepted afterwards are served per the fault in force.
    pub(crate) fn cut_all(&self, how: Cut) {
        self.shared.cut.send_replace(Some(how));
    }

    /// Client connections accepted so far (refused ones never are).
    pub(crate) fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Proxied connections whose sockets are not closed yet.
    pub(crate) fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Relaxed)
    }

    /// Bytes delivered to the upstream (client to server), all connections together.
    pub(crate) fn bytes_up(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::Relaxed)
    }

    /// Bytes delivered to clients (server to client), all connections together.
    pub(crate) fn bytes_down(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        {
            let mut control = lock(&self.shared.control);
            control.closed = true;
            control.listener = None;
        }
        self.shared.cut.send_replace(Some(Cut::Fin));
    }
}

impl Shared {
    /// Makes `fault` the fault in force and opens or closes the listener to match.
    /// Returns the new generation.
    fn apply(self: &Arc<Self>, control: &mut Control, fault: Fault) -> u64 {
        control.generation += 1;
        control.restore_to = None;
        self.fault.send_replace(fault);
        if fault == Fault::RefuseNew {
            // Closing the socket refuses connects from now on; connections still in its
            // accept queue get a reset.
            control.listener = None;
        } else if control.listener.is_none() && !control.closed {
            if let Err(err) = self.reopen(control) {
                tracing::debug!("fault proxy: rebinding {}: {err}; retrying", self.addr);
                tokio::spawn(self.clone().reopen_later(control.generation));
            }
        }
        control.generation
    }

    /// Applies `fault` as a timed fault; returns its generation and the fault to restore.
    fn apply_timed(self: &Arc<Self>, fault: Fault) -> (u64, Fault) {
        let mut control = lock(&self.control);
        let previous = control.restore_to.unwrap_or(*self.fault.borrow());
        let generation = self.apply(&mut control, fault);
        control.restore_to = Some(previous);
        (generation, previous)
    }

    /// Ends a timed fault: back to `previous`, unless the fault changed since `generation`.
    fn restore(self: &Arc<Self>, generation: u64, previous: Fault) {
        let mut control = lock(&self.control);
        if control.generation == generation {
            self.apply(&mut control, previous);
        }
    }

    /// Binds the proxy's port again and wakes the accept task.
    fn reopen(&self, control: &mut Control) -> io::Result<()> {
        control.listener = Some(bind(self.addr)?);
        if let Some(waker) = control.accept_waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// Retries [`Shared::reopen`] until it works, the fault changes again (a newer
    /// `apply` handles it) or [`REBIND_DEADLINE`] passes.
    async fn reopen_later(self: Arc<Self>, generation: u64) {
        let deadline = Instant::now() + REBIND_DEADLINE;
        loop {
            tokio::time::sleep(RETRY_EVERY).await;
            let mut control = lock(&self.control);
            if control.generation != generation || control.listener.is_some() || control.closed {
                return;
            }
            match self.reopen(&mut control) {
                Ok(()) => return,
                Err(err) if Instant::now() >= deadline => {
                    tracing::error!(
                        "fault proxy: cannot bind {} again: {err}; still refusing",
                        self.addr
                    );
                    return;
                }
                Err(_) => {}
            }
        }
    }

    /// Polls the current listener for a connection; pending while there is none.
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        let mut control = lock(&self.control);
        // Dropping the listener forgets its wakers: `reopen` wakes this one instead.
        control.accept_waker = Some(cx.waker().clone());
        match &control.listener {
            Some(listener) => listener.poll_accept(cx).map_ok(|(stream, _peer)| stream),
            None => Poll::Pending,
        }
    }
}

/// A listening socket on `addr` with `SO_REUSEADDR`, so that the port can be bound again
/// while proxied connections still use it.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Accepts client connections for as long as the proxy lives, one task each.
async fn accept_loop(shared: Arc<Shared>) {
    loop {
        let client = match poll_fn(|cx| shared.poll_accept(cx)).await {
            Ok(client) => client,
            Err(err) => {
                tracing::warn!("fault proxy: accept: {err}");
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let open = OpenGuard::new(shared.clone());
        let cut = shared.cut.subscribe();
        tokio::spawn(serve(open, client, cut));
    }
}

/// Counts a connection in [`FaultProxy::open_connections`] for as long as it lives.
#[derive(Debug)]
struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: Arc<Shared>) -> OpenGuard {
        shared.open.fetch_add(1, Ordering::Relaxed);
        OpenGuard(shared)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves one client: dials the upstream, pumps both ways until both sides are done, an
/// error resets both, or a cut comes.
async fn serve(open: OpenGuard, mut client: TcpStream, mut cut: watch::Receiver<Option<Cut>>) {
    let shared = &*open.0;
    let dialed = tokio::select! {
        dialed = TcpStream::connect(shared.upstream) => dialed,
        Ok(()) = cut.changed() => {
            let how = cut.borrow_and_update().unwrap_or(Cut::Fin);
            close(&mut client, how).await;
            return;
        }
    };
    let mut upstream = match dialed {
        Ok(upstream) => upstream,
        Err(err) => {
            // Mirror an unreachable server with a reset.
            tracing::debug!("fault proxy: dialling {}: {err}", shared.upstream);
            close(&mut client, Cut::Rst).await;
            return;
        }
    };
    for stream in [&client, &upstream] {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!("fault proxy: TCP_NODELAY: {err}");
        }
    }

    let ending = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let up = pump(client_read, upstream_write, shared, &shared.bytes_up);
        let down = pump(upstream_read, client_write, shared, &shared.bytes_down);
        tokio::select! {
            pumped = futures_util::future::try_join(up, down) => match pumped {
                Ok(_) => None,
                Err(err) => {
                    tracing::debug!("fault proxy: connection failed: {err}; resetting");
                    Some(Cut::Rst)
                }
            },
            Ok(()) = cut.changed() => Some(cut.borrow_and_update().unwrap_or(Cut::Fin)),
        }
    };
    if let Some(how) = ending {
        close(&mut client, how).await;
        close(&mut upstream, how).await;
    }
}

/// Prepares `stream` to be closed as `how` says; the caller then drops it.
async fn close(stream: &mut TcpStream, how: Cut) {
    match how {
        Cut::Rst => {
            if let Err(err) = stream.set_zero_linger() {
                tracing::debug!("fault proxy: SO_LINGER 0: {err}");
            }
        }
        Cut::Fin => {
            if let Err(err) = stream.shutdown().await {
                tracing::debug!("fault proxy: shutdown: {err}");
            }
            // Closing a socket with unread data sends a RST; discard what is buffered.
            let mut sink = vec![0; CHUNK];
            while matches!(stream.try_read(&mut sink), Ok(n) if n > 0) {}
        }
    }
}

/// Forwards one direction until EOF (forwarded as a FIN) or an error.
async fn pump(
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    shared: &Shared,
    delivered: &AtomicU64,
) -> io::Result<()> {
    let (chunks_tx, mut chunks_rx) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let mut read_faults = shared.fault.subscribe();
    let mut write_faults = shared.fault.subscribe();
    let read = async move {
        loop {
            forwarding(&mut read_faults).await?;
            let mut chunk = vec![0; CHUNK];
            let n = from.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            chunk.truncate(n);
            let delay = match *read_faults.borrow() {
                Fault::Latency(delay) => delay,
                _ => Duration::ZERO,
            };
            if chunks_tx
                .send((Instant::now() + delay, chunk))
                .await
                .is_err()
            {
                return Ok(()); // The writer has failed; its error ends the pump.
            }
        }
    };
    let write = async move {
        while let Some((due, chunk)) = chunks_rx.recv().await {
            tokio::time::sleep_until(due).await;
            write_shaped(&mut to, &chunk, &mut write_faults, delivered).await?;
        }
        to.shutdown().await
    };
    futures_util::future::try_join(read, write)
        .await
        .map(|_| ())
}

/// What to do after writing one piece.
enum Pause {
    None,
    Yield,
    /// Sleep for the piece's length at this many bytes per second.
    Pace(u64),
}

/// Writes `chunk` as the fault in force wants it, counting delivered bytes.
async fn write_shaped(
    to: &mut WriteHalf<'_>,
    mut chunk: &[u8],
    faults: &mut watch::Receiver<Fault>,
    delivered: &AtomicU64,
) -> io::Result<()> {
    while !chunk.is_empty() {
        let (piece_len, pause) = match forwarding(faults).await? {
            Fault::Slice { max_segment } => (max_segment.max(1), Pause::Yield),
            Fault::Bandwidth { bytes_per_sec } => {
                let rate = bytes_per_sec.max(1);
                let step = usize::try_from(rate / PACING_STEPS_PER_SEC).unwrap_or(usize::MAX);
                (step.max(1), Pause::Pace(rate))
            }
            _ => (chunk.len(), Pause::None),
        };
        let (piece, rest) = chunk.split_at(piece_len.min(chunk.len()));
        to.write_all(piece).await?;
        delivered.fetch_add(piece.len() as u64, Ordering::Relaxed);
        chunk = rest;
        match pause {
            Pause::None => {}
            Pause::Yield => tokio::task::yield_now().await,
            Pause::Pace(rate) => {
                let secs = piece.len() as f64 / rate as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
        }
    }
    Ok(())
}

/// Waits while the fault is [`Fault::BlackHole`]; returns the fault then in force.
async fn forwarding(faults: &mut watch::Receiver<Fault>) -> io::Result<Fault> {
    faults
        .wait_for(|fault| *fault != Fault::BlackHole)
        .await
        .map(|fault| *fault)
        .map_err(|_| io::Error::other("fault proxy gone"))
}

/// One outage of a [`ChaosSchedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outage {
    /// [`FaultProxy::cut_all`] with this cut; takes no time.
    Cut(Cut),
    /// [`Fault::BlackHole`] for this long, then back to the previous fault.
    BlackHole(Duration),
    /// [`Fault::RefuseNew`] for this long, then back to the previous fault.
    Refuse(Duration),
}

impl Outage {
    /// How long the outage lasts.
    pub(crate) fn duration(&self) -> Duration {
        match *self {
            Outage::Cut(_) => Duration::ZERO,
            Outage::BlackHole(duration) | Outage::Refuse(duration) => duration,
        }
    }
}

/// An outage and when it starts, as an offset from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOutage {
    /// Offset from the start of [`ChaosSchedule::run`].
    pub(crate) at: Duration,
    /// What happens then.
    pub(crate) outage: Outage,
}

/// A deterministic, seeded sequence of outages for long tests: the same seed and
/// arguments give the same schedule (with the same `rand` version), so print the seed of
/// a failing run to replay it. Drive it next to the workload, e.g.
/// `let (applied, ()) = tokio::join!(schedule.run(&proxy), workload);`.
///
/// Outages never overlap: each starts a random gap after the previous one ended. Gaps
/// and outage durations are uniform in `[mean / 2, mean * 3 / 2)`; the kind is one of
/// cut with FIN, cut with RST, black hole and refusal, with equal odds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChaosSchedule {
    seed: u64,
    outages: Vec<TimedOutage>,
}

impl ChaosSchedule {
    /// Draws `outages` outages from `seed` (with rand's `StdRng`).
    pub(crate) fn new(
        seed: u64,
        outages: usize,
        mean_gap: Duration,
        mean_outage: Duration,
    ) -> ChaosSchedule {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut at = Duration::ZERO;
        let outages = (0..outages)
            .map(|_| {
                at += jitter(&mut rng, mean_gap);
                let outage = match rng.random_range(0..4) {
                    0 => Outage::Cut(Cut::Fin),
                    1 => Outage::Cut(Cut::Rst),
                    2 => Outage::BlackHole(jitter(&mut rng, mean_outage)),
                    _ => Outage::Refuse(jitter(&mut rng, mean_outage)),
                };
                let timed = TimedOutage { at, outage };
                at += outage.duration();
                timed
            })
            .collect();
        ChaosSchedule { seed, outages }
    }

    /// The seed it was drawn from.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// The outages, in order.
    pub(crate) fn outages(&self) -> &[TimedOutage] {
        &self.outages
    }

    /// When the last outage ends: how long [`ChaosSchedule::run`] takes (plus timer
    /// slack).
    pub(crate) fn total_duration(&self) -> Duration {
        self.outages
            .last()
            .map_or(Duration::ZERO, |last| last.at + last.outage.duration())
    }

    /// Applies the outages to `proxy` at their times, one after the other, each timed
    /// outage restoring the fault in force before it (unless something else changed the
    /// fault meanwhile). Returns what it applied, with the actual offsets.
    pub(crate) async fn run(self, proxy: &FaultProxy) -> Vec<TimedOutage> {
        let start = Instant::now();
        let mut applied = Vec::with_capacity(self.outages.len());
        for TimedOutage { at, outage } in self.outages {
            tokio::time::sleep_until(start + at).await;
            let at = start.elapsed();
            tracing::info!(seed = self.seed, ?at, ?outage, "chaos: outage");
            let fault = match outage {
                Outage::Cut(how) => {
                    proxy.cut_all(how);
                    None
                }
                Outage::BlackHole(duration) => Some((Fault::BlackHole, duration)),
                Outage::Refuse(duration) => Some((Fault::RefuseNew, duration)),
            };
            if let Some((fault, duration)) = fault {
                let (generation, previous) = proxy.shared.apply_timed(fault);
                tokio::time::sleep(duration).await;
                proxy.shared.restore(generation, previous);
            }
            applied.push(TimedOutage { at, outage });
        }
        applied
    }
}

/// A duration drawn uniformly from `[mean / 2, mean * 3 / 2)`.
fn jitter(rng: &mut StdRng, mean: Duration) -> Duration {
    mean.mul_f64(rng.random_range(0.5..1.5))
}
