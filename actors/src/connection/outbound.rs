//! One outbound message on its way to the socket.

use std::mem;

use tether::BufferItem;

use crate::message::{BatchSlot, Delivery, ReplySlot};
use crate::{DeliveryError, Payload};

/// Where the answer to a message goes: its own `Outgoing`'s reply, or its batch's.
#[derive(Debug)]
pub(crate) enum Reply {
    One(ReplySlot),
    /// The message at this place of a `OutgoingBatch`.
    Batch(BatchSlot, usize),
}

impl Reply {
    /// Delivers the answer; an error nobody can receive comes back (a batch hands its
    /// own to the actor's orphans instead).
    fn answer(self, outcome: Result<Delivery, DeliveryError>) -> Option<DeliveryError> {
        match self {
            Self::One(slot) => slot.answer(outcome),
            Self::Batch(slot, index) => {
                slot.answer(index, outcome);
                None
            }
        }
    }
}

/// A message in the outbound buffer, with the reply its sender still waits for (if any).
///
/// Dropping an `Outbound` whose sender still waits answers it with
/// [`DeliveryError::Interrupted`], handing the message back: even a panic cannot make a
/// message vanish without a word.
#[derive(Debug)]
pub(crate) struct Outbound {
    payload: Payload,
    reply: Option<Reply>,
    /// The sender waits for the server's confirmation, not just the write.
    wants_confirmation: bool,
    /// Buffered while the link was down: writing it counts as a flush.
    was_buffered: bool,
    /// Its number in the outbox (and in the durable store), in acceptance order.
    seq: u64,
}

impl Outbound {
    /// A message whose sender waits for the outcome: the write, or with
    /// `wants_confirmation` the server's confirmation.
    pub(crate) fn awaiting(payload: Payload, reply: Reply, wants_confirmation: bool) -> Self {
        Self {
            payload,
            reply: Some(reply),
            wants_confirmation,
            was_buffered: false,
            seq: 0,
        }
    }

    /// A message whose sender was already told it is buffered.
    pub(crate) fn buffered(payload: Payload) -> Self {
        Self {
            payload,
            reply: None,
            wants_confirmation: false,
            was_buffered: true,
            seq: 0,
        }
    }

    /// Marks a message accepted while the link is down as buffered.
    pub(crate) fn buffered_if(mut self, down: bool) -> Self {
        self.was_buffered |= down;
        self
    }

    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    pub(crate) fn payload(&self) -> &Payload {
        &self.payload
    }

    pub(crate) fn was_buffered(&self) -> bool {
        self.was_buffered
    }

    /// The message was written: a sender waiting for the write learns it now; one
    /// waiting for confirmation keeps waiting.
    pub(crate) fn written(&mut self) {
        if !self.wants_confirmation {
            self.answer(Delivery::Sent);
        }
    }

    /// The server confirmed the message.
    pub(crate) fn confirmed(&mut self) {
        self.answer(Delivery::Confirmed);
    }

    /// The link dropped: a sender waiting for the write learns that the message
    /// stays buffered for the next connection (it then counts as buffered). Senders
    /// waiting for confirmation keep waiting.
    pub(crate) fn release_as_buffered(&mut self) -> bool {
        if self.wants_confirmation || self.reply.is_none() {
            return false;
        }
        self.answer(Delivery::Buffered);
        self.was_buffered = true;
        true
    }

    fn answer(&mut self, delivery: Delivery) {
        if let Some(reply) = self.reply.take() {
            reply.answer(Ok(delivery));
        }
    }

    /// Hand the message back: to its waiting sender as `error(payload)`, or, when nobody
    /// waits (or the sender stopped waiting), to the caller, who reports it as
    /// undelivered.
    pub(crate) fn reject(
        mut self,
        error: impl FnOnce(Payload) -> DeliveryError,
    ) -> Option<Payload> {
        let payload = mem::replace(&mut self.payload, Payload::empty());
        match self.reply.take() {
            Some(reply) => reply
                .answer(Err(error(payload)))
                .map(DeliveryError::into_message),
            None => Some(payload),
        }
    }

    /// Take the message back out, for a `BufferFull` answer given directly.
    pub(crate) fn into_payload(mut self) -> Payload {
        self.reply = None;
        mem::replace(&mut self.payload, Payload::empty())
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
            // Only reachable if the actor is dropped holding it (its system stopped, or
            // a panic): the sender is the one left to tell.
            let _ = reply.answer(Err(DeliveryError::Interrupted(payload)));
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    /// A reply slot whose caller waits on the returned receiver.
    fn waiting() -> (
        ReplySlot,
        oneshot::Receiver<Result<Delivery, DeliveryError>>,
    ) {
        let slot = ReplySlot::default();
        let (tx, rx) = oneshot::channel();
        slot.claim(Some(tx));
        (slot, rx)
    }

    #[test]
    fn a_sender_that_stopped_waiting_gets_its_message_reported_instead() {
        let (slot, rx) = waiting();
        drop(rx);
        let item = Outbound::awaiting(Payload::from("orphan"), Reply::One(slot), true);
        assert_eq!(
            item.reject(DeliveryError::Unconfirmed),
            Some(Payload::from("orphan"))
        );
    }

    #[test]
    fn dropping_an_awaited_message_hands_it_back() {
        let (tx, mut rx) = waiting();
        drop(Outbound::awaiting(
            Payload::from("keep me"),
            Reply::One(tx),
            false,
        ));
        match rx.try_recv() {
            Ok(Err(DeliveryError::Interrupted(payload))) => {
                assert_eq!(payload.as_text(), Some("keep me"))
            }
            other => panic!("unexpected reply {other:?}"),
        }
    }

    #[test]
    fn reject_answers_the_sender_or_returns_the_payload() {
        let (tx, mut rx) = waiting();
        let awaited = Outbound::awaiting(Payload::from("a"), Reply::One(tx), false);
        assert_eq!(awaited.reject(DeliveryError::Closed), None);
        assert!(
            matches!(rx.try_recv(), Ok(Err(DeliveryError::Closed(p))) if p.as_text() == Some("a"))
        );

        let buffered = Outbound::buffered(Payload::from("b"));
        assert_eq!(
            buffered.reject(DeliveryError::Closed),
            Some(Payload::from("b"))
        );
    }

    #[test]
    fn release_as_buffered_answers_once_and_marks_the_message() {
        let (tx, mut rx) = waiting();
        let mut item = Outbound::awaiting(Payload::from("c"), Reply::One(tx), false);
        assert!(item.release_as_buffered());
        assert!(item.was_buffered());
        assert!(!item.release_as_buffered(), "answered once");
        assert!(matches!(rx.try_recv(), Ok(Ok(Delivery::Buffered))));
    }

    #[test]
    fn a_confirmation_waiter_is_answered_on_confirmation_only() {
        let (tx, mut rx) = waiting();
        let mut item = Outbound::awaiting(Payload::from("d"), Reply::One(tx), true);
        item.written();
        assert!(!item.release_as_buffered());
        assert!(rx.try_recv().is_err(), "still waiting");
        item.confirmed();
        assert!(matches!(rx.try_recv(), Ok(Ok(Delivery::Confirmed))));
    }
}
