//! Proves the crash-test pieces (`tests/support/crash.rs`) behave as documented: the
//! tally's figures, the plan's seeding, and a real child process killed and restarted at
//! the planned moments.

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{kill_hard, wait_until, CrashReport, KillPlan, Tally};

/// Generous deadline for a child's events to arrive.
const PATIENCE: Duration = Duration::from_secs(60);

/// Where the helper child starts counting.
const START: &str = "TETHER_CRASH_HARNESS_START";

#[test]
fn the_tally_reports_lost_duplicate_and_unexpected_events() {
    let tally = Tally::new();
    for number in [0, 1, 1, 3, 4, 4, 4, 9] {
        tally.record(number);
    }
    assert_eq!(tally.total(), 8);
    assert_eq!(tally.distinct(), 5);
    assert_eq!(tally.highest(), Some(9));
    let report = tally.report(6, 2);
    assert_eq!(
        report,
        CrashReport {
            kills: 2,
            sent: 6,
            arrived: 8,
            lost: vec![2, 5],
            duplicates: 3,
            unexpected: vec![9],
        }
    );
    assert_eq!(
        report.to_string(),
        "kills 2, sent 6, arrived 8, lost 2, duplicates 3, unexpected 1"
    );
    assert_eq!(
        Tally::new().report(0, 0).to_string(),
        "kills 0, sent 0, arrived 0, lost 0, duplicates 0"
    );
}

#[test]
fn a_kill_plan_is_the_same_for_the_same_seed() {
    let plan = KillPlan::new(42, 12, 5..50);
    assert_eq!(plan, KillPlan::new(42, 12, 5..50));
    assert_ne!(plan, KillPlan::new(43, 12, 5..50));
    assert_eq!(plan.seed(), 42);
    assert_eq!(plan.moments().len(), 12);
    assert!(plan.moments().iter().all(|moment| (5..50).contains(moment)));
}

/// Child helper: prints `event N` for N from `$TETHER_CRASH_HARNESS_START` on, until
/// killed (bounded, in case nobody kills it).
#[test]
#[ignore = "helper, run as a child process by the kill test"]
fn child_counts_up() {
    let Some(start) = std::env::var(START)
        .ok()
        .and_then(|start| start.parse::<u64>().ok())
    else {
        return;
    };
    let mut stdout = std::io::stdout();
    for number in start..start + 10_000_000 {
        writeln!(stdout, "\nevent {number}").unwrap();
        stdout.flush().unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[actix_web::test]
async fn a_child_killed_at_the_planned_moments_is_restarted_and_counted() {
    let plan = KillPlan::new(7, 10, 20..200);
    let tally = Tally::new();
    for &moment in plan.moments() {
        let start = tally.highest().map_or(0, |highest| highest + 1);
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_counts_up",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(START, start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let recorder = tally.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(number) = line.strip_prefix("event ").and_then(|n| n.parse().ok()) {
                    recorder.record(number);
                }
            }
        });
        let before = tally.total();
        assert!(
            wait_until(PATIENCE, || tally.total() >= before + moment).await,
            "seed {}: {} of {moment} events arrived",
            plan.seed(),
            tally.total() - before
        );
        kill_hard(&mut child);
        // The pipe ends with the child: every event it wrote is read.
        reader.join().unwrap();
    }
    let sent = tally.highest().unwrap() + 1;
    let report = tally.report(sent, plan.moments().len());
    println!("crash harness, seed {}: {report}", plan.seed());
    assert_eq!(report.kills, 10);
    assert!(report.lost.is_empty(), "seed {}: {report}", plan.seed());
    // Each restart began after the last event read, so nothing came twice.
    assert_eq!(report.duplicates, 0, "seed {}: {report}", plan.seed());
    assert!(report.arrived >= plan.moments().iter().sum::<u64>());
}
