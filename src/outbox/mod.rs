//! The whole life of an outbound message, in one owner.
//!
//! A message accepted by a connection is, at any moment, in exactly one place: waiting
//! in the bounded buffer, or written and waiting in the unconfirmed window. It leaves
//! exactly once: confirmed by the server, or handed back to the application (refused
//! when full, evicted by a newer one, unconfirmed when its link died, or still held when
//! the connection ends). [`Outbox`] owns both places and the rules that move a message
//! between them, so no other code can lose one on the way:
//!
//! | step | method |
//! |---|---|
//! | the application sends | [`accept`](Outbox::accept) |
//! | the writer takes the next one | [`next_to_write`](Outbox::next_to_write) |
//! | it is in the socket | [`written`](Outbox::written) (or [`unwritten`](Outbox::unwritten) if the write failed) |
//! | a ping goes out | [`checkpoint`](Outbox::checkpoint) |
//! | its Pong comes back | [`confirmed_up_to`](Outbox::confirmed_up_to) |
//! | the link dies | [`link_lost`](Outbox::link_lost): requeued or handed back, by [`DeliveryMode`] |
//! | the connection ends | [`hand_back_all`](Outbox::hand_back_all) |
//!
//! ```
//! use tether::{DeliveryMode, Outbox, ResiliencyConfig};
//!
//! let config = ResiliencyConfig::builder()
//!     .delivery(DeliveryMode::AtLeastOnce)
//!     .build()?;
//! let mut outbox: Outbox<String> = Outbox::from_config(&config);
//! outbox.accept("a".to_owned())?;
//! outbox.accept("b".to_owned())?;
//!
//! // Connected: the writer moves "a" into the socket, then pings.
//! let next = outbox.next_to_write().unwrap();
//! outbox.written(next);
//! let ping = outbox.checkpoint();
//! assert_eq!(outbox.confirmed_up_to(ping), ["a"]);
//!
//! // "b" is written, and the link dies before its Pong.
//! let next = outbox.next_to_write().unwrap();
//! outbox.written(next);
//! let lost = outbox.link_lost();
//! assert_eq!(lost.unconfirmed, 1);
//! assert!(lost.handed_back.is_empty(), "at-least-once writes it again");
//! let again = outbox.next_to_write().unwrap();
//! assert!(again.is_resend());
//! assert_eq!(again.item(), "b");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(test)]
mod tests;

use std::fmt;

use crate::{
    BufferFull, BufferItem, DeliveryMode, MessageBuffer, ResiliencyConfig, UnconfirmedWindow,
};

/// One message waiting in the buffer, with what the outbox knows of its past.
#[derive(Debug)]
struct Queued<T> {
    item: T,
    /// Written before, on a link that died unconfirmed.
    resend: bool,
}

impl<T: BufferItem> BufferItem for Queued<T> {
    fn byte_len(&self) -> usize {
        self.item.byte_len()
    }
}

/// The message the writer should write next, taken out of the buffer.
///
/// Hand it back with [`Outbox::written`] once the socket took it, or with
/// [`Outbox::unwritten`] if it did not: it then keeps its place at the front.
#[must_use = "a message taken for writing goes back through `written` or `unwritten`"]
#[derive(Debug)]
pub struct Next<T>(Queued<T>);

impl<T> Next<T> {
    /// The message.
    pub fn item(&self) -> &T {
        &self.0.item
    }

    /// The message, to update what it carries beside its bytes (a waiting sender's
    /// reply, say). Its [`byte_len`](BufferItem::byte_len) must not change.
    pub fn item_mut(&mut self) -> &mut T {
        &mut self.0.item
    }

    /// Whether it was written before, on a link that died before the server confirmed
    /// it (at-least-once): the server may see it twice.
    pub fn is_resend(&self) -> bool {
        self.0.resend
    }
}

/// What a lost link did to the messages it had written but not had confirmed.
#[derive(Debug)]
#[non_exhaustive]
pub struct LinkLost<T> {
    /// How many were unconfirmed.
    pub unconfirmed: usize,
    /// At-most-once: those messages, oldest first, to hand back (each may or may not
    /// have reached the server). At-least-once: empty, since they went back to the
    /// front of the buffer, in order, to be written again first.
    pub handed_back: Vec<T>,
}

/// A message accepted into a full buffer made room by evicting older ones
/// ([`OverflowPolicy::DropOldest`](crate::OverflowPolicy::DropOldest)).
pub type Evicted<T> = Vec<T>;

/// Every outbound message of one connection, from [`accept`](Self::accept) to
/// confirmation or hand-back. See the [module documentation](self).
///
/// Bounded twice: the buffer by `message_buffer_size` and `message_buffer_bytes`, the
/// window by `unconfirmed_window` and `message_buffer_bytes`.
pub struct Outbox<T> {
    buffer: MessageBuffer<Queued<T>>,
    window: UnconfirmedWindow<T>,
    delivery: DeliveryMode,
}

impl<T: BufferItem> Outbox<T> {
    /// An empty outbox with the buffer, window and delivery mode of `config`.
    pub fn from_config(config: &ResiliencyConfig) -> Self {
        Self {
            buffer: MessageBuffer::from_config(config),
            window: UnconfirmedWindow::from_config(config),
            delivery: config.delivery(),
        }
    }

    /// Takes a message in, at the back of the buffer.
    ///
    /// Returns the messages evicted to make room, oldest first (only under
    /// `DropOldest`): they have left the outbox and are the caller's to hand back.
    ///
    /// # Errors
    ///
    /// [`BufferFull`] holding the message, with nothing changed, under the rules of
    /// [`MessageBuffer::push`].
    pub fn accept(&mut self, item: T) -> Result<Evicted<T>, BufferFull<T>> {
        match self.buffer.push(Queued {
            item,
            resend: false,
        }) {
            // The common case allocates and iterates nothing.
            Ok(evicted) if evicted.is_empty() => Ok(Vec::new()),
            Ok(evicted) => Ok(evicted.into_iter().map(|queued| queued.item).collect()),
            Err(full) => {
                let reason = full.reason();
                Err(BufferFull::new(full.into_inner().item, reason))
            }
        }
    }

    /// Takes a message in only if it fits without evicting older ones, whatever the
    /// overflow policy: for when the evicted could not be reported in time.
    ///
    /// # Errors
    ///
    /// [`BufferFull`] holding the message, with nothing changed.
    pub fn accept_without_eviction(&mut self, item: T) -> Result<(), BufferFull<T>> {
        self.buffer
            .push_without_eviction(Queued {
                item,
                resend: false,
            })
            .map_err(|full| {
                let reason = full.reason();
                BufferFull::new(full.into_inner().item, reason)
            })
    }

    /// Whether the writer has something to write: the buffer holds a message and the
    /// window has room for it.
    pub fn has_writable(&self) -> bool {
        !self.buffer.is_empty() && !self.window.is_full()
    }

    /// Takes the oldest buffered message for writing, unless the window is full (the
    /// server must confirm some first) or nothing is buffered.
    pub fn next_to_write(&mut self) -> Option<Next<T>> {
        if self.window.is_full() {
            return None;
        }
        self.buffer.pop_front().map(Next)
    }

    /// The socket took the message: it waits in the window for its confirmation.
    /// Returns its sequence number on this outbox.
    pub fn written(&mut self, next: Next<T>) -> u64 {
        self.window.record(next.0.item)
    }

    /// The write failed: the message goes back to the front, first in line for the
    /// next link.
    pub fn unwritten(&mut self, next: Next<T>) {
        self.buffer.push_front(next.0);
    }

    /// Whether enough was written since the latest ping (half the window, or a full
    /// window) that a confirmation ping should go out now rather than at the next
    /// interval.
    pub fn wants_checkpoint(&self) -> bool {
        self.window.unchecked().saturating_mul(2) >= self.window.max_len() || self.window.is_full()
    }

    /// Whether a flush should carry a confirmation ping of its own: something was
    /// written since the latest ping and every earlier ping has been answered. So what
    /// a flush wrote is confirmed one round trip later, rather than at the next
    /// confirmation interval, and a busy link still carries at most one such ping per
    /// round trip. A server that leaves pings unanswered gets no more of them this way
    /// (the confirmation interval still asks).
    pub fn wants_flush_checkpoint(&self) -> bool {
        self.window.unchecked() > 0 && self.window.outstanding_checkpoints() == 0
    }

    /// A checkpoint covering everything written so far, for the ping about to be
    /// written. See [`UnconfirmedWindow::checkpoint`].
    pub fn checkpoint(&mut self) -> u64 {
        self.window.checkpoint()
    }

    /// Whether a Pong carrying `checkpoint` answers one of this outbox's pings.
    pub fn issued(&self, checkpoint: u64) -> bool {
        self.window.issued(checkpoint)
    }

    /// The server answered the ping of `checkpoint`: every message written before it
    /// is confirmed, and leaves the outbox (oldest first).
    pub fn confirmed_up_to(&mut self, checkpoint: u64) -> Vec<T> {
        self.window.confirm(checkpoint)
    }

    /// The link died. Its unconfirmed messages go back to the front of the buffer, in
    /// order and marked as resends (at-least-once), or are handed back (at-most-once).
    pub fn link_lost(&mut self) -> LinkLost<T> {
        let in_flight = self.window.take_all();
        let unconfirmed = in_flight.len();
        if self.delivery == DeliveryMode::AtLeastOnce {
            for item in in_flight.into_iter().rev() {
                self.buffer.push_front(Queued { item, resend: true });
            }
            LinkLost {
                unconfirmed,
                handed_back: Vec::new(),
            }
        } else {
            LinkLost {
                unconfirmed,
                handed_back: in_flight,
            }
        }
    }

    /// The connection ends (closed, failed, or dropped): everything it holds, in send
    /// order, the unconfirmed messages first (they were sent earlier), then the
    /// buffered ones. The outbox is empty afterwards.
    pub fn hand_back_all(&mut self) -> HandBack<T> {
        let unconfirmed = self.window.take_all();
        let buffered = self.buffer.drain().map(|queued| queued.item).collect();
        HandBack {
            unconfirmed,
            buffered,
        }
    }

    /// Puts messages left by an earlier process (a durable outbox's store) at the front
    /// of the buffer, in the given order, ahead of everything accepted so far. They
    /// count as resends (they may have been written before) and are taken in whatever
    /// the bounds say, as requeued messages are: until the buffer is back within its
    /// bounds, new messages are refused (`RejectNew`) or evict these first
    /// (`DropOldest`).
    pub fn restore(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            self.buffer.push_front(Queued { item, resend: true });
        }
    }

    /// Removes the buffered messages for which `take` returns true, oldest first: for
    /// messages that can no longer be sent as accepted (their durable commit failed),
    /// to hand back. The others keep their order.
    pub fn take_buffered_where(&mut self, mut take: impl FnMut(&T) -> bool) -> Vec<T> {
        self.buffer
            .take_where(|queued| take(&queued.item))
            .into_iter()
            .map(|queued| queued.item)
            .collect()
    }

    /// Calls `update` on every buffered message, oldest first, for changes that keep
    /// its place and size (such as answering a waiting sender).
    pub fn for_each_buffered_mut(&mut self, mut update: impl FnMut(&mut T)) {
        self.buffer.for_each_mut(|queued| update(&mut queued.item));
    }
}

impl<T> Outbox<T> {
    /// Messages waiting in the buffer.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes waiting in the buffer.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.bytes()
    }

    /// Messages written and waiting for confirmation.
    pub fn unconfirmed(&self) -> usize {
        self.window.len()
    }

    /// Bytes written and waiting for confirmation.
    pub fn unconfirmed_bytes(&self) -> usize {
        self.window.bytes()
    }

    /// The buffered messages, oldest first.
    pub fn iter_buffered(&self) -> impl Iterator<Item = &T> {
        self.buffer.iter().map(|queued| &queued.item)
    }

    /// Messages written since the latest checkpoint.
    pub fn unchecked(&self) -> usize {
        self.window.unchecked()
    }

    /// Checkpoints handed out and not yet answered. See
    /// [`UnconfirmedWindow::outstanding_checkpoints`].
    pub fn outstanding_checkpoints(&self) -> usize {
        self.window.outstanding_checkpoints()
    }

    /// Whether nothing is buffered or unconfirmed.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.window.is_empty()
    }

    /// The delivery mode deciding what a lost link does.
    pub fn delivery(&self) -> DeliveryMode {
        self.delivery
    }
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Message contents stay out of logs.
        f.debug_struct("Outbox")
            .field("buffered", &self.buffer.len())
            .field("buffered_bytes", &self.buffer.bytes())
            .field("unconfirmed", &self.window.len())
            .field("delivery", &self.delivery)
            .finish()
    }
}

/// Everything an ending connection held, from [`Outbox::hand_back_all`].
#[derive(Debug)]
#[non_exhaustive]
pub struct HandBack<T> {
    /// Written but never confirmed, oldest first: each may or may not have arrived.
    pub unconfirmed: Vec<T>,
    /// Never written, oldest first.
    pub buffered: Vec<T>,
}

impl<T> HandBack<T> {
    /// How many messages, in all.
    pub fn len(&self) -> usize {
        self.unconfirmed.len() + self.buffered.len()
    }

    /// Whether there is nothing to hand back.
    pub fn is_empty(&self) -> bool {
        self.unconfirmed.is_empty() && self.buffered.is_empty()
    }
}
