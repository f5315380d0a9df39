//! State feeds against real actors: one that keeps up, one that is stuck and then
//! resumes, one that stops while transitions wait for it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use tether::ConnectionState;

use super::state_feed::{StateFeed, MAX_STATE_BACKLOG};
use crate::{ConnectionId, Endpoint, StateChanged};

/// A transition whose `attempt` numbers it, so a subscriber can tell which it got.
fn transition(connection: ConnectionId, number: u32) -> StateChanged {
    StateChanged {
        connection,
        name: None,
        endpoint: Endpoint {
            index: 0,
            url: "ws://127.0.0.1:1/".into(),
        },
        from: ConnectionState::Reconnecting,
        to: ConnectionState::Connecting,
        attempt: number,
        reason: None,
        next_delay: None,
        unconfirmed: 0,
        at: Instant::now(),
        skipped: 0,
    }
}

/// Records every transition; with a gate, stuck in its first handler until it opens.
struct Recorder {
    got: Arc<Mutex<Vec<StateChanged>>>,
    gate: Option<Arc<tokio::sync::Notify>>,
}

impl Actor for Recorder {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1);
    }
}

impl Handler<StateChanged> for Recorder {
    type Result = ();

    fn handle(&mut self, event: StateChanged, ctx: &mut Context<Self>) {
        self.got.lock().unwrap().push(event);
        if let Some(gate) = self.gate.take() {
            // `wait` holds this actor's mailbox shut until the gate opens.
            ctx.wait(async move { gate.notified().await }.into_actor(self));
        }
    }
}

fn recorder(
    gate: Option<Arc<tokio::sync::Notify>>,
) -> (Addr<Recorder>, Arc<Mutex<Vec<StateChanged>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let addr = Recorder {
        got: got.clone(),
        gate,
    }
    .start();
    (addr, got)
}

/// A feed to a recorder stuck in its first handler, which holds transition 0.
struct StuckFeed {
    feed: StateFeed,
    recorder: Addr<Recorder>,
    got: Arc<Mutex<Vec<StateChanged>>>,
    gate: Arc<tokio::sync::Notify>,
    connection: ConnectionId,
}

async fn stuck_feed() -> StuckFeed {
    let gate = Arc::new(tokio::sync::Notify::new());
    let (recorder, got) = recorder(Some(gate.clone()));
    let feed = StateFeed::new(recorder.clone().recipient());
    let connection = ConnectionId::next();
    assert!(!feed.publish(transition(connection, 0)));
    assert!(eventually(|| got.lock().unwrap().len() == 1).await);
    StuckFeed {
        feed,
        recorder,
        got,
        gate,
        connection,
    }
}

/// Polls `done` until it holds, for at most ten seconds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        actix::clock::sleep(Duration::from_millis(5)).await;
    }
    done()
}

#[actix::test]
async fn a_subscriber_that_keeps_up_gets_every_transition_in_order() {
    let (addr, got) = recorder(None);
    let feed = StateFeed::new(addr.recipient());
    let connection = ConnectionId::next();
    for number in 0..100 {
        feed.publish(transition(connection, number));
        // Room for the next one: a subscriber that keeps up.
        assert!(eventually(|| got.lock().unwrap().len() == number as usize + 1).await);
    }
    let got = got.lock().unwrap();
    assert!(got.iter().map(|event| event.attempt).eq(0..100));
    assert!(got.iter().all(|event| event.skipped == 0));
    assert_eq!(feed.waiting(), 0);
}

#[actix::test]
async fn a_stuck_subscriber_holds_a_bounded_backlog_and_learns_what_it_missed() {
    let StuckFeed {
        feed,
        got,
        gate,
        connection,
        ..
    } = stuck_feed().await;
    let total = 10 * MAX_STATE_BACKLOG as u32;
    let mut dropped = 0;
    for number in 1..total {
        dropped += u64::from(feed.publish(transition(connection, number)));
        assert!(
            feed.waiting() <= MAX_STATE_BACKLOG,
            "the backlog stays bounded"
        );
    }
    gate.notify_one();
    // Every transition arrives or is counted as skipped, in order, the latest last.
    assert!(
        eventually(|| got.lock().unwrap().last().map(|event| event.attempt) == Some(total - 1))
            .await,
        "the last transition arrives once the subscriber resumes"
    );
    let got = got.lock().unwrap();
    let mut expected = 0;
    for event in got.iter() {
        assert_eq!(
            event.attempt,
            expected + event.skipped as u32,
            "skipped says how many were missed just before this one"
        );
        expected = event.attempt + 1;
    }
    assert_eq!(expected, total);
    let skipped: u64 = got.iter().map(|event| event.skipped).sum();
    assert!(skipped > 0, "the stuck subscriber missed some");
    assert_eq!(
        skipped, dropped,
        "publish reports every transition it dropped"
    );
    assert!(got.len() <= MAX_STATE_BACKLOG + 2, "got {}", got.len());
    assert_eq!(feed.waiting(), 0);
}

#[actix::test]
async fn a_subscriber_that_stops_leaves_nothing_waiting() {
    let StuckFeed {
        feed,
        recorder,
        gate,
        connection,
        ..
    } = stuck_feed().await;
    for number in 1..50 {
        feed.publish(transition(connection, number));
    }
    assert!(feed.waiting() > 0);
    // Stopped while stuck: what waits for it is let go.
    recorder.do_send(StopNow);
    gate.notify_one();
    assert!(eventually(|| !feed.connected() && feed.waiting() == 0).await);
}

/// Stops the recorder.
#[derive(Message)]
#[rtype(result = "()")]
struct StopNow;

impl Handler<StopNow> for Recorder {
    type Result = ();

    fn handle(&mut self, _: StopNow, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[actix::test]
async fn a_feed_let_go_delivers_nothing_more() {
    let StuckFeed {
        feed,
        got,
        gate,
        connection,
        ..
    } = stuck_feed().await;
    for number in 1..50 {
        feed.publish(transition(connection, number));
    }
    // Unsubscribed while stuck: what still waits is forgotten.
    feed.forget_waiting();
    gate.notify_one();
    // Once the hand-over ends, everything it sent was handled: at most the one it had
    // handed over already.
    assert!(eventually(|| !feed.handing_over()).await);
    let numbers: Vec<u32> = got
        .lock()
        .unwrap()
        .iter()
        .map(|event| event.attempt)
        .collect();
    assert!(numbers.len() <= 2, "{numbers:?}");
    assert_eq!(numbers[0], 0);
}
