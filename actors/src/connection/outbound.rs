//! One outbound message on its way to the socket.

use std::mem;

use tether::BufferItem;
use tokio::sync::oneshot;

use crate::message::Delivery;
use crate::{Payload, SendError};

pub(crate) type ReplySender = oneshot::Sender<Result<Delivery, SendError>>;

/// A message in the outbound buffer, with the reply its sender still waits for (if any).
///
/// Dropping an `Outbound` whose sender still waits answers it with
/// [`SendError::Interrupted`], handing the message back: even a panic cannot make a
/// message vanish without a word.
#[derive(Debug)]
pub(crate) struct Outbound {
    payload: Payload,
    reply: Option<ReplySender>,
    /// Buffered while the link was down: writing it counts as a flush.
    was_buffered: bool,
}

impl Outbound {
    /// A message whose sender waits for the outcome.
    pub(crate) fn awaiting(payload: Payload, reply: ReplySender) -> Self {
        Self {
            payload,
            reply: Some(reply),
            was_buffered: false,
        }
    }

    /// A message whose sender was already told it is buffered.
    pub(crate) fn buffered(payload: Payload) -> Self {
        Self {
            payload,
            reply: None,
            was_buffered: true,
        }
    }

    pub(crate) fn payload(&self) -> &Payload {
        &self.payload
    }

    pub(crate) fn was_buffered(&self) -> bool {
        self.was_buffered
    }

    /// Whether a sender still waits for this message's outcome.
    pub(crate) fn is_awaited(&self) -> bool {
        self.reply.is_some()
    }

    /// Tell the waiting sender, if any, that the message was written.
    pub(crate) fn confirm_sent(&mut self) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Ok(Delivery::Sent));
        }
    }

    /// Tell the waiting sender, if any, that the message stays buffered for the next
    /// connection. It then counts as buffered.
    pub(crate) fn release_as_buffered(&mut self) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(Ok(Delivery::Buffered));
            self.was_buffered = true;
        }
    }

    /// Hand the message back: to its waiting sender as `error(payload)`, or, when nobody
    /// waits, to the caller (who publishes it as undelivered).
    pub(crate) fn reject(mut self, error: impl FnOnce(Payload) -> SendError) -> Option<Payload> {
        let payload = mem::replace(&mut self.payload, Payload::empty());
        match self.reply.take() {
            Some(reply) => {
                let _ = reply.send(Err(error(payload)));
                None
            }
            None => Some(payload),
        }
    }

    /// Take the message back out, with its waiting sender, for a `BufferFull` answer.
    pub(crate) fn into_parts(mut self) -> (Payload, Option<ReplySender>) {
        let payload = mem::replace(&mut self.payload, Payload::empty());
        (payload, self.reply.take())
    }
}

impl BufferItem for Outbound {
    fn byte_len(&self) -> usize {
        self.payload.len()
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            let payload = mem::replace(&mut self.payload, Payload::empty());
            let _ = reply.send(Err(SendError::Interrupted(payload)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_an_awaited_message_hands_it_back() {
        let (tx, mut rx) = oneshot::channel();
        drop(Outbound::awaiting(Payload::from("keep me"), tx));
        match rx.try_recv() {
            Ok(Err(SendError::Interrupted(payload))) => {
                assert_eq!(payload.as_text(), Some("keep me"))
            }
            other => panic!("unexpected reply {other:?}"),
        }
    }

    #[test]
    fn reject_answers_the_sender_or_returns_the_payload() {
        let (tx, mut rx) = oneshot::channel();
        let awaited = Outbound::awaiting(Payload::from("a"), tx);
        assert_eq!(awaited.reject(SendError::Closed), None);
        assert!(matches!(rx.try_recv(), Ok(Err(SendError::Closed(p))) if p.as_text() == Some("a")));

        let buffered = Outbound::buffered(Payload::from("b"));
        assert_eq!(buffered.reject(SendError::Closed), Some(Payload::from("b")));
    }

    #[test]
    fn release_as_buffered_answers_once_and_marks_the_message() {
        let (tx, mut rx) = oneshot::channel();
        let mut item = Outbound::awaiting(Payload::from("c"), tx);
        item.release_as_buffered();
        assert!(item.was_buffered());
        assert!(!item.is_awaited());
        assert!(matches!(rx.try_recv(), Ok(Ok(Delivery::Buffered))));
    }
}
