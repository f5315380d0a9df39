use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{Choice, Rotation};

fn rotation(count: usize) -> Rotation {
    Rotation::new(NonZeroUsize::new(count).expect("non-zero"))
}

#[test]
fn one_endpoint_completes_a_cycle_on_every_failure() {
    let mut one = rotation(1);
    let now = Instant::now();
    for step in 0..5 {
        let choice = one.advance(now).expect("alive");
        assert_eq!(
            choice,
            Choice {
                index: 0,
                cycle: Some(step),
                not_before: None
            }
        );
    }
    one.reset_cycles();
    assert_eq!(one.advance(now).and_then(|c| c.cycle), Some(0));
}

#[test]
fn failover_is_immediate_within_a_cycle() {
    let mut three = rotation(3);
    let now = Instant::now();
    let picks: Vec<_> = (0..6)
        .map(|_| three.advance(now).expect("alive"))
        .map(|choice| (choice.index, choice.cycle))
        .collect();
    assert_eq!(
        picks,
        [
            (1, None),
            (2, None),
            (0, Some(0)),
            (1, None),
            (2, None),
            (0, Some(1))
        ]
    );
}

#[test]
fn dead_endpoints_are_skipped_and_the_last_one_ends_the_rotation() {
    let mut three = rotation(3);
    let now = Instant::now();
    three.mark_dead(1);
    assert_eq!(three.advance(now).map(|c| c.index), Some(2));
    three.mark_dead(2);
    assert!(!three.all_dead());
    let back = three.advance(now).expect("0 is alive");
    assert_eq!((back.index, back.cycle), (0, Some(0)));
    three.mark_dead(0);
    assert!(three.all_dead());
    assert_eq!(three.advance(now), None);
    assert_eq!(three.current(), 0, "the last endpoint stays current");
}

#[test]
fn a_held_endpoint_is_skipped_while_another_is_ready() {
    let mut two = rotation(2);
    let now = Instant::now();
    two.hold_until(1, now + Duration::from_secs(30));
    let choice = two.advance(now).expect("alive");
    assert_eq!((choice.index, choice.not_before), (0, None));
    // Every live endpoint held back: the one free soonest, with what is left.
    two.hold_until(0, now + Duration::from_secs(40));
    let choice = two.advance(now + Duration::from_secs(10)).expect("alive");
    assert_eq!(choice.index, 1);
    assert_eq!(choice.not_before, Some(Duration::from_secs(20)));
    // Once its time has come the hold is forgotten.
    let later = now + Duration::from_secs(45);
    assert_eq!(two.advance(later).map(|c| c.not_before), Some(None));
    assert_eq!(two.advance(later).map(|c| c.not_before), Some(None));
}

#[test]
fn out_of_range_indices_are_ignored() {
    let mut two = rotation(2);
    two.mark_dead(7);
    two.hold_until(7, Instant::now());
    assert!(!two.is_dead(7));
    assert!(!two.all_dead());
    assert_eq!(two.len(), 2);
    assert!(!two.is_empty());
}

proptest! {
    /// Whatever fails and however: a dead endpoint is never chosen, the rotation ends
    /// exactly when every endpoint is dead, and with nothing held back a cycle ends at
    /// most once per live endpoint visited.
    #[test]
    fn never_a_dead_endpoint_and_cycles_follow_the_list(
        count in 1usize..6,
        steps in prop::collection::vec((0usize..8, any::<bool>(), 0u64..3), 1..60),
    ) {
        let mut rotation = rotation(count);
        let start = Instant::now();
        let mut dead = vec![false; count];
        let mut cycles = 0u32;
        for (n, (target, kill, hold)) in steps.into_iter().enumerate() {
            let now = start + Duration::from_secs(n as u64);
            let index = target % count;
            if kill {
                rotation.mark_dead(index);
                dead[index] = true;
            } else if hold > 0 {
                rotation.hold_until(index, now + Duration::from_secs(hold));
            }
            let before = rotation.current();
            match rotation.advance(now) {
                None => {
                    prop_assert!(dead.iter().all(|&d| d));
                    prop_assert!(rotation.all_dead());
                    return Ok(());
                }
                Some(choice) => {
                    prop_assert!(!dead[choice.index]);
                    prop_assert_eq!(rotation.current(), choice.index);
                    prop_assert_eq!(choice.cycle.is_some(), choice.index <= before);
                    if let Some(cycle) = choice.cycle {
                        prop_assert_eq!(cycle, cycles);
                        cycles += 1;
                    }
                    if let Some(wait) = choice.not_before {
                        prop_assert!(wait <= Duration::from_secs(2));
                    }
                }
            }
        }
    }

    /// With no failure final and nothing held back, every live endpoint is visited in
    /// list order and each full pass is one cycle.
    #[test]
    fn plain_failures_visit_every_endpoint_in_order(count in 1usize..8, rounds in 1usize..4) {
        let mut rotation = rotation(count);
        let now = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..count * rounds {
            seen.push(rotation.advance(now).expect("alive"));
        }
        for (n, choice) in seen.iter().enumerate() {
            prop_assert_eq!(choice.index, (n + 1) % count);
            let completes = (n + 1) % count == 0;
            prop_assert_eq!(choice.cycle, completes.then(|| ((n + 1) / count - 1) as u32));
        }
    }
}

#[test]
fn revive_forgets_every_failure_and_starts_over_at_the_first() {
    let mut two = rotation(2);
    let now = Instant::now();
    two.hold_until(1, now + Duration::from_secs(60));
    two.mark_dead(0);
    assert_eq!(two.advance(now).map(|choice| choice.index), Some(1));
    two.mark_dead(1);
    assert!(two.all_dead());
    two.revive();
    assert!(!two.all_dead());
    assert_eq!(two.current(), 0);
    let choice = two.advance(now).expect("alive again");
    assert_eq!(
        (choice.index, choice.cycle, choice.not_before),
        (1, None, None)
    );
}
