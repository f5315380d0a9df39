//! Stores that cannot be used, on real files: garbage, damage, another schema, a lock
//! held by another process, no permission, a read-only file system, a full disk; and
//! a process killed while appending.
//!
//! Child processes are this test binary run again on one of the ignored `child_*`
//! helpers below, told what to do through environment variables.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

#[path = "tmpfs.rs"]
mod tmpfs;

use self::tmpfs::Tmpfs;
use super::{DurableError, DurableStore, Record};
use crate::Payload;

/// How long a child process may take to report; generous, for a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The directory a child process opens its store in.
const CHILD_DIR: &str = "TETHER_DURABLE_CHILD_DIR";

/// Records `from..to`, each a 64-byte binary message naming its number.
fn batch(from: u64, to: u64) -> Vec<Record> {
    (from..to)
        .map(|seq| Record::new(seq, Payload::binary(format!("{seq:0>64}").into_bytes())))
        .collect()
}

/// A store for connection "feed" in `dir`, holding records `0..count`, then closed.
fn store_with(dir: &Path, count: u64) -> PathBuf {
    let mut store = DurableStore::open(dir, "feed").unwrap();
    store.append_batch(&batch(0, count)).unwrap();
    let path = store.path().to_owned();
    drop(store);
    path
}

/// The variant's name, for comparing errors reported by a child process.
fn variant(error: &DurableError) -> &'static str {
    match error {
        DurableError::InvalidName { .. } => "InvalidName",
        DurableError::Corrupt { .. } => "Corrupt",
        DurableError::Unreadable { .. } => "Unreadable",
        DurableError::Locked { .. } => "Locked",
        DurableError::UnknownSchema { .. } => "UnknownSchema",
        DurableError::DiskFull { .. } => "DiskFull",
        DurableError::DuplicateSeq { .. } => "DuplicateSeq",
        DurableError::SeqTooLarge { .. } => "SeqTooLarge",
        DurableError::Storage { .. } => "Storage",
    }
}

#[test]
fn a_file_of_garbage_is_corrupt_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("feed.outbox.sqlite");
    let garbage: Vec<u8> = (0..10_000_u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(matches!(error, DurableError::Corrupt { .. }), "{error:?}");
    // Opening did not "repair" the file into an empty store.
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(matches!(error, DurableError::Corrupt { .. }), "{error:?}");
}

#[test]
fn a_damaged_page_is_corrupt_not_a_shorter_outbox() {
    let dir = TempDir::new().unwrap();
    let path = store_with(dir.path(), 3000);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8 * 4096, "store of {} bytes", bytes.len());
    // Pages 3 to 5 (of 4096 bytes): table pages, past the header.
    for (i, byte) in bytes[2 * 4096..5 * 4096].iter_mut().enumerate() {
        *byte = (i % 253) as u8 ^ 0xa5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(matches!(error, DurableError::Corrupt { .. }), "{error:?}");
}

#[test]
fn another_schema_version_is_refused_and_left_as_it_is() {
    let dir = TempDir::new().unwrap();
    let path = store_with(dir.path(), 5);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(
        matches!(
            error,
            DurableError::UnknownSchema {
                found_version: 99,
                supported: 1,
                ..
            }
        ),
        "{error:?}"
    );
    let raw = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    let records: i64 = raw
        .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))
        .unwrap();
    assert_eq!((version, records), (99, 5));
}

#[test]
fn a_database_of_another_program_is_an_unknown_schema() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("feed.outbox.sqlite");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(raw);
    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(
        matches!(
            error,
            DurableError::UnknownSchema {
                found_version: 0,
                found_application_id: 0,
                ..
            }
        ),
        "{error:?}"
    );
}

/// This test binary, run again on the ignored helper `test`, with `envs` set.
fn child(test: &str, envs: &[(&str, &Path)]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            test,
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in envs {
        command.env(key, value);
    }
    command
}

/// What a child prints after `CHILD `, line by line, as it comes. (The test harness may
/// print the test's name on the same line before it.)
fn reports(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, report)) = line.split_once("CHILD ") {
                if tx.send(report.to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// Child helper: opens the store in `$TETHER_DURABLE_CHILD_DIR`, says so, and keeps it
/// open until its standard input ends.
#[test]
#[ignore = "helper, run as a child process by the lock test"]
fn child_holds_the_store() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let store = DurableStore::open(dir, "feed").unwrap();
    println!("CHILD open {}", store.len());
    std::io::stdout().flush().unwrap();
    let mut rest = String::new();
    let _ = std::io::stdin().read_line(&mut rest);
    drop(store);
}

#[test]
fn a_store_held_by_another_live_process_is_locked() {
    let dir = TempDir::new().unwrap();
    store_with(dir.path(), 7);
    let mut holder = child(
        "durable::file_tests::child_holds_the_store",
        &[(CHILD_DIR, dir.path())],
    )
    .spawn()
    .unwrap();
    let from_child = reports(&mut holder);
    assert_eq!(from_child.recv_timeout(PATIENCE).unwrap(), "open 7");

    let error = DurableStore::open(dir.path(), "feed").unwrap_err();
    assert!(matches!(error, DurableError::Locked { .. }), "{error:?}");

    // The child ends normally when its input closes; then the store is free again.
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let store = DurableStore::open(dir.path(), "feed").unwrap();
    assert_eq!(store.load().unwrap(), batch(0, 7));
}

/// Child helper: appends batches of 8 to the store in `$TETHER_DURABLE_CHILD_DIR`, from
/// its next free sequence number, reporting each one once it is committed, until killed.
#[test]
#[ignore = "helper, run as a child process by the kill test"]
fn child_appends_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let mut store = DurableStore::open(dir, "feed").unwrap();
    let mut stdout = std::io::stdout();
    // Bounded, in case the parent is gone: about a minute of appends at most.
    for _ in 0..20_000 {
        let from = store.next_seq();
        store.append_batch(&batch(from, from + 8)).unwrap();
        writeln!(stdout, "CHILD committed {}", from + 8).unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn a_killed_process_leaves_every_batch_it_committed_and_no_lock() {
    let dir = TempDir::new().unwrap();
    // Kill after this many reported commits; the child is then usually inside the next.
    for kill_after in [1_usize, 13, 4, 40, 2, 25] {
        let before = DurableStore::open(dir.path(), "feed").unwrap().next_seq();
        let mut appender = child(
            "durable::file_tests::child_appends_until_killed",
            &[(CHILD_DIR, dir.path())],
        )
        .spawn()
        .unwrap();
        let from_child = reports(&mut appender);
        let mut reported = before;
        for _ in 0..kill_after {
            let line = from_child.recv_timeout(PATIENCE).unwrap();
            reported = line.strip_prefix("committed ").unwrap().parse().unwrap();
        }
        // SIGKILL: no destructor, no close, no checkpoint.
        appender.kill().unwrap();
        appender.wait().unwrap();

        let store = DurableStore::open(dir.path(), "feed").unwrap();
        let left = store.load().unwrap();
        let stored = left.len() as u64;
        assert!(
            stored >= reported,
            "reported {reported} committed, found {stored}"
        );
        assert_eq!(stored % 8, 0, "a partial batch survived: {stored} records");
        assert_eq!(left, batch(0, stored), "records lost, reordered or damaged");
        assert_eq!(store.next_seq(), stored);
    }
}

#[test]
fn a_store_on_a_read_only_file_system_is_unreadable() {
    let tmpfs = Tmpfs::mount("4m");
    store_with(tmpfs.path(), 10);
    tmpfs.remount_read_only();
    let error = DurableStore::open(tmpfs.path(), "feed").unwrap_err();
    assert!(
        matches!(error, DurableError::Unreadable { .. }),
        "{error:?}"
    );
}

/// Child helper: opens the store in `$TETHER_DURABLE_CHILD_DIR` and reports the
/// outcome.
#[test]
#[ignore = "helper, run as a child process by the permission test"]
fn child_reports_open() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    match DurableStore::open(dir, "feed") {
        Ok(store) => println!("CHILD opened {}", store.len()),
        Err(error) => println!("CHILD error {} {error}", variant(&error)),
    }
}

#[test]
fn a_store_without_permission_is_unreadable() {
    let dir = TempDir::new().unwrap();
    let path = store_with(dir.path(), 10);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root reads any file: as root, open from a child process running as `nobody`.
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    for (mode, what) in [(0o600, "unreadable"), (0o644, "read-only")] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let outcome = if as_root {
            let mut probe = child(
                "durable::file_tests::child_reports_open",
                &[(CHILD_DIR, dir.path())],
            );
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(probe.get_program())
                .args(probe.get_args())
                .env(CHILD_DIR, dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped());
            let mut prober = command
                .spawn()
                .unwrap_or_else(|error| panic!("needs setpriv (Debian: util-linux): {error}"));
            let _ = probe.stdin(Stdio::null());
            let line = reports(&mut prober).recv_timeout(PATIENCE).unwrap();
            prober.wait().unwrap();
            line
        } else {
            match DurableStore::open(dir.path(), "feed") {
                Ok(store) => format!("opened {}", store.len()),
                Err(error) => format!("error {} {error}", variant(&error)),
            }
        };
        assert!(
            outcome.starts_with("error Unreadable"),
            "{what} file: {outcome}"
        );
    }
    // The owner still has it all.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let store = DurableStore::open(dir.path(), "feed").unwrap();
    assert_eq!(store.load().unwrap(), batch(0, 10));
}

#[test]
fn a_full_disk_refuses_the_batch_whole_and_the_store_recovers_with_space() {
    let tmpfs = Tmpfs::mount("512k");
    // Most of the disk is taken by something else.
    let ballast = tmpfs.path().join("ballast");
    std::fs::write(&ballast, vec![0_u8; 256 * 1024]).unwrap();
    let mut store = DurableStore::open(tmpfs.path(), "feed").unwrap();
    let mut committed = 0;
    let error = loop {
        assert!(committed < 100_000, "the disk never filled");
        match store.append_batch(&batch(committed, committed + 64)) {
            Ok(()) => committed += 64,
            Err(error) => break error,
        }
    };
    assert!(matches!(error, DurableError::DiskFull { .. }), "{error:?}");
    assert!(committed > 0, "not even one batch fitted");
    // Nothing of the refused batch is stored; everything before it is.
    assert_eq!(store.load().unwrap(), batch(0, committed));
    assert_eq!(store.len() as u64, committed);
    assert_eq!(store.next_seq(), committed);

    // Space comes back: the same batch is taken, and everything survives reopening.
    std::fs::remove_file(&ballast).unwrap();
    store
        .append_batch(&batch(committed, committed + 64))
        .unwrap();
    store.remove_through(63).unwrap();
    drop(store);
    let store = DurableStore::open(tmpfs.path(), "feed").unwrap();
    assert_eq!(store.load().unwrap(), batch(64, committed + 64));
}
