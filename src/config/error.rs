use std::time::Duration;

/// Why [`ResiliencyConfigBuilder::build`](crate::ResiliencyConfigBuilder::build)
/// refused a configuration.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `jitter_percent` was above 100: a delay cannot be reduced by more than all of it.
    #[error("jitter_percent must be between 0 and 100, got {percent}")]
    JitterOutOfRange {
        /// The rejected value.
        percent: u8,
    },
    /// A duration that must be positive was zero.
    ///
    /// Applies to `heartbeat_interval`, `heartbeat_timeout`, `base_backoff`,
    /// `max_backoff`, `connect_timeout`, `credentials_timeout`, `confirm_interval`,
    /// `close_timeout`, `setup_timeout`, `max_read_pause` and `max_retry_after` (not to
    /// `stable_uptime`, where zero means "reset on connect").
    #[error("{field} must be greater than zero")]
    ZeroDuration {
        /// Name of the offending setting.
        field: &'static str,
    },
    /// A size limit that must be positive was zero.
    ///
    /// Applies to `message_buffer_size`, `message_buffer_bytes` (when `Some`),
    /// `max_message_size`, `unconfirmed_window` and `read_ahead_bytes`.
    #[error("{field} must be greater than zero")]
    ZeroLimit {
        /// Name of the offending setting.
        field: &'static str,
    },
    /// `base_backoff` was larger than `max_backoff`.
    #[error("base_backoff ({base:?}) must not exceed max_backoff ({max:?})")]
    BackoffRange {
        /// The configured `base_backoff`.
        base: Duration,
        /// The configured `max_backoff`.
        max: Duration,
    },
}
