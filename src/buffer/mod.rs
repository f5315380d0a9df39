//! Bounded FIFO of outbound messages kept while the connection is down.

mod full;
mod item;
mod overflow;

#[cfg(test)]
mod tests;

use std::collections::vec_deque::{self, VecDeque};

pub use full::{BufferFull, FullReason};
pub use item::BufferItem;
pub use overflow::OverflowPolicy;

use crate::ResiliencyConfig;

/// Bounded first-in-first-out queue of outbound messages.
///
/// Bounded by a number of messages and optionally by their total
/// [`byte_len`](BufferItem::byte_len). No message is ever dropped silently:
/// [`push`](Self::push) hands back the message it refused, or the messages it
/// evicted under [`OverflowPolicy::DropOldest`].
///
/// # Example
///
/// ```
/// use tether::{FullReason, MessageBuffer, OverflowPolicy};
///
/// let mut buffer = MessageBuffer::new(2, None, OverflowPolicy::RejectNew);
/// buffer.push("a").unwrap();
/// buffer.push("b").unwrap();
/// let refused = buffer.push("c").unwrap_err();
/// assert_eq!(refused.reason(), FullReason::Count);
/// assert_eq!(refused.into_inner(), "c");
/// assert_eq!(buffer.drain().collect::<Vec<_>>(), ["a", "b"]);
/// ```
#[derive(Debug, Clone)]
pub struct MessageBuffer<T> {
    items: VecDeque<T>,
    /// Sum of `byte_len` of `items`.
    bytes: usize,
    max_len: usize,
    max_bytes: Option<usize>,
    policy: OverflowPolicy,
}

impl<T> MessageBuffer<T> {
    /// Creates an empty buffer holding at most `max_len` messages and, when
    /// `max_bytes` is `Some`, at most that many bytes in total.
    ///
    /// `max_len == 0` is allowed and refuses every push.
    pub fn new(max_len: usize, max_bytes: Option<usize>, policy: OverflowPolicy) -> Self {
        Self {
            items: VecDeque::new(),
            bytes: 0,
            max_len,
            max_bytes,
            policy,
        }
    }

    /// Creates an empty buffer from `message_buffer_size`, `message_buffer_bytes`
    /// and `overflow_policy`.
    pub fn from_config(config: &ResiliencyConfig) -> Self {
        Self::new(
            config.message_buffer_size(),
            config.message_buffer_bytes(),
            config.overflow_policy(),
        )
    }

    /// The oldest message, without removing it.
    pub fn front(&self) -> Option<&T> {
        self.items.front()
    }

    /// Iterates over the messages, oldest first.
    pub fn iter(&self) -> vec_deque::Iter<'_, T> {
        self.items.iter()
    }

    /// Number of buffered messages.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no message is buffered.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Total [`byte_len`](BufferItem::byte_len) of the buffered messages.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Maximum number of messages.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Maximum total bytes, if bounded.
    pub fn max_bytes(&self) -> Option<usize> {
        self.max_bytes
    }

    /// What happens when the buffer is full.
    pub fn policy(&self) -> OverflowPolicy {
        self.policy
    }
}

impl<T: BufferItem> MessageBuffer<T> {
    /// Appends a message at the back.
    ///
    /// Returns `Ok` with the messages evicted to make room, oldest first: always
    /// empty under [`OverflowPolicy::RejectNew`]; under
    /// [`OverflowPolicy::DropOldest`], just as many of the oldest messages as
    /// needed to respect both the count and the byte bound.
    ///
    /// # Errors
    ///
    /// [`BufferFull`] holding the new message, with the buffer unchanged, when:
    /// - `max_len` is zero ([`FullReason::Count`]);
    /// - the message alone is larger than `max_bytes`
    ///   ([`FullReason::TooLarge`]), under either policy: evicting could never
    ///   make room, so nothing is evicted;
    /// - under [`OverflowPolicy::RejectNew`], the buffer holds `max_len`
    ///   messages ([`FullReason::Count`]) or the message would take the total
    ///   over `max_bytes` ([`FullReason::Bytes`]).
    pub fn push(&mut self, item: T) -> Result<Vec<T>, BufferFull<T>> {
        let size = item.byte_len();
        if self.max_len == 0 {
            return Err(BufferFull::new(item, FullReason::Count));
        }
        if self.max_bytes.is_some_and(|max| size > max) {
            return Err(BufferFull::new(item, FullReason::TooLarge));
        }
        let mut evicted = Vec::new();
        match self.policy {
            OverflowPolicy::RejectNew => {
                if self.items.len() >= self.max_len {
                    return Err(BufferFull::new(item, FullReason::Count));
                }
                if !self.fits_bytes(size) {
                    return Err(BufferFull::new(item, FullReason::Bytes));
                }
            }
            OverflowPolicy::DropOldest => {
                // Terminates: an empty buffer has room for one item that is not TooLarge.
                while self.items.len() >= self.max_len || !self.fits_bytes(size) {
                    match self.pop_front() {
                        Some(old) => evicted.push(old),
                        None => break,
                    }
                }
            }
        }
        self.bytes = self.bytes.saturating_add(size);
        self.items.push_back(item);
        Ok(evicted)
    }

    /// Appends a message at the back only if it fits without evicting anything: the
    /// rules of [`OverflowPolicy::RejectNew`], whatever the buffer's policy.
    ///
    /// # Errors
    ///
    /// [`BufferFull`] holding the message, with the buffer unchanged, when it does not
    /// fit.
    pub fn push_without_eviction(&mut self, item: T) -> Result<(), BufferFull<T>> {
        let size = item.byte_len();
        if self.max_len == 0 || self.items.len() >= self.max_len {
            return Err(BufferFull::new(item, FullReason::Count));
        }
        if self.max_bytes.is_some_and(|max| size > max) {
            return Err(BufferFull::new(item, FullReason::TooLarge));
        }
        if !self.fits_bytes(size) {
            return Err(BufferFull::new(item, FullReason::Bytes));
        }
        self.bytes = self.bytes.saturating_add(size);
        self.items.push_back(item);
        Ok(())
    }

    /// Puts a message back at the head, ignoring the bounds.
    ///
    /// Meant for requeueing messages that were taken out with
    /// [`pop_front`](Self::pop_front) for writing but could not be written, so
    /// that they keep their place in the order. The buffer may then exceed its
    /// bounds by as much as was taken out; until it is back within them,
    /// [`push`](Self::push) refuses new messages (`RejectNew`) or evicts these
    /// oldest ones first (`DropOldest`).
    pub fn push_front(&mut self, item: T) {
        self.bytes = self.bytes.saturating_add(item.byte_len());
        self.items.push_front(item);
    }

    /// Removes and returns the oldest message.
    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.bytes = if self.items.is_empty() {
            // Resynchronise in case a saturated sum made the count inexact.
            0
        } else {
            self.bytes.saturating_sub(item.byte_len())
        };
        Some(item)
    }

    /// Calls `update` on every message, oldest first, for changes that keep the
    /// message's place (such as answering a waiting sender).
    ///
    /// The byte total is recounted afterwards, so an update that changes a
    /// message's [`byte_len`](BufferItem::byte_len) cannot corrupt it.
    pub fn for_each_mut(&mut self, mut update: impl FnMut(&mut T)) {
        self.items.iter_mut().for_each(&mut update);
        self.bytes = self
            .items
            .iter()
            .fold(0_usize, |sum, item| sum.saturating_add(item.byte_len()));
    }

    /// Removes the messages for which `take` returns true and returns them, oldest
    /// first; the others keep their order.
    pub fn take_where(&mut self, mut take: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.items.len());
        for item in self.items.drain(..) {
            if take(&item) {
                taken.push(item);
            } else {
                kept.push_back(item);
            }
        }
        self.items = kept;
        self.bytes = self
            .items
            .iter()
            .fold(0_usize, |sum, item| sum.saturating_add(item.byte_len()));
        taken
    }

    /// Removes all messages, yielding them oldest first.
    ///
    /// Messages not consumed from the iterator are dropped with it.
    pub fn drain(&mut self) -> vec_deque::Drain<'_, T> {
        self.bytes = 0;
        self.items.drain(..)
    }

    fn fits_bytes(&self, size: usize) -> bool {
        self.max_bytes
            .map_or(true, |max| self.bytes.saturating_add(size) <= max)
    }
}

impl<'a, T> IntoIterator for &'a MessageBuffer<T> {
    type Item = &'a T;
    type IntoIter = vec_deque::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
