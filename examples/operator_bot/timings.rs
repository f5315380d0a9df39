//! Every duration and size of a run, in one place, so that a test can run the same
//! scenario a hundred times faster.

use std::time::Duration;

use tether_actix::ResiliencyConfigBuilder;

/// The pace of a run: the bots' connection settings, how fast bots work and the hub
/// talks, and how long outages last.
#[derive(Debug, Clone)]
pub(crate) struct Timings {
    /// tether: ping interval.
    pub(crate) heartbeat_interval: Duration,
    /// tether: how long a ping may go unanswered before the link counts as dead.
    pub(crate) heartbeat_timeout: Duration,
    /// tether: first reconnect delay.
    pub(crate) base_backoff: Duration,
    /// tether: longest reconnect delay.
    pub(crate) max_backoff: Duration,
    /// tether: bound on TCP connect plus handshake.
    pub(crate) connect_timeout: Duration,
    /// tether: connected this long, the attempt counter starts over.
    pub(crate) stable_uptime: Duration,
    /// tether: outbound messages kept while not connected. Small on purpose, so long
    /// outages show the bound at work ("rejected").
    pub(crate) buffer_size: usize,
    /// Bot: one unit of work (one `Progress` event) per tick.
    pub(crate) work_tick: Duration,
    /// Bot: a `Heartbeat` event this often.
    pub(crate) bot_heartbeat: Duration,
    /// Hub: each session considers a new task, a steer or a cancel this often.
    pub(crate) hub_tick: Duration,
    /// Scenario: status sampled (display, buffer depth on the timeline) this often.
    pub(crate) sample_every: Duration,
    /// Scenario: the hub behaves for this long before the end, so bots reconnect and
    /// flush before they are closed.
    pub(crate) settle: Duration,
    /// Scenario: the longest wait for bots to close and the hub to see them go.
    pub(crate) close_deadline: Duration,
    /// Multiplies the chaos schedule's durations.
    pub(crate) chaos_scale: f64,
}

impl Timings {
    /// The pace of the interactive demo: outages of seconds, detected within 1.5 s.
    pub(crate) fn demo() -> Self {
        Self {
            heartbeat_interval: Duration::from_millis(500),
            heartbeat_timeout: Duration::from_millis(1000),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            connect_timeout: Duration::from_secs(2),
            stable_uptime: Duration::from_secs(2),
            buffer_size: 40,
            work_tick: Duration::from_millis(150),
            bot_heartbeat: Duration::from_secs(1),
            hub_tick: Duration::from_millis(400),
            sample_every: Duration::from_millis(100),
            settle: Duration::from_secs(3),
            close_deadline: Duration::from_secs(5),
            chaos_scale: 1.0,
        }
    }

    /// The demo's pace divided by about ten, for the tests: outages of a few hundred
    /// milliseconds, each detected within 75 ms.
    // Only the tests (which compile this module in) run at this pace.
    #[allow(dead_code)]
    pub(crate) fn quick() -> Self {
        Self {
            heartbeat_interval: Duration::from_millis(25),
            heartbeat_timeout: Duration::from_millis(50),
            base_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(1),
            stable_uptime: Duration::from_millis(100),
            buffer_size: 40,
            work_tick: Duration::from_millis(10),
            bot_heartbeat: Duration::from_millis(50),
            hub_tick: Duration::from_millis(30),
            sample_every: Duration::from_millis(20),
            settle: Duration::from_millis(600),
            close_deadline: Duration::from_secs(5),
            chaos_scale: 0.1,
        }
    }

    /// Applies the connection settings to a tether configuration.
    pub(crate) fn connection(&self, config: ResiliencyConfigBuilder) -> ResiliencyConfigBuilder {
        config
            .heartbeat_interval(self.heartbeat_interval)
            .heartbeat_timeout(self.heartbeat_timeout)
            .base_backoff(self.base_backoff)
            .max_backoff(self.max_backoff)
            .connect_timeout(self.connect_timeout)
            .stable_uptime(self.stable_uptime)
            .message_buffer_size(self.buffer_size)
    }
}

/// A duration for people, to the tenth of a second: `2.4s`.
pub(crate) fn humanize(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}
