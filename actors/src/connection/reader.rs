//! The reader: frames from the server, to the link's liveness, the outbox's
//! confirmations and the inbox.
//!
//! Reading goes on while message subscribers are slow, so control frames keep being
//! answered; it pauses only when the inbox holds `read_ahead_bytes` (see `inbox.rs`).

use std::task::{self, Poll};
use std::time::Instant;

use actix::Context;
use awc::error::WsProtocolError;
use awc::ws::Frame;
use tether::UnconfirmedWindow;

use super::outbound::Outbound;
use super::{link, ConnectionActor};
use crate::{DisconnectReason, Payload};

/// Frames handled in one poll before yielding, so a flooding server cannot starve the
/// writer and the mailbox.
const FRAMES_PER_POLL: usize = 64;

impl ConnectionActor {
    /// One turn of the reader of the link of `generation`; `Ready` once the link is gone.
    pub(super) fn read_turn(
        &mut self,
        generation: u64,
        ctx: &mut Context<Self>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        let poll = self.read_some(generation, ctx, task);
        // The messages of this read are offered together (one batch per read).
        self.inbox.commit(&mut self.subscribers);
        poll
    }

    /// Reads and handles up to [`FRAMES_PER_POLL`] frames.
    fn read_some(
        &mut self,
        generation: u64,
        ctx: &mut Context<Self>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        // One clock reading per poll: the frames of one read arrived together.
        let now = Instant::now();
        for _ in 0..FRAMES_PER_POLL {
            let room = self.inbox.has_room();
            let Some(link) = link::current(&mut self.link, generation) else {
                return Poll::Ready(());
            };
            if !room {
                link.liveness().reading_paused(now);
                link.park_reader(task);
                return Poll::Pending;
            }
            if link.liveness().read_paused_since().is_some() {
                link.liveness().reading_resumed(now);
            }
            match link.poll_next(task) {
                Poll::Pending => {
                    self.sync_meter();
                    return Poll::Pending;
                }
                Poll::Ready(None) => {
                    self.inbox.commit(&mut self.subscribers);
                    self.fail(ctx, DisconnectReason::StreamEnded);
                    return Poll::Ready(());
                }
                Poll::Ready(Some(frame)) => self.on_frame(frame, now, ctx),
            }
        }
        task.waker().wake_by_ref();
        Poll::Pending
    }

    fn on_frame(
        &mut self,
        frame: Result<Frame, WsProtocolError>,
        now: Instant,
        ctx: &mut Context<Self>,
    ) {
        let limit = self.config.max_message_size();
        let span = &self.span;
        let Some(link) = self.link.as_mut() else {
            return;
        };
        // Any frame at all proves the link is alive.
        link.liveness().frame_arrived(now);
        let outcome: Result<Option<Payload>, DisconnectReason> = match frame {
            Ok(Frame::Text(bytes)) => link.assembler().whole(true, bytes).map(Some),
            Ok(Frame::Binary(bytes)) => link.assembler().whole(false, bytes).map(Some),
            Ok(Frame::Continuation(item)) => link.assembler().fragment(item),
            Ok(Frame::Ping(payload)) => {
                if !link.liveness().ping_received(payload) {
                    tracing::debug!(parent: span, "server pings faster than pongs can be written; the oldest owed pong is skipped");
                }
                link.wake_writer();
                Ok(None)
            }
            Ok(Frame::Pong(payload)) if link.setup().is_some_and(|setup| setup.pong(&payload)) => {
                // The server read the setup: the buffer may flush.
                self.link_ready();
                Ok(None)
            }
            Ok(Frame::Pong(payload)) => {
                let answer = UnconfirmedWindow::<Outbound>::decode(&payload)
                    .filter(|checkpoint| self.outbox.issued(*checkpoint));
                // Only an answer to one of our pings proves the server answers them; an
                // unsolicited Pong (allowed as a one-way heartbeat) is just a sign of life.
                let sample = link.liveness().pong_received(now, answer);
                self.meter.round_trip(sample);
                if let Some(checkpoint) = answer {
                    let confirmed = self.outbox.confirmed_up_to(checkpoint);
                    if !confirmed.is_empty() {
                        // The window has room again.
                        link.wake_writer();
                    }
                    if let Some(last) = confirmed.last() {
                        self.journal.confirmed_through(last.seq());
                    }
                    self.counters.confirmed += confirmed.len() as u64;
                    for mut item in confirmed {
                        item.confirmed();
                    }
                    self.settle_orphans();
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
                kind: Some(error.kind()),
            }),
            Err(error) => Err(DisconnectReason::ProtocolError {
                message: error.to_string(),
            }),
        };
        match outcome {
            Ok(Some(payload)) => {
                self.counters.received += 1;
                self.counters.bytes_received += payload.len() as u64;
                tracing::trace!(parent: &self.span, bytes = payload.len(), "message received");
                self.inbox.stage(payload, &mut self.subscribers);
            }
            Ok(None) => {}
            Err(reason) => {
                // What arrived before the failure is offered before it is published.
                self.inbox.commit(&mut self.subscribers);
                self.fail(ctx, reason);
            }
        }
    }

    /// A hand-over to a full mailbox finished: more can be offered, and reading may
    /// resume.
    pub(super) fn hand_over_done(&mut self) {
        self.inbox.handed_over(&mut self.subscribers);
        if self.inbox.has_room() {
            if let Some(link) = self.link.as_mut() {
                link.wake_reader();
            }
        }
    }
}
