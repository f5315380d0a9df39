//! Runtime-free core of tether: the policies behind a resilient WebSocket client.
//!
//! This crate holds no I/O and depends on no async runtime. It provides the
//! pieces an actor (see the `tether-actix` crate) combines to keep a
//! connection alive:
//!
//! - [`config`]: [`ResiliencyConfig`], validated by [`ResiliencyConfigBuilder`].
//! - [`backoff`]: [`Backoff`], exponential reconnect delays with per-connection
//!   random [`JitterStrategy`], so a fleet does not reconnect in lock-step.
//! - [`buffer`]: [`MessageBuffer`], a bounded FIFO of outbound messages that
//!   never drops a message without telling the caller.
//! - [`state`]: [`StateMachine`], the legal [`ConnectionState`] transitions and
//!   the reconnect attempt counter.
//! - [`outbox`]: [`Outbox`], the whole life of an outbound message: buffered,
//!   written, confirmed, requeued or handed back, each exactly once.
//! - [`liveness`]: [`Liveness`], the heartbeat and confirmation pings of one link,
//!   the pongs it owes, the verdict on whether the link is still alive, and its
//!   [`RoundTrip`] time.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tether::{
//!     Backoff, ConnectionState, MessageBuffer, OverflowPolicy, ResiliencyConfig, StateMachine,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ResiliencyConfig::builder()
//!     .base_backoff(Duration::from_millis(500))
//!     .max_backoff(Duration::from_secs(10))
//!     .max_reconnect_attempts(Some(5))
//!     .message_buffer_size(2)
//!     .overflow_policy(OverflowPolicy::DropOldest)
//!     .build()?;
//!
//! let mut state = StateMachine::from_config(&config);
//! let mut backoff = Backoff::new(&config);
//! let mut outbound: MessageBuffer<String> = MessageBuffer::from_config(&config);
//!
//! // The link dropped: queue messages while reconnecting.
//! let now = Instant::now();
//! let step = state.transition(ConnectionState::Reconnecting, now)?;
//! assert_eq!(step.attempt, 1);
//! let delay = backoff.delay(step.attempt - 1);
//! assert!(delay <= backoff.ceiling(0) && delay <= config.max_backoff());
//!
//! outbound.push("hello".to_owned())?;
//! outbound.push("world".to_owned())?;
//! let evicted = outbound.push("again".to_owned())?; // full: the oldest makes room
//! assert_eq!(evicted, ["hello"]);
//!
//! // After `delay`, connect and flush the buffer in order.
//! state.transition(ConnectionState::Connecting, now + delay)?;
//! state.transition(ConnectionState::Connected, now + delay)?;
//! let flushed: Vec<String> = outbound.drain().collect();
//! assert_eq!(flushed, ["world", "again"]);
//! assert!(state.state().is_connected());
//! # Ok(())
//! # }
//! ```

pub mod backoff;
pub mod buffer;
pub mod config;
pub mod liveness;
pub mod outbox;
pub mod state;
pub mod window;

pub use backoff::{Backoff, JitterStrategy};
pub use buffer::{BufferFull, BufferItem, FullReason, MessageBuffer, OverflowPolicy};
pub use config::{ConfigError, DeliveryMode, ResiliencyConfig, ResiliencyConfigBuilder};
pub use liveness::{Liveness, RoundTrip, Verdict};
pub use outbox::{HandBack, LinkLost, Next, Outbox};
pub use state::{ConnectionState, StateMachine, Transition, TransitionError};
pub use window::UnconfirmedWindow;
