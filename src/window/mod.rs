//! The window of messages written to the socket but not yet confirmed by the server.
//!
//! WebSocket gives a confirmation for free: a server answers a Ping with a Pong that
//! echoes its payload, and it reads frames in order. So the Pong for a ping proves that
//! every frame written before that ping reached the server. The window numbers written
//! messages, hands out *checkpoints* (ping payloads) that cover everything written so
//! far, and releases the covered messages when a checkpoint comes back.
//!
//! ```
//! use tether::UnconfirmedWindow;
//!
//! let mut window: UnconfirmedWindow<String> = UnconfirmedWindow::new(8, None);
//! window.record("a".to_owned());
//! window.record("b".to_owned());
//! let ping = window.checkpoint(); // written after "a" and "b"
//! window.record("c".to_owned()); // written after the ping: not covered by it
//!
//! let payload = UnconfirmedWindow::<String>::encode(ping);
//! let pong = UnconfirmedWindow::<String>::decode(&payload).unwrap();
//! assert_eq!(window.confirm(pong), ["a", "b"]);
//! // The link died: what is left was never confirmed.
//! assert_eq!(window.take_all(), ["c"]);
//! ```

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use crate::{BufferItem, ResiliencyConfig};

/// Messages written but not yet confirmed, in write order.
///
/// Bounded by count and optionally bytes: [`is_full`](Self::is_full) tells the writer
/// to pause. Recording into a full window is still accepted (nothing is ever refused
/// or dropped here); keeping within the bounds is the writer's job.
#[derive(Debug, Clone)]
pub struct UnconfirmedWindow<T> {
    /// `(sequence, message)`, sequence ascending.
    entries: VecDeque<(u64, T)>,
    /// Outstanding checkpoints: `(id, covers)`, where `covers` is the first sequence
    /// number *not* covered.
    checkpoints: VecDeque<(u64, u64)>,
    next_seq: u64,
    next_checkpoint: u64,
    /// `covers` of the latest checkpoint.
    checked_through: u64,
    max_len: usize,
    max_bytes: Option<usize>,
    bytes: usize,
}

impl<T> UnconfirmedWindow<T> {
    /// An empty window of at most `max_len` messages and `max_bytes` bytes.
    pub fn new(max_len: usize, max_bytes: Option<usize>) -> Self {
        Self {
            entries: VecDeque::new(),
            checkpoints: VecDeque::new(),
            next_seq: 0,
            next_checkpoint: 0,
            checked_through: 0,
            max_len,
            max_bytes,
            bytes: 0,
        }
    }

    /// A window bounded by `unconfirmed_window` messages and `message_buffer_bytes`.
    pub fn from_config(config: &ResiliencyConfig) -> Self {
        Self::new(config.unconfirmed_window(), config.message_buffer_bytes())
    }

    /// Messages waiting for confirmation.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing waits for confirmation.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total bytes waiting for confirmation.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The count bound.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Messages recorded since the latest checkpoint: not yet covered by any ping.
    pub fn unchecked(&self) -> usize {
        usize::try_from(self.next_seq - self.checked_through).unwrap_or(usize::MAX)
    }

    /// Whether the writer should pause until a confirmation arrives.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_len || self.max_bytes.is_some_and(|max| self.bytes >= max)
    }

    /// A checkpoint covering every message recorded so far. Write a ping carrying
    /// [`encode`](Self::encode)`(id)` right now, before any further message.
    ///
    /// When nothing was recorded since the latest checkpoint, that one still covers
    /// everything and its id is handed out again. So the outstanding checkpoints stay
    /// bounded by the messages in the window: a server that answers pings with some other
    /// payload (legal) cannot make this list grow, however long the link lives.
    pub fn checkpoint(&mut self) -> u64 {
        if self.next_checkpoint > 0 && self.checked_through == self.next_seq {
            return self.next_checkpoint - 1;
        }
        let id = self.next_checkpoint;
        self.next_checkpoint += 1;
        self.checked_through = self.next_seq;
        self.checkpoints.push_back((id, self.next_seq));
        id
    }

    /// A checkpoint came back: releases, oldest first, every message it covers
    /// (and every message covered by earlier checkpoints, since the server answers
    /// in order and may answer only the latest ping). Ids never handed out, or
    /// already confirmed, release nothing.
    pub fn confirm(&mut self, checkpoint: u64) -> Vec<T>
    where
        T: BufferItem,
    {
        if checkpoint >= self.next_checkpoint {
            return Vec::new(); // never handed out: not an answer to any of our pings
        }
        let mut covers = None;
        while let Some(&(id, bound)) = self.checkpoints.front() {
            if id > checkpoint {
                break;
            }
            covers = Some(bound);
            self.checkpoints.pop_front();
        }
        let Some(covers) = covers else {
            return Vec::new();
        };
        let mut confirmed = Vec::new();
        while self.entries.front().is_some_and(|(seq, _)| *seq < covers) {
            if let Some((_, item)) = self.entries.pop_front() {
                self.bytes = self.bytes.saturating_sub(item.byte_len());
                confirmed.push(item);
            }
        }
        confirmed
    }

    /// The link is gone: every unconfirmed message, oldest first. Outstanding
    /// checkpoints are forgotten (a late answer to one confirms nothing).
    pub fn take_all(&mut self) -> Vec<T> {
        self.checkpoints.clear();
        self.checked_through = self.next_seq;
        self.bytes = 0;
        self.entries.drain(..).map(|(_, item)| item).collect()
    }

    /// Checkpoints handed out and not yet confirmed (or forgotten with the link). At
    /// most one more than [`len`](Self::len): each but the oldest covers at least one
    /// message the one before it does not.
    pub fn outstanding_checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// Whether `checkpoint` was handed out by this window: a Pong carrying it answers
    /// one of our pings (an unsolicited Pong carries something else).
    pub fn issued(&self, checkpoint: u64) -> bool {
        checkpoint < self.next_checkpoint
    }

    /// The ping payload for a checkpoint.
    pub fn encode(checkpoint: u64) -> [u8; 8] {
        checkpoint.to_be_bytes()
    }

    /// The checkpoint in a pong payload, if it is one of ours.
    pub fn decode(payload: &[u8]) -> Option<u64> {
        <[u8; 8]>::try_from(payload).ok().map(u64::from_be_bytes)
    }
}

impl<T: BufferItem> UnconfirmedWindow<T> {
    /// Records a message that was just written; returns its sequence number.
    pub fn record(&mut self, item: T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes = self.bytes.saturating_add(item.byte_len());
        self.entries.push_back((seq, item));
        seq
    }
}
