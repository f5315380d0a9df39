//! The hub's misbehaviour: a seeded schedule of outages, and the runner that acts it
//! out.
//!
//! Every kind of outage a WebSocket client meets in production, one at a time:
//! connections dropped, the server restarted on the same port, a half-dead server that
//! keeps TCP open but answers nothing (only the heartbeat can tell), and handshakes
//! refused with 503 at the primary port (the bots fail over to the backup port). The
//! kinds come in rounds, each round a shuffled set of all four,
//! so even a short run shows every one of them.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{Hub, Mode};
use crate::timings::humanize;

/// How much the hub misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChaosLevel {
    /// Never.
    Off,
    /// An outage every few seconds, short ones.
    Mild,
    /// Outages back to back, long ones.
    Wild,
}

impl fmt::Display for ChaosLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Mild => "mild",
            Self::Wild => "wild",
        })
    }
}

/// One kind of misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Misbehaviour {
    /// Every connection dropped at once, without a close frame.
    Drop,
    /// The server stopped, down for a while (connections refused), then listening again
    /// on the same port.
    Restart,
    /// TCP kept open, nothing answered: heartbeats expire.
    Silent,
    /// The primary port's connections dropped and its new handshakes refused with 503
    /// for a while; the backup port serves.
    Refuse,
}

impl Misbehaviour {
    /// All kinds, in a fixed order.
    pub(crate) const ALL: [Misbehaviour; 4] =
        [Self::Drop, Self::Restart, Self::Silent, Self::Refuse];
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Drop => "drop",
            Self::Restart => "restart",
            Self::Silent => "silent",
            Self::Refuse => "503 at primary",
        })
    }
}

/// A misbehaviour the schedule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Planned {
    /// When, from the start of the schedule.
    pub(crate) at: Duration,
    /// What.
    pub(crate) what: Misbehaviour,
    /// For how long (zero for a drop).
    pub(crate) lasts: Duration,
}

impl Planned {
    /// When it is over, from the start of the schedule.
    pub(crate) fn ends(&self) -> Duration {
        self.at + self.lasts
    }
}

/// A misbehaviour that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Misbehaved {
    /// What.
    pub(crate) what: Misbehaviour,
    /// When it started.
    pub(crate) from: Instant,
    /// When it ended (the same instant for a drop).
    pub(crate) to: Instant,
}

/// Seconds, as ranges to draw from, per level.
struct Pace {
    calm: Range<f64>,
    restart: Range<f64>,
    silent: Range<f64>,
    refuse: Range<f64>,
}

const MILD: Pace = Pace {
    calm: 2.5..5.0,
    restart: 0.5..1.5,
    silent: 2.0..3.0,
    refuse: 1.0..2.5,
};

const WILD: Pace = Pace {
    calm: 1.0..2.5,
    restart: 1.0..3.0,
    silent: 2.5..5.0,
    refuse: 2.0..4.0,
};

/// An endless, seeded sequence of [`Planned`] misbehaviours, one after the other
/// (they never overlap). Empty when the level is [`ChaosLevel::Off`].
#[derive(Debug)]
pub(crate) struct Schedule {
    level: ChaosLevel,
    rng: StdRng,
    /// Multiplies every duration: 1.0 for the demo, much less in tests.
    scale: f64,
    next_free: Duration,
    round: Vec<Misbehaviour>,
}

impl Schedule {
    /// A schedule for `level`, drawn from `seed`, its durations multiplied by `scale`.
    pub(crate) fn new(level: ChaosLevel, seed: u64, scale: f64) -> Self {
        Self {
            level,
            rng: StdRng::seed_from_u64(seed),
            scale,
            next_free: Duration::ZERO,
            round: Vec::new(),
        }
    }

    fn draw(&mut self, seconds: &Range<f64>) -> Duration {
        Duration::from_secs_f64(self.rng.random_range(seconds.clone()) * self.scale)
    }
}

impl Iterator for Schedule {
    type Item = Planned;

    fn next(&mut self) -> Option<Planned> {
        let pace = match self.level {
            ChaosLevel::Off => return None,
            ChaosLevel::Mild => &MILD,
            ChaosLevel::Wild => &WILD,
        };
        if self.round.is_empty() {
            self.round = Misbehaviour::ALL.to_vec();
            self.round.shuffle(&mut self.rng);
        }
        let what = self.round.pop()?;
        let at = self.next_free + self.draw(&pace.calm);
        let lasts = match what {
            Misbehaviour::Drop => Duration::ZERO,
            Misbehaviour::Restart => self.draw(&pace.restart),
            Misbehaviour::Silent => self.draw(&pace.silent),
            Misbehaviour::Refuse => self.draw(&pace.refuse),
        };
        self.next_free = at + lasts;
        Some(Planned { at, what, lasts })
    }
}

/// Acts out `schedule` on `hub`, timed from now. Returns when the schedule ends (never,
/// for an endless one), when `calm` completes (a misbehaviour in progress is finished
/// first, so the hub is left serving), or when the hub cannot come back from a restart.
pub(crate) async fn run(
    hub: Hub,
    schedule: impl IntoIterator<Item = Planned>,
    calm: impl Future<Output = ()>,
) {
    let start = Instant::now();
    tokio::pin!(calm);
    for planned in schedule {
        tokio::select! {
            () = actix::clock::sleep_until((start + planned.at).into()) => {}
            () = &mut calm => return,
        }
        if let Err(error) = misbehave(&hub, planned).await {
            tracing::error!(%error, "hub: cannot listen again after a restart; chaos ends");
            return;
        }
    }
}

/// Carries out one misbehaviour and records it.
async fn misbehave(hub: &Hub, planned: Planned) -> std::io::Result<()> {
    let from = Instant::now();
    let lasts = humanize(planned.lasts);
    match planned.what {
        Misbehaviour::Drop => {
            let dropped = hub.drop_all();
            tracing::warn!("hub: dropping all {dropped} connections");
        }
        Misbehaviour::Restart => {
            tracing::warn!("hub: restarting, down for {lasts}");
            hub.restart(planned.lasts).await?;
            tracing::info!("hub: back up on {}", hub.addr());
        }
        Misbehaviour::Silent => {
            tracing::warn!("hub: going silent for {lasts} (TCP open, nothing answered)");
            hub.set_mode(Mode::Silent);
            actix::clock::sleep(planned.lasts).await;
            hub.set_mode(Mode::Serving);
            tracing::info!("hub: answering again");
        }
        Misbehaviour::Refuse => {
            tracing::warn!(
                "hub: primary port {} drops everyone and refuses handshakes with 503 for {lasts}",
                hub.addr()
            );
            hub.set_mode(Mode::Refusing);
            hub.drop_port(0);
            actix::clock::sleep(planned.lasts).await;
            hub.set_mode(Mode::Serving);
            tracing::info!("hub: accepting handshakes again");
        }
    }
    hub.record(planned.what, from);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_round_has_every_kind_and_nothing_overlaps() {
        let planned: Vec<_> = Schedule::new(ChaosLevel::Wild, 7, 1.0).take(8).collect();
        for round in planned.chunks(4) {
            let mut kinds: Vec<_> = round.iter().map(|p| p.what as u8).collect();
            kinds.sort_unstable();
            assert_eq!(kinds, [0, 1, 2, 3]);
        }
        for pair in planned.windows(2) {
            assert!(pair[1].at > pair[0].ends());
        }
        assert_eq!(Schedule::new(ChaosLevel::Off, 7, 1.0).next(), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let a: Vec<_> = Schedule::new(ChaosLevel::Mild, 3, 0.1).take(5).collect();
        let b: Vec<_> = Schedule::new(ChaosLevel::Mild, 3, 0.1).take(5).collect();
        assert_eq!(a, b);
    }
}
