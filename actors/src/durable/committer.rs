//! A thread of its own for a [`DurableStore`]: the connection actor hands it appends and
//! removals and keeps reading, writing and accepting messages while SQLite works and the
//! disk syncs. Jobs run one at a time in the order they were given, so a removal never
//! overtakes the append it follows.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{DurableError, DurableStore, Record};

/// What an append answers: `Ok` once every record of it is on disk.
pub(crate) type Appended = oneshot::Receiver<Result<(), DurableError>>;

/// One unit of work for the store's thread.
enum Job {
    /// One durable commit of these records; the outcome goes to `done`.
    Append {
        records: Vec<Record>,
        done: oneshot::Sender<Result<(), DurableError>>,
    },
    /// [`DurableStore::remove_through`].
    RemoveThrough(u64),
    /// [`DurableStore::remove`].
    Remove(Vec<u64>),
    /// Answers once every job given before it is done.
    Barrier(mpsc::Sender<()>),
}

/// The store's thread. Dropping it lets the thread finish the jobs already given, then
/// waits for it, so that the store (and its file lock) is closed when the drop returns.
#[derive(Debug)]
pub(crate) struct Committer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Moves `store` to a new thread.
    ///
    /// # Errors
    ///
    /// The thread could not be started.
    pub(crate) fn start(store: DurableStore) -> Result<Self, DurableError> {
        let path = store.path().to_path_buf();
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tether-durable".into())
            .spawn(move || run(store, &queue))
            .map_err(|error| DurableError::Storage {
                path,
                source: format!("cannot start the store's thread: {error}").into(),
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Commits `records` in one durable commit, after every job given before. The
    /// receiver answers once they are on disk, or why they are not; it answers with a
    /// closed channel if the thread ended.
    pub(crate) fn append(&self, records: Vec<Record>) -> Appended {
        let (done, appended) = oneshot::channel();
        self.give(Job::Append { records, done });
        appended
    }

    /// Removes every record up to and including `seq`, after every job given before.
    pub(crate) fn remove_through(&self, seq: u64) {
        self.give(Job::RemoveThrough(seq));
    }

    /// Removes these records, after every job given before.
    pub(crate) fn remove(&self, seqs: Vec<u64>) {
        self.give(Job::Remove(seqs));
    }

    /// Blocks until every job given so far is done (their receivers hold the outcomes).
    pub(crate) fn wait_idle(&self) {
        let (done, idle) = mpsc::channel();
        self.give(Job::Barrier(done));
        // An error: the thread ended, so nothing is left running either.
        let _ = idle.recv();
    }

    fn give(&self, job: Job) {
        // A send fails only if the thread ended (it panicked): an append's receiver then
        // reports a closed channel, and a lost removal is a duplicate, never a loss.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: runs the jobs in order until the actor's side is dropped.
fn run(mut store: DurableStore, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        match job {
            Job::Append { records, done } => {
                // The actor may have stopped waiting; the records are stored regardless.
                let _ = done.send(store.append_batch(&records));
            }
            Job::RemoveThrough(seq) => {
                if let Err(error) = store.remove_through(seq) {
                    // Still on disk: the next process sends them again (a duplicate,
                    // which at-least-once allows), so a warning, not an error.
                    tracing::warn!(%error, seq, "confirmed messages could not be removed from the durable store");
                }
            }
            Job::Remove(seqs) => {
                if let Err(error) = store.remove(&seqs) {
                    tracing::warn!(%error, count = seqs.len(), "handed-back messages could not be removed from the durable store");
                }
            }
            Job::Barrier(idle) => {
                let _ = idle.send(());
            }
        }
    }
}
