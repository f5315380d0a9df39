use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::ConnectionState::{self, *};
use super::{StateMachine, Transition, TransitionError};

const ALL: [ConnectionState; 6] = [
    Disconnected,
    Connecting,
    Connected,
    Reconnecting,
    Closed,
    Failed,
];

#[test]
fn legal_transitions_are_exactly_the_documented_ones() {
    let legal = [
        (Disconnected, Connecting),
        (Disconnected, Reconnecting),
        (Disconnected, Closed),
        (Disconnected, Failed),
        (Connecting, Connected),
        (Connecting, Disconnected),
        (Connecting, Closed),
        (Connecting, Failed),
        (Connected, Disconnected),
        (Connected, Closed),
        (Connected, Failed),
        (Reconnecting, Connecting),
        (Reconnecting, Closed),
        (Reconnecting, Failed),
    ];
    for from in ALL {
        for to in ALL {
            assert_eq!(
                from.can_transition_to(to),
                legal.contains(&(from, to)),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn predicates_and_display() {
    let terminal: Vec<_> = ALL.into_iter().filter(|s| s.is_terminal()).collect();
    assert_eq!(terminal, [Closed, Failed]);
    let connected: Vec<_> = ALL.into_iter().filter(|s| s.is_connected()).collect();
    assert_eq!(connected, [Connected]);
    let names: Vec<String> = ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "disconnected",
            "connecting",
            "connected",
            "reconnecting",
            "closed",
            "failed"
        ]
    );
}

fn at(start: Instant, secs: u64) -> Instant {
    start + Duration::from_secs(secs)
}

/// One full failed cycle: Disconnected → Reconnecting → Connecting → Disconnected.
fn failed_attempt(sm: &mut StateMachine, now: Instant) -> Result<(), TransitionError> {
    sm.transition(Reconnecting, now)?;
    sm.transition(Connecting, now)?;
    sm.transition(Disconnected, now)?;
    Ok(())
}

#[test]
fn reference_5_transition_sequence() {
    let mut sm = StateMachine::new(None, Duration::ZERO);
    let now = Instant::now();
    assert_eq!(sm.state(), Disconnected);
    let steps = [Connecting, Connected, Disconnected, Reconnecting];
    let transitions: Vec<Transition> = steps
        .into_iter()
        .map(|to| sm.transition(to, now).unwrap())
        .collect();
    assert_eq!(
        transitions.last(),
        Some(&Transition {
            from: Disconnected,
            to: Reconnecting,
            attempt: 1
        })
    );
    assert_eq!(sm.state(), Reconnecting);
    assert_eq!(sm.attempts(), 1);
}

#[test]
fn reference_6_attempt_limit() {
    let now = Instant::now();
    let mut sm = StateMachine::new(Some(3), Duration::ZERO);
    for made in 0..3 {
        assert_eq!(sm.attempts(), made);
        assert!(sm.should_reconnect(), "refused after {made} attempts");
        failed_attempt(&mut sm, now).unwrap();
    }
    assert_eq!(sm.attempts(), 3);
    assert!(!sm.should_reconnect());
    assert_eq!(
        sm.transition(Reconnecting, now),
        Err(TransitionError::AttemptsExhausted {
            attempts: 3,
            max: 3
        })
    );

    let mut unlimited = StateMachine::new(None, Duration::ZERO);
    for _ in 0..100 {
        failed_attempt(&mut unlimited, now).unwrap();
    }
    assert_eq!(unlimited.attempts(), 100);
    assert!(unlimited.should_reconnect());
}

#[test]
fn zero_max_attempts_never_reconnects() {
    let mut sm = StateMachine::new(Some(0), Duration::ZERO);
    assert!(!sm.should_reconnect());
    assert!(matches!(
        sm.transition(Reconnecting, Instant::now()),
        Err(TransitionError::AttemptsExhausted {
            attempts: 0,
            max: 0
        })
    ));
}

#[test]
fn exhausted_refusal_changes_nothing_and_failed_is_reachable() {
    let now = Instant::now();
    let mut sm = StateMachine::new(Some(1), Duration::ZERO);
    failed_attempt(&mut sm, now).unwrap();
    assert!(sm.transition(Reconnecting, now).is_err());
    assert_eq!((sm.state(), sm.attempts()), (Disconnected, 1));
    let t = sm.transition(Failed, now).unwrap();
    assert_eq!((t.from, t.to, t.attempt), (Disconnected, Failed, 1));
}

#[test]
fn illegal_transition_is_refused_without_change() {
    let now = Instant::now();
    let mut sm = StateMachine::new(None, Duration::ZERO);
    assert_eq!(
        sm.transition(Connected, now),
        Err(TransitionError::Illegal {
            from: Disconnected,
            to: Connected
        })
    );
    assert_eq!(sm.state(), Disconnected);
    sm.transition(Closed, now).unwrap();
    for to in ALL {
        assert!(sm.transition(to, now).is_err());
        assert_eq!(sm.state(), Closed);
    }
}

#[test]
fn zero_stable_uptime_resets_on_connect() {
    let now = Instant::now();
    let mut sm = StateMachine::new(None, Duration::ZERO);
    failed_attempt(&mut sm, now).unwrap();
    failed_attempt(&mut sm, now).unwrap();
    sm.transition(Reconnecting, now).unwrap();
    sm.transition(Connecting, now).unwrap();
    assert_eq!(sm.attempts(), 3);
    let t = sm.transition(Connected, now).unwrap();
    assert_eq!(t.attempt, 0);
}

#[test]
fn short_connection_keeps_counting_attempts() {
    let start = Instant::now();
    let mut sm = StateMachine::new(None, Duration::from_secs(5));
    failed_attempt(&mut sm, start).unwrap();
    sm.transition(Reconnecting, start).unwrap();
    sm.transition(Connecting, start).unwrap();
    sm.transition(Connected, at(start, 1)).unwrap();
    assert_eq!(sm.attempts(), 2, "connecting alone must not reset");
    sm.transition(Disconnected, at(start, 5)).unwrap(); // up 4 s < 5 s
    assert_eq!(sm.attempts(), 2);
    assert_eq!(
        sm.transition(Reconnecting, at(start, 5)).unwrap().attempt,
        3
    );
}

#[test]
fn stable_connection_resets_on_leaving() {
    let start = Instant::now();
    let mut sm = StateMachine::new(Some(2), Duration::from_secs(5));
    sm.transition(Reconnecting, start).unwrap();
    sm.transition(Connecting, start).unwrap();
    sm.transition(Connected, start).unwrap();
    assert_eq!(sm.attempts(), 1);
    let t = sm.transition(Disconnected, at(start, 5)).unwrap(); // exactly stable_uptime
    assert_eq!(t.attempt, 0);
    assert_eq!(sm.connected_since(), None);
}

#[test]
fn refresh_resets_only_after_stable_uptime_while_connected() {
    let start = Instant::now();
    let mut sm = StateMachine::new(None, Duration::from_secs(5));
    sm.transition(Reconnecting, start).unwrap();
    sm.refresh(at(start, 100)); // not connected: no effect
    assert_eq!(sm.attempts(), 1);
    sm.transition(Connecting, start).unwrap();
    sm.transition(Connected, at(start, 10)).unwrap();
    assert_eq!(sm.connected_since(), Some(at(start, 10)));
    sm.refresh(at(start, 14));
    assert_eq!(sm.attempts(), 1);
    sm.refresh(at(start, 15));
    assert_eq!(sm.attempts(), 0);
}

#[test]
fn clock_going_backwards_does_not_panic_or_reset() {
    let start = Instant::now();
    let mut sm = StateMachine::new(None, Duration::from_secs(5));
    sm.transition(Reconnecting, at(start, 10)).unwrap();
    sm.transition(Connecting, at(start, 10)).unwrap();
    sm.transition(Connected, at(start, 10)).unwrap();
    sm.refresh(start);
    sm.transition(Disconnected, start).unwrap();
    assert_eq!(sm.attempts(), 1);
}

#[test]
fn from_config_takes_limits() {
    let config = crate::ResiliencyConfig::builder()
        .max_reconnect_attempts(Some(4))
        .stable_uptime(Duration::from_secs(9))
        .build()
        .unwrap();
    let sm = StateMachine::from_config(&config);
    assert_eq!(sm.max_attempts(), Some(4));
    assert_eq!(sm.stable_uptime(), Duration::from_secs(9));
    assert_eq!((sm.state(), sm.attempts()), (Disconnected, 0));
    assert_eq!(sm.connected_since(), None);
}

#[test]
fn error_messages() {
    assert_eq!(
        TransitionError::Illegal {
            from: Closed,
            to: Connecting
        }
        .to_string(),
        "illegal connection state transition from closed to connecting"
    );
    assert_eq!(
        TransitionError::AttemptsExhausted {
            attempts: 3,
            max: 3
        }
        .to_string(),
        "reconnect attempts exhausted (3 of 3 used)"
    );
}

fn state() -> impl Strategy<Value = ConnectionState> {
    proptest::sample::select(ALL.to_vec())
}

proptest! {
    #[test]
    fn arbitrary_sequences_keep_invariants(
        max in proptest::option::of(0u32..6),
        stable_secs in 0u64..4,
        steps in proptest::collection::vec((state(), 0u64..3), 0..200),
    ) {
        let start = Instant::now();
        let mut elapsed = 0;
        let mut sm = StateMachine::new(max, Duration::from_secs(stable_secs));
        for (to, advance) in steps {
            elapsed += advance;
            let now = at(start, elapsed);
            let (from, before) = (sm.state(), sm.attempts());
            match sm.transition(to, now) {
                Ok(t) => {
                    prop_assert!(from.can_transition_to(to));
                    prop_assert!(!from.is_terminal());
                    prop_assert_eq!(t, Transition { from, to, attempt: sm.attempts() });
                    prop_assert_eq!(sm.state(), to);
                    // The counter only grows by one on Reconnecting, or resets.
                    if to == Reconnecting {
                        prop_assert_eq!(sm.attempts(), before + 1);
                    } else {
                        prop_assert!(sm.attempts() == before || sm.attempts() == 0);
                    }
                    prop_assert_eq!(sm.connected_since().is_some(), to == Connected);
                }
                Err(TransitionError::Illegal { from: f, to: t }) => {
                    prop_assert_eq!((f, t), (from, to));
                    prop_assert!(!from.can_transition_to(to));
                    prop_assert_eq!((sm.state(), sm.attempts()), (from, before));
                }
                Err(TransitionError::AttemptsExhausted { attempts, max: m }) => {
                    prop_assert_eq!(to, Reconnecting);
                    prop_assert_eq!(Some(m), max);
                    prop_assert_eq!(attempts, before);
                    prop_assert!(before >= m);
                    prop_assert_eq!((sm.state(), sm.attempts()), (from, before));
                }
            }
            if let Some(m) = max {
                prop_assert!(sm.attempts() <= m);
            }
            if from.is_terminal() {
                prop_assert_eq!(sm.state(), from);
            }
        }
    }
}

#[test]
fn reopen_leaves_a_terminal_state_with_attempts_reset() {
    let now = Instant::now();
    let mut sm = StateMachine::new(Some(1), Duration::ZERO);
    assert!(matches!(sm.reopen(), Err(TransitionError::Illegal { .. })));
    sm.transition(Reconnecting, now).unwrap();
    sm.transition(Failed, now).unwrap();
    assert_eq!(sm.attempts(), 1);
    let reopened = sm.reopen().unwrap();
    assert_eq!(
        (reopened.from, reopened.to, reopened.attempt),
        (Failed, Disconnected, 0)
    );
    assert_eq!((sm.state(), sm.attempts()), (Disconnected, 0));
    assert!(sm.should_reconnect());
    sm.transition(Connecting, now).unwrap();
    sm.transition(Closed, now).unwrap();
    assert_eq!(sm.reopen().unwrap().from, Closed);
}

#[test]
fn a_requested_reconnect_is_not_an_attempt_and_ignores_the_limit() {
    let start = Instant::now();
    let mut sm = StateMachine::new(Some(2), Duration::from_secs(60));
    failed_attempt(&mut sm, start).unwrap();
    failed_attempt(&mut sm, start).unwrap();
    assert_eq!(sm.attempts(), 2);
    assert!(!sm.should_reconnect(), "both attempts used");
    let transition = sm.reconnect_on_request().unwrap();
    assert_eq!(
        (transition.from, transition.to, transition.attempt),
        (
            ConnectionState::Disconnected,
            ConnectionState::Reconnecting,
            2
        )
    );
    assert_eq!(sm.attempts(), 2, "not counted");
    // Only from Disconnected, like any entry into Reconnecting.
    sm.transition(ConnectionState::Connecting, start).unwrap();
    assert_eq!(
        sm.reconnect_on_request(),
        Err(TransitionError::Illegal {
            from: ConnectionState::Connecting,
            to: ConnectionState::Reconnecting
        })
    );
    assert_eq!(sm.state(), ConnectionState::Connecting);
}
