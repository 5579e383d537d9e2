//! What a process costs, read from Linux's `/proc`: CPU seconds (user + system, all threads) from
//! `/proc/<pid>/stat`, resident memory now (`VmRSS`) and at its peak (`VmHWM`) from
//! `/proc/<pid>/status`.

use std::path::PathBuf;

/// A process's resource use at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcSample {
    /// User + system CPU seconds since the process started (every thread).
    pub cpu_seconds: f64,
    /// Resident set size now, in KiB.
    pub rss_kib: u64,
    /// Peak resident set size since the process started ("high water mark"), in KiB.
    pub hwm_kib: u64,
}

/// Why a process could not be sampled.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The `/proc` file could not be read (the process is gone, or this is not Linux).
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file did not have the expected shape.
    #[error("unexpected format of {path}: {what}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was missing.
        what: &'static str,
    },
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/<pid>/stat` times.
pub fn clock_ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map(|t| t as f64)
        // Linux has used 100 on every common architecture for decades.
        .unwrap_or(100.0)
}

/// Samples process `pid`.
pub fn sample(pid: u32) -> Result<ProcSample, ProcError> {
    let stat_path = PathBuf::from(format!("/proc/{pid}/stat"));
    let stat = read(&stat_path)?;
    let cpu_seconds = parse_cpu_ticks(&stat)
        .ok_or(ProcError::Format { path: stat_path, what: "utime and stime fields" })? as f64
        / clock_ticks_per_second();
    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let status = read(&status_path)?;
    let rss_kib =
        status_kib(&status, "VmRSS:").ok_or(ProcError::Format { path: status_path.clone(), what: "VmRSS" })?;
    let hwm_kib = status_kib(&status, "VmHWM:").ok_or(ProcError::Format { path: status_path, what: "VmHWM" })?;
    Ok(ProcSample { cpu_seconds, rss_kib, hwm_kib })
}

fn read(path: &PathBuf) -> Result<String, ProcError> {
    std::fs::read_to_string(path).map_err(|source| ProcError::Read { path: path.clone(), source })
}

/// `utime + stime` in clock ticks. The command name (field 2) is in parentheses and may itself
/// contain spaces and parentheses, so fields are counted from the last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0, so utime (field 14) is index 11, stime index 12.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// A `Name:   1234 kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command name with spaces and parentheses does not shift the fields.
    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 8 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    /// `VmHWM` and `VmRSS` are read in KiB.
    #[test]
    fn status_lines_are_read_in_kib() {
        let status = "Name:\tordo\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(51200));
        assert_eq!(status_kib(status, "VmRSS:"), Some(40960));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    /// This very process can be sampled, and it has used some CPU and memory.
    #[test]
    fn the_current_process_can_be_sampled() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.hwm_kib >= s.rss_kib && s.rss_kib > 0, "{s:?}");
        assert!(s.cpu_seconds >= 0.0);
    }
}
