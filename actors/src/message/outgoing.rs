use actix::dev::{MessageResponse, OneshotSender};
use actix::{Actor, Message};
use bytes::Bytes;
use bytestring::ByteString;

use super::ReplySlot;
use crate::{DeliveryError, Payload};

/// Send one message to the server.
///
/// Accepted in every state:
/// - Connected: written to the socket; the reply `Ok(Delivery::Sent)` comes once the
///   socket accepted it (while earlier messages are still being written, the reply
///   waits: that is back-pressure).
/// - Disconnected, Connecting, Reconnecting: kept in the bounded outbound buffer and
///   written, in order, right after the next connect; the reply is
///   `Ok(Delivery::Buffered)` at once.
/// - Otherwise the reply is an error that hands the message back: the buffer is full,
///   or the connection is closed or failed.
///
/// Use `Addr::send` and await it: it respects the mailbox capacity, so a fast producer is
/// slowed down instead of growing memory. `Addr::do_send` works but ignores the mailbox
/// bound and throws the reply away.
///
/// ```no_run
/// # async fn demo(connection: actix::Addr<tether_actix::ConnectionActor>) {
/// use tether_actix::message::{self, Delivery};
///
/// match connection.send(message::Outgoing::text("hello")).await {
///     Ok(Ok(Delivery::Sent)) => println!("written"),
///     Ok(Ok(Delivery::Buffered)) => println!("will be written after reconnect"),
///     Ok(Ok(_)) => println!("accepted"),
///     Ok(Err(error)) => println!("not sent ({error}): {:?}", error.message()),
///     Err(mailbox) => println!("connection actor is gone: {mailbox}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    payload: Payload,
    confirmed: bool,
}

impl Outgoing {
    /// Send this payload.
    pub fn new(payload: impl Into<Payload>) -> Self {
        Self {
            payload: payload.into(),
            confirmed: false,
        }
    }

    /// Answer only once the server has confirmed the message (see
    /// [`DeliveryMode`](tether::DeliveryMode)): the reply is then
    /// `Ok(Delivery::Confirmed)`, or an error handing the message back
    /// ([`DeliveryError::Unconfirmed`] in at-most-once mode when the link died first).
    /// In at-least-once mode the reply waits across reconnects until the message is
    /// confirmed or the connection ends.
    pub fn with_confirmation(mut self) -> Self {
        self.confirmed = true;
        self
    }

    /// Whether the reply waits for the server's confirmation.
    pub fn wants_confirmation(&self) -> bool {
        self.confirmed
    }

    /// Send a text message.
    pub fn text(text: impl Into<ByteString>) -> Self {
        Self::new(Payload::Text(text.into()))
    }

    /// Send a binary message.
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::new(Payload::Binary(bytes.into()))
    }

    /// The message.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Take the message out.
    pub fn into_payload(self) -> Payload {
        self.payload
    }
}

impl Message for Outgoing {
    type Result = Result<Delivery, DeliveryError>;
}

/// What happened to a message that was accepted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Written to the socket (not yet known to have reached the server).
    Sent,
    /// Read by the server's WebSocket layer: a Pong answered a ping written after the
    /// message. Only for [`Outgoing::with_confirmation`].
    Confirmed,
    /// Kept in the outbound buffer; it is written after the next connect, or handed to
    /// the undelivered subscribers if the connection closes or fails first.
    Buffered,
}

/// The reply to a [`Outgoing`]: answered now, or once the message has been written (or
/// confirmed).
#[derive(Debug)]
pub struct OutgoingReply(ReplyInner);

#[derive(Debug)]
enum ReplyInner {
    Now(Result<Delivery, DeliveryError>),
    Later(ReplySlot),
}

impl OutgoingReply {
    pub(crate) fn now(result: Result<Delivery, DeliveryError>) -> Self {
        Self(ReplyInner::Now(result))
    }

    pub(crate) fn later(slot: ReplySlot) -> Self {
        Self(ReplyInner::Later(slot))
    }
}

impl<A: Actor> MessageResponse<A, Outgoing> for OutgoingReply {
    fn handle(
        self,
        _ctx: &mut A::Context,
        tx: Option<OneshotSender<Result<Delivery, DeliveryError>>>,
    ) {
        match self.0 {
            ReplyInner::Now(result) => {
                if let Some(tx) = tx {
                    let _ = tx.send(result);
                }
            }
            ReplyInner::Later(slot) => slot.claim(tx),
        }
    }
}
