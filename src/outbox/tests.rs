use proptest::prelude::*;

use super::Outbox;
use crate::{BufferItem, DeliveryMode, OverflowPolicy, ResiliencyConfig};

/// A message with an identity, so that each one can be followed.
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

/// How a message left the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Refused,
    Evicted,
    Confirmed,
    /// At-most-once: its link died first.
    Unconfirmed,
    /// Still held when the connection ended.
    HandedBack,
}

#[derive(Debug, Clone)]
enum Op {
    Accept(usize),
    Write(usize),
    FailWrite,
    Ping,
    Pong(usize),
    LoseLink,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0_usize..20).prop_map(Op::Accept),
        4 => (1_usize..6).prop_map(Op::Write),
        1 => Just(Op::FailWrite),
        2 => Just(Op::Ping),
        2 => (0_usize..4).prop_map(Op::Pong),
        1 => Just(Op::LoseLink),
    ]
}

fn config(at_least_once: bool, drop_oldest: bool, size: usize, window: usize) -> ResiliencyConfig {
    ResiliencyConfig::builder()
        .message_buffer_size(size)
        .message_buffer_bytes(Some(64))
        .unconfirmed_window(window)
        .overflow_policy(if drop_oldest {
            OverflowPolicy::DropOldest
        } else {
            OverflowPolicy::RejectNew
        })
        .delivery(if at_least_once {
            DeliveryMode::AtLeastOnce
        } else {
            DeliveryMode::AtMostOnce
        })
        .build()
        .expect("valid test configuration")
}

/// Records an outcome, failing if the message already had one.
fn settle(
    outcomes: &mut [Option<Outcome>],
    id: usize,
    outcome: Outcome,
) -> Result<(), TestCaseError> {
    prop_assert!(
        outcomes[id].is_none(),
        "message {} left twice: {:?} then {:?}",
        id,
        outcomes[id],
        outcome
    );
    outcomes[id] = Some(outcome);
    Ok(())
}

proptest! {
    /// Every accepted message ends in exactly one outcome; first writes happen in send
    /// order; confirmations come in write order; nothing is both confirmed and handed
    /// back; resends happen only in at-least-once mode, and only after a lost link.
    #[test]
    fn every_message_ends_exactly_once_and_in_order(
        at_least_once in any::<bool>(),
        drop_oldest in any::<bool>(),
        size in 1_usize..6,
        window in 1_usize..6,
        ops in prop::collection::vec(op(), 0..200),
    ) {
        let mut outbox: Outbox<Msg> = Outbox::from_config(&config(at_least_once, drop_oldest, size, window));
        let mut outcomes: Vec<Option<Outcome>> = Vec::new();
        let mut first_writes: Vec<usize> = Vec::new();
        let mut written_once = std::collections::HashSet::new();
        let mut pings: Vec<u64> = Vec::new();
        let mut last_confirmed: Option<usize> = None;
        for op in ops {
            match op {
                Op::Accept(len) => {
                    let msg = Msg { id: outcomes.len(), len };
                    outcomes.push(None);
                    match outbox.accept(msg) {
                        Ok(evicted) => {
                            for old in evicted {
                                prop_assert!(drop_oldest);
                                settle(&mut outcomes, old.id, Outcome::Evicted)?;
                            }
                        }
                        Err(full) => {
                            prop_assert_eq!(full.into_inner(), msg);
                            settle(&mut outcomes, msg.id, Outcome::Refused)?;
                        }
                    }
                }
                Op::Write(n) => {
                    for _ in 0..n {
                        let Some(next) = outbox.next_to_write() else { break };
                        let id = next.item().id;
                        if next.is_resend() {
                            prop_assert!(at_least_once, "resend in at-most-once mode");
                            prop_assert!(written_once.contains(&id), "resend of a message never written");
                        } else {
                            prop_assert!(written_once.insert(id), "first write twice");
                            first_writes.push(id);
                        }
                        outbox.written(next);
                    }
                }
                Op::FailWrite => {
                    if let Some(next) = outbox.next_to_write() {
                        let id = next.item().id;
                        outbox.unwritten(next);
                        prop_assert_eq!(outbox.iter_buffered().next().map(|m| m.id), Some(id));
                    }
                }
                Op::Ping => pings.push(outbox.checkpoint()),
                Op::Pong(pick) => {
                    if !pings.is_empty() {
                        let id = pings[pick % pings.len()];
                        for msg in outbox.confirmed_up_to(id) {
                            if let Some(last) = last_confirmed {
                                prop_assert!(msg.id > last, "confirmed out of order");
                            }
                            last_confirmed = Some(msg.id);
                            settle(&mut outcomes, msg.id, Outcome::Confirmed)?;
                        }
                    }
                }
                Op::LoseLink => {
                    let unconfirmed = outbox.unconfirmed();
                    let lost = outbox.link_lost();
                    prop_assert_eq!(lost.unconfirmed, unconfirmed);
                    prop_assert_eq!(outbox.unconfirmed(), 0);
                    if at_least_once {
                        prop_assert!(lost.handed_back.is_empty());
                    } else {
                        prop_assert_eq!(lost.handed_back.len(), unconfirmed);
                    }
                    for msg in lost.handed_back {
                        settle(&mut outcomes, msg.id, Outcome::Unconfirmed)?;
                    }
                    pings.clear();
                }
            }
            // Held messages have no outcome yet; the others all have one.
            let held: Vec<usize> = outbox.iter_buffered().map(|m| m.id).collect();
            for id in &held {
                prop_assert!(outcomes[*id].is_none(), "buffered message {} already left", id);
            }
            let open = outcomes.iter().filter(|o| o.is_none()).count();
            prop_assert_eq!(open, outbox.buffered() + outbox.unconfirmed());
            prop_assert!(outbox.outstanding_checkpoints() <= outbox.unconfirmed() + 1);
        }
        let held = outbox.buffered() + outbox.unconfirmed();
        let all = outbox.hand_back_all();
        prop_assert_eq!(all.len(), held);
        let handed: Vec<usize> = all.unconfirmed.iter().chain(&all.buffered).map(|m| m.id).collect();
        for id in handed {
            settle(&mut outcomes, id, Outcome::HandedBack)?;
        }
        prop_assert!(outbox.is_empty());
        prop_assert!(outcomes.iter().all(Option::is_some), "a message without an outcome");
        // First writes follow send order.
        prop_assert!(first_writes.windows(2).all(|w| w[0] < w[1]), "written out of order: {:?}", first_writes);
    }
}

#[test]
fn hand_back_all_returns_unconfirmed_then_buffered() {
    let mut outbox: Outbox<Msg> = Outbox::from_config(&config(false, false, 4, 4));
    for id in 0..3 {
        outbox.accept(Msg { id, len: 1 }).expect("room");
    }
    let next = outbox.next_to_write().expect("buffered");
    outbox.written(next);
    let all = outbox.hand_back_all();
    assert_eq!(all.unconfirmed, [Msg { id: 0, len: 1 }]);
    assert_eq!(all.buffered, [Msg { id: 1, len: 1 }, Msg { id: 2, len: 1 }]);
    assert!(outbox.is_empty());
}

#[test]
fn a_full_window_stops_the_writer_until_a_confirmation() {
    let mut outbox: Outbox<Msg> = Outbox::from_config(&config(false, false, 4, 2));
    for id in 0..3 {
        outbox.accept(Msg { id, len: 1 }).expect("room");
    }
    for _ in 0..2 {
        let next = outbox.next_to_write().expect("room in the window");
        outbox.written(next);
    }
    assert!(outbox.wants_checkpoint());
    assert!(!outbox.has_writable());
    assert!(outbox.next_to_write().is_none());
    let ping = outbox.checkpoint();
    assert_eq!(outbox.confirmed_up_to(ping).len(), 2);
    assert!(outbox.has_writable());
}

#[test]
fn a_flush_asks_for_a_ping_only_while_no_earlier_one_is_unanswered() {
    let mut outbox: Outbox<Msg> = Outbox::from_config(&config(false, false, 16, 8));
    assert!(!outbox.wants_flush_checkpoint(), "nothing written");
    for id in 0..3 {
        outbox.accept(Msg { id, len: 1 }).expect("room");
    }
    let next = outbox.next_to_write().expect("buffered");
    outbox.written(next);
    assert!(outbox.wants_flush_checkpoint());
    let ping = outbox.checkpoint();
    assert!(!outbox.wants_flush_checkpoint(), "covered by the ping");
    let next = outbox.next_to_write().expect("buffered");
    outbox.written(next);
    assert!(
        !outbox.wants_flush_checkpoint(),
        "the first ping is not answered yet"
    );
    assert_eq!(outbox.confirmed_up_to(ping).len(), 1);
    assert!(
        outbox.wants_flush_checkpoint(),
        "answered: the next flush pings"
    );
}

#[test]
fn restored_messages_come_first_in_order_as_resends() {
    let mut outbox: Outbox<Msg> = Outbox::from_config(&config(false, false, 2, 4));
    outbox.accept(Msg { id: 9, len: 1 }).expect("room");
    // More than the buffer holds: restoring ignores the bounds.
    outbox.restore(vec![
        Msg { id: 0, len: 1 },
        Msg { id: 1, len: 1 },
        Msg { id: 2, len: 1 },
    ]);
    assert_eq!(outbox.buffered(), 4);
    let mut order = Vec::new();
    while let Some(next) = outbox.next_to_write() {
        order.push((next.item().id, next.is_resend()));
        outbox.written(next);
    }
    assert_eq!(order, [(0, true), (1, true), (2, true), (9, false)]);
}

#[test]
fn take_buffered_where_removes_only_the_chosen_and_keeps_the_order() {
    let mut outbox: Outbox<Msg> = Outbox::from_config(&config(false, false, 8, 4));
    for id in 0..5 {
        outbox.accept(Msg { id, len: 2 }).expect("room");
    }
    let taken = outbox.take_buffered_where(|msg| msg.id % 2 == 1);
    assert_eq!(taken, [Msg { id: 1, len: 2 }, Msg { id: 3, len: 2 }]);
    assert_eq!(outbox.buffered(), 3);
    assert_eq!(outbox.buffered_bytes(), 6);
    let ids: Vec<usize> = outbox.iter_buffered().map(|msg| msg.id).collect();
    assert_eq!(ids, [0, 2, 4]);
}
