//! The reader: frames from the server.

use std::time::Instant;

use actix::{Context, StreamHandler};
use awc::error::WsProtocolError;
use awc::ws::Frame;

use tether::UnconfirmedWindow;

use super::outbound::Outbound;
use super::ConnectionActor;
use crate::{DisconnectReason, Incoming, Payload};

impl StreamHandler<Result<Frame, WsProtocolError>> for ConnectionActor {
    fn handle(&mut self, frame: Result<Frame, WsProtocolError>, ctx: &mut Context<Self>) {
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
                if let Some(checkpoint) = UnconfirmedWindow::<Outbound>::decode(&payload) {
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
            Err(error) => Err(DisconnectReason::ProtocolError {
                message: error.to_string(),
            }),
        };
        match outcome {
            Ok(Some(payload)) => {
                self.counters.received += 1;
                tracing::trace!(parent: &self.span, bytes = payload.len(), "message received");
                self.subscribers.publish_incoming(Incoming {
                    connection: self.id,
                    payload,
                });
            }
            Ok(None) => {}
            Err(reason) => self.fail(ctx, reason),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // The default stops the actor; here only the end of the live link matters.
        if self.link.is_some() {
            self.fail(ctx, DisconnectReason::StreamEnded);
        }
    }
}
