//! [`Recorder`]: an actor that subscribes to everything a connection publishes and keeps
//! it for the test to inspect, and helpers to build connections against a test server.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix::{Actor, Addr, Context, Handler};
use tether_actix::message::GetStatus;
use tether_actix::{
    ConnectionActor, ConnectionBuilder, ConnectionState, Incoming, Payload,
    ResiliencyConfigBuilder, StateChanged, Status, Undelivered, UndeliveredReason,
};

use super::wait_until;

/// Generous bound for anything a test waits for: long enough never to fire on a slow
/// machine, short enough to turn a hang into a failure.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// What a connection published, in order.
#[derive(Debug, Default)]
struct Log {
    states: Vec<StateChanged>,
    incoming: Vec<Incoming>,
    undelivered: Vec<Undelivered>,
}

/// A shared view of a [`Recorder`]'s log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events(Arc<Mutex<Log>>);

impl Events {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every state change so far.
    pub(crate) fn states(&self) -> Vec<StateChanged> {
        self.log().states.clone()
    }

    /// The sequence of states entered so far.
    pub(crate) fn entered(&self) -> Vec<ConnectionState> {
        self.log().states.iter().map(|change| change.to).collect()
    }

    /// How many times `state` was entered.
    pub(crate) fn times_entered(&self, state: ConnectionState) -> usize {
        self.log()
            .states
            .iter()
            .filter(|change| change.to == state)
            .count()
    }

    /// The first transition into `state`; panics (failing the test) if there is none.
    pub(crate) fn first_entry(&self, state: ConnectionState) -> StateChanged {
        let found = self
            .log()
            .states
            .iter()
            .find(|change| change.to == state)
            .cloned();
        // The log's lock is released before `entered` takes it again.
        found.unwrap_or_else(|| panic!("{state} never entered: {:?}", self.entered()))
    }

    /// The latest transition into `state`; panics (failing the test) if there is none.
    pub(crate) fn last_entry(&self, state: ConnectionState) -> StateChanged {
        let found = self
            .log()
            .states
            .iter()
            .rfind(|change| change.to == state)
            .cloned();
        // The log's lock is released before `entered` takes it again.
        found.unwrap_or_else(|| panic!("{state} never entered: {:?}", self.entered()))
    }

    /// The last state entered.
    pub(crate) fn current(&self) -> Option<ConnectionState> {
        self.log().states.last().map(|change| change.to)
    }

    /// Every incoming message so far.
    pub(crate) fn incoming(&self) -> Vec<Payload> {
        self.log()
            .incoming
            .iter()
            .map(|incoming| incoming.payload.clone())
            .collect()
    }

    /// Incoming text messages so far.
    pub(crate) fn incoming_texts(&self) -> Vec<String> {
        self.log()
            .incoming
            .iter()
            .filter_map(|incoming| incoming.payload.as_text().map(str::to_owned))
            .collect()
    }

    /// Every undelivered report so far.
    pub(crate) fn undelivered(&self) -> Vec<Undelivered> {
        self.log().undelivered.clone()
    }

    /// The texts of the undelivered messages reported with `reason`, in order.
    pub(crate) fn undelivered_texts(&self, reason: UndeliveredReason) -> Vec<String> {
        self.log()
            .undelivered
            .iter()
            .filter(|undelivered| undelivered.reason == reason)
            .map(|undelivered| undelivered.payload.as_text().expect("text").to_owned())
            .collect()
    }

    /// Waits until `state` has been entered `times` times in all.
    pub(crate) async fn wait_entered(&self, state: ConnectionState, times: usize) -> bool {
        wait_until(PATIENCE, || self.times_entered(state) >= times).await
    }

    /// Waits until at least `count` messages arrived.
    pub(crate) async fn wait_incoming(&self, count: usize) -> bool {
        wait_until(PATIENCE, || self.log().incoming.len() >= count).await
    }
}

/// Subscribes to state changes, incoming and undelivered messages, and logs them.
#[derive(Debug)]
pub(crate) struct Recorder(Events);

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<StateChanged> for Recorder {
    type Result = ();

    fn handle(&mut self, change: StateChanged, _: &mut Context<Self>) {
        self.0.log().states.push(change);
    }
}

impl Handler<Incoming> for Recorder {
    type Result = ();

    fn handle(&mut self, incoming: Incoming, _: &mut Context<Self>) {
        self.0.log().incoming.push(incoming);
    }
}

impl Handler<Undelivered> for Recorder {
    type Result = ();

    fn handle(&mut self, undelivered: Undelivered, _: &mut Context<Self>) {
        self.0.log().undelivered.push(undelivered);
    }
}

/// Subscribes a fresh [`Recorder`] to everything `builder` will publish.
pub(crate) fn recorded(builder: ConnectionBuilder) -> (ConnectionBuilder, Events) {
    let events = Events::default();
    let recorder = Recorder(events.clone()).start();
    let builder = builder
        .on_state(recorder.clone().recipient())
        .on_incoming(recorder.clone().recipient())
        .on_undelivered(recorder.recipient());
    (builder, events)
}

/// Test timings: millisecond backoff without jitter (so delays are exact), a heartbeat
/// that does not interfere unless a test shortens it.
pub(crate) fn quick(config: ResiliencyConfigBuilder) -> ResiliencyConfigBuilder {
    config
        .base_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(200))
        .jitter_percent(0)
        .connect_timeout(Duration::from_secs(2))
}

/// Starts `builder`, recorded, with [`quick`] timings.
pub(crate) fn connect_with(builder: ConnectionBuilder) -> (Addr<ConnectionActor>, Events) {
    let (builder, events) = recorded(builder.configure(quick));
    let addr = builder.start().expect("test connection config is valid");
    (addr, events)
}

/// Starts a recorded connection to `url` with [`quick`] timings and `adjust` on top.
pub(crate) fn connect(
    url: &str,
    adjust: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
) -> (Addr<ConnectionActor>, Events) {
    let (builder, events) =
        recorded(ConnectionActor::builder(url).configure(|config| adjust(quick(config))));
    let addr = builder.start().expect("test connection config is valid");
    (addr, events)
}

/// Polls the connection's status until `accept` holds or [`PATIENCE`] runs out; returns
/// the last status seen and whether it was accepted.
pub(crate) async fn wait_status(
    connection: &Addr<ConnectionActor>,
    mut accept: impl FnMut(&Status) -> bool,
) -> (Status, bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = connection
            .send(GetStatus)
            .await
            .expect("connection actor alive");
        if accept(&status) {
            return (status, true);
        }
        if tokio::time::Instant::now() >= deadline {
            return (status, false);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
