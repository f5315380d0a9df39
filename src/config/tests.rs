use std::time::Duration;

use super::*;

#[test]
fn reference_1_defaults() {
    let c = ResiliencyConfig::default();
    assert_eq!(c.heartbeat_interval(), Duration::from_secs(15));
    assert_eq!(c.heartbeat_timeout(), Duration::from_secs(5));
    assert_eq!(c.base_backoff(), Duration::from_secs(1));
    assert_eq!(c.max_backoff(), Duration::from_secs(30));
    assert_eq!(c.max_reconnect_attempts(), None);
    assert_eq!(c.jitter_percent(), 20);
    assert_eq!(c.message_buffer_size(), 256);
}

#[test]
fn defaults_of_tether_additions() {
    let c = ResiliencyConfig::default();
    assert_eq!(c.jitter(), JitterStrategy::Proportional);
    assert_eq!(c.message_buffer_bytes(), Some(32 * 1024 * 1024));
    assert_eq!(c.overflow_policy(), OverflowPolicy::RejectNew);
    assert_eq!(c.connect_timeout(), Duration::from_secs(10));
    assert_eq!(c.credentials_timeout(), Duration::from_secs(10));
    assert_eq!(c.max_message_size(), 16 * 1024 * 1024);
    assert_eq!(c.stable_uptime(), Duration::from_secs(5));
    assert_eq!(c.max_retry_after(), Duration::from_secs(300));
    assert_eq!(c.setup_timeout(), Duration::from_secs(10));
}

#[test]
fn defaults_build_and_equal_default() {
    assert_eq!(
        ResiliencyConfig::builder().build(),
        Ok(ResiliencyConfig::default())
    );
    assert_eq!(
        ResiliencyConfigBuilder::new().build(),
        Ok(ResiliencyConfig::default())
    );
}

#[test]
fn every_setter_is_applied() {
    let c = ResiliencyConfig::builder()
        .heartbeat_interval(Duration::from_secs(1))
        .heartbeat_timeout(Duration::from_secs(2))
        .base_backoff(Duration::from_millis(3))
        .max_backoff(Duration::from_millis(4))
        .max_reconnect_attempts(Some(5))
        .jitter_percent(6)
        .jitter(JitterStrategy::Full)
        .message_buffer_size(7)
        .message_buffer_bytes(None)
        .overflow_policy(OverflowPolicy::DropOldest)
        .connect_timeout(Duration::from_secs(8))
        .max_message_size(9)
        .stable_uptime(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(c.heartbeat_interval(), Duration::from_secs(1));
    assert_eq!(c.heartbeat_timeout(), Duration::from_secs(2));
    assert_eq!(c.base_backoff(), Duration::from_millis(3));
    assert_eq!(c.max_backoff(), Duration::from_millis(4));
    assert_eq!(c.max_reconnect_attempts(), Some(5));
    assert_eq!(c.jitter_percent(), 6);
    assert_eq!(c.jitter(), JitterStrategy::Full);
    assert_eq!(c.message_buffer_size(), 7);
    assert_eq!(c.message_buffer_bytes(), None);
    assert_eq!(c.overflow_policy(), OverflowPolicy::DropOldest);
    assert_eq!(c.connect_timeout(), Duration::from_secs(8));
    assert_eq!(c.max_message_size(), 9);
    assert_eq!(c.stable_uptime(), Duration::ZERO);
}

#[test]
fn to_builder_round_trips_and_changes_one_field() {
    let c = ResiliencyConfig::builder()
        .jitter_percent(0)
        .max_reconnect_attempts(Some(3))
        .build()
        .unwrap();
    assert_eq!(c.to_builder().build(), Ok(c.clone()));
    let d = c.to_builder().jitter_percent(50).build().unwrap();
    assert_eq!(d.jitter_percent(), 50);
    assert_eq!(d.max_reconnect_attempts(), Some(3));
}

#[test]
fn jitter_above_100_is_rejected() {
    assert_eq!(
        ResiliencyConfig::builder().jitter_percent(101).build(),
        Err(ConfigError::JitterOutOfRange { percent: 101 })
    );
    assert!(ResiliencyConfig::builder()
        .jitter_percent(100)
        .build()
        .is_ok());
    assert!(ResiliencyConfig::builder()
        .jitter_percent(0)
        .build()
        .is_ok());
}

#[test]
fn each_zero_duration_is_rejected_by_name() {
    type Set = fn(ResiliencyConfigBuilder, Duration) -> ResiliencyConfigBuilder;
    let cases: [(&str, Set); 9] = [
        (
            "heartbeat_interval",
            ResiliencyConfigBuilder::heartbeat_interval,
        ),
        (
            "heartbeat_timeout",
            ResiliencyConfigBuilder::heartbeat_timeout,
        ),
        ("base_backoff", ResiliencyConfigBuilder::base_backoff),
        ("max_backoff", ResiliencyConfigBuilder::max_backoff),
        ("connect_timeout", ResiliencyConfigBuilder::connect_timeout),
        (
            "credentials_timeout",
            ResiliencyConfigBuilder::credentials_timeout,
        ),
        (
            "confirm_interval",
            ResiliencyConfigBuilder::confirm_interval,
        ),
        ("max_retry_after", ResiliencyConfigBuilder::max_retry_after),
        ("setup_timeout", ResiliencyConfigBuilder::setup_timeout),
    ];
    for (name, set) in cases {
        let result = set(ResiliencyConfig::builder(), Duration::ZERO).build();
        assert_eq!(result, Err(ConfigError::ZeroDuration { field: name }));
    }
}

#[test]
fn zero_stable_uptime_is_allowed() {
    let c = ResiliencyConfig::builder()
        .stable_uptime(Duration::ZERO)
        .build()
        .unwrap();
    assert!(c.stable_uptime().is_zero());
}

#[test]
fn each_zero_limit_is_rejected_by_name() {
    assert_eq!(
        ResiliencyConfig::builder().message_buffer_size(0).build(),
        Err(ConfigError::ZeroLimit {
            field: "message_buffer_size"
        })
    );
    assert_eq!(
        ResiliencyConfig::builder()
            .message_buffer_bytes(Some(0))
            .build(),
        Err(ConfigError::ZeroLimit {
            field: "message_buffer_bytes"
        })
    );
    assert_eq!(
        ResiliencyConfig::builder().max_message_size(0).build(),
        Err(ConfigError::ZeroLimit {
            field: "max_message_size"
        })
    );
    assert!(ResiliencyConfig::builder()
        .message_buffer_bytes(None)
        .build()
        .is_ok());
}

#[test]
fn base_above_max_is_rejected() {
    let base = Duration::from_secs(31);
    let max = Duration::from_secs(30);
    assert_eq!(
        ResiliencyConfig::builder().base_backoff(base).build(),
        Err(ConfigError::BackoffRange { base, max })
    );
    // Equal bounds are a valid constant delay.
    assert!(ResiliencyConfig::builder()
        .base_backoff(max)
        .max_backoff(max)
        .build()
        .is_ok());
}

#[test]
fn first_violated_rule_is_reported() {
    let err = ResiliencyConfig::builder()
        .jitter_percent(200)
        .heartbeat_interval(Duration::ZERO)
        .message_buffer_size(0)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::JitterOutOfRange { percent: 200 });
}

#[test]
fn error_messages_name_the_problem() {
    assert_eq!(
        ConfigError::ZeroDuration {
            field: "heartbeat_timeout"
        }
        .to_string(),
        "heartbeat_timeout must be greater than zero"
    );
    assert_eq!(
        ConfigError::JitterOutOfRange { percent: 150 }.to_string(),
        "jitter_percent must be between 0 and 100, got 150"
    );
    assert_eq!(
        ConfigError::BackoffRange {
            base: Duration::from_secs(2),
            max: Duration::from_secs(1)
        }
        .to_string(),
        "base_backoff (2s) must not exceed max_backoff (1s)"
    );
}
