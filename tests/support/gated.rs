//! [`gated`]: a subscriber that takes one event and then stops taking any, until the
//! test opens its gate (or never), with the smallest mailbox, so the connection meets
//! a full one at once.

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use tokio::sync::Notify;

/// A stuck subscriber of events `M`. Its first handler holds the mailbox shut (actix's
/// `wait`) until the gate opens; from then on it takes every event at once.
pub(crate) struct Gated<M> {
    gate: Option<Arc<Notify>>,
    got: Arc<Mutex<Vec<M>>>,
}

/// The test's side of a [`Gated`] subscriber.
#[derive(Clone)]
pub(crate) struct Gate<M> {
    gate: Arc<Notify>,
    got: Arc<Mutex<Vec<M>>>,
}

impl<M: Clone> Gate<M> {
    /// Lets the subscriber go on.
    pub(crate) fn open(&self) {
        self.gate.notify_one();
    }

    /// Every event it handled so far, in order.
    pub(crate) fn got(&self) -> Vec<M> {
        self.lock().clone()
    }

    /// How many events it handled so far.
    pub(crate) fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<M>> {
        self.got
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<M: Unpin + 'static> Actor for Gated<M> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1);
    }
}

impl<M> Handler<M> for Gated<M>
where
    M: Message<Result = ()> + Unpin + 'static,
{
    type Result = ();

    fn handle(&mut self, event: M, ctx: &mut Context<Self>) {
        self.got
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(event);
        if let Some(gate) = self.gate.take() {
            ctx.wait(async move { gate.notified().await }.into_actor(self));
        }
    }
}

/// A started [`Gated`] subscriber of `M` and its gate, closed.
pub(crate) fn gated<M>() -> (Addr<Gated<M>>, Gate<M>)
where
    M: Message<Result = ()> + Unpin + 'static,
{
    let gate = Arc::new(Notify::new());
    let got = Arc::new(Mutex::new(Vec::new()));
    let subscriber = Gated {
        gate: Some(gate.clone()),
        got: got.clone(),
    }
    .start();
    (subscriber, Gate { gate, got })
}
