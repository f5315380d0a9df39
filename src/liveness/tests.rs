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
    link.pong_received(sent + secs(1), None);
    assert_eq!(
        link.verdict(sent + TIMEOUT, sent, true),
        Verdict::Dead,
        "data and an unsolicited pong do not prove the server answers pings"
    );
    let mut link = self::link(t0);
    let sent = link.heartbeat_due(t0 + secs(15)).expect("first ping");
    link.frame_arrived(sent + secs(1));
    link.pong_received(sent + secs(1), Some(0));
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
            link.pong_received(sent + secs(2), Some(0));
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
            answering.pong_received(sent + secs(2), Some(0));
            prop_assert_eq!(answering.verdict(sent + TIMEOUT, sent, waiting), Verdict::Alive);
        }
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Writes our next ping at `at`, carrying `checkpoint`, as the writer does.
fn write_ping(link: &mut Liveness<u32>, checkpoint: u64, at: Instant) {
    link.want_ping();
    assert_eq!(link.take_control(at), Some(Control::Ping));
    link.ping_written(checkpoint, at);
}

#[test]
fn round_trip_is_measured_from_the_ping_a_pong_answers() {
    let t0 = Instant::now();
    let mut link = link(t0);
    assert_eq!(link.round_trip(), None);
    write_ping(&mut link, 0, t0);
    assert_eq!(link.pong_received(t0 + ms(40), Some(0)), Some(ms(40)));
    let rtt = link.round_trip().expect("one sample");
    assert_eq!(
        (rtt.last, rtt.smoothed, rtt.min, rtt.samples),
        (ms(40), ms(40), ms(40), 1)
    );

    // RFC 6298: smoothed = 7/8 smoothed + 1/8 sample.
    write_ping(&mut link, 1, t0 + secs(1));
    assert_eq!(
        link.pong_received(t0 + secs(1) + ms(120), Some(1)),
        Some(ms(120))
    );
    let rtt = link.round_trip().expect("two samples");
    assert_eq!(
        (rtt.last, rtt.smoothed, rtt.min, rtt.samples),
        (ms(120), ms(50), ms(40), 2)
    );
}

#[test]
fn unsolicited_and_unknown_pongs_give_no_sample() {
    let t0 = Instant::now();
    let mut link = link(t0);
    write_ping(&mut link, 3, t0);
    assert_eq!(link.pong_received(t0 + ms(5), None), None);
    assert_eq!(link.pong_received(t0 + ms(6), Some(7)), None);
    assert_eq!(link.round_trip(), None);
}

#[test]
fn a_skipped_ping_is_dropped_and_a_repeated_checkpoint_matches_in_order() {
    let t0 = Instant::now();
    let mut link = link(t0);
    // The server answers only its latest ping: 0 goes unanswered.
    write_ping(&mut link, 0, t0);
    write_ping(&mut link, 1, t0 + ms(100));
    assert_eq!(link.pong_received(t0 + ms(130), Some(1)), Some(ms(30)));
    // A late answer to 0 no longer matches anything.
    assert_eq!(link.pong_received(t0 + ms(140), Some(0)), None);
    // Nothing written between two pings: both carry checkpoint 2, answered in order.
    write_ping(&mut link, 2, t0 + secs(1));
    write_ping(&mut link, 2, t0 + secs(2));
    assert_eq!(
        link.pong_received(t0 + secs(1) + ms(10), Some(2)),
        Some(ms(10))
    );
    assert_eq!(
        link.pong_received(t0 + secs(2) + ms(20), Some(2)),
        Some(ms(20))
    );
    assert_eq!(link.round_trip().map(|rtt| rtt.min), Some(ms(10)));
}

proptest! {
    #[test]
    fn smoothed_stays_between_the_extremes(samples in proptest::collection::vec(1u64..10_000, 1..64)) {
        let t0 = Instant::now();
        let mut link = link(t0);
        let mut at = t0;
        for (checkpoint, sample) in samples.iter().enumerate() {
            write_ping(&mut link, checkpoint as u64, at);
            at += ms(*sample);
            prop_assert_eq!(link.pong_received(at, Some(checkpoint as u64)), Some(ms(*sample)));
        }
        let rtt = link.round_trip().expect("samples were taken");
        let lo = ms(*samples.iter().min().expect("non-empty"));
        let hi = ms(*samples.iter().max().expect("non-empty"));
        prop_assert_eq!(rtt.min, lo);
        prop_assert!(rtt.smoothed >= lo && rtt.smoothed <= hi);
        prop_assert_eq!(rtt.samples, samples.len() as u64);
    }
}
