//! Per-bot sequence accounting: which event numbers the hub has seen, which twice, and
//! where the holes are.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What the hub has seen from one bot.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    seen: BTreeSet<u64>,
    duplicates: u64,
    late: u64,
}

impl Ledger {
    /// Records one event, `late` if it waited unread while the hub played dead;
    /// returns `false` if its number was seen before.
    pub(crate) fn record(&mut self, seq: u64, late: bool) -> bool {
        let new = self.seen.insert(seq);
        if !new {
            self.duplicates += 1;
        }
        if late {
            self.late += 1;
        }
        new
    }

    /// A serializable summary.
    pub(crate) fn tally(&self) -> Tally {
        let mut seen = Vec::<[u64; 2]>::new();
        for &seq in &self.seen {
            match seen.last_mut() {
                Some(run) if run[1] + 1 == seq => run[1] = seq,
                _ => seen.push([seq, seq]),
            }
        }
        let highest = self.seen.last().copied().unwrap_or(0);
        Tally {
            received: self.seen.len() as u64,
            duplicates: self.duplicates,
            gaps: highest - self.seen.len() as u64,
            highest,
            late: self.late,
            seen,
        }
    }
}

/// What the hub saw from one bot, as served by `GET /stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tally {
    /// Distinct event numbers received.
    pub(crate) received: u64,
    /// Events received again after their number had been seen.
    pub(crate) duplicates: u64,
    /// Numbers below the highest one seen that never arrived.
    pub(crate) gaps: u64,
    /// The highest number seen (0: none).
    pub(crate) highest: u64,
    /// Events read only after the hub stopped playing dead.
    pub(crate) late: u64,
    /// The numbers seen, as inclusive runs `[first, last]`, ascending.
    pub(crate) seen: Vec<[u64; 2]>,
}

impl Tally {
    /// Whether the hub saw event `seq`.
    pub(crate) fn contains(&self, seq: u64) -> bool {
        // The runs are sorted and disjoint: find the last run starting at or before seq.
        let index = self.seen.partition_point(|run| run[0] <= seq);
        index > 0 && seq <= self.seen[index - 1][1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_gaps_and_duplicates() {
        let mut ledger = Ledger::default();
        for seq in [1, 2, 3, 5, 5, 8, 9] {
            ledger.record(seq, seq == 9);
        }
        let tally = ledger.tally();
        assert_eq!(tally.received, 6);
        assert_eq!(tally.duplicates, 1);
        assert_eq!(tally.late, 1);
        assert_eq!(tally.highest, 9);
        assert_eq!(tally.gaps, 3, "4, 6 and 7");
        assert_eq!(tally.seen, [[1, 3], [5, 5], [8, 9]]);
        assert!(tally.contains(2) && tally.contains(5) && tally.contains(9));
        assert!(!tally.contains(0) && !tally.contains(4) && !tally.contains(7));
        assert!(!tally.contains(10));
    }
}
