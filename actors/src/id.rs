//! Process-unique connection identifiers.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies one [`ConnectionActor`](crate::ConnectionActor) within the process.
///
/// Every event a connection publishes carries its id, so one subscriber can serve many
/// connections. Ids are never reused while the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// A fresh id, distinct from every id handed out before.
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}
