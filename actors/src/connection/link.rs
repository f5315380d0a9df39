//! Everything that belongs to one established WebSocket connection.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::task::Waker;
use std::time::Instant;

use actix::SpawnHandle;
use actix_codec::Framed;
use awc::ws::Message;
use awc::BoxedSocket;
use bytes::Bytes;
use futures_util::stream::SplitSink;

use tether::UnconfirmedWindow;

use super::assembler::Assembler;
use super::frame_limit::FrameLimit;
use super::outbound::Outbound;

pub(crate) type WsSink = SplitSink<Framed<BoxedSocket, FrameLimit>, Message>;

/// One live connection. Dropped (or handed to a closing task) when the link ends; the
/// actor itself survives.
pub(crate) struct Link {
    /// Distinguishes this connection's timers from those of earlier ones.
    pub(crate) generation: u64,
    pub(crate) sink: WsSink,
    /// The reading half, registered with the context; cancelled on teardown.
    pub(crate) reader: SpawnHandle,
    pub(crate) heartbeat: SpawnHandle,
    /// A confirmation check is scheduled (only while messages wait, so an idle
    /// connection has no timer besides the heartbeat).
    pub(crate) confirm_armed: bool,
    pub(crate) assembler: Assembler,
    /// Control frames wait here and are written before data.
    pub(crate) pending_pong: Option<Bytes>,
    /// A ping (heartbeat or confirmation) is wanted; its payload is a checkpoint of
    /// the unconfirmed window, taken when it is written.
    pub(crate) pending_ping: bool,
    /// Last time any frame arrived.
    pub(crate) last_seen: Instant,
    /// Last time a Pong arrived.
    pub(crate) last_pong: Instant,
    /// When bytes of a frame not yet whole last arrived (noted by the codec).
    pub(crate) receiving: Rc<Cell<Option<Instant>>>,
    /// When the last ping of any kind was written.
    pub(crate) last_ping_at: Option<Instant>,
    /// When the unanswered heartbeat ping was sent.
    pub(crate) ping_sent_at: Option<Instant>,
    /// Wakes the writer when something new is queued.
    pub(crate) writer_waker: Option<Waker>,
    /// The reader stopped reading because a subscriber's mailbox is full.
    pub(crate) read_paused: bool,
    /// Wakes the reader when the subscribers have room again.
    pub(crate) reader_waker: Option<Waker>,
}

/// The live link, if it is the one of `generation` (timers and tasks of an earlier link
/// find nothing).
pub(crate) fn current(link: &mut Option<Link>, generation: u64) -> Option<&mut Link> {
    link.as_mut().filter(|link| link.generation == generation)
}

impl Link {
    pub(crate) fn new(
        generation: u64,
        sink: WsSink,
        [reader, heartbeat]: [SpawnHandle; 2],
        max_message_size: usize,
        receiving: Rc<Cell<Option<Instant>>>,
    ) -> Self {
        Self {
            generation,
            sink,
            reader,
            heartbeat,
            confirm_armed: false,
            assembler: Assembler::new(max_message_size),
            pending_pong: None,
            pending_ping: false,
            last_seen: Instant::now(),
            last_pong: Instant::now(),
            receiving,
            last_ping_at: None,
            ping_sent_at: None,
            writer_waker: None,
            read_paused: false,
            reader_waker: None,
        }
    }

    /// The next control frame to write, pongs first (a peer may be waiting on one).
    /// A ping takes its checkpoint now, so it covers exactly what was written before.
    pub(crate) fn take_control(
        &mut self,
        window: &mut UnconfirmedWindow<Outbound>,
    ) -> Option<Message> {
        if let Some(payload) = self.pending_pong.take() {
            return Some(Message::Pong(payload));
        }
        if std::mem::take(&mut self.pending_ping) {
            self.last_ping_at = Some(Instant::now());
            let checkpoint = UnconfirmedWindow::<Outbound>::encode(window.checkpoint());
            return Some(Message::Ping(Bytes::copy_from_slice(&checkpoint)));
        }
        None
    }

    pub(crate) fn has_control(&self) -> bool {
        self.pending_pong.is_some() || self.pending_ping
    }

    pub(crate) fn wake_writer(&mut self) {
        if let Some(waker) = self.writer_waker.take() {
            waker.wake();
        }
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The socket itself has no `Debug`.
        f.debug_struct("Link")
            .field("generation", &self.generation)
            .field("last_seen", &self.last_seen)
            .field("ping_sent_at", &self.ping_sent_at)
            .finish_non_exhaustive()
    }
}
