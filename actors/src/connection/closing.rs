//! A requested close under way: who waits for it, what the close frame says, and until
//! when it may wait to flush.

use std::time::Instant;

use awc::ws::CloseReason;
use tether::ConnectionState;
use tokio::sync::oneshot;

/// A `Close` (or `CloseWith`) being carried out.
#[derive(Debug)]
pub(super) struct Closing {
    waiters: Vec<oneshot::Sender<ConnectionState>>,
    code: u16,
    reason: Option<String>,
    /// Keep (re)connecting until `deadline` to flush, instead of handing back what is
    /// buffered as soon as no link is up.
    flush: bool,
    deadline: Instant,
    /// Tells this close's deadline timer from an earlier close's (after a reopen).
    serial: u64,
}

impl Closing {
    pub(super) fn new(
        (code, reason): (u16, Option<String>),
        flush: bool,
        deadline: Instant,
        serial: u64,
    ) -> Self {
        Self {
            waiters: Vec::new(),
            code,
            reason,
            flush,
            deadline,
            serial,
        }
    }

    pub(super) fn wait(&mut self, waiter: oneshot::Sender<ConnectionState>) {
        self.waiters.push(waiter);
    }

    pub(super) fn flush(&self) -> bool {
        self.flush
    }

    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(super) fn serial(&self) -> u64 {
        self.serial
    }

    /// The close frame to send.
    pub(super) fn frame(&self) -> CloseReason {
        CloseReason {
            code: self.code.into(),
            description: self.reason.clone(),
        }
    }

    pub(super) fn into_waiters(self) -> Vec<oneshot::Sender<ConnectionState>> {
        self.waiters
    }
}
