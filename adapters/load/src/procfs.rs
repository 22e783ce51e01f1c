//! What `/proc` says about a process: CPU time (utime + stime), VmRSS,
//! VmHWM, thread count; and this process's open-file limit.

use std::fs;

/// Linux reports `/proc/<pid>/stat` times in USER_HZ, 100 on every
/// architecture the kernel exposes to user space.
const USER_HZ: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// utime + stime in seconds, every thread.
    pub cpu_s: f64,
    /// Resident set size in kB.
    pub rss_kb: u64,
    /// Peak resident set size in kB.
    pub hwm_kb: u64,
    /// Threads.
    pub threads: u64,
}

/// Reads `/proc/<pid>` (`"self"` for this process); `None` when the
/// process is gone or the files are unreadable.
pub fn sample(pid: &str) -> Option<Sample> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces: parse after its ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime 15, threads 20.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let threads = fields.get(17)?.parse().ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some(Sample {
        cpu_s: (utime + stime) / USER_HZ,
        rss_kb: kb("VmRSS:").unwrap_or(0),
        hwm_kb: kb("VmHWM:").unwrap_or(0),
        threads,
    })
}

/// This process's soft limit of open files (`None`: unlimited or unknown).
pub fn nofile_limit() -> Option<u64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let s = sample("self").expect("/proc/self");
        assert!(s.rss_kb > 0 && s.threads >= 1 && s.cpu_s >= 0.0);
        assert!(sample("0").is_none());
    }
}
