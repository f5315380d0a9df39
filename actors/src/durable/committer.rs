//! A thread of its own for a [`DurableStore`]: the connection actor hands it appends and
//! removals and keeps reading, writing and accepting messages while SQLite works and the
//! disk syncs. Jobs take effect in the order they were given, so a removal never
//! overtakes the append it follows; the jobs that queued up while the thread was busy
//! (the actor's next groups, the removals of what was confirmed meanwhile) are made in
//! one transaction, so one `fsync` covers them all.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::store::Change;
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

/// The thread: runs the jobs in order until the actor's side is dropped, everything
/// queued at once in one commit.
fn run(mut store: DurableStore, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        jobs.extend(queue.try_iter());
        run_group(&mut store, jobs);
    }
}

impl Job {
    /// What the job changes in the store.
    fn change(&self) -> Option<Change<'_>> {
        match self {
            Self::Append { records, .. } => Some(Change::Append(records)),
            Self::RemoveThrough(seq) => Some(Change::RemoveThrough(*seq)),
            Self::Remove(seqs) => Some(Change::Remove(seqs)),
            Self::Barrier(_) => None,
        }
    }
}

/// Runs `jobs` as one transaction. If that fails, they run again one by one, each its
/// own commit, so that every append gets its own outcome (a full disk refuses the
/// appends, while the removals before them may still go through).
fn run_group(store: &mut DurableStore, jobs: Vec<Job>) {
    let changes: Vec<Change<'_>> = jobs.iter().filter_map(Job::change).collect();
    let grouped = changes.len() > 1 && store.commit(&changes).is_ok();
    drop(changes);
    for job in jobs {
        let outcome = match job.change() {
            Some(change) if !grouped => store.commit(&[change]).map(drop),
            _ => Ok(()),
        };
        settle(job, outcome);
    }
}

/// Tells whoever waits for `job` how its change went.
fn settle(job: Job, outcome: Result<(), DurableError>) {
    match job {
        // The actor may have stopped waiting; the records are stored regardless.
        Job::Append { done, .. } => drop(done.send(outcome)),
        Job::RemoveThrough(seq) => {
            if let Err(error) = outcome {
                // Still on disk: the next process sends them again (a duplicate,
                // which at-least-once allows), so a warning, not an error.
                tracing::warn!(%error, seq, "confirmed messages could not be removed from the durable store");
            }
        }
        Job::Remove(seqs) => {
            if let Err(error) = outcome {
                tracing::warn!(%error, count = seqs.len(), "handed-back messages could not be removed from the durable store");
            }
        }
        Job::Barrier(idle) => drop(idle.send(())),
    }
}

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use super::*;
    use crate::durable::tests::{batch, seqs};

    fn stored(store: &DurableStore) -> Vec<u64> {
        seqs(&store.load().unwrap())
    }

    fn append(records: Vec<Record>) -> (Job, Appended) {
        let (done, appended) = oneshot::channel();
        (Job::Append { records, done }, appended)
    }

    #[test]
    fn queued_jobs_take_effect_together_in_the_order_given() {
        let dir = TempDir::new().unwrap();
        let mut store = DurableStore::open(dir.path(), "feed").unwrap();
        let (first, mut first_done) = append(batch(0, 10));
        let (second, mut second_done) = append(batch(10, 20));
        let (barrier, idle) = mpsc::channel();
        run_group(
            &mut store,
            vec![
                first,
                // Confirmations of the first group, queued behind it.
                Job::RemoveThrough(4),
                second,
                Job::Remove(vec![12, 19]),
                Job::Barrier(barrier),
            ],
        );
        assert!(matches!(first_done.try_recv(), Ok(Ok(()))));
        assert!(matches!(second_done.try_recv(), Ok(Ok(()))));
        assert!(idle.try_recv().is_ok(), "the barrier is answered");
        let expected: Vec<u64> = (5..20).filter(|seq| ![12, 19].contains(seq)).collect();
        assert_eq!(stored(&store), expected);
        assert_eq!(store.len(), expected.len());
        assert_eq!(store.next_seq(), 20);
    }

    #[test]
    fn a_failing_append_in_a_group_fails_alone() {
        let dir = TempDir::new().unwrap();
        let mut store = DurableStore::open(dir.path(), "feed").unwrap();
        let (good, mut good_done) = append(batch(0, 5));
        // Numbers 3 and 4 are taken by the group before it.
        let (clash, mut clash_done) = append(batch(3, 8));
        let (later, mut later_done) = append(batch(8, 10));
        run_group(&mut store, vec![good, clash, Job::RemoveThrough(1), later]);
        assert!(matches!(good_done.try_recv(), Ok(Ok(()))));
        assert!(matches!(
            clash_done.try_recv(),
            Ok(Err(DurableError::DuplicateSeq { seq: 3, .. }))
        ));
        assert!(matches!(later_done.try_recv(), Ok(Ok(()))));
        assert_eq!(stored(&store), [2, 3, 4, 8, 9]);
        assert_eq!(store.len(), 5);
    }

    #[test]
    fn one_commit_is_all_of_its_changes_or_none() {
        let dir = TempDir::new().unwrap();
        let mut store = DurableStore::open(dir.path(), "feed").unwrap();
        store.append_batch(&batch(0, 5)).unwrap();
        // 6 is taken by the append before it, in the same transaction.
        let clash = batch(6, 8);
        let error = store
            .commit(&[
                Change::RemoveThrough(2),
                Change::Append(&batch(5, 7)),
                Change::Append(&clash),
            ])
            .unwrap_err();
        assert!(
            matches!(error, DurableError::DuplicateSeq { seq: 6, .. }),
            "{error}"
        );
        assert_eq!(stored(&store), [0, 1, 2, 3, 4], "nothing of it was made");
        assert_eq!(store.next_seq(), 5);
        drop(store);
        let store = DurableStore::open(dir.path(), "feed").unwrap();
        assert_eq!(stored(&store), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn the_thread_answers_every_append_and_keeps_removals_behind_them() {
        let dir = TempDir::new().unwrap();
        let store = DurableStore::open(dir.path(), "feed").unwrap();
        let committer = Committer::start(store).unwrap();
        let mut answers = Vec::new();
        for group in 0..50 {
            answers.push(committer.append(batch(group * 10, group * 10 + 10)));
            // Each group is confirmed at once: the removal must not overtake it.
            committer.remove_through(group * 10 + 9);
        }
        committer.wait_idle();
        for mut answer in answers {
            assert!(matches!(answer.try_recv(), Ok(Ok(()))));
        }
        drop(committer);
        let store = DurableStore::open(dir.path(), "feed").unwrap();
        assert!(store.is_empty(), "left {:?}", stored(&store));
        assert_eq!(store.next_seq(), 500);
    }
}
