//! The durable store of one connection's outbox.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, MAIN_DB};

use super::name::store_path;
use super::schema::{self, SCHEMA_VERSION};
use super::sqlite_error::{classify, classify_io};
use super::{DurableError, Record};
use crate::Payload;

/// On-disk `kind` of a text record.
const TEXT: i64 = 0;
/// On-disk `kind` of a binary record.
const BINARY: i64 = 1;

/// Pages of write-ahead log after which it is copied into the database and restarted:
/// keeps the log, and so the store's size on disk, small (SQLite's default is 1000).
const CHECKPOINT_PAGES: i64 = 256;

/// Bytes the write-ahead log is cut back to after a checkpoint.
const LOG_SIZE_LIMIT: i64 = 1 << 20;

/// The outbox of one connection, kept on disk: an embedded SQLite database in the
/// store's directory, one file per connection name.
///
/// - [`load`](Self::load) returns what a previous process left, by ascending sequence
///   number.
/// - [`append_batch`](Self::append_batch) stores a group of records in one durable commit
///   (the write-ahead log is `fsync`ed before it returns), so a batch costs one `fsync`,
///   whatever its size.
/// - [`remove_through`](Self::remove_through) and [`remove`](Self::remove) delete the
///   confirmed ones, each call one commit.
///
/// The file stays locked while the store is open: a second store on the same directory
/// and name, in this process or another, fails with [`DurableError::Locked`]. The lock
/// ends with the store, or with its process, however it ends.
///
/// ```
/// use tether_actix::durable::{DurableStore, Record};
/// use tether_actix::Payload;
///
/// # fn main() -> Result<(), tether_actix::durable::DurableError> {
/// let dir = std::env::temp_dir().join(format!("tether-doc-{}", std::process::id()));
/// let mut store = DurableStore::open(&dir, "feed")?;
/// let first = store.next_seq();
/// store.append_batch(&[
///     Record::new(first, Payload::text("one")),
///     Record::new(first + 1, Payload::binary(vec![2_u8])),
/// ])?;
/// drop(store);
///
/// // A later process finds both, in order.
/// let mut store = DurableStore::open(&dir, "feed")?;
/// let left = store.load()?;
/// assert_eq!(left.len(), 2);
/// assert_eq!(left[0].payload.as_text(), Some("one"));
/// store.remove_through(first + 1)?;
/// assert!(store.is_empty());
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DurableStore {
    /// The open database; its file lock lasts as long as it does.
    connection: Connection,
    /// The database file.
    path: PathBuf,
    /// Records in the store, kept in step with every commit.
    len: usize,
    /// One more than the highest sequence number ever stored.
    next_seq: u64,
    /// The connection's `synchronous` setting is `FULL` (commits `fsync`), not `NORMAL`:
    /// set per commit, and only when it changes.
    synced: bool,
}

/// One change of a [`DurableStore::commit`]: several are made in one transaction, in
/// the order given.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// [`DurableStore::append_batch`]'s records.
    Append(&'a [Record]),
    /// [`DurableStore::remove_through`]'s bound.
    RemoveThrough(u64),
    /// [`DurableStore::remove`]'s sequence numbers.
    Remove(&'a [u64]),
}

impl DurableStore {
    /// The schema version this build reads and writes. A store written with another one
    /// fails to open with [`DurableError::UnknownSchema`].
    pub const SCHEMA_VERSION: i64 = SCHEMA_VERSION;

    /// Opens the store of connection `name` in `dir`, creating the directory and the
    /// store when they do not exist.
    ///
    /// The file is `<dir>/<name>.outbox.sqlite` (with a `-wal` file beside it while
    /// open). Opening checks the whole file, so a store that opens can be loaded.
    ///
    /// # Errors
    ///
    /// [`InvalidName`](DurableError::InvalidName),
    /// [`Corrupt`](DurableError::Corrupt), [`Unreadable`](DurableError::Unreadable),
    /// [`Locked`](DurableError::Locked) or [`UnknownSchema`](DurableError::UnknownSchema):
    /// never an empty store in place of one that cannot be read.
    pub fn open(dir: impl AsRef<Path>, name: &str) -> Result<Self, DurableError> {
        let dir = dir.as_ref();
        let path = store_path(dir, name)?;
        std::fs::create_dir_all(dir).map_err(|error| classify_io(&path, error))?;
        let sql = |error| classify(&path, error);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(&path, flags).map_err(sql)?;
        // SQLite opens a file it may not write read-only without saying so; an outbox
        // that cannot take new messages or drop confirmed ones is of no use.
        if connection.is_readonly(MAIN_DB).map_err(sql)? {
            return Err(DurableError::Unreadable {
                path,
                source: "the file can only be opened read-only".into(),
            });
        }
        // A lock held elsewhere is an error now, not a wait.
        connection.busy_timeout(Duration::ZERO).map_err(sql)?;
        // Exclusive locking: the first write takes the file's lock and keeps it until the
        // connection closes, so a second store fails instead of sharing the outbox.
        connection
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(sql)?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DurableError::Storage {
                path,
                source: format!("write-ahead logging refused (journal mode {mode})").into(),
            });
        }
        // FULL: every commit fsyncs the log before it returns, which is what lets the
        // caller tell its sender "on disk".
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        connection
            .pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)
            .map_err(sql)?;
        connection
            .pragma_update(None, "journal_size_limit", LOG_SIZE_LIMIT)
            .map_err(sql)?;
        schema::prepare(&mut connection, &path)?;
        let check: String = connection
            .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
            .map_err(sql)?;
        if check != "ok" {
            return Err(DurableError::Corrupt {
                path,
                detail: check,
            });
        }
        let len: i64 = connection
            .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))
            .map_err(sql)?;
        let next_seq: i64 = connection
            .query_row(
                "SELECT max(value, coalesce((SELECT max(seq) + 1 FROM outbox), 0)) \
                 FROM meta WHERE key = 'next_seq'",
                [],
                |row| row.get(0),
            )
            .map_err(sql)?;
        let (Ok(len), Ok(next_seq)) = (usize::try_from(len), u64::try_from(next_seq)) else {
            return Err(DurableError::Corrupt {
                path,
                detail: format!("impossible count {len} or next sequence number {next_seq}"),
            });
        };
        Ok(Self {
            connection,
            path,
            len,
            next_seq,
            synced: true,
        })
    }

    /// Every record in the store, by ascending sequence number: on start, what a previous
    /// process left, to be sent first.
    ///
    /// # Errors
    ///
    /// [`DurableError::Corrupt`] for a record that cannot be a message (an unknown kind,
    /// text that is not UTF-8, a negative sequence number): no record is dropped quietly.
    pub fn load(&self) -> Result<Vec<Record>, DurableError> {
        let sql = |error| classify(&self.path, error);
        let mut select = self
            .connection
            .prepare_cached("SELECT seq, kind, payload FROM outbox ORDER BY seq")
            .map_err(sql)?;
        let mut rows = select.query([]).map_err(sql)?;
        let mut records = Vec::with_capacity(self.len);
        while let Some(row) = rows.next().map_err(sql)? {
            let seq: i64 = row.get(0).map_err(sql)?;
            let kind: i64 = row.get(1).map_err(sql)?;
            let bytes: Vec<u8> = row.get(2).map_err(sql)?;
            records.push(self.decode(seq, kind, bytes)?);
        }
        Ok(records)
    }

    /// Stores `records` in one durable commit: when this returns `Ok`, all of them are on
    /// disk and survive a crash of the process (and, as far as `fsync` guarantees it, of
    /// the machine).
    ///
    /// Give each record a sequence number not in the store, ascending in the order the
    /// messages are to be sent; [`next_seq`](Self::next_seq) is the first one unused.
    /// An empty slice writes nothing.
    ///
    /// # Errors
    ///
    /// Nothing of the batch is stored, and the caller still holds every record, to hand
    /// the messages back: [`DiskFull`](DurableError::DiskFull) when there is no space,
    /// [`DuplicateSeq`](DurableError::DuplicateSeq),
    /// [`SeqTooLarge`](DurableError::SeqTooLarge), or another failure of the file.
    pub fn append_batch(&mut self, records: &[Record]) -> Result<(), DurableError> {
        self.commit(&[Change::Append(records)]).map(|_| ())
    }

    /// Removes every record with a sequence number up to and including `seq`, in one
    /// commit: for a confirmation that covers everything written before it. Returns how
    /// many were removed.
    ///
    /// # Errors
    ///
    /// A failure of the file; nothing is removed then.
    pub fn remove_through(&mut self, seq: u64) -> Result<usize, DurableError> {
        self.commit(&[Change::RemoveThrough(seq)])
    }

    /// Removes the records with these sequence numbers, in one commit: for messages
    /// confirmed or handed back out of order. Numbers not in the store are ignored.
    /// Returns how many were removed.
    ///
    /// # Errors
    ///
    /// A failure of the file; nothing is removed then.
    pub fn remove(&mut self, seqs: &[u64]) -> Result<usize, DurableError> {
        self.commit(&[Change::Remove(seqs)])
    }

    /// Makes `changes` in one transaction, in order, and commits it: all of them, or
    /// (on an error) none. Returns how many records were removed.
    ///
    /// A commit that appends is durable (the write-ahead log is `fsync`ed before this
    /// returns). One that only removes does not wait for the disk (`synchronous=NORMAL`):
    /// a removal lost to a power cut brings back messages that were confirmed or handed
    /// back, to be sent again (a duplicate, which at-least-once allows), never a loss;
    /// the next append's `fsync` covers it anyway, and a killed process loses nothing
    /// the operating system already has. That saves one `fsync` per confirmation.
    ///
    /// # Errors
    ///
    /// As [`append_batch`](Self::append_batch): nothing of the transaction is stored.
    pub(crate) fn commit(&mut self, changes: &[Change<'_>]) -> Result<usize, DurableError> {
        let mut next_seq = self.next_seq;
        let mut appended = 0;
        for change in changes {
            if let Change::Append(records) = change {
                for record in *records {
                    to_stored(record.seq)?;
                    next_seq = next_seq.max(record.seq + 1);
                }
                appended += records.len();
            }
        }
        let removes = changes.iter().any(|change| match change {
            Change::Append(_) => false,
            Change::RemoveThrough(_) => true,
            Change::Remove(seqs) => !seqs.is_empty(),
        });
        if appended == 0 && !removes {
            return Ok(0);
        }
        self.set_synced(appended > 0)?;
        let path = &self.path;
        let sql = |error| classify(path, error);
        let transaction = self.connection.transaction().map_err(sql)?;
        let mut removed = 0;
        for change in changes {
            match *change {
                Change::Append(records) => insert(&transaction, path, records)?,
                Change::RemoveThrough(seq) => {
                    let through = i64::try_from(seq).unwrap_or(i64::MAX);
                    removed += transaction
                        .prepare_cached("DELETE FROM outbox WHERE seq <= ?1")
                        .and_then(|mut delete| delete.execute([through]))
                        .map_err(sql)?;
                }
                Change::Remove(seqs) => {
                    let mut delete = transaction
                        .prepare_cached("DELETE FROM outbox WHERE seq = ?1")
                        .map_err(sql)?;
                    // A number above i64::MAX was never stored.
                    for seq in seqs.iter().filter_map(|&seq| i64::try_from(seq).ok()) {
                        removed += delete.execute([seq]).map_err(sql)?;
                    }
                }
            }
        }
        if appended > 0 {
            transaction
                .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_seq'")
                .map_err(sql)?
                .execute([to_stored(next_seq)?])
                .map_err(sql)?;
        }
        // Dropping the transaction on any error above rolls it back.
        transaction.commit().map_err(sql)?;
        self.len = (self.len + appended).saturating_sub(removed);
        self.next_seq = next_seq;
        Ok(removed)
    }

    /// Sets `synchronous` to `FULL` (`durable`) or `NORMAL` for the next commit, unless
    /// it already is.
    fn set_synced(&mut self, durable: bool) -> Result<(), DurableError> {
        if self.synced != durable {
            self.connection
                .pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })
                .map_err(|error| classify(&self.path, error))?;
            self.synced = durable;
        }
        Ok(())
    }

    /// How many records the store holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One more than the highest sequence number ever stored here, by this process or an
    /// earlier one (0 for a new store): the first sequence number that is free for good.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Bytes the store takes on disk: the database file and its write-ahead log.
    ///
    /// Bounded by the most records held at once, not by how many passed through:
    /// removed records' pages are reused, and the log is restarted every few hundred
    /// pages.
    ///
    /// # Errors
    ///
    /// The files' sizes cannot be read.
    pub fn size_on_disk(&self) -> Result<u64, DurableError> {
        let size = |path: &Path| match std::fs::metadata(path) {
            Ok(metadata) => Ok(metadata.len()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(classify_io(&self.path, error)),
        };
        let mut log = self.path.clone().into_os_string();
        log.push("-wal");
        Ok(size(&self.path)? + size(Path::new(&log))?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record of one row, or why the row cannot be one.
    fn decode(&self, seq: i64, kind: i64, bytes: Vec<u8>) -> Result<Record, DurableError> {
        let corrupt = |detail: String| DurableError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let seq =
            u64::try_from(seq).map_err(|_| corrupt(format!("negative sequence number {seq}")))?;
        let payload = match kind {
            TEXT => match String::from_utf8(bytes) {
                Ok(text) => Payload::text(text),
                Err(_) => return Err(corrupt(format!("record {seq}: text is not UTF-8"))),
            },
            BINARY => Payload::binary(bytes),
            other => return Err(corrupt(format!("record {seq}: unknown kind {other}"))),
        };
        Ok(Record { seq, payload })
    }
}

/// `seq` as SQLite stores it: a signed 64-bit integer.
fn to_stored(seq: u64) -> Result<i64, DurableError> {
    i64::try_from(seq).map_err(|_| DurableError::SeqTooLarge { seq })
}

/// Inserts `records` in `transaction`; a sequence number already stored is
/// [`DurableError::DuplicateSeq`].
fn insert(
    transaction: &rusqlite::Transaction<'_>,
    path: &Path,
    records: &[Record],
) -> Result<(), DurableError> {
    let mut insert = transaction
        .prepare_cached("INSERT INTO outbox (seq, kind, payload) VALUES (?1, ?2, ?3)")
        .map_err(|error| classify(path, error))?;
    for record in records {
        let kind = if record.payload.is_text() {
            TEXT
        } else {
            BINARY
        };
        insert
            .execute(params![
                to_stored(record.seq)?,
                kind,
                record.payload.as_bytes()
            ])
            .map_err(|error| {
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
                    DurableError::DuplicateSeq {
                        path: path.to_owned(),
                        seq: record.seq,
                    }
                } else {
                    classify(path, error)
                }
            })?;
    }
    Ok(())
}
