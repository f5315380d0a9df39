//! The hub ↔ bot wire protocol: one JSON object per WebSocket text frame, tagged by
//! `type`.
//!
//! ```text
//! hub → bot   {"type":"task_assign","task_id":7,"prompt":"triage ticket #7"}
//! bot → hub   {"seq":42,"type":"progress","task_id":7,"text":"step 3/9"}
//! ```
//!
//! Every bot → hub event carries the bot's own sequence number (1, 2, 3, ... per bot),
//! so the hub can count what went missing (gaps) and what arrived twice (duplicates).
//! Which bot is speaking is part of the URL (`/bots/{name}`), not of each event.

use serde::{Deserialize, Serialize};

/// A command from the hub to one bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum HubCommand {
    /// Work on this task. Sent again after every reconnect for tasks the hub has not
    /// seen finish, so a bot must treat a repeated assignment as "tell me again".
    TaskAssign {
        /// Unique per hub.
        task_id: u64,
        /// What to do.
        prompt: String,
    },
    /// Adjust a task in progress.
    Steer {
        /// The task.
        task_id: u64,
        /// The adjustment.
        hint: String,
    },
    /// Stop working on a task.
    Cancel {
        /// The task.
        task_id: u64,
    },
}

/// A bot's first message on every connection (its setup, written before anything
/// buffered): who it is, and which of its links this is. The hub counts any event that
/// arrives on a connection before its registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "register")]
pub(crate) struct Register {
    /// The bot's name.
    pub(crate) bot: String,
    /// Its link number (1 for the first connection).
    pub(crate) link: u64,
}

/// One event from a bot: its sequence number and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BotEvent {
    /// Per-bot sequence number, starting at 1, one per event.
    pub(crate) seq: u64,
    /// The event itself; flattened so the JSON stays one flat object.
    #[serde(flatten)]
    pub(crate) kind: EventKind,
}

/// What a bot reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum EventKind {
    /// The bot took the task on.
    TaskAccepted {
        /// The task.
        task_id: u64,
    },
    /// One chunk of a task's output stream.
    Progress {
        /// The task.
        task_id: u64,
        /// The chunk.
        text: String,
    },
    /// The task is done.
    TaskComplete {
        /// The task.
        task_id: u64,
        /// The result.
        summary: String,
    },
    /// The task ended without a result (for example it was cancelled).
    TaskError {
        /// The task.
        task_id: u64,
        /// Why.
        error: String,
    },
    /// The bot is alive; sent on a timer whether or not it has work.
    Heartbeat {
        /// The task in progress, if any.
        task_id: Option<u64>,
    },
}

impl EventKind {
    /// The task this event is about, if any.
    pub(crate) fn task_id(&self) -> Option<u64> {
        match self {
            Self::TaskAccepted { task_id }
            | Self::Progress { task_id, .. }
            | Self::TaskComplete { task_id, .. }
            | Self::TaskError { task_id, .. } => Some(*task_id),
            Self::Heartbeat { task_id } => *task_id,
        }
    }

    /// Whether this event ends its task.
    pub(crate) fn is_final(&self) -> bool {
        matches!(self, Self::TaskComplete { .. } | Self::TaskError { .. })
    }
}

/// Encodes a message as one JSON text frame.
pub(crate) fn encode(message: &impl Serialize) -> String {
    // Cannot fail: the protocol types hold only strings, integers and options, which
    // always serialize (serde_json only fails on non-string map keys or failing
    // `Serialize` impls).
    serde_json::to_string(message).expect("protocol messages always serialize")
}

/// Decodes one JSON text frame.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> serde_json::Result<T> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_objects_tagged_by_type() {
        let event = BotEvent {
            seq: 42,
            kind: EventKind::Progress {
                task_id: 7,
                text: "step 3/9".into(),
            },
        };
        let json = encode(&event);
        assert_eq!(
            json,
            r#"{"seq":42,"type":"progress","task_id":7,"text":"step 3/9"}"#
        );
        assert_eq!(decode::<BotEvent>(&json).ok(), Some(event));
    }

    #[test]
    fn commands_round_trip() {
        let command = HubCommand::Steer {
            task_id: 1,
            hint: "be brief".into(),
        };
        let json = encode(&command);
        assert_eq!(json, r#"{"type":"steer","task_id":1,"hint":"be brief"}"#);
        assert_eq!(decode::<HubCommand>(&json).ok(), Some(command));
    }
}
