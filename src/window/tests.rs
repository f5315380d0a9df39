use proptest::prelude::*;

use super::UnconfirmedWindow;

type Window = UnconfirmedWindow<String>;

#[test]
fn a_checkpoint_confirms_only_what_was_written_before_it() {
    let mut window = Window::new(10, None);
    window.record("a".into());
    let first = window.checkpoint();
    window.record("b".into());
    window.record("c".into());
    assert_eq!(window.unchecked(), 2);
    let second = window.checkpoint();
    window.record("d".into());

    assert_eq!(window.confirm(first), ["a"]);
    assert_eq!(
        window.confirm(first),
        Vec::<String>::new(),
        "already confirmed"
    );
    assert_eq!(window.confirm(second), ["b", "c"]);
    assert_eq!(window.len(), 1);
    assert_eq!(window.take_all(), ["d"]);
}

#[test]
fn a_later_checkpoint_also_confirms_earlier_ones() {
    let mut window = Window::new(10, None);
    window.record("a".into());
    let _skipped = window.checkpoint();
    window.record("b".into());
    let latest = window.checkpoint();
    assert_eq!(window.confirm(latest), ["a", "b"]);
    assert!(window.is_empty());
}

#[test]
fn unknown_and_stale_checkpoints_confirm_nothing() {
    let mut window = Window::new(10, None);
    window.record("a".into());
    let before_loss = window.checkpoint();
    assert_eq!(window.take_all(), ["a"]);
    window.record("b".into());
    assert_eq!(window.confirm(before_loss), Vec::<String>::new());
    assert_eq!(
        window.confirm(999),
        Vec::<String>::new(),
        "never handed out"
    );
    assert_eq!(window.len(), 1);
}

#[test]
fn fullness_counts_messages_and_bytes() {
    let mut by_count = Window::new(2, None);
    by_count.record("a".into());
    assert!(!by_count.is_full());
    by_count.record("b".into());
    assert!(by_count.is_full());

    let mut by_bytes = Window::new(100, Some(4));
    by_bytes.record("abc".into());
    assert!(!by_bytes.is_full());
    by_bytes.record("d".into());
    assert!(by_bytes.is_full());
    assert_eq!(by_bytes.bytes(), 4);
    let id = by_bytes.checkpoint();
    by_bytes.confirm(id);
    assert_eq!(by_bytes.bytes(), 0);
}

#[test]
fn payloads_round_trip_and_foreign_pongs_are_ignored() {
    assert_eq!(Window::decode(&Window::encode(42)), Some(42));
    assert_eq!(Window::decode(b"hello"), None);
    assert_eq!(Window::decode(&[]), None);
}

#[test]
fn pings_without_new_messages_reuse_the_latest_checkpoint() {
    let mut window = Window::new(10, None);
    // A server that answers every ping with an empty payload never confirms: however
    // many pings go out, the list stays bounded by what is in the window.
    let first = window.checkpoint();
    for _ in 0..10_000 {
        assert_eq!(window.checkpoint(), first);
    }
    assert_eq!(window.outstanding_checkpoints(), 1);
    window.record("a".into());
    let second = window.checkpoint();
    assert_ne!(second, first);
    for _ in 0..10_000 {
        assert_eq!(window.checkpoint(), second);
    }
    assert_eq!(window.outstanding_checkpoints(), 2);
    assert_eq!(window.confirm(second), ["a"]);
    assert_eq!(window.outstanding_checkpoints(), 0);
    // Still issued: an answer to the reused id is one of ours.
    let reused = window.checkpoint();
    assert!(window.issued(reused));
    assert_eq!(window.outstanding_checkpoints(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Record,
    Checkpoint,
    Confirm(usize),
    LoseLink,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Record),
        2 => Just(Op::Checkpoint),
        2 => (0_usize..8).prop_map(Op::Confirm),
        1 => Just(Op::LoseLink),
    ]
}

proptest! {
    /// Every recorded message leaves exactly once (confirmed or taken back), in write
    /// order, and a confirmation never releases a message written after its ping.
    #[test]
    fn every_message_leaves_exactly_once_in_order(ops in prop::collection::vec(op(), 0..200)) {
        let mut window = Window::new(usize::MAX, None);
        let mut written = 0_u64;
        let mut out: Vec<u64> = Vec::new();
        // (checkpoint id, messages written before it)
        let mut pings: Vec<(u64, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::Record => {
                    window.record(written.to_string());
                    written += 1;
                }
                Op::Checkpoint => pings.push((window.checkpoint(), written)),
                Op::Confirm(pick) => {
                    if let Some(&(id, covered)) = pings.get(pick.min(pings.len().saturating_sub(1))) {
                        for item in window.confirm(id) {
                            let n: u64 = item.parse().unwrap();
                            prop_assert!(n < covered, "message {n} confirmed by a ping written before it");
                            out.push(n);
                        }
                    }
                }
                Op::LoseLink => {
                    pings.clear();
                    out.extend(window.take_all().iter().map(|item| item.parse::<u64>().unwrap()));
                }
            }
            prop_assert_eq!(window.len() as u64 + out.len() as u64, written);
            prop_assert!(window.outstanding_checkpoints() <= window.len() + 1);
        }
        out.extend(window.take_all().iter().map(|item| item.parse::<u64>().unwrap()));
        prop_assert_eq!(out, (0..written).collect::<Vec<_>>());
        prop_assert_eq!(window.bytes(), 0);
    }
}
