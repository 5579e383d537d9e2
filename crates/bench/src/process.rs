//! Worker processes under measurement: spawned with their output in a log file, sampled through
//! `/proc`, stopped with SIGTERM or killed with SIGKILL, and pinned to a core with `taskset`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::proc::{self, ProcSample};
use crate::BenchError;

/// A child process the benchmark owns; killed when dropped.
#[derive(Debug)]
pub struct Managed {
    child: Child,
    pid: u32,
    label: String,
    log: PathBuf,
}

impl Managed {
    /// Spawns `command` with stdout and stderr appended to `log`.
    pub fn spawn(mut command: Command, label: impl Into<String>, log: &Path) -> Result<Self, BenchError> {
        let label = label.into();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| BenchError::io(format!("opening {}", log.display()), e))?;
        let err = file.try_clone().map_err(|e| BenchError::io(format!("opening {}", log.display()), e))?;
        command.stdin(Stdio::null()).stdout(file).stderr(err).kill_on_drop(true);
        let child = command.spawn().map_err(|e| BenchError::io(format!("starting {label}"), e))?;
        let pid = child.id().ok_or_else(|| BenchError::Process(format!("{label} exited at once")))?;
        Ok(Self { child, pid, label, log: log.to_path_buf() })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What this process is, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its CPU and memory now.
    pub fn sample(&self) -> Result<ProcSample, BenchError> {
        proc::sample(self.pid).map_err(|e| BenchError::Process(format!("sampling {}: {e}", self.label)))
    }

    /// Whether it has exited (and reaps it if so).
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGKILL, then reap.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGINT (what a tool like `perf record` finishes on), SIGKILL after `grace`, then reap.
    pub async fn interrupt(mut self, grace: Duration) {
        if let Ok(pid) = i32::try_from(self.pid) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGINT);
        }
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }

    /// SIGTERM (a graceful worker shutdown), SIGKILL after `grace`, then reap.
    pub async fn stop(mut self, grace: Duration) {
        if let Ok(pid) = i32::try_from(self.pid) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
        }
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

/// Whether `taskset` (util-linux) can be run.
pub fn taskset_available() -> bool {
    std::process::Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A command that runs `program` on CPU list `cpus` (e.g. `"1"`), or unpinned when `None`; it dies
/// with the benchmark (parent-death signal), however the benchmark ends.
pub fn command_on(cpus: Option<&str>, program: &Path) -> Command {
    match cpus {
        Some(cpus) => {
            // setpriv and taskset exec the program, so the child's pid is the program's own.
            let mut command = Command::from(ordo_core::devserver::bound_command("taskset"));
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::from(ordo_core::devserver::bound_command(program)),
    }
}

/// Moves every thread of running process `pid` (and the threads it starts later) onto `cpus`.
pub fn pin(pid: u32, cpus: &str) -> Result<(), BenchError> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-c", "-p", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| BenchError::io("running taskset (util-linux)", e))?;
    if !status.success() {
        return Err(BenchError::Process(format!("taskset -a -c -p {cpus} {pid} failed ({status})")));
    }
    Ok(())
}
