//! Where every event went.
//!
//! The bot records the fate of each event it produced from what tether told it: the
//! reply to its `Outgoing` (written, buffered, refused) and the later `Undelivered` reports
//! (a buffered event that will never be written; a written event whose link died
//! before the hub confirmed it). At the end that record is reconciled with tether's
//! own counters and with the sequence numbers the hub saw.
//!
//! The bots run tether in its default at-most-once mode: nothing is written twice, so
//! an event written to a link that then dies may be gone. Those show up as *lost*:
//! written by the bot, never seen by the hub. tether reports each of them as
//! unconfirmed (it may or may not have arrived); one it did not report is a problem.

use tether_actix::Counters;

use crate::hub::Tally;

/// What the bot knows about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// In the bot's outbox, or its `Outgoing` not answered yet.
    Pending,
    /// `Delivery::Sent`: written to a live socket.
    Written,
    /// Accepted into tether's buffer: written after the next connect, unless handed
    /// back.
    Buffered,
    /// Refused because the buffer was full.
    Rejected,
    /// Handed back, never written (closed, failed, evicted).
    NotSent,
    /// Written, then handed back: the link died before the hub confirmed it, so it may
    /// or may not have arrived.
    Unconfirmed,
    /// The connection actor was gone before it answered: nobody can say.
    Unknown,
}

/// What tether reported about an event after answering its `Outgoing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Later {
    /// It was buffered and will never be written.
    NotSent,
    /// It was written and its link died before the hub confirmed it.
    Unconfirmed,
}

/// One event's record.
#[derive(Debug, Clone, Copy)]
struct Entry {
    fate: Fate,
    /// Its `Outgoing` was answered `Buffered`: writing it counts as a flush.
    via_buffer: bool,
    /// A report that arrived before the `Outgoing` reply: the report travels through the
    /// bot's mailbox, the reply through its own channel, and either may come first.
    early: Option<Later>,
}

/// The fate of every event of one bot, by sequence number.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcomes {
    /// Index `seq - 1`.
    entries: Vec<Entry>,
    /// Reports that did not fit the record, e.g. an event handed back twice.
    pub(crate) surprises: Vec<String>,
}

impl Outcomes {
    /// Registers a new event and returns its sequence number (1, 2, ...).
    pub(crate) fn issue(&mut self) -> u64 {
        self.entries.push(Entry {
            fate: Fate::Pending,
            via_buffer: false,
            early: None,
        });
        self.entries.len() as u64
    }

    /// How many events were issued.
    pub(crate) fn issued(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Records the answer to the event's `Outgoing`.
    pub(crate) fn answered(&mut self, seq: u64, fate: Fate) {
        let Some(entry) = self.entry(seq) else {
            return self.surprise(seq, "answered", "never issued");
        };
        if entry.fate != Fate::Pending {
            let was = entry.fate;
            return self.surprise(seq, "answered again", &format!("{was:?}"));
        }
        entry.fate = fate;
        entry.via_buffer = fate == Fate::Buffered;
        if let Some(later) = entry.early.take() {
            self.apply(seq, later);
        }
    }

    /// Records a later report about an event (normally after its `Outgoing` was answered).
    pub(crate) fn reported(&mut self, seq: u64, later: Later) {
        match self.entry(seq) {
            Some(entry) if entry.fate == Fate::Pending && entry.early.is_none() => {
                entry.early = Some(later);
            }
            Some(_) => self.apply(seq, later),
            None => self.surprise(seq, "reported", "never issued"),
        }
    }

    fn apply(&mut self, seq: u64, later: Later) {
        let Some(entry) = self.entry(seq) else {
            return;
        };
        let to = match (later, entry.fate) {
            (Later::NotSent, Fate::Buffered) => Fate::NotSent,
            (Later::Unconfirmed, Fate::Written | Fate::Buffered) => Fate::Unconfirmed,
            (_, was) => {
                return self.surprise(seq, &format!("reported {later:?}"), &format!("{was:?}"))
            }
        };
        entry.fate = to;
    }

    fn entry(&mut self, seq: u64) -> Option<&mut Entry> {
        let index = usize::try_from(seq).ok()?.checked_sub(1)?;
        self.entries.get_mut(index)
    }

    fn surprise(&mut self, seq: u64, what: &str, while_: &str) {
        self.surprises
            .push(format!("event {seq}: {what} while {while_}"));
    }

    fn count(&self, wanted: Fate) -> u64 {
        self.entries.iter().filter(|e| e.fate == wanted).count() as u64
    }
}

/// One bot's events, reconciled. When [`balanced`](Self::balanced), every event is in
/// exactly one of `at_hub`, `lost`, `rejected`, `undelivered`, `buffered`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Accounting {
    /// Events the bot produced.
    pub(crate) events: u64,
    /// Written to a socket (directly or from the buffer).
    pub(crate) sent: u64,
    /// Written from the buffer after a reconnect.
    pub(crate) flushed: u64,
    /// Refused by a full buffer.
    pub(crate) rejected: u64,
    /// Handed back, never written.
    pub(crate) undelivered: u64,
    /// Written, then reported unconfirmed by tether (whether or not they arrived).
    pub(crate) unconfirmed: u64,
    /// Still in tether's buffer at the end.
    pub(crate) buffered: u64,
    /// Never answered, or the connection actor vanished.
    pub(crate) pending: u64,
    /// Seen by the hub (distinct sequence numbers).
    pub(crate) at_hub: u64,
    /// Written, but never seen by the hub.
    pub(crate) lost: u64,
    /// Of the lost, those tether did not report as unconfirmed.
    pub(crate) lost_unreported: u64,
    /// Holes below the highest number the hub saw.
    pub(crate) gaps: u64,
    /// Events the hub saw more than once.
    pub(crate) duplicates: u64,
    /// Events the hub read late, after playing dead.
    pub(crate) late: u64,
    /// Every disagreement found; empty when everything adds up.
    pub(crate) problems: Vec<String>,
}

impl Accounting {
    /// Reconciles the bot's record with tether's counters (`counters`, and `buffered`
    /// messages still in its buffer) and the hub's tally (`None`: unavailable).
    pub(crate) fn reconcile(
        outcomes: &Outcomes,
        counters: &Counters,
        buffered: usize,
        hub: Option<&Tally>,
    ) -> Self {
        let mut problems = outcomes.surprises.clone();
        let entries = &outcomes.entries;
        // The buffer is FIFO and the bot sends in sequence order, so the events still
        // buffered are the newest of those it saw accepted as buffered.
        let waiting: Vec<usize> = (0..entries.len())
            .filter(|&index| entries[index].fate == Fate::Buffered)
            .collect();
        if buffered > waiting.len() {
            problems.push(format!(
                "tether holds {buffered} buffered messages, the bot knows of {}",
                waiting.len()
            ));
        }
        let still_buffered = &waiting[waiting.len().saturating_sub(buffered)..];
        let mut written = vec![false; entries.len()];
        let mut flushed = 0;
        for (index, entry) in entries.iter().enumerate() {
            written[index] = match entry.fate {
                Fate::Written | Fate::Unconfirmed => true,
                Fate::Buffered => !still_buffered.contains(&index),
                _ => false,
            };
            if written[index] && entry.via_buffer {
                flushed += 1;
            }
        }
        let mut books = Accounting {
            events: outcomes.issued(),
            sent: written.iter().filter(|&&w| w).count() as u64,
            flushed,
            rejected: outcomes.count(Fate::Rejected),
            undelivered: outcomes.count(Fate::NotSent),
            unconfirmed: outcomes.count(Fate::Unconfirmed),
            buffered: still_buffered.len() as u64,
            pending: outcomes.count(Fate::Pending) + outcomes.count(Fate::Unknown),
            ..Accounting::default()
        };
        books.check_counters(counters, &mut problems);
        if books.pending > 0 {
            problems.push(format!("{} events without an outcome", books.pending));
        }
        match hub {
            Some(tally) => books.check_hub(tally, entries, &written, &mut problems),
            None => problems.push("the hub's counts are unavailable".into()),
        }
        books.problems = problems;
        books
    }

    /// tether's counters must agree with what it told the bot.
    fn check_counters(&self, counters: &Counters, problems: &mut Vec<String>) {
        let pairs = [
            ("written", self.sent, counters.sent),
            ("flushed", self.flushed, counters.flushed),
            ("rejected", self.rejected, counters.rejected),
            (
                "handed back unsent",
                self.undelivered,
                counters.undelivered + counters.evicted,
            ),
            (
                "handed back unconfirmed",
                self.unconfirmed,
                counters.unconfirmed,
            ),
        ];
        for (what, bot, tether) in pairs {
            if bot != tether {
                problems.push(format!(
                    "{what}: the bot was told of {bot}, tether counted {tether}"
                ));
            }
        }
    }

    /// The hub must have seen only written events, each once; every written event it
    /// did not see must have been reported.
    fn check_hub(
        &mut self,
        tally: &Tally,
        entries: &[Entry],
        written: &[bool],
        problems: &mut Vec<String>,
    ) {
        let mut phantoms = 0;
        for (index, &was_written) in written.iter().enumerate() {
            let seen = tally.contains(index as u64 + 1);
            match (was_written, seen) {
                (true, true) => self.at_hub += 1,
                (true, false) => {
                    self.lost += 1;
                    if entries[index].fate != Fate::Unconfirmed {
                        self.lost_unreported += 1;
                    }
                }
                (false, true) => {
                    self.at_hub += 1;
                    phantoms += 1;
                }
                (false, false) => {}
            }
        }
        if phantoms > 0 {
            problems.push(format!(
                "{phantoms} events reached the hub although tether reported them unsent"
            ));
        }
        if self.lost_unreported > 0 {
            problems.push(format!(
                "{} events written and lost without a report from tether",
                self.lost_unreported
            ));
        }
        if tally.received > self.at_hub {
            problems.push(format!(
                "the hub saw {} event numbers this bot never issued",
                tally.received - self.at_hub
            ));
        }
        if tally.duplicates > 0 {
            problems.push(format!(
                "{} duplicates, although tether writes each message at most once",
                tally.duplicates
            ));
        }
        self.gaps = tally.gaps;
        self.duplicates = tally.duplicates;
        self.late = tally.late;
    }

    /// Whether every event is accounted for: each in exactly one place, every loss
    /// reported, and tether, the bot and the hub agree.
    pub(crate) fn balanced(&self) -> bool {
        self.problems.is_empty()
            && self.pending == 0
            && self.events
                == self.at_hub + self.lost + self.rejected + self.undelivered + self.buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fate_lands_in_one_column() {
        let mut outcomes = Outcomes::default();
        for _ in 0..8 {
            outcomes.issue();
        }
        outcomes.answered(1, Fate::Written); // seen by the hub
        outcomes.answered(2, Fate::Written); // unconfirmed and lost
        outcomes.reported(2, Later::Unconfirmed);
        outcomes.answered(3, Fate::Buffered); // flushed, seen
        outcomes.answered(4, Fate::Buffered); // handed back
        outcomes.reported(4, Later::NotSent);
        outcomes.answered(5, Fate::Rejected);
        outcomes.answered(6, Fate::Buffered); // flushed, unconfirmed, arrived anyway
        outcomes.reported(6, Later::Unconfirmed);
        outcomes.answered(7, Fate::Buffered); // still buffered
        outcomes.answered(8, Fate::Buffered); // still buffered
                                              // `Counters` is non-exhaustive: built field by field.
        let mut counters = Counters::default();
        counters.sent = 4;
        counters.flushed = 2;
        counters.rejected = 1;
        counters.undelivered = 1;
        counters.unconfirmed = 2;
        let tally = Tally {
            received: 3,
            highest: 6,
            gaps: 3,
            seen: vec![[1, 1], [3, 3], [6, 6]],
            ..Tally::default()
        };
        let books = Accounting::reconcile(&outcomes, &counters, 2, Some(&tally));
        assert_eq!(books.problems, Vec::<String>::new());
        assert!(books.balanced());
        assert_eq!(
            (
                books.at_hub,
                books.lost,
                books.rejected,
                books.undelivered,
                books.buffered
            ),
            (3, 1, 1, 1, 2)
        );
        assert_eq!((books.unconfirmed, books.lost_unreported), (2, 0));
    }

    #[test]
    fn a_report_may_come_before_the_reply() {
        let mut outcomes = Outcomes::default();
        outcomes.issue();
        outcomes.reported(1, Later::Unconfirmed);
        assert_eq!(outcomes.entries[0].fate, Fate::Pending);
        outcomes.answered(1, Fate::Written);
        assert_eq!(outcomes.entries[0].fate, Fate::Unconfirmed);
        assert!(outcomes.surprises.is_empty(), "{:?}", outcomes.surprises);
    }

    #[test]
    fn disagreements_are_problems() {
        let mut outcomes = Outcomes::default();
        outcomes.issue();
        outcomes.issue();
        outcomes.answered(1, Fate::Rejected);
        outcomes.reported(1, Later::NotSent); // a rejected event cannot be handed back
        outcomes.answered(2, Fate::Written); // lost, never reported
        let mut counters = Counters::default();
        counters.sent = 1;
        let tally = Tally {
            received: 1,
            highest: 1,
            seen: vec![[1, 1]],
            ..Tally::default()
        };
        let books = Accounting::reconcile(&outcomes, &counters, 0, Some(&tally));
        assert!(!books.balanced());
        // The surprise, tether's rejected count, the phantom, the unreported loss.
        assert_eq!(books.problems.len(), 4, "{:?}", books.problems);
    }
}
