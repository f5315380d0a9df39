//! The reader: frames from the server, delivered to subscribers with back-pressure.
//!
//! A subscriber that cannot keep up must not make the connection buffer without bound.
//! Each message goes to every subscriber's mailbox with `try_send`; when a mailbox is
//! full, the message is handed over with a `send` that waits for room, and the reader
//! stops reading the socket until every such hand-over is done. TCP then slows the
//! server down. While the reader is paused this way, the heartbeat does not count the
//! silence against the server.

use std::pin::Pin;
use std::task::{self, Poll};
use std::time::Instant;

use actix::{ActorFuture, AsyncContext, Context, Handler, Message};
use actix_codec::Framed;
use awc::error::WsProtocolError;
use awc::ws::Frame;
use awc::BoxedSocket;
use futures_util::stream::SplitStream;
use futures_util::StreamExt as _;
use tether::UnconfirmedWindow;

use super::frame_limit::FrameLimit;
use super::outbound::Outbound;
use super::{link, ConnectionActor};
use crate::{DisconnectReason, Incoming, Payload};

pub(super) type WsStream = SplitStream<Framed<BoxedSocket, FrameLimit>>;

/// Frames handled in one poll before yielding, so a flooding server cannot starve the
/// writer and the mailbox.
const FRAMES_PER_POLL: usize = 64;

/// The reader task of one link; owns the reading half of the socket.
pub(super) struct LinkReader {
    generation: u64,
    stream: WsStream,
}

impl LinkReader {
    pub(super) fn new(generation: u64, stream: WsStream) -> Self {
        Self { generation, stream }
    }
}

impl std::fmt::Debug for LinkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkReader")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl ActorFuture<ConnectionActor> for LinkReader {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut ConnectionActor,
        ctx: &mut Context<ConnectionActor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        let this = self.get_mut();
        for _ in 0..FRAMES_PER_POLL {
            let Some(link) = link::current(&mut act.link, this.generation) else {
                return Poll::Ready(());
            };
            if act.deliveries_pending > 0 {
                link.read_paused = true;
                link.reader_waker = Some(task.waker().clone());
                return Poll::Pending;
            }
            if std::mem::take(&mut link.read_paused) {
                // Not reading was our choice: the server gets a fresh timeout.
                link.last_seen = Instant::now();
            }
            match this.stream.poll_next_unpin(task) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    act.fail(ctx, DisconnectReason::StreamEnded);
                    return Poll::Ready(());
                }
                Poll::Ready(Some(frame)) => act.on_frame(frame, ctx),
            }
        }
        task.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A hand-over to a full subscriber mailbox completed.
#[derive(Debug)]
pub(crate) struct DeliveryDone;

impl Message for DeliveryDone {
    type Result = ();
}

impl Handler<DeliveryDone> for ConnectionActor {
    type Result = ();

    fn handle(&mut self, _done: DeliveryDone, _ctx: &mut Context<Self>) {
        self.deliveries_pending = self.deliveries_pending.saturating_sub(1);
        if self.deliveries_pending == 0 {
            if let Some(waker) = self.link.as_mut().and_then(|link| link.reader_waker.take()) {
                waker.wake();
            }
        }
    }
}

impl ConnectionActor {
    /// Hands one incoming message to every message subscriber, in order.
    fn deliver(&mut self, event: Incoming, ctx: &mut Context<Self>) {
        for (recipient, event) in self.subscribers.publish_incoming(event) {
            self.deliveries_pending += 1;
            // Not tied to the context: a restart must not drop a received message.
            let done = ctx.address();
            actix::spawn(async move {
                let _ = recipient.send(event).await;
                done.do_send(DeliveryDone);
            });
        }
    }

    fn on_frame(&mut self, frame: Result<Frame, WsProtocolError>, ctx: &mut Context<Self>) {
        let limit = self.config.max_message_size();
        let Some(link) = self.link.as_mut() else {
            return;
        };
        // Any frame at all proves the link is alive.
        link.last_seen = Instant::now();
        let outcome: Result<Option<Payload>, DisconnectReason> = match frame {
            Ok(Frame::Text(bytes)) => link.assembler.whole(true, bytes).map(Some),
            Ok(Frame::Binary(bytes)) => link.assembler.whole(false, bytes).map(Some),
            Ok(Frame::Continuation(item)) => link.assembler.fragment(item),
            Ok(Frame::Ping(payload)) => {
                link.pending_pong = Some(payload);
                link.wake_writer();
                Ok(None)
            }
            Ok(Frame::Pong(payload)) => {
                link.ping_sent_at = None;
                let answer = UnconfirmedWindow::<Outbound>::decode(&payload)
                    .filter(|checkpoint| self.window.issued(*checkpoint));
                // Only an answer to one of our pings proves the server answers them; an
                // unsolicited Pong (allowed as a one-way heartbeat) is just a sign of life.
                if let Some(checkpoint) = answer {
                    link.last_pong = Instant::now();
                    let confirmed = self.window.confirm(checkpoint);
                    if !confirmed.is_empty() {
                        // The window has room again.
                        link.wake_writer();
                    }
                    self.counters.confirmed += confirmed.len() as u64;
                    for mut item in confirmed {
                        item.confirmed();
                    }
                }
                Ok(None)
            }
            Ok(Frame::Close(reason)) => Err(DisconnectReason::ClosedByServer {
                code: reason.as_ref().map(|reason| u16::from(reason.code)),
                description: reason.and_then(|reason| reason.description),
            }),
            Err(WsProtocolError::Overflow) => Err(DisconnectReason::MessageTooLarge { limit }),
            // actix-http reports a frame with reserved bits set as `InvalidData`: the
            // server broke the protocol, the link did not fail.
            Err(WsProtocolError::Io(error)) if error.kind() == std::io::ErrorKind::InvalidData => {
                Err(DisconnectReason::ProtocolError {
                    message: error.to_string(),
                })
            }
            // A reset or a read error is a lost connection, not a protocol violation.
            Err(WsProtocolError::Io(error)) => Err(DisconnectReason::ConnectionLost {
                message: error.to_string(),
            }),
            Err(error) => Err(DisconnectReason::ProtocolError {
                message: error.to_string(),
            }),
        };
        match outcome {
            Ok(Some(payload)) => {
                self.counters.received += 1;
                tracing::trace!(parent: &self.span, bytes = payload.len(), "message received");
                let event = Incoming {
                    connection: self.id,
                    payload,
                };
                self.deliver(event, ctx);
            }
            Ok(None) => {}
            Err(reason) => self.fail(ctx, reason),
        }
    }
}
