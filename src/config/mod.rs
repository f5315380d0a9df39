//! Connection resiliency settings: heartbeat, backoff, buffering and limits.
//!
//! A [`ResiliencyConfig`] can only be obtained from [`Default`] or from a
//! [`ResiliencyConfigBuilder`] that validated it, so every component built
//! from one (backoff, buffer, state machine) may rely on its invariants.

mod builder;
mod delivery;
mod error;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use builder::ResiliencyConfigBuilder;
pub use delivery::DeliveryMode;
pub use error::ConfigError;

use crate::{JitterStrategy, OverflowPolicy};

/// Default [`ResiliencyConfig::heartbeat_interval`]: 15 seconds.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// Default [`ResiliencyConfig::heartbeat_timeout`]: 5 seconds.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`ResiliencyConfig::base_backoff`]: 1 second.
pub const DEFAULT_BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Default [`ResiliencyConfig::max_backoff`]: 30 seconds.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Default [`ResiliencyConfig::max_reconnect_attempts`]: unlimited.
pub const DEFAULT_MAX_RECONNECT_ATTEMPTS: Option<u32> = None;
/// Default [`ResiliencyConfig::jitter_percent`]: 20 %.
pub const DEFAULT_JITTER_PERCENT: u8 = 20;
/// Default [`ResiliencyConfig::jitter`]: [`JitterStrategy::Proportional`].
pub const DEFAULT_JITTER: JitterStrategy = JitterStrategy::Proportional;
/// Default [`ResiliencyConfig::message_buffer_size`]: 256 messages.
pub const DEFAULT_MESSAGE_BUFFER_SIZE: usize = 256;
/// Default [`ResiliencyConfig::message_buffer_bytes`]: 32 MiB.
pub const DEFAULT_MESSAGE_BUFFER_BYTES: Option<usize> = Some(32 * 1024 * 1024);
/// Default [`ResiliencyConfig::overflow_policy`]: [`OverflowPolicy::RejectNew`].
pub const DEFAULT_OVERFLOW_POLICY: OverflowPolicy = OverflowPolicy::RejectNew;
/// Default [`ResiliencyConfig::connect_timeout`]: 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ResiliencyConfig::credentials_timeout`]: 10 seconds.
pub const DEFAULT_CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ResiliencyConfig::max_message_size`]: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// Default [`ResiliencyConfig::stable_uptime`]: 5 seconds.
pub const DEFAULT_STABLE_UPTIME: Duration = Duration::from_secs(5);

/// Default [`ResiliencyConfig::max_retry_after`]: 5 minutes.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// Default [`ResiliencyConfig::delivery`]: [`DeliveryMode::AtMostOnce`].
pub const DEFAULT_DELIVERY: DeliveryMode = DeliveryMode::AtMostOnce;
/// Default [`ResiliencyConfig::confirm_interval`]: 50 milliseconds.
pub const DEFAULT_CONFIRM_INTERVAL: Duration = Duration::from_millis(50);
/// Default [`ResiliencyConfig::unconfirmed_window`]: 256 messages.
pub const DEFAULT_UNCONFIRMED_WINDOW: usize = 256;
/// Default [`ResiliencyConfig::close_timeout`]: 10 seconds.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ResiliencyConfig::setup_timeout`]: 10 seconds.
pub const DEFAULT_SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ResiliencyConfig::read_ahead_bytes`]: 4 MiB.
pub const DEFAULT_READ_AHEAD_BYTES: usize = 4 * 1024 * 1024;
/// Default [`ResiliencyConfig::max_read_pause`]: 30 seconds.
pub const DEFAULT_MAX_READ_PAUSE: Duration = Duration::from_secs(30);

/// Validated settings for one resilient connection.
///
/// Fields are private so that an instance always satisfies the rules checked
/// by [`ResiliencyConfigBuilder::build`]. Read them with the getters; change
/// them with [`to_builder`](Self::to_builder).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tether::ResiliencyConfig;
///
/// let config = ResiliencyConfig::builder()
///     .max_backoff(Duration::from_secs(60))
///     .max_reconnect_attempts(Some(10))
///     .build()?;
/// assert_eq!(config.max_backoff(), Duration::from_secs(60));
/// assert_eq!(config.base_backoff(), Duration::from_secs(1)); // default kept
/// # Ok::<(), tether::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResiliencyConfig {
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
    base_backoff: Duration,
    max_backoff: Duration,
    max_reconnect_attempts: Option<u32>,
    jitter_percent: u8,
    jitter: JitterStrategy,
    message_buffer_size: usize,
    message_buffer_bytes: Option<usize>,
    overflow_policy: OverflowPolicy,
    connect_timeout: Duration,
    credentials_timeout: Duration,
    max_message_size: usize,
    stable_uptime: Duration,
    max_retry_after: Duration,
    delivery: DeliveryMode,
    confirm_interval: Duration,
    unconfirmed_window: usize,
    close_timeout: Duration,
    setup_timeout: Duration,
    read_ahead_bytes: usize,
    max_read_pause: Duration,
}

impl ResiliencyConfig {
    /// Starts a builder from the default settings.
    pub fn builder() -> ResiliencyConfigBuilder {
        ResiliencyConfigBuilder::default()
    }

    /// Starts a builder from this configuration, to derive a changed copy.
    pub fn to_builder(&self) -> ResiliencyConfigBuilder {
        ResiliencyConfigBuilder::from_config(self.clone())
    }

    /// How often a ping is sent while connected.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// How long to wait for the answer to a ping before the link counts as dead.
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout
    }

    /// Delay ceiling of the first reconnect attempt (attempt 0).
    pub fn base_backoff(&self) -> Duration {
        self.base_backoff
    }

    /// Upper bound of any reconnect delay.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// Give up after this many consecutive reconnect attempts; `None` retries forever.
    ///
    /// `Some(0)` is valid and means "never reconnect".
    pub fn max_reconnect_attempts(&self) -> Option<u32> {
        self.max_reconnect_attempts
    }

    /// Amount of jitter, in percent, for [`JitterStrategy::Proportional`] (0..=100).
    pub fn jitter_percent(&self) -> u8 {
        self.jitter_percent
    }

    /// How reconnect delays are randomised.
    pub fn jitter(&self) -> JitterStrategy {
        self.jitter
    }

    /// Maximum number of outbound messages held while not connected.
    pub fn message_buffer_size(&self) -> usize {
        self.message_buffer_size
    }

    /// Maximum total size in bytes of the buffered outbound messages; `None` = no byte bound.
    pub fn message_buffer_bytes(&self) -> Option<usize> {
        self.message_buffer_bytes
    }

    /// What happens when the outbound buffer is full.
    pub fn overflow_policy(&self) -> OverflowPolicy {
        self.overflow_policy
    }

    /// How long one connection attempt (TCP, TLS and WebSocket handshake) may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long a credentials provider may take to answer before an attempt; past it the
    /// attempt fails (the connect timeout starts once the credentials are there).
    pub fn credentials_timeout(&self) -> Duration {
        self.credentials_timeout
    }

    /// Largest incoming message (frame or reassembled continuation), in bytes.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// How long a connection must stay up before the attempt counter resets.
    ///
    /// Zero resets the counter as soon as a connection succeeds (the reference
    /// behaviour). A positive value keeps a server that accepts and then
    /// immediately drops connections from resetting the backoff every time.
    pub fn stable_uptime(&self) -> Duration {
        self.stable_uptime
    }

    /// The longest a server's `Retry-After` may delay the next attempt: a longer
    /// value (a date far ahead, or `18446744073709551615` seconds) counts as this.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// What happens to messages written to a link that dies before the server
    /// confirmed them.
    pub fn delivery(&self) -> DeliveryMode {
        self.delivery
    }

    /// How often, while written messages wait for confirmation, a confirmation
    /// ping is sent (a message waits at most about twice this for its ping; a
    /// half-full window asks at once). Pings are shared: one confirms every
    /// message written before it.
    pub fn confirm_interval(&self) -> Duration {
        self.confirm_interval
    }

    /// Most messages written but not yet confirmed. When the window is full,
    /// writing pauses until a confirmation arrives (senders wait: back-pressure).
    /// The window is also bounded in bytes by `message_buffer_bytes`.
    pub fn unconfirmed_window(&self) -> usize {
        self.unconfirmed_window
    }

    /// How long a requested close may take: writing what is buffered, waiting for the
    /// server to confirm it, and the close frame. Whatever is not written or confirmed
    /// by then is handed back, and the connection is closed anyway.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// How long the setup of a new link may take: writing the messages of the
    /// connect hook and, when it asks for confirmation, the server's answer to the ping
    /// that follows them. A setup not done by then fails the attempt.
    pub fn setup_timeout(&self) -> Duration {
        self.setup_timeout
    }

    /// Bytes of incoming messages held for message subscribers whose mailboxes are
    /// full. Below this bound the socket keeps being read, so pings, pongs and close
    /// frames keep being answered while a subscriber is slow; at the bound, reading
    /// pauses and TCP slows the server down. Each held message counts its payload plus
    /// a fixed overhead; one message is always accepted, however large.
    pub fn read_ahead_bytes(&self) -> usize {
        self.read_ahead_bytes
    }

    /// How long reading may stay paused because message subscribers do not keep up.
    /// After that the link is failed with `SubscriberStalled` and replaced, as any
    /// failure is; the messages already received are still handed to the subscribers.
    pub fn max_read_pause(&self) -> Duration {
        self.max_read_pause
    }
}

impl Default for ResiliencyConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            base_backoff: DEFAULT_BASE_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_reconnect_attempts: DEFAULT_MAX_RECONNECT_ATTEMPTS,
            jitter_percent: DEFAULT_JITTER_PERCENT,
            jitter: DEFAULT_JITTER,
            message_buffer_size: DEFAULT_MESSAGE_BUFFER_SIZE,
            message_buffer_bytes: DEFAULT_MESSAGE_BUFFER_BYTES,
            overflow_policy: DEFAULT_OVERFLOW_POLICY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            credentials_timeout: DEFAULT_CREDENTIALS_TIMEOUT,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            stable_uptime: DEFAULT_STABLE_UPTIME,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            delivery: DEFAULT_DELIVERY,
            confirm_interval: DEFAULT_CONFIRM_INTERVAL,
            unconfirmed_window: DEFAULT_UNCONFIRMED_WINDOW,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            setup_timeout: DEFAULT_SETUP_TIMEOUT,
            read_ahead_bytes: DEFAULT_READ_AHEAD_BYTES,
            max_read_pause: DEFAULT_MAX_READ_PAUSE,
        }
    }
}
