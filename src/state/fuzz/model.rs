//! The model behind the core's fuzzing, shared by two drivers: the proptest driver in
//! `super` (`src/state/fuzz/mod.rs`, run by `cargo test`) and the cargo-fuzz target
//! `fuzz/fuzz_targets/core.rs` (nightly), which includes this file with `#[path]`. Each
//! includer provides a sibling module `api` naming the core's types, so this file
//! compiles inside the core and outside it alike; it therefore matches the core's
//! `non_exhaustive` enums with `if`/`matches!`, never exhaustively.
//!
//! A [`Model`] holds a [`StateMachine`], a [`Backoff`] and an [`Outbox`] built from one
//! [`ResiliencyConfig`], and applies [`Op`]s the way `tether-actix`'s connection actor
//! does (`lifecycle.rs`, `writer.rs`, `handlers.rs`): dial, connect, fail (retried or final), send while up or down, write,
//! ping, pong, close, time passing. Operations that make no sense in the current state
//! are attempted anyway: the machine must refuse them and change nothing.
//!
//! Checked after every operation:
//! - every transition accepted is legal and reports `from`/`to`/`attempt` truthfully; a
//!   refused one leaves state, attempts and `connected_since` untouched;
//! - a terminal state is never left, and holds no message;
//! - `attempts <= max` when bounded;
//! - after every accepted `push` the buffer is within its count and byte bounds; a
//!   refused `push` hands back the very message and changes nothing;
//! - every message is accounted for exactly once: buffered, in the window, confirmed,
//!   or handed back (refused, evicted, unconfirmed, or on close or failure), and
//!   only messages written before (at-least-once, after a lost link) are resent;
//! - the outstanding confirmation checkpoints stay bounded by the window;
//! - every delay lies within its strategy's envelope, and the ceiling is
//!   `min(max, base * 2^min(n, 31))`.
//!
//! Pongs answer pings the server actually received (in order, possibly skipping some),
//! pings of an earlier link, and pings already answered. Pongs carrying ids never handed
//! out are left out (see `forged_pong_ids_release_nothing` in `super`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::api::{
    Backoff, BufferItem, ConnectionState, DeliveryMode, JitterStrategy, Outbox, OverflowPolicy,
    ResiliencyConfig, StateMachine, TransitionError,
};

use ConnectionState::{Closed, Connected, Connecting, Disconnected, Failed, Reconnecting};

/// What a failed check reports.
pub(super) type Checked<T = ()> = Result<T, String>;

/// Fails the check, with the condition's text, unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err(format!("check failed: {}", stringify!($cond)));
        }
    };
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!("check failed: {}: {}", stringify!($cond), format!($($message)+)));
        }
    };
}

/// Fails the check, with both values, unless they are equal.
macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {
        ensure_eq!($left, $right, "values differ")
    };
    ($left:expr, $right:expr, $($message:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err(format!(
                "check failed: {} == {}: {:?} != {:?}: {}",
                stringify!($left),
                stringify!($right),
                left,
                right,
                format!($($message)+)
            ));
        }
    }};
}

/// A message with an identity, so that each one can be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Msg {
    pub(super) id: usize,
    pub(super) len: usize,
}

impl BufferItem for Msg {
    fn byte_len(&self) -> usize {
        self.len
    }
}

/// Where a message is, or how it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Buffered,
    InWindow,
    Confirmed,
    /// `push` refused it (full, or the connection was terminal).
    Refused,
    /// Evicted by a newer one (`DropOldest`).
    Evicted,
    /// At-most-once: the link died before the server confirmed it.
    Unconfirmed,
    /// Still buffered when the connection closed or failed.
    HandedBack,
}

/// One thing that happens to a connection.
#[derive(Debug, Clone)]
pub(super) enum Op {
    /// The application sends a message of this many bytes.
    Send(usize),
    /// The backoff timer fired (or the first start): begin an attempt.
    Dial,
    /// The handshake succeeded.
    ConnectOk,
    /// The attempt or the link failed; `final_` as the retry policy would judge it.
    Fail { final_: bool },
    /// The writer moves up to this many messages from the buffer into the socket.
    Write(usize),
    /// A ping (heartbeat or confirmation) is written.
    Ping,
    /// The server answers the n-th (modulo) ping it has not answered yet, and with it
    /// the earlier ones (it reads in order).
    Pong(usize),
    /// A pong for a ping that was already answered, or written on an earlier link.
    LatePong(usize),
    /// The application closes the connection.
    Close,
    /// Time passes.
    Advance(u64),
    /// A status query or heartbeat tick refreshes the attempt counter.
    Refresh,
    /// Any transition at all, tried on a copy of the machine.
    Raw(ConnectionState),
}

pub(super) const ALL_STATES: [ConnectionState; 6] = [
    Disconnected,
    Connecting,
    Connected,
    Reconnecting,
    Closed,
    Failed,
];

/// The core as the actor holds it, plus what the test knows independently.
#[derive(Debug)]
pub(super) struct Model {
    config: ResiliencyConfig,
    machine: StateMachine,
    backoff: Backoff,
    outbox: Outbox<Msg>,
    start: Instant,
    elapsed: Duration,
    /// When the pending reconnect may dial, while `Reconnecting`.
    due: Option<Instant>,
    /// The window as the test sees it: `(sequence, message)`, oldest first.
    in_window: VecDeque<(u64, Msg)>,
    next_seq: u64,
    next_checkpoint: u64,
    /// Pings on the current link the server has not answered: `(id, first sequence
    /// not covered)`.
    pings: Vec<(u64, u64)>,
    /// Ping ids that were answered already or belong to an earlier link.
    late: Vec<u64>,
    pub(super) fates: Vec<Fate>,
    /// Which messages were written at least once.
    written: Vec<bool>,
    /// The terminal state, once entered.
    terminal: Option<ConnectionState>,
}

impl Model {
    pub(super) fn new(config: ResiliencyConfig, seed: u64) -> Self {
        Self {
            machine: StateMachine::from_config(&config),
            backoff: Backoff::with_seed(&config, seed),
            outbox: Outbox::from_config(&config),
            config,
            start: Instant::now(),
            elapsed: Duration::ZERO,
            due: None,
            in_window: VecDeque::new(),
            next_seq: 0,
            next_checkpoint: 0,
            pings: Vec::new(),
            late: Vec::new(),
            fates: Vec::new(),
            written: Vec::new(),
            terminal: None,
        }
    }

    fn now(&self) -> Instant {
        self.start + self.elapsed
    }

    pub(super) fn state(&self) -> ConnectionState {
        self.machine.state()
    }

    fn snapshot(machine: &StateMachine) -> (ConnectionState, u32, Option<Instant>) {
        (
            machine.state(),
            machine.attempts(),
            machine.connected_since(),
        )
    }

    /// Tries a transition and checks the outcome either way; `true` if accepted.
    fn go(&mut self, to: ConnectionState) -> Checked<bool> {
        let now = self.now();
        let before = Self::snapshot(&self.machine);
        let (from, attempts) = (before.0, before.1);
        match self.machine.transition(to, now) {
            Ok(t) => {
                ensure!(from.can_transition_to(to), "{from} -> {to} accepted");
                ensure_eq!(
                    (t.from, t.to, t.attempt),
                    (from, to, self.machine.attempts())
                );
                ensure_eq!(self.state(), to);
                if to == Reconnecting {
                    ensure_eq!(t.attempt, attempts + 1);
                }
                ensure_eq!(self.machine.connected_since().is_some(), to == Connected);
                if to.is_terminal() {
                    self.terminal = Some(to);
                }
                Ok(true)
            }
            Err(refused) => {
                ensure_eq!(
                    Self::snapshot(&self.machine),
                    before,
                    "refusal changed the machine"
                );
                // `if let`, not `match`: the enum is `non_exhaustive` outside the core.
                if let TransitionError::Illegal { from: f, to: t } = refused {
                    ensure_eq!((f, t), (from, to));
                    ensure!(!from.can_transition_to(to));
                } else if let TransitionError::AttemptsExhausted { attempts: a, max } = refused {
                    ensure_eq!(to, Reconnecting);
                    ensure_eq!(a, attempts);
                    ensure_eq!(Some(max), self.machine.max_attempts());
                    ensure!(a >= max);
                } else {
                    ensure!(false, "unknown refusal {refused:?}");
                }
                Ok(false)
            }
        }
    }

    pub(super) fn apply(&mut self, op: &Op) -> Checked {
        match *op {
            Op::Send(len) => self.send(len)?,
            Op::Dial => {
                let timer_pending =
                    self.state() == Reconnecting && self.due.is_some_and(|due| self.now() < due);
                if !timer_pending && self.go(Connecting)? {
                    self.due = None;
                }
            }
            Op::ConnectOk => {
                self.go(Connected)?;
            }
            Op::Fail { final_ } => self.fail(final_)?,
            Op::Write(n) => self.write(n)?,
            Op::Ping => self.ping()?,
            Op::Pong(pick) => {
                if !self.pings.is_empty() {
                    self.pong(pick % self.pings.len())?;
                }
            }
            Op::LatePong(pick) => {
                if !self.late.is_empty() {
                    let id = self.late[pick % self.late.len()];
                    ensure!(
                        self.outbox.confirmed_up_to(id).is_empty(),
                        "late pong {id} released messages"
                    );
                }
            }
            Op::Close => self.close()?,
            Op::Advance(ms) => self.elapsed += Duration::from_millis(ms),
            Op::Refresh => {
                let before = self.machine.attempts();
                self.machine.refresh(self.now());
                let after = self.machine.attempts();
                ensure!(after == before || after == 0);
                if after != before {
                    let stable = self.machine.connected_since().is_some_and(|since| {
                        self.now().saturating_duration_since(since) >= self.config.stable_uptime()
                    });
                    ensure!(stable, "attempts reset before a stable uptime");
                }
            }
            Op::Raw(to) => {
                // On a copy: an accepted raw move would leave the test's model behind.
                let mut copy = self.machine.clone();
                let before = Self::snapshot(&copy);
                match copy.transition(to, self.now()) {
                    Ok(_) => ensure!(before.0.can_transition_to(to)),
                    Err(_) => ensure_eq!(Self::snapshot(&copy), before),
                }
            }
        }
        self.check()
    }

    /// `message::Outgoing`: refused when terminal, else accepted into the outbox.
    fn send(&mut self, len: usize) -> Checked {
        let msg = Msg {
            id: self.fates.len(),
            len,
        };
        self.written.push(false);
        if self.state().is_terminal() {
            self.fates.push(Fate::Refused);
            return Ok(());
        }
        self.fates.push(Fate::Buffered);
        let (len_before, bytes_before) = (self.outbox.buffered(), self.outbox.buffered_bytes());
        let ids_before = self.buffered_ids();
        match self.outbox.accept(msg) {
            Ok(evicted) => {
                ensure!(self.outbox.buffered() <= self.config.message_buffer_size());
                if let Some(max) = self.config.message_buffer_bytes() {
                    ensure!(
                        self.outbox.buffered_bytes() <= max,
                        "{} > {max}",
                        self.outbox.buffered_bytes()
                    );
                }
                if self.config.overflow_policy() == OverflowPolicy::RejectNew {
                    ensure!(evicted.is_empty());
                }
                // Evicted: the oldest, in order.
                let evicted_ids: Vec<usize> = evicted.iter().map(|m| m.id).collect();
                ensure_eq!(&evicted_ids[..], &ids_before[..evicted_ids.len()]);
                for old in evicted {
                    ensure_eq!(self.fates[old.id], Fate::Buffered);
                    self.fates[old.id] = Fate::Evicted;
                }
                ensure_eq!(self.outbox.iter_buffered().last(), Some(&msg));
            }
            Err(full) => {
                ensure_eq!(*full.item(), msg);
                ensure_eq!(
                    (self.outbox.buffered(), self.outbox.buffered_bytes()),
                    (len_before, bytes_before)
                );
                ensure_eq!(self.buffered_ids(), ids_before);
                self.fates[msg.id] = Fate::Refused;
            }
        }
        Ok(())
    }

    fn buffered_ids(&self) -> Vec<usize> {
        self.outbox.iter_buffered().map(|m| m.id).collect()
    }

    /// Whether the window is full by the test's own count.
    fn window_full(&self) -> bool {
        let bytes: usize = self.in_window.iter().map(|(_, m)| m.len).sum();
        self.in_window.len() >= self.config.unconfirmed_window()
            || self
                .config
                .message_buffer_bytes()
                .is_some_and(|max| bytes >= max)
    }

    /// The writer: while connected and the window has room, oldest first.
    fn write(&mut self, n: usize) -> Checked {
        if self.state() != Connected {
            return Ok(());
        }
        for _ in 0..n {
            let full = self.window_full();
            let Some(next) = self.outbox.next_to_write() else {
                ensure!(
                    full || self.outbox.buffered() == 0,
                    "nothing to write though the window has room"
                );
                break;
            };
            ensure!(!full, "written into a full window");
            let msg = *next.item();
            ensure_eq!(self.fates[msg.id], Fate::Buffered);
            ensure_eq!(
                next.is_resend(),
                self.written[msg.id],
                "resend flag of {}",
                msg.id
            );
            let seq = self.outbox.written(next);
            ensure_eq!(seq, self.next_seq);
            self.next_seq += 1;
            self.in_window.push_back((seq, msg));
            self.fates[msg.id] = Fate::InWindow;
            self.written[msg.id] = true;
        }
        Ok(())
    }

    fn ping(&mut self) -> Checked {
        if self.state() != Connected {
            return Ok(());
        }
        let fresh = self.outbox.unchecked() > 0 || self.next_checkpoint == 0;
        let id = self.outbox.checkpoint();
        if fresh {
            ensure_eq!(id, self.next_checkpoint);
            self.next_checkpoint += 1;
        } else {
            // Nothing written since the latest checkpoint: it is handed out again.
            ensure_eq!(id, self.next_checkpoint - 1);
        }
        ensure_eq!(self.outbox.unchecked(), 0);
        self.pings.push((id, self.next_seq));
        Ok(())
    }

    /// The server answers the `k`-th ping it has not answered yet (and, reading in
    /// order, the ones before it).
    fn pong(&mut self, k: usize) -> Checked {
        if self.state() != Connected || k >= self.pings.len() {
            return Ok(());
        }
        let (id, covers) = self.pings[k];
        self.late.extend(self.pings.drain(..=k).map(|(id, _)| id));
        let released: Vec<usize> = self
            .outbox
            .confirmed_up_to(id)
            .iter()
            .map(|m| m.id)
            .collect();
        let mut expected = Vec::new();
        while self.in_window.front().is_some_and(|(seq, _)| *seq < covers) {
            if let Some((_, msg)) = self.in_window.pop_front() {
                expected.push(msg.id);
            }
        }
        ensure_eq!(&released, &expected, "pong {} covering {}", id, covers);
        for id in released {
            self.fates[id] = Fate::Confirmed;
        }
        Ok(())
    }

    /// `ConnectionActor::fail` followed, when retried, by `schedule_reconnect`.
    fn fail(&mut self, final_: bool) -> Checked {
        if !matches!(self.state(), Connecting | Connected) {
            return Ok(()); // already handled
        }
        self.lose_link()?;
        ensure!(self.go(Disconnected)?, "Disconnected refused");
        if final_ || !self.machine.should_reconnect() {
            return self.finish(Failed);
        }
        let index = self.machine.attempts();
        if index == 0 {
            self.backoff.reset();
        }
        let delay = self.backoff.delay(index);
        self.check_delay(index, delay)?;
        ensure!(
            self.go(Reconnecting)?,
            "Reconnecting refused though allowed"
        );
        ensure_eq!(self.machine.attempts(), index + 1);
        self.due = Some(self.now() + delay);
        Ok(())
    }

    /// The link is gone: its unanswered pings become late, its unconfirmed messages go
    /// back to the buffer's front (at-least-once) or to their senders (at-most-once).
    fn lose_link(&mut self) -> Checked {
        self.late.extend(self.pings.drain(..).map(|(id, _)| id));
        let expected: Vec<usize> = self.in_window.drain(..).map(|(_, m)| m.id).collect();
        let buffered_before = self.buffered_ids();
        let lost = self.outbox.link_lost();
        ensure_eq!(lost.unconfirmed, expected.len());
        ensure_eq!(
            (self.outbox.unconfirmed(), self.outbox.unconfirmed_bytes()),
            (0, 0)
        );
        if self.config.delivery() == DeliveryMode::AtLeastOnce {
            ensure!(lost.handed_back.is_empty());
            let mut requeued = expected.clone();
            requeued.extend(buffered_before);
            ensure_eq!(
                self.buffered_ids(),
                requeued,
                "requeued in order, at the front"
            );
            for id in expected {
                self.fates[id] = Fate::Buffered;
            }
        } else {
            let ids: Vec<usize> = lost.handed_back.iter().map(|m| m.id).collect();
            ensure_eq!(ids, expected);
            ensure_eq!(self.buffered_ids(), buffered_before);
            for id in ids {
                self.fates[id] = Fate::Unconfirmed;
            }
        }
        Ok(())
    }

    /// `Close`: while connected, everything is written and confirmed first.
    pub(super) fn close(&mut self) -> Checked {
        if self.state().is_terminal() {
            return Ok(());
        }
        if self.state() == Connected {
            let mut rounds = 0;
            while !self.outbox.is_empty() {
                rounds += 1;
                ensure!(rounds < 10_000, "close never finished flushing");
                self.write(usize::MAX)?;
                self.ping()?;
                // The latest ping: it confirms everything written so far.
                self.pong(self.pings.len() - 1)?;
            }
        }
        self.finish(Closed)
    }

    /// Enters a terminal state and hands every buffered message back.
    fn finish(&mut self, terminal: ConnectionState) -> Checked {
        if self.state() == Connected {
            self.lose_link()?;
        }
        ensure!(self.go(terminal)?, "{terminal} refused");
        self.due = None;
        let expected = self.buffered_ids();
        let all = self.outbox.hand_back_all();
        ensure!(
            all.unconfirmed.is_empty(),
            "unconfirmed messages without a link"
        );
        let ids: Vec<usize> = all.buffered.iter().map(|m| m.id).collect();
        ensure_eq!(ids, expected, "handed back in order");
        for id in ids {
            ensure_eq!(self.fates[id], Fate::Buffered);
            self.fates[id] = Fate::HandedBack;
        }
        Ok(())
    }

    /// The delay for retry `index` lies within the strategy's envelope.
    fn check_delay(&self, index: u32, delay: Duration) -> Checked {
        let (base, max) = (self.config.base_backoff(), self.config.max_backoff());
        // Independently: min(max, base * 2^min(index, 31)), in u128 nanoseconds.
        let ceiling_nanos = (base.as_nanos() << index.min(31)).min(max.as_nanos());
        ensure_eq!(self.backoff.ceiling(index).as_nanos(), ceiling_nanos);
        let d = delay.as_nanos();
        ensure!(delay <= max, "{delay:?} above max {max:?}");
        let strategy = self.config.jitter();
        if strategy == JitterStrategy::Proportional {
            let share = u128::from(self.config.jitter_percent());
            let floor = ceiling_nanos - ceiling_nanos * share / 100;
            ensure!(
                (floor..=ceiling_nanos).contains(&d),
                "proportional {d} outside [{floor}, {ceiling_nanos}]"
            );
        } else if strategy == JitterStrategy::Full {
            ensure!(d <= ceiling_nanos, "full {d} > {ceiling_nanos}");
        } else if strategy == JitterStrategy::Decorrelated {
            ensure!(delay >= base, "decorrelated {delay:?} below base {base:?}");
        } else {
            ensure!(false, "unknown strategy {strategy:?}");
        }
        Ok(())
    }

    /// Invariants that hold between operations.
    pub(super) fn check(&self) -> Checked {
        if let Some(terminal) = self.terminal {
            ensure_eq!(self.state(), terminal, "left a terminal state");
            ensure!(self.outbox.is_empty());
        }
        if let Some(max) = self.machine.max_attempts() {
            ensure!(self.machine.attempts() <= max);
        }
        let buffered = self.buffered_ids();
        let sum: usize = self.outbox.iter_buffered().map(|m| m.len).sum();
        ensure_eq!(self.outbox.buffered_bytes(), sum);
        ensure_eq!(self.outbox.unconfirmed(), self.in_window.len());
        ensure!(self.outbox.unconfirmed() <= self.config.unconfirmed_window());
        let window_sum: usize = self.in_window.iter().map(|(_, m)| m.len).sum();
        ensure_eq!(self.outbox.unconfirmed_bytes(), window_sum);
        ensure!(
            self.outbox.outstanding_checkpoints() <= self.outbox.unconfirmed() + 1,
            "{} checkpoints for {} unconfirmed",
            self.outbox.outstanding_checkpoints(),
            self.outbox.unconfirmed()
        );
        if self.state() != Connected {
            ensure!(
                self.outbox.unconfirmed() == 0,
                "unconfirmed messages without a link"
            );
        }
        // Exactly once: each message is in one place, and the places agree.
        let count = |fate| self.fates.iter().filter(|f| **f == fate).count();
        ensure_eq!(count(Fate::Buffered), buffered.len());
        ensure!(buffered.iter().all(|id| self.fates[*id] == Fate::Buffered));
        let mut unique = buffered.clone();
        unique.sort_unstable();
        unique.dedup();
        ensure_eq!(unique.len(), buffered.len(), "a message buffered twice");
        ensure_eq!(count(Fate::InWindow), self.in_window.len());
        ensure!(self
            .in_window
            .iter()
            .all(|(_, m)| self.fates[m.id] == Fate::InWindow));
        Ok(())
    }
}

/// Runs `ops` on a fresh model, closes the connection, and checks that every message
/// then left exactly once.
pub(super) fn run(
    config: ResiliencyConfig,
    seed: u64,
    ops: impl IntoIterator<Item = Op>,
) -> Checked {
    let mut model = Model::new(config, seed);
    for op in ops {
        model.apply(&op)?;
    }
    model.close()?;
    model.check()?;
    ensure!(model.state().is_terminal());
    ensure!(
        model
            .fates
            .iter()
            .all(|fate| !matches!(fate, Fate::Buffered | Fate::InWindow)),
        "a message neither delivered nor handed back"
    );
    Ok(())
}

/// Raw input, as a fuzzer hands it over: read front to back, zeros once used up.
#[derive(Debug)]
pub(super) struct Input<'a>(pub(super) &'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&first, rest)) => {
                self.0 = rest;
                first
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub(super) fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.byte()))
    }

    /// A valid configuration, in the same ranges as the proptest driver's.
    pub(super) fn config(&mut self) -> ResiliencyConfig {
        let base = 1 + u64::from(self.u16()) % 1_000;
        let extra = u64::from(self.u16()) % 5_000;
        let strategy = match self.byte() % 3 {
            0 => JitterStrategy::Proportional,
            1 => JitterStrategy::Full,
            _ => JitterStrategy::Decorrelated,
        };
        let attempts = self.byte();
        let bytes = self.byte();
        ResiliencyConfig::builder()
            .base_backoff(Duration::from_millis(base))
            .max_backoff(Duration::from_millis(base + extra))
            .jitter_percent(self.byte() % 101)
            .jitter(strategy)
            .max_reconnect_attempts((attempts >= 64).then_some(u32::from(attempts % 6)))
            .stable_uptime(Duration::from_millis(u64::from(self.u16()) % 3_000))
            .message_buffer_size(1 + usize::from(self.byte()) % 5)
            .message_buffer_bytes((bytes >= 64).then_some(1 + usize::from(bytes) % 63))
            .overflow_policy(if self.byte() % 2 == 0 {
                OverflowPolicy::RejectNew
            } else {
                OverflowPolicy::DropOldest
            })
            .unconfirmed_window(1 + usize::from(self.byte()) % 5)
            .delivery(if self.byte() % 2 == 0 {
                DeliveryMode::AtMostOnce
            } else {
                DeliveryMode::AtLeastOnce
            })
            .build()
            .expect("decoded configs are valid")
    }

    /// The next operation, two bytes each; `None` once the input is used up.
    pub(super) fn op(&mut self) -> Option<Op> {
        if self.0.is_empty() {
            return None;
        }
        let (tag, arg) = (self.byte(), self.byte());
        Some(match tag % 12 {
            0 => Op::Send(usize::from(arg % 24)),
            1 => Op::Dial,
            2 => Op::ConnectOk,
            3 => Op::Fail { final_: arg < 26 },
            4 => Op::Write(1 + usize::from(arg % 4)),
            5 => Op::Ping,
            6 => Op::Pong(usize::from(arg % 4)),
            7 => Op::LatePong(usize::from(arg % 8)),
            8 if arg < 38 => Op::Close,
            8 => Op::Refresh,
            9 => Op::Advance(u64::from(arg) * 12),
            10 => Op::Raw(ALL_STATES[usize::from(arg) % ALL_STATES.len()]),
            _ => Op::Send(usize::from(arg % 24)),
        })
    }
}
