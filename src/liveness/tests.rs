use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{
    Control, Liveness, Verdict, MAX_EXCUSED_HEARTBEATS, MAX_OWED_PONGS, MIN_FRAME_PROGRESS,
};
use crate::ResiliencyConfig;

const TIMEOUT: Duration = Duration::from_secs(5);

fn config() -> ResiliencyConfig {
    ResiliencyConfig::builder()
        .heartbeat_timeout(TIMEOUT)
        .confirm_interval(Duration::from_millis(50))
        .max_read_pause(Duration::from_secs(30))
        .build()
        .expect("valid test configuration")
}

fn link(start: Instant) -> Liveness<u32> {
    Liveness::new(&config(), start)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn any_frame_after_the_ping_is_an_answer_when_nothing_waits() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    link.frame_arrived(sent + secs(1));
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Alive);
}

#[test]
fn silence_is_death() {
    let t0 = Instant::now();
    let mut link = link(t0);
    link.frame_arrived(t0 + secs(14));
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Dead);
}

#[test]
fn while_messages_wait_only_our_pong_is_an_answer() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    link.frame_arrived(sent + secs(1));
    link.pong_received(sent + secs(1), false);
    assert_eq!(
        link.verdict(sent + TIMEOUT, sent, true),
        Verdict::Dead,
        "data and an unsolicited pong do not prove the server answers pings"
    );
    let mut link = self::link(t0);
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    link.frame_arrived(sent + secs(1));
    link.pong_received(sent + secs(1), true);
    assert_eq!(link.verdict(sent + TIMEOUT, sent, true), Verdict::Alive);
}

#[test]
fn one_heartbeat_ping_at_a_time() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let sent = link.heartbeat_due(t0).expect("first ping");
    assert_eq!(
        link.heartbeat_due(t0 + secs(1)),
        None,
        "still within its timeout"
    );
    link.frame_arrived(sent + secs(1));
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Alive);
    assert!(link.heartbeat_due(t0 + secs(15)).is_some());
}

#[test]
fn every_ping_is_answered_in_order_and_owed_pongs_are_bounded() {
    let t0 = Instant::now();
    let mut link = link(t0);
    for n in 0..10 {
        assert!(link.ping_received(n));
    }
    link.want_ping();
    let written: Vec<_> = std::iter::from_fn(|| link.take_control(t0)).collect();
    let mut expected: Vec<_> = (0..10).map(Control::Pong).collect();
    expected.push(Control::Ping);
    assert_eq!(written, expected, "pongs first, each one, then our ping");

    for n in 0..(MAX_OWED_PONGS as u32 + 5) {
        link.ping_received(n);
    }
    assert_eq!(link.owed_pongs(), MAX_OWED_PONGS);
    assert_eq!(
        link.take_control(t0),
        Some(Control::Pong(5)),
        "the oldest were forgotten"
    );
}

#[test]
fn a_slow_large_frame_is_a_sign_of_life() {
    let t0 = Instant::now();
    let mut link = link(t0);
    link.frame_arriving(t0, 100);
    let sent = link.heartbeat_due(t0 + secs(1)).expect("first ping");
    link.frame_arriving(sent + secs(4), 100 + MIN_FRAME_PROGRESS);
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Alive);
}

#[test]
fn a_trickled_frame_is_not_a_sign_of_life() {
    let t0 = Instant::now();
    let mut link = link(t0);
    link.frame_arriving(t0, 100);
    let sent = link.heartbeat_due(t0 + secs(1)).expect("first ping");
    // One byte since the ping: arriving, but not progressing.
    link.frame_arriving(sent + secs(4), 101);
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Dead);
}

#[test]
fn a_frame_in_progress_excuses_a_missing_pong_only_so_often() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let mut bytes = 0;
    let mut at = t0;
    for round in 0..=MAX_EXCUSED_HEARTBEATS {
        at += secs(15);
        let sent = link.heartbeat_due(at).expect("previous ping judged");
        bytes += MIN_FRAME_PROGRESS;
        link.frame_arriving(sent + secs(1), bytes);
        let verdict = link.verdict(sent + TIMEOUT, sent, true);
        if round < MAX_EXCUSED_HEARTBEATS {
            assert_eq!(verdict, Verdict::Excused, "round {round}");
        } else {
            assert_eq!(verdict, Verdict::Dead, "round {round}: excused too often");
        }
    }
}

#[test]
fn our_pong_resets_the_excuses() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let mut at = t0;
    for round in 0..(3 * MAX_EXCUSED_HEARTBEATS) {
        at += secs(15);
        let sent = link.heartbeat_due(at).expect("previous ping judged");
        link.frame_arriving(sent + secs(1), (round as usize + 1) * MIN_FRAME_PROGRESS);
        if round % MAX_EXCUSED_HEARTBEATS == MAX_EXCUSED_HEARTBEATS - 1 {
            // The frame completed and a pong followed it.
            link.frame_arrived(sent + secs(2));
            link.pong_received(sent + secs(2), true);
        }
        assert_ne!(
            link.verdict(sent + TIMEOUT, sent, true),
            Verdict::Dead,
            "round {round}"
        );
    }
}

#[test]
fn paused_reading_is_excused_until_max_read_pause() {
    let t0 = Instant::now();
    let mut link = link(t0);
    link.reading_paused(t0);
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    assert_eq!(link.verdict(sent + TIMEOUT, sent, true), Verdict::Excused);
    let sent = link
        .heartbeat_due(t0 + secs(30))
        .expect("excused ping judged");
    assert_eq!(
        link.verdict(sent + TIMEOUT, sent, true),
        Verdict::Stalled {
            paused_for: secs(35)
        }
    );
}

#[test]
fn resumed_reading_gives_the_server_a_fresh_timeout() {
    let t0 = Instant::now();
    let mut link = link(t0);
    let sent = link.heartbeat_due(t0).expect("first ping");
    link.reading_paused(t0 + secs(1));
    link.reading_resumed(t0 + secs(2));
    assert_eq!(link.read_paused_since(), None);
    assert_eq!(link.verdict(sent + TIMEOUT, sent, false), Verdict::Alive);
}

#[test]
fn confirmation_pings_are_asked_for_at_most_once_per_interval() {
    let t0 = Instant::now();
    let mut link = link(t0);
    assert!(!link.arm_confirm(false), "nothing waits");
    assert!(link.arm_confirm(true));
    assert!(!link.arm_confirm(true), "already armed");
    assert!(link.confirm_due(t0 + Duration::from_millis(50), true));
    assert_eq!(
        link.take_control(t0 + Duration::from_millis(50)),
        Some(Control::Ping)
    );
    assert!(link.arm_confirm(true));
    assert!(
        !link.confirm_due(t0 + Duration::from_millis(60), true),
        "a ping went out within the interval"
    );
    assert!(link.arm_confirm(true));
    assert!(link.confirm_due(t0 + Duration::from_millis(120), true));
}

proptest! {
    /// Whatever happens, a link that stays silent after a ping is never judged alive,
    /// and a link whose server answers every ping is never judged dead.
    #[test]
    fn silence_and_answers_are_judged_by_the_rules(
        events in prop::collection::vec((0_u64..20_000, any::<bool>(), any::<bool>()), 1..40),
    ) {
        let t0 = Instant::now();
        let mut silent = link(t0);
        let mut answering = link(t0);
        let mut at = t0;
        for (gap_ms, waiting, data) in events {
            at += Duration::from_millis(gap_ms) + secs(15);
            if let Some(sent) = silent.heartbeat_due(at) {
                prop_assert_eq!(silent.verdict(sent + TIMEOUT, sent, waiting), Verdict::Dead);
            }
            let sent = answering.heartbeat_due(at);
            prop_assert!(sent.is_some(), "an answered ping leaves room for the next");
            let sent = sent.unwrap_or(at);
            if data {
                answering.frame_arrived(sent + secs(1));
            }
            answering.frame_arrived(sent + secs(2));
            answering.pong_received(sent + secs(2), true);
            prop_assert_eq!(answering.verdict(sent + TIMEOUT, sent, waiting), Verdict::Alive);
        }
    }
}
