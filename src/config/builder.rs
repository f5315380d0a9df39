use std::time::Duration;

use super::{ConfigError, DeliveryMode, ResiliencyConfig};
use crate::{JitterStrategy, OverflowPolicy};

/// Builds a validated [`ResiliencyConfig`], starting from the defaults.
///
/// Setters only record values; all checks happen in [`build`](Self::build),
/// so the order of the calls does not matter.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tether::{ConfigError, ResiliencyConfig};
///
/// let err = ResiliencyConfig::builder()
///     .base_backoff(Duration::from_secs(10))
///     .max_backoff(Duration::from_secs(5))
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, ConfigError::BackoffRange { .. }));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ResiliencyConfigBuilder {
    // Reuses the config's shape; it is only handed out once validated.
    config: ResiliencyConfig,
}

impl ResiliencyConfigBuilder {
    /// Starts a builder from the default settings (same as [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn from_config(config: ResiliencyConfig) -> Self {
        Self { config }
    }

    /// Sets [`ResiliencyConfig::heartbeat_interval`].
    pub fn heartbeat_interval(mut self, value: Duration) -> Self {
        self.config.heartbeat_interval = value;
        self
    }

    /// Sets [`ResiliencyConfig::heartbeat_timeout`].
    pub fn heartbeat_timeout(mut self, value: Duration) -> Self {
        self.config.heartbeat_timeout = value;
        self
    }

    /// Sets [`ResiliencyConfig::base_backoff`].
    pub fn base_backoff(mut self, value: Duration) -> Self {
        self.config.base_backoff = value;
        self
    }

    /// Sets [`ResiliencyConfig::max_backoff`].
    pub fn max_backoff(mut self, value: Duration) -> Self {
        self.config.max_backoff = value;
        self
    }

    /// Sets [`ResiliencyConfig::max_reconnect_attempts`] (`None` = unlimited).
    pub fn max_reconnect_attempts(mut self, value: Option<u32>) -> Self {
        self.config.max_reconnect_attempts = value;
        self
    }

    /// Sets [`ResiliencyConfig::jitter_percent`].
    pub fn jitter_percent(mut self, value: u8) -> Self {
        self.config.jitter_percent = value;
        self
    }

    /// Sets [`ResiliencyConfig::jitter`].
    pub fn jitter(mut self, value: JitterStrategy) -> Self {
        self.config.jitter = value;
        self
    }

    /// Sets [`ResiliencyConfig::message_buffer_size`].
    pub fn message_buffer_size(mut self, value: usize) -> Self {
        self.config.message_buffer_size = value;
        self
    }

    /// Sets [`ResiliencyConfig::message_buffer_bytes`] (`None` = no byte bound).
    pub fn message_buffer_bytes(mut self, value: Option<usize>) -> Self {
        self.config.message_buffer_bytes = value;
        self
    }

    /// Sets [`ResiliencyConfig::overflow_policy`].
    pub fn overflow_policy(mut self, value: OverflowPolicy) -> Self {
        self.config.overflow_policy = value;
        self
    }

    /// Sets [`ResiliencyConfig::connect_timeout`].
    pub fn connect_timeout(mut self, value: Duration) -> Self {
        self.config.connect_timeout = value;
        self
    }

    /// Sets [`ResiliencyConfig::credentials_timeout`].
    pub fn credentials_timeout(mut self, value: Duration) -> Self {
        self.config.credentials_timeout = value;
        self
    }

    /// Sets [`ResiliencyConfig::max_message_size`].
    pub fn max_message_size(mut self, value: usize) -> Self {
        self.config.max_message_size = value;
        self
    }

    /// Sets [`ResiliencyConfig::stable_uptime`] (zero = reset attempts on connect).
    pub fn stable_uptime(mut self, value: Duration) -> Self {
        self.config.stable_uptime = value;
        self
    }

    /// Sets [`ResiliencyConfig::max_retry_after`].
    pub fn max_retry_after(mut self, value: Duration) -> Self {
        self.config.max_retry_after = value;
        self
    }

    /// Sets [`ResiliencyConfig::delivery`].
    pub fn delivery(mut self, value: DeliveryMode) -> Self {
        self.config.delivery = value;
        self
    }

    /// Sets [`ResiliencyConfig::confirm_interval`].
    pub fn confirm_interval(mut self, value: Duration) -> Self {
        self.config.confirm_interval = value;
        self
    }

    /// Sets [`ResiliencyConfig::unconfirmed_window`].
    pub fn unconfirmed_window(mut self, value: usize) -> Self {
        self.config.unconfirmed_window = value;
        self
    }

    /// Sets [`ResiliencyConfig::close_timeout`].
    pub fn close_timeout(mut self, value: Duration) -> Self {
        self.config.close_timeout = value;
        self
    }

    /// Sets [`ResiliencyConfig::setup_timeout`].
    pub fn setup_timeout(mut self, value: Duration) -> Self {
        self.config.setup_timeout = value;
        self
    }

    /// Sets [`ResiliencyConfig::read_ahead_bytes`].
    pub fn read_ahead_bytes(mut self, value: usize) -> Self {
        self.config.read_ahead_bytes = value;
        self
    }

    /// Sets [`ResiliencyConfig::max_read_pause`].
    pub fn max_read_pause(mut self, value: Duration) -> Self {
        self.config.max_read_pause = value;
        self
    }

    /// Validates the settings and returns the configuration.
    ///
    /// Rules, checked in this order (the first violation is reported):
    ///
    /// 1. `jitter_percent` is at most 100, else [`ConfigError::JitterOutOfRange`]:
    ///    jitter cannot remove more than the whole delay.
    /// 2. `heartbeat_interval`, `heartbeat_timeout`, `base_backoff`,
    ///    `max_backoff`, `connect_timeout`, `credentials_timeout`, `confirm_interval`,
    ///    `close_timeout`, `setup_timeout`, `max_read_pause` and `max_retry_after` are non-zero, else
    ///    [`ConfigError::ZeroDuration`] naming the first zero one: a zero
    ///    interval would ping in a busy loop, a zero timeout would declare every
    ///    link dead, a zero backoff would reconnect in a tight loop, a zero
    ///    confirmation interval would ping after every message, a zero close timeout
    ///    would hand everything back unwritten, a zero setup timeout would fail every
    ///    connect, a zero read pause would fail every
    ///    link at the first slow subscriber, a zero `Retry-After` cap would ignore
    ///    every server that asks to be left alone, a zero credentials timeout would fail
    ///    every attempt before its provider could answer.
    ///    `stable_uptime` may be zero.
    /// 3. `message_buffer_size`, `message_buffer_bytes` (when `Some`),
    ///    `max_message_size`, `unconfirmed_window` and `read_ahead_bytes` are non-zero,
    ///    else
    ///    [`ConfigError::ZeroLimit`] naming the field: such a limit would refuse
    ///    (or never write) every message.
    /// 4. `base_backoff <= max_backoff`, else [`ConfigError::BackoffRange`]:
    ///    the first delay would already break the upper bound.
    ///
    /// Any pair of heartbeat interval and timeout is accepted: a timeout check
    /// is scheduled per ping, so a timeout longer than the interval still works.
    /// `max_reconnect_attempts(Some(0))` is accepted and means "never reconnect".
    pub fn build(self) -> Result<ResiliencyConfig, ConfigError> {
        let c = self.config;
        if c.jitter_percent > 100 {
            return Err(ConfigError::JitterOutOfRange {
                percent: c.jitter_percent,
            });
        }
        let durations = [
            ("heartbeat_interval", c.heartbeat_interval),
            ("heartbeat_timeout", c.heartbeat_timeout),
            ("base_backoff", c.base_backoff),
            ("max_backoff", c.max_backoff),
            ("connect_timeout", c.connect_timeout),
            ("credentials_timeout", c.credentials_timeout),
            ("confirm_interval", c.confirm_interval),
            ("close_timeout", c.close_timeout),
            ("setup_timeout", c.setup_timeout),
            ("max_read_pause", c.max_read_pause),
            ("max_retry_after", c.max_retry_after),
        ];
        if let Some((field, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return Err(ConfigError::ZeroDuration { field });
        }
        let limits = [
            ("message_buffer_size", Some(c.message_buffer_size)),
            ("message_buffer_bytes", c.message_buffer_bytes),
            ("max_message_size", Some(c.max_message_size)),
            ("unconfirmed_window", Some(c.unconfirmed_window)),
            ("read_ahead_bytes", Some(c.read_ahead_bytes)),
        ];
        if let Some((field, _)) = limits.iter().find(|(_, l)| *l == Some(0)) {
            return Err(ConfigError::ZeroLimit { field });
        }
        if c.base_backoff > c.max_backoff {
            return Err(ConfigError::BackoffRange {
                base: c.base_backoff,
                max: c.max_backoff,
            });
        }
        Ok(c)
    }
}
