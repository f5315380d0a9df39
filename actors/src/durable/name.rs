//! The store's file name, from a connection name.

use std::path::{Path, PathBuf};

use super::DurableError;

/// The longest connection name accepted: file systems commonly limit a name to 255
/// bytes, and the suffix needs room too.
const MAX_NAME_LEN: usize = 128;

/// What the database file of a store is called, after the connection name.
const SUFFIX: &str = ".outbox.sqlite";

/// The database file for connection `name` in `dir`.
///
/// The name becomes part of a file name as it is, so it is restricted to ASCII letters,
/// digits, `-`, `_` and `.`, must not start with `.` (no hidden files, no `..`), and must
/// be 1 to 128 bytes long. Anything else is [`DurableError::InvalidName`], rather than a
/// file silently written somewhere else.
pub(crate) fn store_path(dir: &Path, name: &str) -> Result<PathBuf, DurableError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name.chars().all(allowed);
    if valid {
        Ok(dir.join(format!("{name}{SUFFIX}")))
    } else {
        Err(DurableError::InvalidName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_map_to_a_file_in_the_directory() {
        let path = store_path(Path::new("/var/lib/app"), "orders-feed_2.eu").unwrap();
        assert_eq!(
            path,
            Path::new("/var/lib/app/orders-feed_2.eu.outbox.sqlite")
        );
    }

    #[test]
    fn names_that_could_escape_or_hide_are_rejected() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for name in [
            "", ".", "..", ".hidden", "a/b", "../up", "a\\b", "sp ace", "é", &long,
        ] {
            assert!(
                matches!(
                    store_path(Path::new("/d"), name),
                    Err(DurableError::InvalidName { .. })
                ),
                "{name:?} was accepted"
            );
        }
        assert!(store_path(Path::new("/d"), &"a".repeat(MAX_NAME_LEN)).is_ok());
    }
}
