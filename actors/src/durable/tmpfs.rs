//! A tmpfs mounted for a test, for stores on a full or read-only file system. Shared by
//! the store's tests and the end-to-end durable tests (`tests/support`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

/// Runs `command` as root's tool; panics with what to install or how to run when it
/// cannot.
pub(crate) fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop. Needs root (CI
/// runs as root); without it, the test fails saying so.
pub(crate) struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    pub(crate) fn mount(size: &str) -> Self {
        assert_eq!(
            std::fs::metadata("/proc/self").unwrap().uid(),
            0,
            "this test mounts a tmpfs: run it as root"
        );
        let dir = TempDir::new().unwrap();
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0755"))
            .arg("tmpfs")
            .arg(dir.path()));
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn remount_read_only(&self) {
        run(Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path()));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}
