use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use actix::dev::{MessageResponse, OneshotSender};
use actix::{Actor, Message};

use super::Delivery;
use crate::{DeliveryError, Payload};

/// Send many messages in one mailbox envelope: the fast path for small messages.
///
/// The same guarantees as [`Outgoing`](super::Outgoing), message by message, and the batch is
/// never interleaved with other sends: its messages enter the outbound buffer together,
/// in order. One reply, a [`BatchReport`], comes once every message was written or
/// buffered (or, [`with_confirmation`](Self::with_confirmation), confirmed), each
/// refused one handed back in order with its error. A message of the batch that fails
/// after its answer was counted (say it was written, then its link died unconfirmed) is
/// handed to the undelivered subscribers, as for `Outgoing`.
///
/// ```no_run
/// # async fn demo(connection: actix::Addr<tether_actix::ConnectionActor>) {
/// use tether_actix::message::OutgoingBatch;
///
/// let batch = OutgoingBatch::new((0..100).map(|n| format!("tick {n}")));
/// let report = connection.send(batch).await.expect("actor alive");
/// println!("{} written, {} buffered", report.sent, report.buffered);
/// for error in report.refused {
///     println!("not sent ({error}): {:?}", error.message());
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingBatch {
    payloads: Vec<Payload>,
    confirmed: bool,
}

impl OutgoingBatch {
    /// A batch of these messages, sent in this order.
    pub fn new<P: Into<Payload>>(payloads: impl IntoIterator<Item = P>) -> Self {
        Self {
            payloads: payloads.into_iter().map(Into::into).collect(),
            confirmed: false,
        }
    }

    /// Answer only once the server has confirmed every message of the batch (see
    /// [`Outgoing::with_confirmation`](super::Outgoing::with_confirmation)).
    pub fn with_confirmation(mut self) -> Self {
        self.confirmed = true;
        self
    }

    /// Whether the reply waits for the server's confirmation.
    pub fn wants_confirmation(&self) -> bool {
        self.confirmed
    }

    /// How many messages.
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// Whether the batch holds no message.
    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    /// Take the messages out.
    pub fn into_payloads(self) -> Vec<Payload> {
        self.payloads
    }
}

impl Message for OutgoingBatch {
    type Result = BatchReport;
}

/// The reply to a [`OutgoingBatch`].
#[non_exhaustive]
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Messages written to the socket (answered `Delivery::Sent`, one by one).
    pub sent: usize,
    /// Messages the server confirmed (with confirmation only).
    pub confirmed: usize,
    /// Messages kept in the outbound buffer for the next connection.
    pub buffered: usize,
    /// Messages not sent, in batch order, each handed back in its error.
    pub refused: Vec<DeliveryError>,
}

impl BatchReport {
    /// Messages accepted: written, confirmed or buffered.
    pub fn accepted(&self) -> usize {
        self.sent + self.confirmed + self.buffered
    }

    fn count(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Sent => self.sent += 1,
            Delivery::Confirmed => self.confirmed += 1,
            Delivery::Buffered => self.buffered += 1,
        }
    }
}

/// Errors of batch messages whose caller stopped waiting: the actor hands them to its
/// undelivered subscribers (nothing is dropped without a report).
pub(crate) type Orphans = Rc<RefCell<Vec<DeliveryError>>>;

enum Caller {
    /// The handler returned; actix has not handed over the caller yet.
    Unclaimed,
    Waiting(OneshotSender<BatchReport>),
    /// `do_send`, or the caller stopped waiting.
    Gone,
    /// The report went out.
    Done,
}

struct Batch {
    remaining: usize,
    report: BatchReport,
    /// Refused messages with their place in the batch, sorted when reported.
    refused: Vec<(usize, DeliveryError)>,
    caller: Caller,
    orphans: Orphans,
}

impl Batch {
    fn caller_gone(&mut self) -> bool {
        if let Caller::Waiting(tx) = &self.caller {
            if tx.is_closed() {
                self.caller = Caller::Gone;
            }
        }
        if matches!(self.caller, Caller::Gone) {
            // Whatever was refused so far can no longer reach the caller.
            let refused = std::mem::take(&mut self.refused);
            self.orphans
                .borrow_mut()
                .extend(refused.into_iter().map(|(_, error)| error));
            return true;
        }
        false
    }

    fn deliver(&mut self) {
        if self.remaining > 0 || self.caller_gone() {
            return;
        }
        match std::mem::replace(&mut self.caller, Caller::Done) {
            Caller::Waiting(tx) => {
                let report = self.take_report();
                if let Err(report) = tx.send(report) {
                    self.orphans.borrow_mut().extend(report.refused);
                }
            }
            // Unclaimed: kept until actix hands over the caller.
            other => self.caller = other,
        }
    }

    fn take_report(&mut self) -> BatchReport {
        let mut refused = std::mem::take(&mut self.refused);
        refused.sort_by_key(|(index, _)| *index);
        let mut report = std::mem::take(&mut self.report);
        report.refused = refused.into_iter().map(|(_, error)| error).collect();
        report
    }
}

/// Where the answers of one batch's messages meet; shared by the reply and every
/// message of the batch.
#[derive(Clone)]
pub(crate) struct BatchSlot(Rc<RefCell<Batch>>);

impl BatchSlot {
    /// A batch of `len` messages; errors nobody can receive go to `orphans`.
    pub(crate) fn new(len: usize, orphans: Orphans) -> Self {
        Self(Rc::new(RefCell::new(Batch {
            remaining: len,
            report: BatchReport::default(),
            refused: Vec::new(),
            caller: Caller::Unclaimed,
            orphans,
        })))
    }

    /// Message `index` of the batch has its answer.
    pub(crate) fn answer(&self, index: usize, outcome: Result<Delivery, DeliveryError>) {
        let mut batch = self.0.borrow_mut();
        match outcome {
            Ok(delivery) => batch.report.count(delivery),
            Err(error) if batch.caller_gone() => batch.orphans.borrow_mut().push(error),
            Err(error) => batch.refused.push((index, error)),
        }
        batch.remaining = batch.remaining.saturating_sub(1);
        batch.deliver();
    }

    /// actix hands over the caller (`None` for `do_send`).
    fn claim(&self, caller: Option<OneshotSender<BatchReport>>) {
        let mut batch = self.0.borrow_mut();
        batch.caller = match caller {
            Some(tx) => Caller::Waiting(tx),
            None => Caller::Gone,
        };
        batch.deliver();
    }
}

impl fmt::Debug for BatchSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batch = self.0.borrow();
        f.debug_struct("BatchSlot")
            .field("remaining", &batch.remaining)
            .finish_non_exhaustive()
    }
}

/// The reply to a [`OutgoingBatch`], answered once every message has its answer.
#[derive(Debug)]
pub struct BatchReply(BatchSlot);

impl BatchReply {
    pub(crate) fn new(slot: BatchSlot) -> Self {
        Self(slot)
    }
}

impl<A: Actor> MessageResponse<A, OutgoingBatch> for BatchReply {
    fn handle(self, _ctx: &mut A::Context, tx: Option<OneshotSender<BatchReport>>) {
        self.0.claim(tx);
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;

    fn slot(len: usize) -> (BatchSlot, Orphans) {
        let orphans = Orphans::default();
        (BatchSlot::new(len, orphans.clone()), orphans)
    }

    #[test]
    fn the_report_comes_once_every_message_is_answered_with_refusals_in_order() {
        let (slot, orphans) = slot(4);
        let (tx, mut rx) = oneshot::channel();
        slot.claim(Some(tx));
        slot.answer(3, Err(DeliveryError::Closed(Payload::from("d"))));
        slot.answer(0, Ok(Delivery::Sent));
        slot.answer(1, Err(DeliveryError::Evicted(Payload::from("b"))));
        assert!(rx.try_recv().is_err(), "one message still waits");
        slot.answer(2, Ok(Delivery::Buffered));
        let report = rx.try_recv().expect("answered");
        assert_eq!((report.sent, report.buffered, report.accepted()), (1, 1, 2));
        let refused: Vec<_> = report
            .refused
            .iter()
            .map(|error| error.message().as_text().map(str::to_owned))
            .collect();
        assert_eq!(refused, [Some("b".to_owned()), Some("d".to_owned())]);
        assert!(orphans.borrow().is_empty());
    }

    #[test]
    fn answered_before_the_claim_reaches_the_caller() {
        let (slot, _) = slot(1);
        slot.answer(0, Ok(Delivery::Buffered));
        let (tx, mut rx) = oneshot::channel();
        slot.claim(Some(tx));
        assert_eq!(rx.try_recv().expect("answered").buffered, 1);
    }

    #[test]
    fn refusals_nobody_can_receive_become_orphans() {
        let (batch, orphans) = slot(3);
        let (tx, rx) = oneshot::channel();
        batch.claim(Some(tx));
        batch.answer(0, Err(DeliveryError::Closed(Payload::from("a"))));
        drop(rx);
        batch.answer(1, Err(DeliveryError::Closed(Payload::from("b"))));
        batch.answer(2, Ok(Delivery::Sent));
        let lost: Vec<_> = orphans
            .borrow_mut()
            .drain(..)
            .map(DeliveryError::into_message)
            .collect();
        assert_eq!(lost, [Payload::from("a"), Payload::from("b")]);

        let (fire_and_forget, orphans) = slot(1);
        fire_and_forget.claim(None);
        fire_and_forget.answer(0, Err(DeliveryError::Failed(Payload::from("c"))));
        assert_eq!(orphans.borrow().len(), 1);
    }
}
