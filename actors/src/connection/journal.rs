//! The durable outbox's bookkeeping: which messages are on disk, which are being
//! committed, which wait for the next group commit, and which leave the store. Without
//! the `durable` feature (or without
//! [`ConnectionBuilder::durable`](super::ConnectionBuilder::durable)) every method is a
//! no-op and the sequence numbers are only counted.
//!
//! Group commit: messages accepted during one mailbox drain (or one `OutgoingBatch`) are
//! staged, then handed to the store's own thread as one append at the end of the
//! drain. The thread makes every append (and removal) that queued up while it was busy
//! in one transaction, one `fsync`, so groups grow with the load. No message is
//! written to the socket or answered before its group is on disk.

#[cfg(feature = "durable")]
use std::collections::VecDeque;
#[cfg(feature = "durable")]
use std::future::Future as _;
use std::pin::Pin;
use std::task::{self, Poll};

use actix::{ActorFuture, ActorFutureExt, AsyncContext, Context};

use super::ConnectionActor;
#[cfg(feature = "durable")]
use crate::durable::{Appended, Committer, DurableError, DurableStore, Record};
use crate::{DeliveryError, Payload, UndeliveredReason};
#[cfg(feature = "durable")]
use tokio::sync::oneshot::error::TryRecvError;

/// The durable side of one connection's outbox.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// The next sequence number to give an accepted message.
    next_seq: u64,
    /// Every message numbered below this is on disk (or was handed back).
    durable_below: u64,
    /// The store's thread, in durable mode.
    #[cfg(feature = "durable")]
    committer: Option<Committer>,
    /// Accepted, not yet handed to the store, in sequence order.
    #[cfg(feature = "durable")]
    staged: Vec<Record>,
    /// The appends given to the store's thread and not yet answered, in order.
    #[cfg(feature = "durable")]
    in_flight: VecDeque<InFlight>,
    /// Confirmed up to here, not yet removed: removals wait for the next commit, so
    /// that the confirmations of one drain cost one removal.
    confirmed: Option<u64>,
    /// A commit is scheduled for the end of this mailbox drain.
    commit_scheduled: bool,
}

/// An append given to the store's thread, not yet answered.
#[cfg(feature = "durable")]
#[derive(Debug)]
struct InFlight {
    first: u64,
    last: u64,
    appended: Appended,
}

/// How one group commit ended: the committed range (to answer the senders waiting for
/// "buffered"), or the messages that are not on disk.
pub(super) type Outcome = Result<(u64, u64), Failed>;

/// Messages whose commit failed: to take out of the outbox and hand back.
#[derive(Debug)]
pub(super) struct Failed {
    /// Their sequence numbers, ascending.
    pub(super) seqs: Vec<u64>,
    /// Why, for the log and the senders.
    pub(super) error: String,
}

impl Journal {
    /// A journal over `store`, with what it held: the records to restore, in order. The
    /// store moves to a thread of its own.
    #[cfg(feature = "durable")]
    pub(super) fn open(store: DurableStore) -> Result<(Self, Vec<Record>), DurableError> {
        let restored = store.load()?;
        let next_seq = store.next_seq();
        let journal = Self {
            next_seq,
            durable_below: next_seq,
            committer: Some(Committer::start(store)?),
            staged: Vec::new(),
            in_flight: VecDeque::new(),
            confirmed: None,
            commit_scheduled: false,
        };
        Ok((journal, restored))
    }

    /// Whether messages go to disk before they are answered or written.
    pub(super) fn is_durable(&self) -> bool {
        #[cfg(feature = "durable")]
        {
            self.committer.is_some()
        }
        #[cfg(not(feature = "durable"))]
        {
            false
        }
    }

    /// Whether the message numbered `seq` may be written to the socket: in durable mode,
    /// only once it is on disk.
    pub(super) fn is_writable(&self, seq: u64) -> bool {
        !self.is_durable() || seq < self.durable_below
    }

    /// The sequence number of a newly accepted message, staged for the next commit.
    pub(super) fn stage(&mut self, payload: &Payload) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        #[cfg(feature = "durable")]
        if self.committer.is_some() {
            self.staged.push(Record::new(seq, payload.clone()));
        }
        #[cfg(not(feature = "durable"))]
        let _ = payload;
        seq
    }

    /// Whether a commit must be scheduled now (at most one per drain).
    pub(super) fn wants_commit_scheduled(&mut self) -> bool {
        let wants = self.has_staged() && !self.commit_scheduled;
        self.commit_scheduled |= wants;
        wants
    }

    /// Whether accepted messages wait for their commit.
    pub(super) fn has_staged(&self) -> bool {
        #[cfg(feature = "durable")]
        {
            !self.staged.is_empty()
        }
        #[cfg(not(feature = "durable"))]
        {
            false
        }
    }

    /// Hands every staged message to the store's thread as one append, after the
    /// removal of what was confirmed meanwhile. Returns whether a waiter for the answers
    /// must be started ([`poll_appended`](Self::poll_appended) until it says `None`):
    /// an append into an empty queue needs one, the later ones are settled by it.
    pub(super) fn begin_commit(&mut self) -> bool {
        self.commit_scheduled = false;
        self.remove_confirmed();
        #[cfg(feature = "durable")]
        if let Some(committer) = self.committer.as_ref() {
            if self.staged.is_empty() {
                return false;
            }
            let staged = std::mem::take(&mut self.staged);
            let (first, last) = (staged[0].seq, staged[staged.len() - 1].seq);
            let appended = committer.append(staged);
            self.in_flight.push_back(InFlight {
                first,
                last,
                appended,
            });
            // A waiter that found the queue empty has ended, or ends at its next poll.
            return self.in_flight.len() == 1;
        }
        false
    }

    /// The outcome of the oldest append in flight, once the store's thread answered;
    /// `None` when none is in flight any more (the waiter then ends).
    pub(super) fn poll_appended(&mut self, task: &mut task::Context<'_>) -> Poll<Option<Outcome>> {
        #[cfg(feature = "durable")]
        if let Some(in_flight) = self.in_flight.front_mut() {
            let answer = match Pin::new(&mut in_flight.appended).poll(task) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(answer) => answer.ok(),
            };
            return Poll::Ready(Some(self.settle_oldest(answer)));
        }
        #[cfg(not(feature = "durable"))]
        let _ = task;
        Poll::Ready(None)
    }

    /// Commits everything now, waiting for the disk: the staged messages, after the
    /// appends in flight. For the moments the actor must answer `Buffered` at once, or
    /// ends. Returns the outcomes in commit order.
    pub(super) fn commit_now(&mut self) -> Vec<Outcome> {
        #[cfg_attr(not(feature = "durable"), allow(unused_mut))]
        let mut outcomes = Vec::new();
        #[cfg(feature = "durable")]
        if self.committer.is_some() {
            self.begin_commit();
            if let Some(committer) = self.committer.as_ref() {
                committer.wait_idle();
            }
            while let Some(in_flight) = self.in_flight.front_mut() {
                let answer = match in_flight.appended.try_recv() {
                    Ok(result) => Some(result),
                    Err(TryRecvError::Closed) => None,
                    // Not reached: the thread answers every job before the barrier
                    // first. Were it, the waiter would settle the rest.
                    Err(TryRecvError::Empty) => break,
                };
                outcomes.push(self.settle_oldest(answer));
            }
        }
        outcomes
    }

    /// Ends the oldest append in flight with the store thread's answer (`None`: the
    /// thread ended without one).
    #[cfg(feature = "durable")]
    fn settle_oldest(&mut self, answer: Option<Result<(), DurableError>>) -> Outcome {
        let Some(InFlight { first, last, .. }) = self.in_flight.pop_front() else {
            return Ok((0, 0));
        };
        // A failed group leaves the outbox: the numbers after it may be written.
        self.durable_below = self.durable_below.max(last + 1);
        let error = match answer {
            Some(Ok(())) => return Ok((first, last)),
            Some(Err(error)) => error.to_string(),
            None => "the durable store's thread ended".to_owned(),
        };
        Err(Failed {
            seqs: (first..=last).collect(),
            error,
        })
    }

    /// The server confirmed every message up to `seq` (the outbox confirms in sequence
    /// order): they leave the store at the next commit (the writer's next poll, which
    /// the confirmation wakes, at the latest).
    pub(super) fn confirmed_through(&mut self, seq: u64) {
        if self.is_durable() {
            self.confirmed = Some(self.confirmed.map_or(seq, |known| known.max(seq)));
        }
    }

    /// Removes the confirmed messages from the store, after the appends before.
    pub(super) fn remove_confirmed(&mut self) {
        #[cfg(feature = "durable")]
        if let (Some(committer), Some(seq)) = (self.committer.as_ref(), self.confirmed.take()) {
            committer.remove_through(seq);
        }
    }

    /// These messages were handed back to the application: they leave the store, or
    /// the commit they were staged for.
    pub(super) fn discard(&mut self, seqs: &[u64]) {
        #[cfg(feature = "durable")]
        if let Some(committer) = self.committer.as_ref() {
            if seqs.is_empty() {
                return;
            }
            // Staged messages have the highest numbers; the others are on disk or in
            // the append in flight, which the removal follows.
            let first_staged = self.staged.first().map_or(u64::MAX, |record| record.seq);
            self.staged.retain(|record| !seqs.contains(&record.seq));
            let stored: Vec<u64> = seqs
                .iter()
                .copied()
                .filter(|&seq| seq < first_staged)
                .collect();
            if !stored.is_empty() {
                committer.remove(stored);
            }
        }
        #[cfg(not(feature = "durable"))]
        let _ = seqs;
    }
}

/// Settles the appends in flight on the actor, oldest first, as the store's thread
/// answers them; ends when none is left.
#[derive(Debug)]
struct AppendWait;

impl ActorFuture<ConnectionActor> for AppendWait {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        act: &mut ConnectionActor,
        _ctx: &mut Context<ConnectionActor>,
        task: &mut task::Context<'_>,
    ) -> Poll<()> {
        loop {
            match act.journal.poll_appended(task) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(outcome)) => act.apply_commit(outcome),
                Poll::Ready(None) => return Poll::Ready(()),
            }
        }
    }
}

impl ConnectionActor {
    /// Commits the staged messages at the end of this mailbox drain, unless a commit is
    /// already due (the writer also commits before it writes).
    pub(super) fn schedule_commit(&mut self, ctx: &mut Context<Self>) {
        if self.journal.wants_commit_scheduled() {
            ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, ctx| act.commit_staged(ctx)));
        }
    }

    /// Hands the staged messages to the store's thread as one append; its outcome is
    /// applied when the disk answers.
    pub(super) fn commit_staged(&mut self, ctx: &mut Context<Self>) {
        if self.journal.begin_commit() {
            ctx.spawn(AppendWait);
        }
    }

    /// Commits everything accepted so far and waits for the disk: before the actor
    /// answers `Buffered` for messages still waiting, or ends.
    pub(super) fn commit_staged_now(&mut self) {
        for outcome in self.journal.commit_now() {
            self.apply_commit(outcome);
        }
    }

    /// Answers a group now on disk: those accepted while the link was down are
    /// answered `Buffered`, the others may now be written. If the commit failed, they
    /// all leave the outbox and are handed back as `NotPersisted`.
    fn apply_commit(&mut self, outcome: Outcome) {
        match outcome {
            Ok((first, last)) => {
                match self.link.as_mut() {
                    Some(link) => link.wake_writer(),
                    None => self.outbox.for_each_buffered_mut(|item| {
                        if (first..=last).contains(&item.seq()) && item.was_buffered() {
                            item.release_as_buffered();
                        }
                    }),
                }
                self.settle_orphans();
            }
            Err(failed) => {
                tracing::warn!(parent: &self.span, error = %failed.error, count = failed.seqs.len(), "messages could not be stored in the durable outbox; handed back");
                let taken = self
                    .outbox
                    .take_buffered_where(|item| failed.seqs.binary_search(&item.seq()).is_ok());
                self.counters.rejected += taken.len() as u64;
                for item in taken {
                    self.reject(
                        item,
                        DeliveryError::NotPersisted,
                        UndeliveredReason::NotPersisted,
                    );
                }
                if let Some(link) = self.link.as_mut() {
                    link.wake_writer();
                }
                self.settle_orphans();
            }
        }
    }
}
