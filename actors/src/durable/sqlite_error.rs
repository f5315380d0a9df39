//! What a failure of the database engine means for the store.

use std::path::Path;

use rusqlite::ErrorCode;

use super::DurableError;

/// The [`DurableError`] for an error of SQLite on the store at `path`.
///
/// The primary result code decides: SQLite reports a full disk as `SQLITE_FULL`
/// (the unix file layer turns `ENOSPC` into it), a lock held by another connection as
/// `SQLITE_BUSY`, and a file that is not a database as `SQLITE_NOTADB`.
pub(crate) fn classify(path: &Path, error: rusqlite::Error) -> DurableError {
    let path = path.to_owned();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => DurableError::Corrupt {
            path,
            detail: error.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DurableError::Locked { path },
        Some(ErrorCode::DiskFull) => DurableError::DiskFull { path },
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly
            | ErrorCode::AuthorizationForStatementDenied,
        ) => DurableError::Unreadable {
            path,
            source: Box::new(error),
        },
        _ => DurableError::Storage {
            path,
            source: Box::new(error),
        },
    }
}

/// The [`DurableError`] for a file-system error on the store at `path`, outside SQLite.
pub(crate) fn classify_io(path: &Path, error: std::io::Error) -> DurableError {
    let path = path.to_owned();
    if error.kind() == std::io::ErrorKind::PermissionDenied {
        DurableError::Unreadable {
            path,
            source: Box::new(error),
        }
    } else {
        DurableError::Storage {
            path,
            source: Box::new(error),
        }
    }
}
