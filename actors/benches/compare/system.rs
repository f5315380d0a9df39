//! What the harness reads from the operating system: resident memory, CPU time, the
//! open-file limit; and the child processes of the scale scenario.

use std::fs;
use std::time::Duration;

/// Resident set size of this process (`VmRSS` of `/proc/self/status`), in KiB.
pub(crate) fn rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// CPU time used so far by every live thread of this process: the sum of the first
/// field (nanoseconds on a CPU) of `/proc/self/task/*/schedstat`.
pub(crate) fn cpu_time() -> Duration {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(Result::ok)
        .filter_map(|task| fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// CPU time used so far by the calling thread (`/proc/thread-self/schedstat`).
pub(crate) fn thread_cpu_time() -> Duration {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Raises the soft open-file limit as far as the hard limit allows; the soft limit
/// in force afterwards.
pub(crate) fn raise_nofile() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(1024),
    }
}

/// The hard open-file limit.
pub(crate) fn nofile_hard() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map(|(_, hard)| hard)
        .unwrap_or(0)
}
