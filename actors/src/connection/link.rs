//! Everything that belongs to one established WebSocket connection.

use std::fmt;
use std::task::{self, Poll, Waker};
use std::time::Instant;

use actix::SpawnHandle;
use actix_codec::Framed;
use awc::error::WsProtocolError;
use awc::ws::{CloseReason, Message};
use awc::BoxedSocket;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use tether::liveness::{Control, Liveness};
use tether::{Outbox, UnconfirmedWindow};

use super::assembler::Assembler;
use super::frame_limit::{FrameLimit, Progress};
use super::outbound::Outbound;

pub(crate) type WsSink = SplitSink<Framed<BoxedSocket, FrameLimit>, Message>;
pub(crate) type WsStream = SplitStream<Framed<BoxedSocket, FrameLimit>>;

/// One live connection: the writing half of its socket, its reader task, the
/// reassembly of fragmented messages and its [`Liveness`]. Dropped (or handed to a
/// closing task) when the link ends; the actor itself survives.
pub(crate) struct Link {
    /// Distinguishes this connection's timers and tasks from those of earlier ones.
    generation: u64,
    sink: WsSink,
    stream: WsStream,
    /// The reader task, registered with the context; cancelled on teardown.
    reader: SpawnHandle,
    /// The heartbeat's interval timer, once its first (randomly phased) tick ran.
    heartbeat: Option<SpawnHandle>,
    assembler: Assembler,
    liveness: Liveness<Bytes>,
    /// Progress of a frame not yet whole, noted by the codec.
    progress: Progress,
    /// Wakes the writer when something new is queued.
    writer_waker: Option<Waker>,
    /// Wakes the reader when the subscribers have room again.
    reader_waker: Option<Waker>,
}

/// The live link, if it is the one of `generation` (timers and tasks of an earlier link
/// find nothing).
pub(crate) fn current(link: &mut Option<Link>, generation: u64) -> Option<&mut Link> {
    link.as_mut().filter(|link| link.generation == generation)
}

impl Link {
    pub(crate) fn new(
        generation: u64,
        (sink, stream): (WsSink, WsStream),
        reader: SpawnHandle,
        assembler: Assembler,
        liveness: Liveness<Bytes>,
        progress: Progress,
    ) -> Self {
        Self {
            generation,
            sink,
            stream,
            reader,
            heartbeat: None,
            assembler,
            liveness,
            progress,
            writer_waker: None,
            reader_waker: None,
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn set_heartbeat(&mut self, ticks: SpawnHandle) {
        self.heartbeat = Some(ticks);
    }

    pub(crate) fn liveness(&mut self) -> &mut Liveness<Bytes> {
        &mut self.liveness
    }

    pub(crate) fn assembler(&mut self) -> &mut Assembler {
        &mut self.assembler
    }

    /// Tells the liveness what the codec saw of a frame still arriving.
    pub(crate) fn note_progress(&mut self) {
        if let Some((at, bytes)) = self.progress.get() {
            self.liveness.frame_arriving(at, bytes);
        }
    }

    /// Registers the writer task to be woken when there is something to write.
    pub(crate) fn park_writer(&mut self, task: &task::Context<'_>) {
        if !self
            .writer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(task.waker()))
        {
            self.writer_waker = Some(task.waker().clone());
        }
    }

    pub(crate) fn wake_writer(&mut self) {
        if let Some(waker) = self.writer_waker.take() {
            waker.wake();
        }
    }

    /// Registers the reader task to be woken when reading may resume.
    pub(crate) fn park_reader(&mut self, task: &task::Context<'_>) {
        self.reader_waker = Some(task.waker().clone());
    }

    pub(crate) fn wake_reader(&mut self) {
        if let Some(waker) = self.reader_waker.take() {
            waker.wake();
        }
    }

    /// Whether a control frame waits to be written.
    pub(crate) fn has_control(&self) -> bool {
        self.liveness.has_control()
    }

    /// The next control frame to write, pongs first. A ping takes its checkpoint now,
    /// so it covers exactly what was written before it.
    fn take_control(&mut self, outbox: &mut Outbox<Outbound>) -> Option<Message> {
        let now = Instant::now();
        match self.liveness.take_control(now)? {
            Control::Pong(payload) => Some(Message::Pong(payload)),
            Control::Ping => {
                let checkpoint = outbox.checkpoint();
                self.liveness.ping_written(checkpoint, now);
                let payload = UnconfirmedWindow::<Outbound>::encode(checkpoint);
                Some(Message::Ping(Bytes::copy_from_slice(&payload)))
            }
        }
    }

    /// Whether the socket can take a frame now.
    pub(crate) fn poll_ready(
        &mut self,
        task: &mut task::Context<'_>,
    ) -> Poll<Result<(), WsProtocolError>> {
        self.sink.poll_ready_unpin(task)
    }

    /// Writes the next control frame, if one waits; `Ok(false)` if none did. Call after
    /// [`poll_ready`](Self::poll_ready) said yes.
    pub(crate) fn write_control(
        &mut self,
        outbox: &mut Outbox<Outbound>,
    ) -> Result<bool, WsProtocolError> {
        if !self.liveness.has_control() {
            return Ok(false); // the common case, without reading the clock
        }
        match self.take_control(outbox) {
            Some(frame) => self.sink.start_send_unpin(frame).map(|()| true),
            None => Ok(false),
        }
    }

    /// Writes one data frame. Call after [`poll_ready`](Self::poll_ready) said yes.
    pub(crate) fn write(&mut self, frame: Message) -> Result<(), WsProtocolError> {
        self.sink.start_send_unpin(frame)
    }

    /// The next frame from the server.
    pub(crate) fn poll_next(
        &mut self,
        task: &mut task::Context<'_>,
    ) -> Poll<Option<Result<awc::ws::Frame, WsProtocolError>>> {
        self.stream.poll_next_unpin(task)
    }

    pub(crate) fn poll_flush(
        &mut self,
        task: &mut task::Context<'_>,
    ) -> Poll<Result<(), WsProtocolError>> {
        self.sink.poll_flush_unpin(task)
    }

    /// Takes the link apart for its teardown: the handles of its reader and heartbeat
    /// (to cancel them) and both halves of the socket (for the closing handshake).
    pub(crate) fn into_parts(self) -> ([Option<SpawnHandle>; 2], WsSink, WsStream) {
        ([Some(self.reader), self.heartbeat], self.sink, self.stream)
    }
}

/// Writes a close frame without waiting: into the socket's buffer and, if the socket
/// takes it at once, onto the wire. For when nothing can wait any more (the actor is
/// being dropped); anything the socket does not take at once is lost with it.
pub(crate) fn close_now(sink: &mut WsSink, code: u16) {
    let mut task = task::Context::from_waker(futures_util::task::noop_waker_ref());
    let frame = Message::Close(Some(CloseReason {
        code: code.into(),
        description: None,
    }));
    if let Poll::Ready(Ok(())) = sink.poll_ready_unpin(&mut task) {
        if sink.start_send_unpin(frame).is_ok() {
            let _ = sink.poll_flush_unpin(&mut task);
        }
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The socket itself has no `Debug`.
        f.debug_struct("Link")
            .field("generation", &self.generation)
            .field("liveness", &self.liveness)
            .finish_non_exhaustive()
    }
}
