//! Pieces for crash tests, where a child process is killed with SIGKILL and restarted:
//! a [`Tally`] of the numbered events that reached the test, a seeded [`KillPlan`] of
//! when to kill, and [`kill_hard`].
//!
//! A crash test starts the child, lets the number of events the plan says arrive, kills
//! it, restarts it, and at the end compares the tally with what was sent: lost events
//! fail the test, duplicates are reported.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::os::unix::process::ExitStatusExt as _;
use std::process::Child;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::{rngs::StdRng, Rng as _, SeedableRng as _};

/// Every numbered event that arrived, and how often. Cheap to clone: clones share the
/// counts, so the receiving side records and the test reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    counts: Arc<Mutex<BTreeMap<u64, u32>>>,
}

impl Tally {
    /// An empty tally.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn counts(&self) -> MutexGuard<'_, BTreeMap<u64, u32>> {
        // A panicking recorder must not hide the counts from the test.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one arrival of event `number`.
    pub(crate) fn record(&self, number: u64) {
        *self.counts().entry(number).or_default() += 1;
    }

    /// Arrivals, duplicates included.
    pub(crate) fn total(&self) -> u64 {
        self.counts().values().map(|&count| u64::from(count)).sum()
    }

    /// Distinct events that arrived.
    pub(crate) fn distinct(&self) -> u64 {
        self.counts().len() as u64
    }

    /// The highest event number that arrived.
    pub(crate) fn highest(&self) -> Option<u64> {
        self.counts().keys().next_back().copied()
    }

    /// The outcome, for events `0..sent` and `kills` kills.
    pub(crate) fn report(&self, sent: u64, kills: usize) -> CrashReport {
        let counts = self.counts();
        let lost = (0..sent)
            .filter(|number| !counts.contains_key(number))
            .collect();
        let arrived: u64 = counts.values().map(|&count| u64::from(count)).sum();
        CrashReport {
            kills,
            sent,
            arrived,
            lost,
            duplicates: arrived - counts.len() as u64,
            unexpected: counts.range(sent..).map(|(&number, _)| number).collect(),
        }
    }
}

/// What a crash test saw: the figures its closing note gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrashReport {
    /// How often the child was killed.
    pub(crate) kills: usize,
    /// Events sent: numbered `0..sent`.
    pub(crate) sent: u64,
    /// Arrivals, duplicates included.
    pub(crate) arrived: u64,
    /// Numbers below `sent` that never arrived.
    pub(crate) lost: Vec<u64>,
    /// Arrivals beyond the first of their number.
    pub(crate) duplicates: u64,
    /// Numbers at or above `sent` that arrived all the same: a miscount of the test.
    pub(crate) unexpected: Vec<u64>,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kills {}, sent {}, arrived {}, lost {}, duplicates {}",
            self.kills,
            self.sent,
            self.arrived,
            self.lost.len(),
            self.duplicates
        )?;
        if !self.unexpected.is_empty() {
            write!(f, ", unexpected {}", self.unexpected.len())?;
        }
        Ok(())
    }
}

/// When to kill: for each kill, how many more events must arrive first, drawn uniformly
/// from a range with a seeded generator. The same seed and arguments give the same plan
/// (with the same `rand` version): print the seed of a failing run to replay it.
///
/// Counting arrivals rather than waiting a random time ties each kill to the child's
/// progress, so a slow machine moves the kills without changing what they interrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KillPlan {
    seed: u64,
    moments: Vec<u64>,
}

impl KillPlan {
    /// `kills` moments, each a count of events in `events` (not empty).
    pub(crate) fn new(seed: u64, kills: usize, events: Range<u64>) -> Self {
        assert!(!events.is_empty(), "empty range of events: {events:?}");
        let mut rng = StdRng::seed_from_u64(seed);
        let moments = (0..kills)
            .map(|_| rng.random_range(events.clone()))
            .collect();
        Self { seed, moments }
    }

    /// The seed it was drawn with.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// For each kill in turn, how many more events arrive before it.
    pub(crate) fn moments(&self) -> &[u64] {
        &self.moments
    }
}

/// Kills `child` with SIGKILL (no handler, no destructor, no flush) and reaps it.
///
/// Panics if the child had already ended on its own: a crash test that kills nothing
/// tests nothing.
pub(crate) fn kill_hard(child: &mut Child) {
    if let Ok(Some(status)) = child.try_wait() {
        panic!("child {} ended before the kill: {status}", child.id());
    }
    // On unix, `Child::kill` sends SIGKILL.
    child.kill().expect("send SIGKILL");
    let status = child.wait().expect("reap the killed child");
    // It may have ended between the check and the signal; that must fail too.
    assert_eq!(
        status.signal(),
        Some(9),
        "child {} was not killed but ended: {status}",
        child.id()
    );
}
