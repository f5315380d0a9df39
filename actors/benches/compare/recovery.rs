//! Scenarios 4 (reconnect latency after a server restart) and 5 (dead-link detection).
//!
//! The raw awc baseline is a hand-written equivalent of what tether does: the same
//! doubling backoff (without jitter) and the same heartbeat rule (a ping per interval
//! unless one is unanswered; dead when nothing at all arrived within the timeout after
//! it). Both clients face the same server events at the same instant.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tether_actix::{ConnectionState, DisconnectReason, StateChanged};
use tokio::sync::mpsc;

use crate::clients::{raw_client, raw_connect, Probe, RawConn, PATIENCE};
use crate::report::{median, percentile, Row};
use crate::server::BenchServer;
use crate::{Outcome, Sizes};

/// What the raw client reports.
#[derive(Debug, Clone, Copy)]
enum RawEvent {
    /// Handshake done; the attempt had been scheduled for `scheduled`.
    Connected { at: Instant, scheduled: Instant },
    /// The heartbeat declared the link dead.
    Dead { at: Instant },
    /// The link ended (stream closed or failed).
    Lost,
}

#[derive(Debug, Clone, Copy)]
struct RawPolicy {
    base: Duration,
    max: Duration,
    /// (interval, timeout)
    heartbeat: Option<(Duration, Duration)>,
}

/// A raw awc client that reconnects and (optionally) runs a heartbeat, like tether.
async fn raw_resilient(url: String, policy: RawPolicy, events: mpsc::UnboundedSender<RawEvent>) {
    let client = raw_client();
    let mut scheduled = Instant::now();
    let mut delay = policy.base;
    loop {
        if let Ok(conn) = raw_connect(&client, &url).await {
            delay = policy.base;
            let _ = events.send(RawEvent::Connected {
                at: Instant::now(),
                scheduled,
            });
            let event = run_link(conn, policy.heartbeat).await;
            let _ = events.send(event);
        }
        scheduled = Instant::now() + delay;
        delay = (delay * 2).min(policy.max);
        tokio::time::sleep_until(scheduled.into()).await;
    }
}

/// Reads the link until it ends or the heartbeat declares it dead.
async fn run_link(mut conn: RawConn, heartbeat: Option<(Duration, Duration)>) -> RawEvent {
    let Some((interval, timeout)) = heartbeat else {
        while conn.next_data().await.is_some() {}
        return RawEvent::Lost;
    };
    let mut tick = tokio::time::interval_at((Instant::now() + interval).into(), interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    let mut outstanding = false;
    let mut checks: VecDeque<Instant> = VecDeque::new();
    loop {
        let next_check = checks.front().map(|sent| *sent + timeout);
        let check = async move {
            match next_check {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = conn.stream.next() => match frame {
                Some(Ok(frame)) => {
                    last_seen = Instant::now();
                    if matches!(frame, Frame::Pong(_)) {
                        outstanding = false;
                    }
                }
                _ => return RawEvent::Lost,
            },
            _ = tick.tick() => {
                if !outstanding {
                    let sent = Instant::now();
                    if conn.sink.send(Message::Ping(Bytes::new())).await.is_err() {
                        return RawEvent::Lost;
                    }
                    outstanding = true;
                    checks.push_back(sent);
                }
            }
            () = check => {
                if let Some(sent) = checks.pop_front() {
                    if last_seen < sent {
                        return RawEvent::Dead { at: Instant::now() };
                    }
                }
            }
        }
    }
}

/// Waits for the next raw event matching `pick`.
async fn raw_wait<T>(
    events: &mut mpsc::UnboundedReceiver<RawEvent>,
    pick: impl Fn(RawEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(event)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            _ => panic!("raw client: no expected event within {PATIENCE:?}"),
        }
    }
}

fn ms(d: f64) -> f64 {
    d * 1e3
}

/// Signed `a - b` in seconds.
fn since(a: Instant, b: Instant) -> f64 {
    if a >= b {
        (a - b).as_secs_f64()
    } else {
        -(b - a).as_secs_f64()
    }
}

/// Scenario 4: the server is stopped (links cut), stays down for a while, listens again;
/// latency from `max(listening again, scheduled attempt)` to connected.
pub(crate) async fn reconnect(sizes: &Sizes) -> Outcome {
    let base = Duration::from_millis(50);
    let max = Duration::from_millis(400);
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(true);
    let tether = probe.connect(&url, |c| {
        c.base_backoff(base)
            .max_backoff(max)
            .stable_uptime(Duration::ZERO)
    });
    assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    let (tx, mut events) = mpsc::unbounded_channel();
    let raw_task = actix::spawn(raw_resilient(
        url.clone(),
        RawPolicy {
            base,
            max,
            heartbeat: None,
        },
        tx,
    ));
    raw_wait(&mut events, |e| {
        matches!(e, RawEvent::Connected { .. }).then_some(())
    })
    .await;

    // Down for 0 ms (back before the first attempt), or long enough for 1-3 attempts to
    // be refused first.
    let downtimes = [0_u64, 70, 160, 330];
    let mut tether_excess = Vec::new();
    let mut raw_excess = Vec::new();
    let mut timer_late = Vec::new();
    let mut handshake = Vec::new();
    for i in 0..sizes.restarts as usize {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let connects = probe.connected();
        server.stop().await;
        tokio::time::sleep(Duration::from_millis(downtimes[i % downtimes.len()])).await;
        let listening = server.resume().await;
        assert!(
            probe.wait_connected(connects + 1, PATIENCE).await,
            "tether reconnects"
        );
        let (raw_at, raw_scheduled) = raw_wait(&mut events, |e| match e {
            RawEvent::Connected { at, scheduled } => Some((at, scheduled)),
            _ => None,
        })
        .await;
        let states = probe.states();
        let (connected, reconnecting, connecting) = last_reconnect(&states);
        let scheduled = reconnecting.at + reconnecting.next_delay.unwrap_or_default();
        tether_excess.push(ms(since(connected.at, listening.max(scheduled))));
        raw_excess.push(ms(since(raw_at, listening.max(raw_scheduled))));
        timer_late.push(ms(since(connecting.at, scheduled)));
        handshake.push(ms(since(connected.at, connecting.at)));
    }
    raw_task.abort();
    drop(tether);

    let (t, r) = (median(&tether_excess), median(&raw_excess));
    let (t_max, r_max) = (
        percentile(&tether_excess, 100.0),
        percentile(&raw_excess, 100.0),
    );
    let rows = vec![
        Row::new(
            format!(
                "4. reconnect latency − scheduled backoff, median of {}",
                tether_excess.len()
            ),
            "ms",
            t,
            r,
        )
        .goal("< 5 ms beyond raw", t - r < 5.0)
        .judged_on(format!("diff {:+.2} ms", t - r)),
        Row::new(
            "4. reconnect latency − scheduled backoff, max",
            "ms",
            t_max,
            r_max,
        )
        .goal("< 5 ms beyond raw", t_max - r_max < 5.0)
        .judged_on(format!("diff {:+.2} ms", t_max - r_max)),
    ];
    Outcome {
        rows,
        details: json!({
            "base_backoff_ms": 50, "max_backoff_ms": 400, "downtimes_ms": downtimes,
            "tether_excess_ms": tether_excess, "raw_excess_ms": raw_excess,
            "tether_timer_late_ms": timer_late, "tether_handshake_ms": handshake,
        }),
        notes: vec![
            "4. latency = connected − max(server listening again, attempt scheduled at \
             Reconnecting.at + next_delay); raw awc = the same doubling backoff written by \
             hand (tokio sleep + connect), restarted with the same server"
                .to_owned(),
        ],
    }
}

/// The last `Connected`, and the `Reconnecting` and `Connecting` that led to it.
fn last_reconnect(states: &[StateChanged]) -> (&StateChanged, &StateChanged, &StateChanged) {
    let c = states
        .iter()
        .rposition(|s| s.to == ConnectionState::Connected)
        .expect("connected");
    let r = states[..c]
        .iter()
        .rposition(|s| s.to == ConnectionState::Reconnecting)
        .expect("reconnecting before connected");
    let g = r + states[r..c]
        .iter()
        .position(|s| s.to == ConnectionState::Connecting)
        .expect("connecting after reconnecting");
    (&states[c], &states[r], &states[g])
}

/// Scenario 5: the server goes silent (TCP open, nothing answered); latency from then
/// to the declared death, minus heartbeat interval + timeout.
pub(crate) async fn dead_link(sizes: &Sizes) -> Outcome {
    let interval = Duration::from_millis(100);
    let timeout = Duration::from_millis(200);
    let base = Duration::from_millis(50);
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(true);
    let _tether = probe.connect(&url, |c| {
        c.heartbeat_interval(interval)
            .heartbeat_timeout(timeout)
            .base_backoff(base)
            .max_backoff(Duration::from_millis(200))
            .stable_uptime(Duration::ZERO)
    });
    assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
    let (tx, mut events) = mpsc::unbounded_channel();
    let raw_task = actix::spawn(raw_resilient(
        url.clone(),
        RawPolicy {
            base,
            max: Duration::from_millis(200),
            heartbeat: Some((interval, timeout)),
        },
        tx,
    ));
    let mut raw_up = false;

    let mut tether_ms = Vec::new();
    let mut raw_ms = Vec::new();
    let mut wrong_reason = 0;
    for i in 0..sizes.black_holes {
        // Settle: both connected and quiet for a full interval + timeout (a ping lost
        // while silent can still fail a fresh link just after the silence ends).
        let deadline = Instant::now() + PATIENCE;
        loop {
            let before = (probe.connected(), probe.disconnected());
            tokio::time::sleep(interval + timeout + Duration::from_millis(50)).await;
            while let Ok(event) = events.try_recv() {
                raw_up = matches!(event, RawEvent::Connected { .. });
            }
            let after = (probe.connected(), probe.disconnected());
            if before == after && after.0 == after.1 + 1 && raw_up {
                break;
            }
            assert!(Instant::now() < deadline, "clients do not settle");
        }
        // A different phase of the heartbeat tick each round.
        tokio::time::sleep(interval * (i * 7 % 10) / 10).await;
        let disconnects = probe.disconnected();
        let silent_at = Instant::now();
        server.set_silent(true);
        assert!(
            probe.wait_disconnected(disconnects + 1, PATIENCE).await,
            "tether detects the dead link"
        );
        let raw_dead = raw_wait(&mut events, |e| match e {
            RawEvent::Dead { at } => Some(at),
            _ => None,
        })
        .await;
        raw_up = false;
        server.set_silent(false);
        let loss = probe
            .states()
            .into_iter()
            .find(|s| s.to == ConnectionState::Disconnected && s.at >= silent_at)
            .expect("recorded");
        if !matches!(loss.reason, Some(DisconnectReason::HeartbeatTimeout { .. })) {
            wrong_reason += 1;
        }
        tether_ms.push(ms(since(loss.at, silent_at)));
        raw_ms.push(ms(since(raw_dead, silent_at)));
    }
    raw_task.abort();

    let bound = ms((interval + timeout).as_secs_f64());
    let tick = ms(interval.as_secs_f64());
    let t_max = percentile(&tether_ms, 100.0);
    let r_max = percentile(&raw_ms, 100.0);
    let rows = vec![
        Row::new(
            format!("5. dead-link detection, median of {}", tether_ms.len()),
            "ms",
            median(&tether_ms),
            median(&raw_ms),
        ),
        Row::new("5. dead-link detection, max", "ms", t_max, r_max)
            .goal(
                format!("≤ interval+timeout ({bound:.0}) + 1 tick ({tick:.0} ms)"),
                t_max - bound <= tick,
            )
            .judged_on(format!("excess {:+.1} ms", t_max - bound)),
    ];
    let mut notes = vec![
        "5. black hole = the server stops answering anything (pings included), TCP stays \
         open; heartbeat 100 ms, timeout 200 ms; raw awc = the same heartbeat rule written \
         by hand"
            .to_owned(),
    ];
    if wrong_reason > 0 {
        notes.push(format!(
            "5. {wrong_reason} losses were not reported as HeartbeatTimeout"
        ));
    }
    Outcome {
        rows,
        details: json!({
            "interval_ms": 100, "timeout_ms": 200,
            "tether_detection_ms": tether_ms, "raw_detection_ms": raw_ms,
        }),
        notes,
    }
}
