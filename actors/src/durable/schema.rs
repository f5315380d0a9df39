//! The store's tables, and the version that names them.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::sqlite_error::classify;
use super::DurableError;

/// The schema version this build reads and writes, kept in the file's `user_version`.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Marks the file as a tether outbox, in the file's `application_id` ("TETH").
const APPLICATION_ID: i64 = 0x5445_5448;

/// The tables of schema version 1. `kind` is 0 for text, 1 for binary; `meta` holds
/// `next_seq`, so sequence numbers keep growing after every record was removed.
const CREATE: &str = "
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta (key, value) VALUES ('next_seq', 0);
";

/// Creates the tables in a new, empty file, or checks that an existing file is an outbox
/// of [`SCHEMA_VERSION`].
///
/// Runs as one write transaction, which also takes the file's lock for good (the
/// connection is in exclusive locking mode): a second store on the same file fails here
/// at the latest.
pub(crate) fn prepare(connection: &mut Connection, path: &Path) -> Result<(), DurableError> {
    let sql = |error| classify(path, error);
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let application_id: i64 = transaction
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(sql)?;
    let version: i64 = transaction
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql)?;
    let objects: i64 = transaction
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(sql)?;
    if application_id == 0 && version == 0 && objects == 0 {
        transaction.execute_batch(CREATE).map_err(sql)?;
        transaction
            .pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql)?;
        transaction
            .pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql)?;
    } else if application_id == APPLICATION_ID && version == SCHEMA_VERSION {
        let tables: i64 = transaction
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('outbox', 'meta')",
                [],
                |row| row.get(0),
            )
            .map_err(sql)?;
        if tables != 2 {
            return Err(DurableError::Corrupt {
                path: path.to_owned(),
                detail: "marked as an outbox, but its tables are missing".to_owned(),
            });
        }
    } else {
        return Err(DurableError::UnknownSchema {
            path: path.to_owned(),
            found_version: version,
            found_application_id: application_id,
            supported: SCHEMA_VERSION,
        });
    }
    transaction.commit().map_err(sql)
}
