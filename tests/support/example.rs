//! [`example_binary`]: where one of the workspace's examples was built, for tests that run
//! it as a child process.
//!
//! `CARGO_BIN_EXE_*` names only binaries. `cargo test` without a target filter (CI's
//! `cargo test --workspace`) builds the examples before it runs any test, into the
//! `examples` directory beside the test binaries' `deps`; a test run on its own needs
//! `cargo build --example NAME` first. Building it from inside the test would start a
//! second cargo whose environment (the one cargo gives tests) makes it rebuild much of
//! the dependency tree on every run.

use std::path::PathBuf;

/// The executable of example `name`, built with this test's profile.
///
/// Panics, naming the command to run, when it was not built.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test binary> → target/<profile>/examples/<name>
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps");
    let binary = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "example {name} is not built ({} is missing): run `cargo build --example {name}` \
         first (plain `cargo test` and `cargo test --workspace` build it)",
        binary.display()
    );
    // A filtered run (`cargo test --test NAME`) rebuilds this test but not the example,
    // which then runs the code of an earlier build. Said on stderr, not failed: in a full
    // run cargo may well finish the example before the test binary.
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if let (Some(example), Some(this)) = (modified(&binary), modified(&test)) {
        if example < this {
            eprintln!(
                "note: example {name} was built before this test binary: if the library \
                 changed since, run `cargo build --example {name}` first"
            );
        }
    }
    binary
}
