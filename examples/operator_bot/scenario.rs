//! One run: start the hub (or use an external one) and the bots, let the hub misbehave
//! on schedule while sampling everybody's status, close every bot, and reconcile.
//!
//! Nothing here draws or parses arguments, so the integration test runs the very same
//! scenario (see `tests/operator_bot.rs`).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tether_actix::message::GetStatus;
use tether_actix::{BuildError, ConnectionState, Status};
use tokio::sync::oneshot;

use crate::accounting::Accounting;
use crate::bot::{Bot, BotHandle, BotRecord, BotSettings, GetRecord, Shutdown};
use crate::hub::chaos::{self, ChaosLevel, Schedule};
use crate::hub::{Hub, HubConfig, HubStats, Misbehaviour};
use crate::timings::Timings;

/// Where the bots connect.
#[derive(Debug, Clone)]
pub(crate) enum HubChoice {
    /// A hub started in this process, on a free port of 127.0.0.1, misbehaving on the
    /// chaos schedule.
    Embedded,
    /// An external hub at these base URLs (`ws://HOST:PORT`, primary port first), e.g.
    /// one started with `--hub-only`. Its counts come from the first one's `/stats`.
    External(Vec<String>),
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct ScenarioConfig {
    /// How many bots.
    pub(crate) bots: usize,
    /// How long before the bots are closed.
    pub(crate) duration: Duration,
    /// How much the embedded hub misbehaves.
    pub(crate) chaos: ChaosLevel,
    /// Seeds the chaos schedule, the hub's choices and the bots' jitter.
    pub(crate) seed: u64,
    /// Which hub.
    pub(crate) hub: HubChoice,
    /// The hub's secret: the embedded hub requires it, the bots fetch connect tokens
    /// with it.
    pub(crate) token: Option<String>,
    /// The pace.
    pub(crate) timings: Timings,
    /// Where the bots keep their outboxes on disk (`--durable`), if they do.
    pub(crate) durable: Option<std::path::PathBuf>,
}

/// Everybody's status at one moment, for a live display.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Since the start of the run.
    pub(crate) at: Duration,
    /// Per bot, in order.
    pub(crate) bots: Vec<BotSample>,
}

/// One bot's status at one moment.
#[derive(Debug, Clone)]
pub(crate) struct BotSample {
    /// The bot's name.
    pub(crate) name: String,
    /// Its connection's status (`None`: the connection actor did not answer).
    pub(crate) status: Option<Status>,
    /// Events of this bot the hub has seen (`None`: unknown).
    pub(crate) at_hub: Option<u64>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScenarioError {
    /// The embedded hub could not listen.
    #[error("cannot start the hub: {0}")]
    Hub(#[from] std::io::Error),
    /// A bot's connection could not be built (a bad `--url`, typically).
    #[error("cannot start a bot: {0}")]
    Bot(#[from] BuildError),
}

/// Everything a run found out.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// What ran.
    pub(crate) config: ScenarioConfig,
    /// How long it took, closing included.
    pub(crate) elapsed: Duration,
    /// Per bot, in order.
    pub(crate) bots: Vec<BotResult>,
    /// What the embedded hub did, from the start of the run.
    pub(crate) misbehaved: Vec<Incident>,
    /// The hub's final counts (`None`: unavailable).
    pub(crate) hub: Option<HubStats>,
}

/// One bot's run.
#[derive(Debug, Clone)]
pub(crate) struct BotResult {
    /// The bot's name.
    pub(crate) name: String,
    /// Where its events went.
    pub(crate) accounting: Accounting,
    /// Successful connects after the first.
    pub(crate) reconnects: u64,
    /// Every connect, from the start of the run, with its endpoint (0: primary port).
    pub(crate) connects: Vec<(Duration, usize)>,
    /// The answer to `Close` (`None`: none within the deadline).
    pub(crate) closed: Option<ConnectionState>,
    /// Every state entered, from the start of the run.
    pub(crate) states: Vec<(Duration, ConnectionState)>,
    /// Sampled: messages in tether's buffer, and messages written but not yet
    /// confirmed.
    pub(crate) depth: Vec<Depth>,
    /// The longest stretch between losing the link and having it back.
    pub(crate) longest_outage: Duration,
    /// The longest wait for tether to answer a `Outgoing`.
    pub(crate) longest_send_wait: Duration,
    /// Tasks the bot completed.
    pub(crate) completed: u64,
}

/// One sample of a connection's queues.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Depth {
    /// Since the start of the run.
    pub(crate) at: Duration,
    /// Messages in tether's buffer.
    pub(crate) buffered: usize,
    /// Messages written, not yet confirmed by the hub.
    pub(crate) unconfirmed: usize,
}

/// A misbehaviour of the hub, from the start of the run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incident {
    /// What.
    pub(crate) what: Misbehaviour,
    /// Started.
    pub(crate) from: Duration,
    /// Ended.
    pub(crate) to: Duration,
}

impl BotResult {
    /// Connects to a different endpoint than the connect before.
    pub(crate) fn failovers(&self) -> usize {
        self.connects
            .windows(2)
            .filter(|pair| pair[0].1 != pair[1].1)
            .count()
    }
}

impl Report {
    /// Whether every bot's events are all accounted for.
    pub(crate) fn all_accounted(&self) -> bool {
        self.bots.iter().all(|bot| bot.accounting.balanced())
    }

    /// Whether every bot ended in `Closed`, as asked.
    pub(crate) fn all_closed(&self) -> bool {
        self.bots
            .iter()
            .all(|bot| bot.closed == Some(ConnectionState::Closed))
    }
}

/// Runs the scenario. `on_sample` sees everybody's status every
/// `timings.sample_every`; `stop` ends the run early (the bots are still closed and
/// reconciled).
pub(crate) async fn run(
    config: ScenarioConfig,
    on_sample: impl FnMut(&Sample),
    stop: impl Future<Output = ()>,
) -> Result<Report, ScenarioError> {
    let started = Instant::now();
    let timings = &config.timings;
    let (hub, hub_urls) = match &config.hub {
        HubChoice::Embedded => {
            let hub = Hub::start(HubConfig {
                listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                backup: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                token: config.token.clone(),
                seed: config.seed,
                tick: timings.hub_tick,
            })?;
            let urls = hub.urls();
            (Some(hub), urls)
        }
        HubChoice::External(urls) => (
            None,
            urls.iter()
                .map(|url| url.trim_end_matches('/').to_owned())
                .collect(),
        ),
    };
    let first = hub_urls.first().cloned().unwrap_or_default();
    let stats = StatsSource::new(hub.clone(), &first, config.token.clone());
    let bots = match start_bots(&config, &hub_urls) {
        Ok(bots) => bots,
        Err(error) => {
            if let Some(hub) = &hub {
                hub.stop().await;
            }
            return Err(error.into());
        }
    };

    // The hub behaves again `settle` before the end, so bots reconnect and flush.
    let (calm, calmed) = oneshot::channel::<()>();
    let chaos = hub.clone().map(|hub| {
        let until = config.duration.saturating_sub(timings.settle);
        let schedule = Schedule::new(config.chaos, config.seed, timings.chaos_scale)
            .take_while(move |planned| planned.ends() <= until);
        actix::spawn(chaos::run(hub, schedule, async {
            let _ = calmed.await;
        }))
    });
    let deadline = started + config.duration;
    let depth = observe(&bots, &stats, started, deadline, timings, on_sample, stop).await;

    // No new misbehaviour; one in progress runs to its end, leaving the hub serving.
    let _ = calm.send(());
    if let Some(chaos) = chaos {
        let _ = chaos.await;
    }
    let closed = close_all(&bots, timings.close_deadline).await;
    // Each session ends once the hub has read the bot's close frame, and so every
    // frame before it.
    wait_for_sessions_to_end(&stats, timings.close_deadline).await;

    let hub_stats = stats.fetch().await;
    let mut results = Vec::with_capacity(bots.len());
    for ((handle, closed), depth) in bots.iter().zip(closed).zip(depth) {
        results.push(reconcile(handle, closed, depth, started, hub_stats.as_ref()).await);
    }
    let misbehaved = hub
        .as_ref()
        .map(|hub| {
            hub.misbehaved()
                .into_iter()
                .map(|m| Incident {
                    what: m.what,
                    from: m.from.saturating_duration_since(started),
                    to: m.to.saturating_duration_since(started),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(hub) = &hub {
        hub.stop().await;
    }
    Ok(Report {
        config,
        elapsed: started.elapsed(),
        bots: results,
        misbehaved,
        hub: hub_stats,
    })
}

/// Samples everybody's status until `deadline` (or `stop`); returns each bot's queue
/// depths over time.
async fn observe(
    bots: &[BotHandle],
    stats: &StatsSource,
    started: Instant,
    deadline: Instant,
    timings: &Timings,
    mut on_sample: impl FnMut(&Sample),
    stop: impl Future<Output = ()>,
) -> Vec<Vec<Depth>> {
    let mut depth = vec![Vec::new(); bots.len()];
    tokio::pin!(stop);
    loop {
        let sample = take_sample(started, bots, stats).await;
        for (track, bot) in depth.iter_mut().zip(&sample.bots) {
            if let Some(status) = &bot.status {
                track.push(Depth {
                    at: sample.at,
                    buffered: status.buffered,
                    unconfirmed: status.unconfirmed,
                });
            }
        }
        on_sample(&sample);
        let now = Instant::now();
        if now >= deadline {
            return depth;
        }
        tokio::select! {
            () = actix::clock::sleep(timings.sample_every.min(deadline - now)) => {}
            () = &mut stop => {
                tracing::info!("stopping early");
                return depth;
            }
        }
    }
}

/// Starts every bot. With an external hub, names carry this process's id, so that
/// runs against the same hub do not mix their sequence numbers.
fn start_bots(config: &ScenarioConfig, hub_urls: &[String]) -> Result<Vec<BotHandle>, BuildError> {
    // A durable bot keeps its name across runs: the name finds its store.
    let suffix = match (&config.hub, &config.durable) {
        (HubChoice::External(_), None) => format!("-{:x}", std::process::id()),
        _ => String::new(),
    };
    (1..=config.bots)
        .map(|n| {
            Bot::start(BotSettings {
                name: format!("op-{n}{suffix}"),
                hub_urls: hub_urls.to_vec(),
                token: config.token.clone(),
                // Distinct per bot: bots with the same jitter reconnect in lockstep.
                seed: config.seed.wrapping_add(n as u64),
                timings: config.timings.clone(),
                durable: config.durable.clone(),
            })
        })
        .collect()
}

/// Asks every connection for its status and the hub for its counts.
async fn take_sample(started: Instant, bots: &[BotHandle], stats: &StatsSource) -> Sample {
    let statuses = join_all(bots.iter().map(|bot| bot.connection.send(GetStatus))).await;
    let hub = stats.fetch().await;
    let bots = bots
        .iter()
        .zip(statuses)
        .map(|(bot, status)| BotSample {
            name: bot.name.clone(),
            status: status.ok(),
            at_hub: hub
                .as_ref()
                .map(|hub| hub.bots.get(&bot.name).map_or(0, |b| b.events.received)),
        })
        .collect();
    Sample {
        at: started.elapsed(),
        bots,
    }
}

/// Shuts every bot down at once; `None` for a bot that did not close in time.
async fn close_all(bots: &[BotHandle], deadline: Duration) -> Vec<Option<ConnectionState>> {
    let closing = bots.iter().map(|handle| async move {
        match actix::clock::timeout(deadline, handle.bot.send(Shutdown)).await {
            Ok(Ok(state)) => state,
            Ok(Err(error)) => {
                tracing::error!(bot = %handle.name, %error, "bot actor gone");
                None
            }
            Err(_) => {
                tracing::error!(bot = %handle.name, "did not close within {deadline:?}");
                None
            }
        }
    });
    join_all(closing).await
}

/// Waits until the hub has no open session, or `deadline` has passed.
async fn wait_for_sessions_to_end(stats: &StatsSource, deadline: Duration) {
    let give_up = Instant::now() + deadline;
    while Instant::now() < give_up {
        if stats
            .fetch()
            .await
            .is_some_and(|hub| hub.open_sessions == 0)
        {
            return;
        }
        actix::clock::sleep(Duration::from_millis(10)).await;
    }
    tracing::warn!("the hub still has open sessions after {deadline:?}");
}

/// Reconciles one bot: its record, its connection's counters, the hub's tally.
async fn reconcile(
    handle: &BotHandle,
    closed: Option<ConnectionState>,
    depth: Vec<Depth>,
    started: Instant,
    hub: Option<&HubStats>,
) -> BotResult {
    let record = handle.bot.send(GetRecord).await;
    let status = handle.connection.send(GetStatus).await;
    let tally = hub.map(|hub| {
        hub.bots
            .get(&handle.name)
            .map(|bot| bot.events.clone())
            .unwrap_or_default()
    });
    // Both actors outlive the run (the scenario holds their addresses): an error means
    // one of them panicked, and the accounting says so.
    let mut accounting = match (&record, &status) {
        (Ok(record), Ok(status)) => Accounting::reconcile(
            &record.outcomes,
            &status.counters,
            status.buffered,
            tally.as_ref(),
        ),
        _ => Accounting::default(),
    };
    if let Err(error) = &record {
        accounting
            .problems
            .push(format!("the bot did not answer: {error}"));
    }
    if let Err(error) = &status {
        accounting
            .problems
            .push(format!("the connection did not answer: {error}"));
    }
    let BotRecord {
        transitions,
        connects,
        longest_send_wait,
        completed,
        ..
    } = record.unwrap_or_default();
    BotResult {
        name: handle.name.clone(),
        accounting,
        reconnects: status.map_or(0, |s| s.counters.connects.saturating_sub(1)),
        closed,
        connects: connects
            .into_iter()
            .map(|(at, endpoint)| (at.saturating_duration_since(started), endpoint))
            .collect(),
        longest_outage: longest_outage(&transitions),
        states: transitions
            .into_iter()
            .map(|(at, state)| (at.saturating_duration_since(started), state))
            .collect(),
        depth,
        longest_send_wait,
        completed,
    }
}

/// The longest time from leaving `Connected` to entering it again.
fn longest_outage(transitions: &[(Instant, ConnectionState)]) -> Duration {
    let mut longest = Duration::ZERO;
    let mut lost_at = None;
    for &(at, state) in transitions {
        match state {
            ConnectionState::Connected => {
                if let Some(since) = lost_at.take() {
                    longest = longest.max(at - since);
                }
            }
            ConnectionState::Disconnected => {
                lost_at.get_or_insert(at);
            }
            _ => {}
        }
    }
    longest
}

/// Where the hub's counts come from. (No `Debug`: `awc::Client` has none.)
enum StatsSource {
    Embedded(Hub),
    External {
        client: awc::Client,
        url: String,
        token: Option<String>,
    },
}

impl StatsSource {
    fn new(hub: Option<Hub>, hub_url: &str, token: Option<String>) -> Self {
        match hub {
            Some(hub) => Self::Embedded(hub),
            None => {
                let http = hub_url
                    .strip_prefix("ws://")
                    .map(|rest| format!("http://{rest}"))
                    .or_else(|| {
                        hub_url
                            .strip_prefix("wss://")
                            .map(|rest| format!("https://{rest}"))
                    })
                    .unwrap_or_else(|| hub_url.to_owned());
                Self::External {
                    client: awc::Client::builder()
                        .timeout(Duration::from_secs(1))
                        .finish(),
                    url: format!("{http}/stats"),
                    token,
                }
            }
        }
    }

    /// The hub's counts now; `None` when an external hub cannot be asked (down,
    /// restarting, wrong token).
    async fn fetch(&self) -> Option<HubStats> {
        match self {
            Self::Embedded(hub) => Some(hub.stats()),
            Self::External { client, url, token } => {
                let mut request = client.get(url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let mut response = request.send().await.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                response.json::<HubStats>().limit(16 << 20).await.ok()
            }
        }
    }
}
