//! Handing out work: which tasks each bot holds, and what to tell it next.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::Rng;

use crate::protocol::{EventKind, HubCommand};

const PROMPTS: &[&str] = &[
    "triage ticket",
    "summarise incident",
    "draft release notes for build",
    "review pull request",
    "reconcile invoice",
];

const HINTS: &[&str] = &[
    "be brief",
    "focus on errors",
    "cite the logs",
    "skip the tests",
    "ask before deleting",
];

/// Tasks a bot holds at once: one in progress and one waiting, so it has work to go
/// on with while the hub is unreachable.
const OPEN_PER_BOT: usize = 2;
/// Chance per tick that a bot with a task gets a `Steer`.
const STEER_CHANCE: f64 = 0.3;
/// Chance per tick that a bot's task is cancelled.
const CANCEL_CHANCE: f64 = 0.03;

/// The tasks of one bot, as far as the hub knows.
#[derive(Debug, Default)]
pub(crate) struct Desk {
    /// Assigned and not yet reported finished, by id.
    open: BTreeMap<u64, String>,
    /// Tasks reported complete.
    pub(crate) completed: u64,
    /// Tasks reported ended with an error (cancelled ones included).
    pub(crate) failed: u64,
}

/// Task ids, unique across the whole hub.
#[derive(Debug, Default)]
pub(crate) struct TaskIds(u64);

impl TaskIds {
    fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    /// How many tasks were assigned in all.
    pub(crate) fn issued(&self) -> u64 {
        self.0
    }
}

impl Desk {
    /// What to send on a fresh connection: every open task again, because the bot may
    /// never have received the assignment, or its answer may have been lost.
    pub(crate) fn reassignments(&self) -> Vec<HubCommand> {
        self.open
            .iter()
            .map(|(&task_id, prompt)| HubCommand::TaskAssign {
                task_id,
                prompt: prompt.clone(),
            })
            .collect()
    }

    /// What to send on a periodic tick: a new task when the bot has room for one,
    /// otherwise now and then a steer or a cancel of its oldest task.
    pub(crate) fn tick(&mut self, ids: &mut TaskIds, rng: &mut StdRng) -> Option<HubCommand> {
        if self.open.len() < OPEN_PER_BOT {
            let task_id = ids.next();
            let prompt = format!("{} #{task_id}", pick(PROMPTS, rng));
            self.open.insert(task_id, prompt.clone());
            return Some(HubCommand::TaskAssign { task_id, prompt });
        }
        let (&task_id, _) = self.open.first_key_value()?;
        let roll: f64 = rng.random();
        if roll < CANCEL_CHANCE {
            Some(HubCommand::Cancel { task_id })
        } else if roll < CANCEL_CHANCE + STEER_CHANCE {
            let hint = pick(HINTS, rng).to_owned();
            Some(HubCommand::Steer { task_id, hint })
        } else {
            None
        }
    }

    /// Takes note of an event from the bot.
    pub(crate) fn observe(&mut self, event: &EventKind) {
        if !event.is_final() {
            return;
        }
        let Some(task_id) = event.task_id() else {
            return;
        };
        // A repeated final report (the answer to a reassignment) counts once.
        if self.open.remove(&task_id).is_some() {
            match event {
                EventKind::TaskComplete { .. } => self.completed += 1,
                _ => self.failed += 1,
            }
        }
    }
}

/// One of `choices`, at random.
fn pick<'a>(choices: &[&'a str], rng: &mut impl Rng) -> &'a str {
    choices[rng.random_range(0..choices.len())]
}
