//! The durable outbox's bookkeeping: which messages are on disk, which wait for the next
//! group commit, and which leave the store. Without the `durable` feature (or without
//! [`ConnectionBuilder::durable`](super::ConnectionBuilder::durable)) every method is a
//! no-op and the sequence numbers are only counted.
//!
//! Group commit: messages accepted during one mailbox drain (or one `OutgoingBatch`) are
//! staged, then written in one [`DurableStore::append_batch`](crate::durable::DurableStore::append_batch),
//! one `fsync`, before any of them is written to the socket or answered.

use actix::{ActorFutureExt, AsyncContext, Context};

use super::ConnectionActor;
#[cfg(feature = "durable")]
use crate::durable::{DurableError, DurableStore, Record};
use crate::{DeliveryError, Payload, UndeliveredReason};

/// The durable side of one connection's outbox.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// The next sequence number to give an accepted message.
    next_seq: u64,
    /// The store, in durable mode.
    #[cfg(feature = "durable")]
    store: Option<DurableStore>,
    /// Accepted, not yet committed, in sequence order.
    #[cfg(feature = "durable")]
    staged: Vec<Record>,
    /// Confirmed up to here, not yet removed: removals wait for the next commit, so
    /// that the confirmations of one drain cost one removal.
    #[cfg(feature = "durable")]
    confirmed: Option<u64>,
    /// A commit is scheduled for the end of this mailbox drain.
    commit_scheduled: bool,
}

/// Messages whose commit failed: to take out of the outbox and hand back.
#[derive(Debug)]
pub(super) struct Failed {
    /// Their sequence numbers, ascending.
    pub(super) seqs: Vec<u64>,
    /// Why, for the log and the senders.
    pub(super) error: String,
}

impl Journal {
    /// A journal over `store`, with what it held: the records to restore, in order.
    #[cfg(feature = "durable")]
    pub(super) fn open(store: DurableStore) -> Result<(Self, Vec<Record>), DurableError> {
        let restored = store.load()?;
        let journal = Self {
            next_seq: store.next_seq(),
            store: Some(store),
            staged: Vec::new(),
            confirmed: None,
            commit_scheduled: false,
        };
        Ok((journal, restored))
    }

    /// Whether messages go to disk before they are answered or written.
    pub(super) fn is_durable(&self) -> bool {
        #[cfg(feature = "durable")]
        {
            self.store.is_some()
        }
        #[cfg(not(feature = "durable"))]
        {
            false
        }
    }

    /// The sequence number of a newly accepted message, staged for the next commit.
    pub(super) fn stage(&mut self, payload: &Payload) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        #[cfg(feature = "durable")]
        if self.store.is_some() {
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

    /// Writes every staged message in one commit. Returns the committed range (to answer
    /// the senders waiting for "buffered"), or the messages that are not on disk.
    pub(super) fn commit(&mut self) -> Result<Option<(u64, u64)>, Failed> {
        self.commit_scheduled = false;
        self.remove_confirmed();
        #[cfg(feature = "durable")]
        if let Some(store) = self.store.as_mut() {
            if self.staged.is_empty() {
                return Ok(None);
            }
            let staged = std::mem::take(&mut self.staged);
            let range = (staged[0].seq, staged[staged.len() - 1].seq);
            return match store.append_batch(&staged) {
                Ok(()) => Ok(Some(range)),
                Err(error) => Err(Failed {
                    seqs: staged.iter().map(|record| record.seq).collect(),
                    error: error.to_string(),
                }),
            };
        }
        Ok(None)
    }

    /// The server confirmed every message up to `seq` (the outbox confirms in sequence
    /// order): they leave the store at the next commit (the writer's next poll, which
    /// the confirmation wakes, at the latest).
    pub(super) fn confirmed_through(&mut self, seq: u64) {
        #[cfg(feature = "durable")]
        if self.store.is_some() {
            self.confirmed = Some(self.confirmed.map_or(seq, |known| known.max(seq)));
        }
        #[cfg(not(feature = "durable"))]
        let _ = seq;
    }

    /// Removes the confirmed messages from the store now.
    pub(super) fn remove_confirmed(&mut self) {
        #[cfg(feature = "durable")]
        if let (Some(store), Some(seq)) = (self.store.as_mut(), self.confirmed.take()) {
            if let Err(error) = store.remove_through(seq) {
                // Still on disk: the next process sends them again (a duplicate, which
                // at-least-once allows), so a warning, not an error.
                tracing::warn!(%error, seq, "confirmed messages could not be removed from the durable store");
            }
        }
    }

    /// These messages were handed back to the application: they leave the store, or
    /// the commit they were staged for.
    pub(super) fn discard(&mut self, seqs: &[u64]) {
        #[cfg(feature = "durable")]
        if let Some(store) = self.store.as_mut() {
            if seqs.is_empty() {
                return;
            }
            // Staged messages have numbers at or above the store's next one.
            let first_staged = store.next_seq();
            self.staged.retain(|record| !seqs.contains(&record.seq));
            let stored: Vec<u64> = seqs
                .iter()
                .copied()
                .filter(|&seq| seq < first_staged)
                .collect();
            if stored.is_empty() {
                return;
            }
            if let Err(error) = store.remove(&stored) {
                tracing::warn!(%error, count = stored.len(), "handed-back messages could not be removed from the durable store");
            }
        }
        #[cfg(not(feature = "durable"))]
        let _ = seqs;
    }
}

impl ConnectionActor {
    /// Commits the staged messages at the end of this mailbox drain, unless a commit is
    /// already due (the writer also commits before it writes).
    pub(super) fn schedule_commit(&mut self, ctx: &mut Context<Self>) {
        if self.journal.wants_commit_scheduled() {
            ctx.spawn(actix::fut::ready(()).map(|(), act: &mut Self, _ctx| act.commit_staged()));
        }
    }

    /// Writes the staged messages to disk in one commit. Those accepted while the link
    /// was down are answered `Buffered` now that they are on disk; if the commit fails,
    /// they all leave the outbox and are handed back as `NotPersisted`.
    pub(super) fn commit_staged(&mut self) {
        match self.journal.commit() {
            Ok(None) => {}
            Ok(Some((first, last))) => {
                if self.link.is_none() {
                    self.outbox.for_each_buffered_mut(|item| {
                        if (first..=last).contains(&item.seq()) && item.was_buffered() {
                            item.release_as_buffered();
                        }
                    });
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
                self.settle_orphans();
            }
        }
    }
}
