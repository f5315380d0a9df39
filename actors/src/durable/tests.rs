//! The store's behaviour on a real file in a temporary directory: order, removal,
//! reopening, size, and the mistakes a caller can make.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tempfile::TempDir;

use super::{DurableError, DurableStore, Record};
use crate::Payload;

/// A 64-byte message whose content names `seq`, text for even numbers, binary for odd.
fn message(seq: u64) -> Payload {
    let text = format!("{seq:0>64}");
    if seq % 2 == 0 {
        Payload::text(text)
    } else {
        Payload::binary(text.into_bytes())
    }
}

/// Records `from..to`.
pub(super) fn batch(from: u64, to: u64) -> Vec<Record> {
    (from..to)
        .map(|seq| Record::new(seq, message(seq)))
        .collect()
}

pub(super) fn seqs(records: &[Record]) -> Vec<u64> {
    records.iter().map(|record| record.seq).collect()
}

#[test]
fn a_new_store_is_empty_and_starts_at_zero() {
    let dir = TempDir::new().unwrap();
    let store = DurableStore::open(dir.path(), "feed").unwrap();
    assert!(store.is_empty());
    assert_eq!(store.len(), 0);
    assert_eq!(store.next_seq(), 0);
    assert_eq!(store.load().unwrap(), Vec::new());
    assert_eq!(store.path(), dir.path().join("feed.outbox.sqlite"));
}

#[test]
fn records_come_back_in_sequence_order_with_their_kind() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&batch(0, 64)).unwrap();
    store.append_batch(&batch(64, 100)).unwrap();
    // A batch given out of order is still loaded by sequence number.
    let mut reversed = batch(100, 110);
    reversed.reverse();
    store.append_batch(&reversed).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded, batch(0, 110));
    assert!(loaded[0].payload.is_text());
    assert!(!loaded[1].payload.is_text());
    assert_eq!(store.len(), 110);
    assert_eq!(store.next_seq(), 110);
}

#[test]
fn removing_confirmed_records_keeps_the_rest_in_order() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&batch(0, 200)).unwrap();
    assert_eq!(store.remove_through(63).unwrap(), 64);
    assert_eq!(store.remove(&[70, 71, 199, 5000, u64::MAX]).unwrap(), 3);
    let expected: Vec<u64> = (64..199).filter(|seq| !matches!(seq, 70 | 71)).collect();
    assert_eq!(seqs(&store.load().unwrap()), expected);
    assert_eq!(store.len(), expected.len());
    // Removing what is already gone removes nothing.
    assert_eq!(store.remove_through(63).unwrap(), 0);
    assert_eq!(store.remove(&[]).unwrap(), 0);
    assert_eq!(store.remove_through(u64::MAX).unwrap(), expected.len());
    assert!(store.is_empty());
}

#[test]
fn reopening_restores_exactly_what_was_left() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&batch(0, 150)).unwrap();
    store.remove_through(99).unwrap();
    store.remove(&[120]).unwrap();
    let left = store.load().unwrap();
    drop(store);

    let store = DurableStore::open(dir.path(), "feed").unwrap();
    assert_eq!(store.load().unwrap(), left);
    assert_eq!(store.len(), left.len());
    assert_eq!(store.next_seq(), 150);
}

#[test]
fn sequence_numbers_keep_growing_after_everything_was_removed() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&batch(0, 10)).unwrap();
    store.remove_through(9).unwrap();
    drop(store);
    let store = DurableStore::open(dir.path(), "feed").unwrap();
    assert!(store.is_empty());
    assert_eq!(store.next_seq(), 10);
}

#[test]
fn connection_names_have_stores_of_their_own() {
    let dir = TempDir::new().unwrap();
    let mut orders = DurableStore::open(dir.path(), "orders").unwrap();
    let mut quotes = DurableStore::open(dir.path(), "quotes").unwrap();
    orders.append_batch(&batch(0, 3)).unwrap();
    quotes.append_batch(&batch(10, 12)).unwrap();
    assert_eq!(seqs(&orders.load().unwrap()), [0, 1, 2]);
    assert_eq!(seqs(&quotes.load().unwrap()), [10, 11]);
}

#[test]
fn a_duplicate_sequence_number_stores_nothing_of_its_batch() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&batch(0, 5)).unwrap();
    let error = store.append_batch(&batch(3, 8)).unwrap_err();
    assert!(
        matches!(error, DurableError::DuplicateSeq { seq: 3, .. }),
        "{error:?}"
    );
    let within = [Record::new(9, message(9)), Record::new(9, message(9))];
    let error = store.append_batch(&within).unwrap_err();
    assert!(
        matches!(error, DurableError::DuplicateSeq { seq: 9, .. }),
        "{error:?}"
    );
    assert_eq!(store.load().unwrap(), batch(0, 5));
    assert_eq!(store.len(), 5);
    assert_eq!(store.next_seq(), 5);
    // The store still works after the refused batches.
    store.append_batch(&batch(5, 8)).unwrap();
    assert_eq!(store.load().unwrap(), batch(0, 8));
}

#[test]
fn a_sequence_number_beyond_i64_is_refused_before_writing() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    let too_large = u64::try_from(i64::MAX).unwrap() + 1;
    let records = [
        Record::new(1, message(1)),
        Record::new(too_large, message(2)),
    ];
    let error = store.append_batch(&records).unwrap_err();
    assert!(matches!(error, DurableError::SeqTooLarge { seq } if seq == too_large));
    assert!(store.load().unwrap().is_empty());
}

#[test]
fn an_empty_batch_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    store.append_batch(&[]).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.next_seq(), 0);
}

#[test]
fn an_invalid_name_is_refused_without_touching_the_directory() {
    let dir = TempDir::new().unwrap();
    let error = DurableStore::open(dir.path().join("never"), "../escape").unwrap_err();
    assert!(
        matches!(error, DurableError::InvalidName { .. }),
        "{error:?}"
    );
    assert!(!dir.path().join("never").exists());
}

#[test]
fn a_second_store_on_the_same_file_in_this_process_is_locked_out() {
    let dir = TempDir::new().unwrap();
    let mut first = DurableStore::open(dir.path(), "feed").unwrap();
    first.append_batch(&batch(0, 3)).unwrap();
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(matches!(error, DurableError::Locked { .. }), "{error:?}");
    // The holder is not disturbed, and the lock ends with it.
    first.append_batch(&batch(3, 4)).unwrap();
    drop(first);
    let second = DurableStore::open(dir.path(), "feed").unwrap();
    assert_eq!(second.load().unwrap(), batch(0, 4));
}

#[test]
fn size_on_disk_stays_bounded_while_records_pass_through() {
    let dir = TempDir::new().unwrap();
    let mut store = DurableStore::open(dir.path(), "feed").unwrap();
    // A window of 256 records in flight: append a batch of 64, confirm the oldest 64.
    let cycle = |store: &mut DurableStore, round: u64| {
        store
            .append_batch(&batch(round * 64, round * 64 + 64))
            .unwrap();
        if round >= 5 {
            store.remove_through(round * 64 - 256 - 1).unwrap();
        }
        assert!(store.len() <= 320);
        store.size_on_disk().unwrap()
    };
    let warm_up = (0..200)
        .map(|round| cycle(&mut store, round))
        .max()
        .unwrap();
    let later = (200..1200)
        .map(|round| cycle(&mut store, round))
        .max()
        .unwrap();
    // 64,000 more records went through; the files did not grow with them. (Slack: the
    // log is checkpointed after the commit that crosses its threshold, so its peak
    // varies by a commit's pages.)
    assert!(
        later <= warm_up + (64 << 10),
        "grew from {warm_up} to {later} bytes"
    );
    // The log's checkpoint threshold (1 MiB) plus the peak's pages.
    assert!(later < 2 << 20, "{later} bytes for at most 320 records");
    store.remove_through(u64::MAX).unwrap();
    assert!(store.is_empty());
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    /// Append this many new records as one batch.
    Append(u64),
    /// Remove through the record at this fraction (per mille) of the next sequence number.
    RemoveThrough(u64),
    /// Remove records at these offsets below the next sequence number.
    Remove(Vec<u64>),
    /// Close the store and open it again.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1_u64..80).prop_map(Op::Append),
        2 => (0_u64..1000).prop_map(Op::RemoveThrough),
        2 => proptest::collection::vec(0_u64..200, 0..10).prop_map(Op::Remove),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    // Every case writes real files with fsync: few cases, each a long run.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The store always holds exactly what a map of the same operations holds, in
    /// order, across reopening.
    #[test]
    fn the_store_matches_a_model_of_its_operations(ops in proptest::collection::vec(op(), 1..30)) {
        let dir = TempDir::new().unwrap();
        let mut store = DurableStore::open(dir.path(), "feed").unwrap();
        let mut model: BTreeMap<u64, Payload> = BTreeMap::new();
        let mut next = 0_u64;
        for op in ops {
            match op {
                Op::Append(count) => {
                    let records = batch(next, next + count);
                    store.append_batch(&records).unwrap();
                    model.extend(records.into_iter().map(|record| (record.seq, record.payload)));
                    next += count;
                }
                Op::RemoveThrough(per_mille) => {
                    let through = next * per_mille / 1000;
                    let expected = model.range(..=through).count();
                    prop_assert_eq!(store.remove_through(through).unwrap(), expected);
                    model.retain(|&seq, _| seq > through);
                }
                Op::Remove(offsets) => {
                    let mut targets: Vec<u64> =
                        offsets.iter().filter_map(|offset| next.checked_sub(offset + 1)).collect();
                    targets.sort_unstable();
                    targets.dedup();
                    let expected = targets.iter().filter(|seq| model.contains_key(seq)).count();
                    prop_assert_eq!(store.remove(&targets).unwrap(), expected);
                    for seq in &targets {
                        model.remove(seq);
                    }
                }
                Op::Reopen => {
                    drop(store);
                    store = DurableStore::open(dir.path(), "feed").unwrap();
                }
            }
            let expected: Vec<Record> =
                model.iter().map(|(&seq, payload)| Record::new(seq, payload.clone())).collect();
            prop_assert_eq!(store.load().unwrap(), expected);
            prop_assert_eq!(store.len(), model.len());
            prop_assert_eq!(store.next_seq(), next);
        }
    }
}

#[test]
fn a_store_can_move_to_another_thread() {
    // An actor, or a thread of its own, owns the store.
    fn owned_elsewhere<T: Send + 'static>() {}
    owned_elsewhere::<DurableStore>();
    owned_elsewhere::<DurableError>();
}
