//! `--feed-from SEQ`: one bot as the child process of a crash test. Instead of the
//! scenario, bot `op-1` streams numbered heartbeat events to an external hub (`--url`)
//! as fast as tether takes them, alternating `OutgoingBatch`es of 16 and single
//! `Outgoing`s, so that both kinds of durable commit are interrupted by a kill.
//!
//! For every event tether accepted it prints `accepted SEQ` on stdout, after tether
//! answered: with `--durable DIR`, the event is on disk from then on. Without
//! `--feed-count` it runs until it is killed. With `--feed-count N` it sends N events,
//! the last one with a confirmation (which covers everything written before it), closes
//! the connection and exits: after a clean close the durable store is empty.

use std::io::Write as _;
use std::path::PathBuf;

use tether_actix::message::{self, Close, Delivery, OutgoingBatch};
use tether_actix::{BuildError, ConnectionActor, ConnectionState, DeliveryError, DeliveryMode};

use crate::protocol::{encode, BotEvent, EventKind};
use crate::timings::Timings;

/// The bot's name: the same in every run, so that each finds its predecessor's store.
pub(crate) const FEED_BOT: &str = "op-1";

/// Events per `OutgoingBatch`.
const BATCH: u64 = 16;

/// tether's buffer: room for a batch while the link is down, and for what a killed
/// predecessor left in the store.
const BUFFER: usize = 512;

/// What `--feed-from` needs.
#[derive(Debug, Clone)]
pub(crate) struct FeedConfig {
    /// The hub's base URL, `ws://HOST:PORT`; the bot connects to `/bots/op-1` on it.
    pub(crate) hub_url: String,
    /// Bearer token for the handshake.
    pub(crate) token: Option<String>,
    /// The directory of the durable outbox, if the bot keeps one.
    pub(crate) durable: Option<PathBuf>,
    /// The first event's sequence number.
    pub(crate) first: u64,
    /// How many events to send before closing; `None`: until killed.
    pub(crate) count: Option<u64>,
}

/// Why a feed ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FeedError {
    /// The connection could not be built (its durable store is unusable, say).
    #[error("cannot start the connection: {0}")]
    Build(#[from] BuildError),
    /// tether refused an event (handed back in the error).
    #[error("event {seq} refused: {error}")]
    Refused {
        /// The refused event, or the first of its batch.
        seq: u64,
        /// What tether answered.
        error: DeliveryError,
    },
    /// The last event was not confirmed.
    #[error("the last event was answered {0:?}, not Confirmed")]
    NotConfirmed(Delivery),
    /// The connection actor ended under the feed.
    #[error("the connection actor is gone")]
    ActorGone,
    /// `Close` ended in another state than `Closed`.
    #[error("the close ended in {0}")]
    NotClosed(ConnectionState),
    /// Stdout is gone: nobody reads the `accepted` lines.
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

/// One numbered event as the hub reads it.
fn event(seq: u64) -> String {
    encode(&BotEvent {
        seq,
        kind: EventKind::Heartbeat { task_id: None },
    })
}

/// Reports events `from..to` as accepted.
fn print_accepted(from: u64, to: u64) -> Result<(), FeedError> {
    let mut out = std::io::stdout().lock();
    for seq in from..to {
        writeln!(out, "accepted {seq}")?;
    }
    out.flush()?;
    Ok(())
}

/// Runs the feed (see the module docs).
pub(crate) async fn run(config: FeedConfig) -> Result<(), FeedError> {
    let mut timings = Timings::demo();
    timings.buffer_size = BUFFER;
    let hub_url = config.hub_url.trim_end_matches('/');
    let mut builder = ConnectionActor::builder(format!("{hub_url}/bots/{FEED_BOT}"))
        .name(FEED_BOT)
        .configure(|resiliency| timings.connection(resiliency));
    if let Some(token) = &config.token {
        builder = builder.bearer_auth(token);
    }
    if let Some(dir) = &config.durable {
        // At-least-once: a message a dying link took unconfirmed stays on disk and is
        // written again, instead of being handed back (and leaving the store).
        builder = builder
            .durable(dir)
            .configure(|resiliency| resiliency.delivery(DeliveryMode::AtLeastOnce));
    }
    let connection = builder.start()?.into_addr();
    let end = config.count.map(|count| config.first.saturating_add(count));
    let mut next = config.first;
    for round in 0_u64.. {
        let left = end.map_or(u64::MAX, |end| end.saturating_sub(next));
        if left == 0 {
            break;
        }
        if left == 1 && end.is_some() {
            let reply = connection
                .send(message::Outgoing::text(event(next)).with_confirmation())
                .await
                .map_err(|_| FeedError::ActorGone)?;
            match reply {
                Ok(Delivery::Confirmed) => {}
                Ok(other) => return Err(FeedError::NotConfirmed(other)),
                Err(error) => return Err(FeedError::Refused { seq: next, error }),
            }
            print_accepted(next, next + 1)?;
            next += 1;
        } else if round % 2 == 0 {
            // Leaves the last event of a counted feed for the confirmed single send.
            let size = BATCH.min(left.saturating_sub(u64::from(end.is_some())));
            let report = connection
                .send(OutgoingBatch::new((next..next + size).map(event)))
                .await
                .map_err(|_| FeedError::ActorGone)?;
            if let Some(error) = report.refused.into_iter().next() {
                return Err(FeedError::Refused { seq: next, error });
            }
            print_accepted(next, next + size)?;
            next += size;
        } else {
            connection
                .send(message::Outgoing::text(event(next)))
                .await
                .map_err(|_| FeedError::ActorGone)?
                .map_err(|error| FeedError::Refused { seq: next, error })?;
            print_accepted(next, next + 1)?;
            next += 1;
        }
    }
    match connection.send(Close).await {
        Ok(ConnectionState::Closed) => Ok(()),
        Ok(state) => Err(FeedError::NotClosed(state)),
        Err(_) => Err(FeedError::ActorGone),
    }
}
