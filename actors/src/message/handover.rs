//! A command carried to the actor with its own reply channel, for the
//! [`Connection`](crate::Connection) handle.
//!
//! `Addr::send` drops a message the actor can no longer take and answers only
//! `MailboxError`, which loses the payload. A `Handover` answers through its channel
//! even then: dropped unhandled (mailbox closed, actor gone), it hands its payloads
//! back as [`DeliveryError::Interrupted`].

use actix::Message;
use tokio::sync::oneshot;

use super::{BatchReport, Delivery, Outgoing, OutgoingBatch};
use crate::DeliveryError;

/// A message that can say what became of it when it is dropped unhandled.
pub(crate) trait Lost: Message + Sized {
    /// The answer for a message that never reached the actor.
    fn lost(self) -> Self::Result;
}

impl Lost for Outgoing {
    fn lost(self) -> Result<Delivery, DeliveryError> {
        Err(DeliveryError::Interrupted(self.into_payload()))
    }
}

impl Lost for OutgoingBatch {
    fn lost(self) -> BatchReport {
        BatchReport {
            refused: self
                .into_payloads()
                .into_iter()
                .map(DeliveryError::Interrupted)
                .collect(),
            ..BatchReport::default()
        }
    }
}

/// `M` and where its answer goes.
#[derive(Debug)]
pub(crate) struct Handover<M: Lost> {
    message: Option<M>,
    reply: Option<oneshot::Sender<M::Result>>,
}

impl<M: Lost> Handover<M> {
    /// `message`, and the receiver its answer arrives on (whatever happens to it).
    pub(crate) fn new(message: M) -> (Self, oneshot::Receiver<M::Result>) {
        let (tx, rx) = oneshot::channel();
        let handover = Self {
            message: Some(message),
            reply: Some(tx),
        };
        (handover, rx)
    }

    /// Taken by the handler, which answers it.
    pub(crate) fn take(mut self) -> Option<(M, oneshot::Sender<M::Result>)> {
        self.message.take().zip(self.reply.take())
    }
}

impl<M: Lost> Message for Handover<M> {
    type Result = ();
}

impl<M: Lost> Drop for Handover<M> {
    fn drop(&mut self) {
        if let (Some(message), Some(reply)) = (self.message.take(), self.reply.take()) {
            let _ = reply.send(message.lost());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Payload;

    #[test]
    fn dropped_unhandled_it_hands_the_payloads_back() {
        let (one, mut rx) = Handover::new(Outgoing::text("kept"));
        drop(one);
        match rx.try_recv() {
            Ok(Err(DeliveryError::Interrupted(payload))) => {
                assert_eq!(payload, Payload::from("kept"))
            }
            other => panic!("unexpected {other:?}"),
        }
        let (batch, mut rx) = Handover::new(OutgoingBatch::new(["a", "b"]));
        drop(batch);
        let report = rx.try_recv().expect("answered");
        assert_eq!(report.refused.len(), 2);
        let (taken, mut rx) = Handover::new(Outgoing::text("x"));
        let (message, _reply) = taken.take().expect("untouched");
        assert_eq!(message.into_payload(), Payload::from("x"));
        assert!(rx.try_recv().is_err(), "the handler answers, not the drop");
    }
}
