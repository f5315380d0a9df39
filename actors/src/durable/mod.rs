//! The durable outbox's storage: messages kept on disk until the server confirms them,
//! so they survive a crash or a restart of the process.
//!
//! Enabled by the `durable` feature. A [`DurableStore`] is one embedded SQLite database
//! per connection name in a directory, holding [`Record`]s (a sequence number and a
//! text or binary message). Writes are grouped: one [`append_batch`](DurableStore::append_batch)
//! is one durable commit, one `fsync`, however many records it holds.
//!
//! Every way a store can be unusable is a [`DurableError`] of its own: corrupt, unreadable,
//! locked by another open store, written with another schema version, or the disk full.
//! None of them ever yields an empty store in place of the one on disk.
//!
//! Delivery from a durable outbox is at-least-once: a message written to the server just
//! before the process died, but not yet confirmed, is still in the store and is sent
//! again by the next process.

mod committer;
mod error;
#[cfg(test)]
mod file_tests;
mod name;
mod record;
mod schema;
mod sqlite_error;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use committer::{Appended, Committer};
pub use error::{DurableError, Source};
pub use record::Record;
pub use store::DurableStore;
