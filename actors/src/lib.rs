//! Supervised, self-healing WebSocket client connections for actix applications.
//!
//! A [`ConnectionActor`] connects with `awc` and runs under an actix
//! [`Supervisor`](actix::Supervisor). Whatever goes wrong — the server restarts, the link
//! goes half-dead, a proxy cuts it, the handshake is refused — the actor publishes what
//! happened, waits an exponential, capped, jittered backoff and connects again, unless
//! its [`RetryPolicy`] calls the failure final.
//!
//! - **Sending** ([`message::Outgoing`]) works in every state: written when Connected,
//!   buffered (bounded FIFO) when not and flushed in order on reconnect. The sender
//!   always learns what happened: [`Delivery::Sent`](message::Delivery::Sent),
//!   [`Delivery::Buffered`](message::Delivery::Buffered),
//!   [`Delivery::Confirmed`](message::Delivery::Confirmed) (on request), or a
//!   [`DeliveryError`] that hands the message back. A message already answered whose link
//!   dies is handed to the [`Undelivered`] subscribers.
//! - **Delivery confirmation**: pings whose Pong proves the server read every frame
//!   written before them. Unconfirmed messages of a dead link are handed back
//!   ([`DeliveryMode::AtMostOnce`], the default) or written again after the reconnect
//!   ([`DeliveryMode::AtLeastOnce`]).
//! - **Heartbeat**: a ping every `heartbeat_interval`; no frame within
//!   `heartbeat_timeout` after it means the link is dead, and it is replaced.
//! - **Credentials per attempt**: an async [`CredentialsProvider`]
//!   ([`ConnectionBuilder::credentials`]) asked before every attempt, for headers and
//!   query pairs that never appear in logs or `Debug` output.
//! - **Several endpoints**: failover to the next endpoint after a failure
//!   ([`ConnectionBuilder::endpoint`]), with final failures and `Retry-After` judged per
//!   endpoint; events and status name the [`Endpoint`].
//! - **Events**: every state change ([`StateChanged`]) and every incoming message
//!   ([`Incoming`]) is published to subscriber actors.
//! - **Observability**: a name ([`ConnectionBuilder::name`]) carried by events, status,
//!   tracing span and metrics; the round-trip time in [`Status`]; with the `metrics`
//!   feature, metrics recorded through the `metrics` facade (the README lists them).
//!
//! The runtime-free core — configuration, backoff, buffer, state machine — is the
//! `tether` crate, re-exported here, so this is the only dependency you need.
//!
//! # Example
//!
//! ```no_run
//! use actix::prelude::*;
//! use tether_actix::{message, ConnectionActor, Incoming, StateChanged};
//!
//! /// Prints what the connection reports.
//! struct Printer;
//!
//! impl Actor for Printer {
//!     type Context = Context<Self>;
//! }
//!
//! impl Handler<StateChanged> for Printer {
//!     type Result = ();
//!     fn handle(&mut self, change: StateChanged, _: &mut Context<Self>) {
//!         println!("{} -> {} (attempt {})", change.from, change.to, change.attempt);
//!     }
//! }
//!
//! impl Handler<Incoming> for Printer {
//!     type Result = ();
//!     fn handle(&mut self, incoming: Incoming, _: &mut Context<Self>) {
//!         println!("received {:?}", incoming.payload);
//!     }
//! }
//!
//! #[actix::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let printer = Printer.start();
//!     let connection = ConnectionActor::builder("ws://127.0.0.1:8080/ws")
//!         .on_state(printer.clone().recipient())
//!         .on_incoming(printer.recipient())
//!         .start()?;
//!
//!     // Accepted whatever the state: written now, or buffered until connected.
//!     let delivery = connection.send("hello").await?;
//!     println!("{delivery:?}");
//!
//!     // Or actix-style, with the address.
//!     let status = connection.addr().send(message::GetStatus).await?;
//!     println!("{}", status.state);
//!
//!     connection.close().await?;
//!     Ok(())
//! }
//! ```
//!
//! # States
//!
//! ```text
//!  Disconnected ──► Connecting ──► Connected
//!       ▲  │            │              │
//!       │  │            ▼              ▼
//!       │  │       Disconnected ◄──────┘   (failure: published with its reason)
//!       │  ▼
//!       │ Reconnecting ── backoff delay ──► Connecting
//!       │
//!  any state ──► Closed (on Close)   any state ──► Failed (final failure or attempts used up)
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

mod connection;
mod credentials;
#[cfg(feature = "durable")]
pub mod durable;
mod endpoint;
mod error;
mod event;
mod handle;
mod id;
mod link_info;
pub mod message;
mod payload;
mod policy;
mod reason;
mod status;
mod subscribers;
mod target;
mod transport;

pub use bytes::Bytes;
pub use bytestring::ByteString;
pub use connection::{ConnectionActor, ConnectionBuilder};
pub use credentials::{Attempt, Credentials, CredentialsError, CredentialsProvider};
pub use endpoint::Endpoint;
pub use error::{BuildError, CloseError, ConnectionGone, DeliveryError, NotConnected};
pub use handle::Connection;
pub use link_info::LinkInfo;

/// The former name of [`DeliveryError`]: it collided with `actix::prelude::SendError`.
#[deprecated(since = "0.2.0", note = "renamed to `DeliveryError`")]
pub type SendError = DeliveryError;
pub use event::{Incoming, IncomingBatch, StateChanged, Undelivered, UndeliveredReason};
pub use id::ConnectionId;
pub use payload::Payload;
pub use policy::{DefaultRetryPolicy, FailureContext, RetryDecision, RetryPolicy};
pub use reason::DisconnectReason;
/// The rustls version used for `wss://`, to build a [`ClientConfig`](rustls::ClientConfig)
/// for [`ConnectionBuilder::tls_config`].
#[cfg(feature = "rustls")]
pub use rustls;
pub use status::{Counters, Status};
/// The runtime-free core crate: configuration, backoff, buffer, state machine, outbox.
/// Its most used items are also re-exported at this crate's root.
pub use tether;
// No doc comment here: rustdoc would prepend it to every inlined item's own docs.
pub use tether::{
    backoff, buffer, config, state, window, Backoff, BufferFull, BufferItem, ConfigError,
    ConnectionState, DeliveryMode, FullReason, JitterStrategy, MessageBuffer, OverflowPolicy,
    ResiliencyConfig, ResiliencyConfigBuilder, StateMachine, Transition, TransitionError,
    UnconfirmedWindow,
};
