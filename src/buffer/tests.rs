use proptest::prelude::*;

use super::*;

/// A message with an identity, to track every item through the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Msg {
    id: usize,
    len: usize,
}

impl BufferItem for Msg {
    fn byte_len(&self) -> usize {
        self.len
    }
}

fn msg(id: usize, len: usize) -> Msg {
    Msg { id, len }
}

#[test]
fn reference_7_fifo_drain() {
    let mut buffer = MessageBuffer::new(256, None, OverflowPolicy::RejectNew);
    for m in ["one", "two", "three"] {
        assert!(buffer.push(m).unwrap().is_empty());
    }
    assert_eq!(buffer.len(), 3);
    assert_eq!(buffer.drain().collect::<Vec<_>>(), ["one", "two", "three"]);
    assert!(buffer.is_empty());
    assert_eq!(buffer.bytes(), 0);
    assert_eq!(buffer.drain().count(), 0);
}

#[test]
fn reference_8_full_buffer_rejects_new() {
    let mut buffer = MessageBuffer::new(3, None, OverflowPolicy::RejectNew);
    for m in ["a", "b", "c"] {
        buffer.push(m).unwrap();
    }
    let err = buffer.push("d").unwrap_err();
    assert_eq!(err.reason(), FullReason::Count);
    assert_eq!(err.into_inner(), "d");
    assert_eq!(buffer.len(), 3);
    assert_eq!(buffer.iter().copied().collect::<Vec<_>>(), ["a", "b", "c"]);
    buffer.drain();
    assert!(buffer.push("e").is_ok());
    assert_eq!(buffer.len(), 1);
}

#[test]
fn byte_bound_rejects_without_change() {
    let mut buffer = MessageBuffer::new(10, Some(10), OverflowPolicy::RejectNew);
    buffer.push(vec![0u8; 6]).unwrap();
    let err = buffer.push(vec![1u8; 5]).unwrap_err();
    assert_eq!(err.reason(), FullReason::Bytes);
    assert_eq!(buffer.len(), 1);
    assert_eq!(buffer.bytes(), 6);
    // Exactly filling the bound is allowed.
    buffer.push(vec![2u8; 4]).unwrap();
    assert_eq!(buffer.bytes(), 10);
}

#[test]
fn too_large_is_rejected_under_both_policies() {
    for policy in [OverflowPolicy::RejectNew, OverflowPolicy::DropOldest] {
        let mut buffer = MessageBuffer::new(10, Some(8), policy);
        buffer.push(String::from("abc")).unwrap();
        let err = buffer.push("x".repeat(9)).unwrap_err();
        assert_eq!(err.reason(), FullReason::TooLarge);
        assert_eq!(
            buffer.len(),
            1,
            "{policy:?} must not evict for a hopeless item"
        );
        assert_eq!(buffer.bytes(), 3);
    }
}

#[test]
fn drop_oldest_evicts_for_count() {
    let mut buffer = MessageBuffer::new(2, None, OverflowPolicy::DropOldest);
    buffer.push("a").unwrap();
    buffer.push("b").unwrap();
    assert_eq!(buffer.push("c").unwrap(), ["a"]);
    assert_eq!(buffer.iter().copied().collect::<Vec<_>>(), ["b", "c"]);
}

#[test]
fn drop_oldest_evicts_just_enough_for_bytes() {
    let mut buffer = MessageBuffer::new(10, Some(10), OverflowPolicy::DropOldest);
    buffer.push(msg(0, 3)).unwrap();
    buffer.push(msg(1, 3)).unwrap();
    buffer.push(msg(2, 3)).unwrap();
    // 9 bytes held; 6 more need 5 freed: the two oldest go, the third stays.
    let evicted = buffer.push(msg(3, 6)).unwrap();
    assert_eq!(evicted, [msg(0, 3), msg(1, 3)]);
    assert_eq!(
        buffer.iter().copied().collect::<Vec<_>>(),
        [msg(2, 3), msg(3, 6)]
    );
    assert_eq!(buffer.bytes(), 9);
}

#[test]
fn zero_capacity_rejects_everything() {
    for policy in [OverflowPolicy::RejectNew, OverflowPolicy::DropOldest] {
        let mut buffer = MessageBuffer::new(0, None, policy);
        assert_eq!(buffer.push("a").unwrap_err().reason(), FullReason::Count);
        assert!(buffer.is_empty());
    }
}

#[test]
fn push_front_requeues_at_head_beyond_bounds() {
    let mut buffer = MessageBuffer::new(2, Some(4), OverflowPolicy::RejectNew);
    buffer.push(msg(1, 2)).unwrap();
    buffer.push(msg(2, 2)).unwrap();
    let taken = buffer.pop_front().unwrap();
    buffer.push(msg(3, 2)).unwrap();
    buffer.push_front(taken);
    assert_eq!(buffer.len(), 3);
    assert_eq!(buffer.bytes(), 6);
    assert_eq!(buffer.front(), Some(&msg(1, 2)));
    assert_eq!(
        buffer.push(msg(4, 1)).unwrap_err().reason(),
        FullReason::Count
    );
    let order: Vec<usize> = buffer.drain().map(|m| m.id).collect();
    assert_eq!(order, [1, 2, 3]);
}

#[test]
fn drop_oldest_after_push_front_returns_within_bounds() {
    let mut buffer = MessageBuffer::new(2, None, OverflowPolicy::DropOldest);
    buffer.push("a").unwrap();
    buffer.push("b").unwrap();
    buffer.push_front("z");
    assert_eq!(buffer.push("c").unwrap(), ["z", "a"]);
    assert_eq!(buffer.len(), 2);
}

#[test]
fn from_config_uses_buffer_settings() {
    let config = crate::ResiliencyConfig::builder()
        .message_buffer_size(7)
        .message_buffer_bytes(Some(99))
        .overflow_policy(OverflowPolicy::DropOldest)
        .build()
        .unwrap();
    let buffer: MessageBuffer<String> = MessageBuffer::from_config(&config);
    assert_eq!(buffer.max_len(), 7);
    assert_eq!(buffer.max_bytes(), Some(99));
    assert_eq!(buffer.policy(), OverflowPolicy::DropOldest);
    assert!(buffer.is_empty());
}

#[test]
fn borrowed_iteration_is_oldest_first() {
    let mut buffer = MessageBuffer::new(4, None, OverflowPolicy::RejectNew);
    buffer.push(String::from("x")).unwrap();
    buffer.push(String::from("y")).unwrap();
    let seen: Vec<&str> = (&buffer).into_iter().map(String::as_str).collect();
    assert_eq!(seen, ["x", "y"]);
}

#[derive(Debug, Clone)]
enum Op {
    Push(usize),
    Pop,
    Drain,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![
            6 => (0usize..40).prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => Just(Op::Drain),
        ],
        0..120,
    )
}

fn policy() -> impl Strategy<Value = OverflowPolicy> {
    prop_oneof![
        Just(OverflowPolicy::RejectNew),
        Just(OverflowPolicy::DropOldest)
    ]
}

proptest! {
    /// Items leave only from the front, so (everything accepted, in push order)
    /// must equal (everything that left, in event order) followed by (what is
    /// still buffered); and every pushed id is either accepted or rejected.
    #[test]
    fn fifo_bounded_and_nothing_lost(
        max_len in 0usize..8,
        max_bytes in proptest::option::of(0usize..100),
        policy in policy(),
        ops in ops(),
    ) {
        let mut buffer = MessageBuffer::new(max_len, max_bytes, policy);
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut departed = Vec::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Op::Push(len) => {
                    let item = msg(next_id, len);
                    next_id += 1;
                    let (len_before, bytes_before) = (buffer.len(), buffer.bytes());
                    let held: Vec<Msg> = buffer.iter().copied().collect();
                    match buffer.push(item) {
                        Ok(evicted) => {
                            if policy == OverflowPolicy::RejectNew {
                                prop_assert!(evicted.is_empty());
                            }
                            // Evicted items are exactly the oldest, and no more than needed.
                            prop_assert_eq!(&evicted[..], &held[..evicted.len()]);
                            if let Some(last) = evicted.len().checked_sub(1) {
                                let kept_len = len_before - last;
                                let kept_bytes: usize =
                                    bytes_before - held[..last].iter().map(|m| m.len).sum::<usize>();
                                let would_fit = kept_len < max_len
                                    && max_bytes.map_or(true, |m| kept_bytes + len <= m);
                                prop_assert!(!would_fit, "evicted one more than needed");
                            }
                            accepted.push(item.id);
                            departed.extend(evicted.iter().map(|m| m.id));
                        }
                        Err(full) => {
                            prop_assert_eq!(*full.item(), item);
                            match full.reason() {
                                FullReason::Count => prop_assert!(
                                    max_len == 0
                                        || (policy == OverflowPolicy::RejectNew && len_before >= max_len)
                                ),
                                FullReason::Bytes => {
                                    prop_assert_eq!(policy, OverflowPolicy::RejectNew);
                                    prop_assert!(bytes_before + len > max_bytes.unwrap());
                                }
                                FullReason::TooLarge => prop_assert!(len > max_bytes.unwrap()),
                            }
                            prop_assert_eq!(buffer.len(), len_before);
                            prop_assert_eq!(buffer.bytes(), bytes_before);
                            rejected.push(full.into_inner().id);
                        }
                    }
                }
                Op::Pop => departed.extend(buffer.pop_front().map(|m| m.id)),
                Op::Drain => departed.extend(buffer.drain().map(|m| m.id)),
            }
            prop_assert!(buffer.len() <= max_len);
            if let Some(max) = max_bytes {
                prop_assert!(buffer.bytes() <= max);
            }
            prop_assert_eq!(buffer.bytes(), buffer.iter().map(|m| m.len).sum::<usize>());
        }
        let mut out = departed.clone();
        out.extend(buffer.iter().map(|m| m.id));
        prop_assert_eq!(&out, &accepted);
        let mut all: Vec<usize> = accepted.iter().chain(&rejected).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..next_id).collect::<Vec<_>>());
    }

    /// Under RejectNew the buffer keeps the older messages: without pops, the
    /// first `max_len` pushes succeed and every later one fails.
    #[test]
    fn reject_new_keeps_the_oldest(max_len in 1usize..10, n in 0usize..30) {
        let mut buffer = MessageBuffer::new(max_len, None, OverflowPolicy::RejectNew);
        let results: Vec<bool> = (0..n).map(|i| buffer.push(msg(i, 1)).is_ok()).collect();
        let expected: Vec<bool> = (0..n).map(|i| i < max_len).collect();
        prop_assert_eq!(results, expected);
        let kept: Vec<usize> = buffer.iter().map(|m| m.id).collect();
        prop_assert_eq!(kept, (0..n.min(max_len)).collect::<Vec<_>>());
    }
}

#[test]
fn for_each_mut_keeps_order_and_recounts_bytes() {
    let mut buffer = MessageBuffer::new(4, Some(100), OverflowPolicy::RejectNew);
    for word in ["a", "bb", "ccc"] {
        buffer.push(word.to_owned()).unwrap();
    }
    buffer.for_each_mut(|item| item.push('!'));
    assert_eq!(buffer.bytes(), 9);
    let drained: Vec<_> = buffer.drain().collect();
    assert_eq!(drained, ["a!", "bb!", "ccc!"]);
}

#[test]
fn push_without_eviction_refuses_instead_of_evicting() {
    let mut buffer = MessageBuffer::new(2, Some(10), OverflowPolicy::DropOldest);
    buffer.push_without_eviction("aaaa").expect("room");
    buffer.push_without_eviction("bbbb").expect("room");
    let refused = buffer
        .push_without_eviction("c")
        .expect_err("full by count");
    assert_eq!(
        (refused.reason(), refused.into_inner()),
        (FullReason::Count, "c")
    );
    assert_eq!(buffer.iter().copied().collect::<Vec<_>>(), ["aaaa", "bbbb"]);
    let mut by_bytes = MessageBuffer::new(5, Some(6), OverflowPolicy::DropOldest);
    by_bytes.push_without_eviction("aaaa").expect("room");
    let refused = by_bytes
        .push_without_eviction("bbb")
        .expect_err("full by bytes");
    assert_eq!(refused.reason(), FullReason::Bytes);
    let refused = by_bytes
        .push_without_eviction("0123456")
        .expect_err("too large");
    assert_eq!(refused.reason(), FullReason::TooLarge);
    assert_eq!(by_bytes.len(), 1);
}
