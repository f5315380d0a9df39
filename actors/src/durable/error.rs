//! Why the durable store failed.

use std::path::PathBuf;

/// The error beneath a [`DurableError`], from the database engine or the file system.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a [`DurableStore`](super::DurableStore) could not be opened, read or written.
///
/// Opening never falls back to an empty store: every way a store left by a previous
/// process can be unusable is an error of its own, so the messages it holds are never
/// silently dropped. A failed write changes nothing on disk, and the caller still holds
/// the records it passed, to hand them back.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// The connection name cannot be used as a file name (allowed: ASCII letters, digits,
    /// `-`, `_`, `.`, not starting with `.`, 1 to 128 bytes).
    #[error("connection name {name:?} cannot name a store file")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// The file is not a database, fails the integrity check, or holds a record that
    /// cannot be a message (an unknown kind, text that is not UTF-8).
    #[error("durable store {} is corrupt: {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong, as the check found it.
        detail: String,
    },
    /// The store cannot be read or written: permissions, or a read-only file system.
    #[error("durable store {} cannot be read or written", path.display())]
    Unreadable {
        /// The database file.
        path: PathBuf,
        /// What the operating system or the database engine said.
        #[source]
        source: Source,
    },
    /// Another open store holds the file: another live process, or this one, uses the
    /// same directory and connection name.
    #[error("durable store {} is locked by another open store", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file is a database, but not an outbox of the schema version this build
    /// reads: written by a newer version, or by another program.
    #[error(
        "durable store {} has schema version {found_version} (application id {found_application_id:#x}); this build reads version {supported}",
        path.display()
    )]
    UnknownSchema {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found_version: i64,
        /// The application id found in the file (a tether outbox has its own).
        found_application_id: i64,
        /// The schema version this build reads and writes.
        supported: i64,
    },
    /// The disk (or the file system's quota) is full: the write was undone, and nothing
    /// of it is stored. Removing confirmed records, or freeing space, lets later writes
    /// succeed.
    #[error("no space left for durable store {}", path.display())]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },
    /// A record's sequence number is already in the store.
    #[error("sequence number {seq} is already in durable store {}", path.display())]
    DuplicateSeq {
        /// The database file.
        path: PathBuf,
        /// The sequence number given twice.
        seq: u64,
    },
    /// A sequence number above `i64::MAX`: the database stores signed 64-bit integers.
    #[error("sequence number {seq} is too large for the durable store")]
    SeqTooLarge {
        /// The sequence number given.
        seq: u64,
    },
    /// Any other failure of the database engine or the file system.
    #[error("durable store {} failed", path.display())]
    Storage {
        /// The database file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: Source,
    },
}
