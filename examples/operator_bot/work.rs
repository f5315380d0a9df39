//! A bot's work: the tasks it was given and the events doing them produces. Pure logic,
//! no actors, no network.

use std::collections::{BTreeMap, VecDeque};

use rand::Rng;

use crate::protocol::{EventKind, HubCommand};

/// Final reports kept to answer a repeated assignment; older ones are forgotten.
const REMEMBERED: usize = 256;

/// One task in progress or waiting.
#[derive(Debug)]
struct Task {
    id: u64,
    prompt: String,
    steps: u32,
    done: u32,
    hint: Option<String>,
}

/// The tasks of one bot.
#[derive(Debug, Default)]
pub(crate) struct Work {
    current: Option<Task>,
    queue: VecDeque<Task>,
    /// The final event of each finished task, by id.
    finished: BTreeMap<u64, EventKind>,
    /// Tasks completed (not cancelled).
    pub(crate) completed: u64,
}

impl Work {
    /// The task being worked on.
    pub(crate) fn current(&self) -> Option<u64> {
        self.current.as_ref().map(|task| task.id)
    }

    /// Takes a command from the hub; returns the events to report.
    pub(crate) fn command(&mut self, command: HubCommand, rng: &mut impl Rng) -> Vec<EventKind> {
        match command {
            HubCommand::TaskAssign { task_id, prompt } => {
                if let Some(outcome) = self.finished.get(&task_id) {
                    // The hub never got the answer (lost, rejected, or not yet flushed):
                    // say it again.
                    return vec![outcome.clone()];
                }
                if self.task_mut(task_id).is_some() {
                    return Vec::new(); // already on it
                }
                self.queue.push_back(Task {
                    id: task_id,
                    prompt,
                    // Long enough that a task spans an outage: the bot keeps working, tether
                    // keeps its events.
                    steps: rng.random_range(15..=40),
                    done: 0,
                    hint: None,
                });
                vec![EventKind::TaskAccepted { task_id }]
            }
            HubCommand::Steer { task_id, hint } => {
                if let Some(task) = self.task_mut(task_id) {
                    task.hint = Some(hint);
                }
                Vec::new()
            }
            HubCommand::Cancel { task_id } => {
                let was_current = self.current() == Some(task_id);
                let queued = self.queue.iter().position(|task| task.id == task_id);
                if was_current {
                    self.current = None;
                } else if let Some(index) = queued {
                    self.queue.remove(index);
                } else {
                    return Vec::new(); // finished or unknown: nothing to cancel
                }
                let event = EventKind::TaskError {
                    task_id,
                    error: "cancelled by the hub".into(),
                };
                self.finish(task_id, event.clone());
                vec![event]
            }
        }
    }

    /// Does one unit of work; returns the event it produced, if any.
    pub(crate) fn step(&mut self) -> Option<EventKind> {
        if self.current.is_none() {
            self.current = self.queue.pop_front();
        }
        let task = self.current.as_mut()?;
        task.done += 1;
        let hint = task
            .hint
            .as_deref()
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
        if task.done < task.steps {
            return Some(EventKind::Progress {
                task_id: task.id,
                text: format!("{}: step {}/{}{hint}", task.prompt, task.done, task.steps),
            });
        }
        let event = EventKind::TaskComplete {
            task_id: task.id,
            summary: format!("{}: done in {} steps{hint}", task.prompt, task.steps),
        };
        let id = task.id;
        self.current = None;
        self.completed += 1;
        self.finish(id, event.clone());
        Some(event)
    }

    fn task_mut(&mut self, task_id: u64) -> Option<&mut Task> {
        self.current
            .iter_mut()
            .chain(self.queue.iter_mut())
            .find(|task| task.id == task_id)
    }

    fn finish(&mut self, task_id: u64, event: EventKind) {
        self.finished.insert(task_id, event);
        if self.finished.len() > REMEMBERED {
            self.finished.pop_first();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    fn assign(task_id: u64) -> HubCommand {
        HubCommand::TaskAssign {
            task_id,
            prompt: format!("task {task_id}"),
        }
    }

    #[test]
    fn a_task_streams_progress_then_completes_and_a_repeat_gets_the_answer_again() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut work = Work::default();
        assert_eq!(
            work.command(assign(1), &mut rng),
            [EventKind::TaskAccepted { task_id: 1 }]
        );
        assert!(
            work.command(assign(1), &mut rng).is_empty(),
            "already on it"
        );
        let events: Vec<_> = std::iter::from_fn(|| work.step()).collect();
        assert!(events.len() >= 15);
        let last = events.last().cloned().expect("some events");
        assert!(matches!(last, EventKind::TaskComplete { task_id: 1, .. }));
        assert_eq!(work.command(assign(1), &mut rng), [last]);
        assert_eq!(work.completed, 1);
    }

    #[test]
    fn cancel_ends_the_task_with_an_error() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut work = Work::default();
        work.command(assign(1), &mut rng);
        work.step();
        let events = work.command(HubCommand::Cancel { task_id: 1 }, &mut rng);
        assert!(matches!(
            events[..],
            [EventKind::TaskError { task_id: 1, .. }]
        ));
        assert_eq!(work.current(), None);
        assert!(work
            .command(HubCommand::Cancel { task_id: 1 }, &mut rng)
            .is_empty());
    }
}
