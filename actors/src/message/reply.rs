//! Where the answer to one `Outgoing` meets the caller waiting for it.
//!
//! actix hands a handler's caller to `MessageResponse::handle` only after the handler
//! returned, and the answer may come later (once the message is written or confirmed).
//! The slot is shared by the reply and the queued message, so the answer goes straight
//! to the caller's channel: no extra task or channel per message.

use std::cell::RefCell;
use std::rc::Rc;

use actix::dev::OneshotSender;

use super::Delivery;
use crate::DeliveryError;

/// The outcome of one `Outgoing`.
pub(crate) type Outcome = Result<Delivery, DeliveryError>;

#[derive(Debug, Default)]
enum State {
    /// The handler returned; actix has not handed over the caller yet.
    #[default]
    Unclaimed,
    /// A caller waits.
    Waiting(OneshotSender<Outcome>),
    /// Answered before the caller was handed over.
    Answered(Outcome),
    /// Nobody waits (`do_send`), or the answer was delivered.
    Done,
}

/// The shared slot of one `Outgoing`'s answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplySlot(Rc<RefCell<State>>);

impl ReplySlot {
    /// actix hands over the caller (`None` for `do_send`).
    pub(crate) fn claim(&self, caller: Option<OneshotSender<Outcome>>) {
        let mut state = self.0.borrow_mut();
        *state = match (std::mem::take(&mut *state), caller) {
            (State::Answered(outcome), Some(caller)) => {
                let _ = caller.send(outcome);
                State::Done
            }
            (State::Unclaimed, Some(caller)) => State::Waiting(caller),
            // Nobody will read an answer: an error's message must then go elsewhere,
            // which `answer` reports from now on.
            (_, None) | (State::Waiting(_) | State::Done, Some(_)) => State::Done,
        };
    }

    /// Delivers the answer. When nobody can receive it, an error is handed back so its
    /// message can be reported another way.
    pub(crate) fn answer(&self, outcome: Outcome) -> Option<DeliveryError> {
        let mut state = self.0.borrow_mut();
        match std::mem::take(&mut *state) {
            State::Unclaimed => {
                *state = State::Answered(outcome);
                None
            }
            State::Waiting(caller) => match caller.send(outcome) {
                Ok(()) => None,
                // The caller stopped waiting (its future was dropped).
                Err(outcome) => outcome.err(),
            },
            State::Answered(earlier) => {
                *state = State::Answered(earlier);
                outcome.err()
            }
            State::Done => outcome.err(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::Payload;

    #[test]
    fn an_answer_before_the_claim_reaches_the_caller() {
        let slot = ReplySlot::default();
        assert!(slot.answer(Ok(Delivery::Sent)).is_none());
        let (tx, mut rx) = oneshot::channel();
        slot.claim(Some(tx));
        assert!(matches!(rx.try_recv(), Ok(Ok(Delivery::Sent))));
    }

    #[test]
    fn an_answer_after_the_claim_reaches_the_caller() {
        let slot = ReplySlot::default();
        let (tx, mut rx) = oneshot::channel();
        slot.claim(Some(tx));
        assert!(slot.answer(Ok(Delivery::Confirmed)).is_none());
        assert!(matches!(rx.try_recv(), Ok(Ok(Delivery::Confirmed))));
    }

    #[test]
    fn an_error_nobody_can_receive_is_handed_back() {
        let fire_and_forget = ReplySlot::default();
        fire_and_forget.claim(None);
        let back = fire_and_forget.answer(Err(DeliveryError::Unconfirmed(Payload::from("m"))));
        assert_eq!(
            back.map(DeliveryError::into_message),
            Some(Payload::from("m"))
        );

        let gave_up = ReplySlot::default();
        let (tx, rx) = oneshot::channel();
        gave_up.claim(Some(tx));
        drop(rx);
        let back = gave_up.answer(Err(DeliveryError::Closed(Payload::from("n"))));
        assert_eq!(
            back.map(DeliveryError::into_message),
            Some(Payload::from("n"))
        );
        assert!(
            gave_up.answer(Ok(Delivery::Sent)).is_none(),
            "success needs no report"
        );
    }
}
