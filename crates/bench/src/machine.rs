//! What machine a measurement was taken on: CPU model and count (`/proc/cpuinfo`, `nproc`), memory
//! (`/proc/meminfo`), kernel, and the Temporal CLI's version.

use std::path::Path;
use std::process::Command;

/// The machine, as reported with every result.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Processors listed in `/proc/cpuinfo`.
    pub cpus_listed: usize,
    /// Processors this process may use (`nproc`).
    pub nproc: usize,
    /// `MemTotal` from `/proc/meminfo`, in MiB.
    pub mem_total_mib: u64,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// `temporal --version`, first line.
    pub temporal_cli: String,
    /// Whether the binary under test was built with optimisations.
    pub release_build: bool,
}

impl Machine {
    /// Describes this machine; `temporal_bin` is the Temporal CLI the dev server runs from.
    pub fn describe(temporal_bin: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let nproc = Command::new("nproc")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
            .unwrap_or(1);
        let temporal_cli = Command::new(temporal_bin)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.lines().next().map(str::to_owned))
            .unwrap_or_default();
        Self {
            cpu_model: cpuinfo_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            cpus_listed: cpuinfo.lines().filter(|l| l.starts_with("processor")).count(),
            nproc,
            mem_total_mib: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .map(|kib| kib / 1024)
                .unwrap_or_default(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            temporal_cli,
            release_build: !cfg!(debug_assertions),
        }
    }

    /// One line for reports.
    pub fn one_line(&self) -> String {
        format!(
            "{} ({} CPUs listed, nproc {}), {} MiB RAM, Linux {}, {}, {} build",
            self.cpu_model,
            self.cpus_listed,
            self.nproc,
            self.mem_total_mib,
            self.kernel,
            self.temporal_cli,
            if self.release_build { "release" } else { "debug" }
        )
    }
}

fn cpuinfo_field(cpuinfo: &str, name: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `model name` line is the CPU model.
    #[test]
    fn cpu_model_is_read_from_cpuinfo() {
        let info =
            "processor\t: 0\nmodel name\t: Example CPU @ 2.0GHz\nprocessor\t: 1\nmodel name\t: Example CPU @ 2.0GHz\n";
        assert_eq!(cpuinfo_field(info, "model name").as_deref(), Some("Example CPU @ 2.0GHz"));
    }
}
