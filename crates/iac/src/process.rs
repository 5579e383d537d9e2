//! Running a command-line IaC tool, shared by the terraform and pulumi drivers.
//!
//! Every tool process is an argument vector (never a shell) in a process group of its own, and is
//! only ever stopped with `SIGINT` to that whole group (never `SIGKILL`: on SIGINT the tools stop
//! starting new operations, let the ones in flight finish and save their state). The group, not
//! the pid, because a tool's own helper processes (Terraform's `panicwrap` child, Pulumi's plugins)
//! must get the signal too. Cancelling an operation interrupts its group; dropping an operation
//! while its tool runs does as well, so no tool keeps running unsupervised. A group an earlier
//! attempt left running (its worker was killed) can be recognised and stopped the same way.
//! Such a tool outlives its worker because a streamed command writes its output to files, not to
//! pipes that break with the worker ([`Tool::start`]).

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::AsyncWriteExt as _;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::{IacError, Workspace};

/// Longest tool error text kept in an error (the end is kept: that is where tools explain).
const MAX_DETAIL: usize = 8000;

/// A finished command's output.
pub(super) struct Captured {
    /// How it exited.
    pub(super) status: ExitStatus,
    /// Its standard output (lossy UTF-8).
    pub(super) stdout: String,
    /// Its standard error (lossy UTF-8).
    pub(super) stderr: String,
}

/// How a streamed command ended.
pub(super) struct Exited {
    /// How it exited.
    pub(super) status: ExitStatus,
    /// Its standard error (lossy UTF-8).
    pub(super) stderr: String,
    /// Whether a cancellation's SIGINT went out to it.
    pub(super) cancelled: bool,
}

/// A tool binary as a driver runs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tool<'a> {
    /// Its name in logs and errors (`terraform`, `tofu`, `pulumi`).
    pub(super) name: &'a str,
    /// The binary: a name on `PATH` or a path.
    pub(super) binary: &'a Path,
    /// The setting that names another binary, mentioned when this one is not found.
    pub(super) setting: Option<&'a str>,
}

impl<'a> Tool<'a> {
    /// `args` in the workspace directory, in an environment Ordo chose (the [`crate::env`] base
    /// from the worker's, plus the workspace's checked variables — nothing else of the worker's),
    /// stdin closed, stdout and stderr captured, in a process group of its own. The driver adds its
    /// own environment.
    pub(super) fn command(&self, ws: &Workspace, args: &[OsString]) -> Command {
        let mut cmd = Command::new(self.binary);
        cmd.args(args)
            .current_dir(&ws.dir)
            .env_clear()
            .envs(crate::env::inherited(std::env::vars_os()))
            .envs(&ws.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd
    }

    /// Starts `cmd` (the tool's `sub` command) for [`Running::stream`], its standard output and
    /// error going to anonymous temporary files rather than pipes. A pipe breaks when the worker
    /// dies, and a Go tool (Terraform, Pulumi) exits at its next write to a broken stdout or stderr
    /// (the runtime raises `SIGPIPE`), mid-apply, without saving its state; writing to a file it
    /// carries on, so the next attempt finds it and stops it cleanly
    /// ([`Tool::stop_orphan`]). The files have no name (gone once both sides close them) and are
    /// only readable by this user. A missing or non-executable binary is [`IacError::Invalid`],
    /// naming it.
    pub(super) fn start(&self, mut cmd: Command, sub: &'a str) -> Result<Running<'a>, IacError> {
        let stdout = tempfile::tempfile()?;
        let stderr = tempfile::tempfile()?;
        cmd.stdout(stdout.try_clone()?).stderr(stderr.try_clone()?);
        let (child, guard) = self.spawn(cmd, sub)?;
        Ok(Running { child, guard, tool: self.name, sub, stdout, stderr })
    }

    /// Spawns `cmd`, with a guard that interrupts its process group if it is dropped armed.
    fn spawn(&self, mut cmd: Command, sub: &str) -> Result<(Child, GroupGuard), IacError> {
        match cmd.spawn() {
            Ok(child) => {
                tracing::debug!(tool = self.name, command = sub, pid = ?child.id(), "started");
                let guard = GroupGuard { pgid: child.id(), armed: true };
                Ok((child, guard))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let setting = self.setting.map(|s| format!(" (set {s})")).unwrap_or_default();
                Err(IacError::Invalid(format!("{} binary not found: {}{setting}", self.name, self.binary.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                Err(IacError::Invalid(format!("{} binary is not executable: {}", self.name, self.binary.display())))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `cmd` to completion, feeding it `stdin` if given, and captures its output.
    pub(super) async fn run(
        &self,
        mut cmd: Command,
        sub: &'a str,
        stdin: Option<Vec<u8>>,
    ) -> Result<Captured, IacError> {
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let (mut child, mut guard) = self.spawn(cmd, sub)?;
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(&bytes).await?;
            // Closing stdin is the end of input.
            drop(pipe);
        }
        let out = child.wait_with_output().await?;
        guard.armed = false;
        Ok(Captured {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Stops the tool an earlier attempt left running in process group `pgid` (its worker died):
    /// SIGINT, then up to `timeout` for it to save its state and exit ([`IacError::Locked`] if it
    /// has not). A group that no longer runs this tool (gone, or the pid reused) is left alone.
    /// `started` is the process start time recorded with the pid ([`process_start_time`]): a pid
    /// that now belongs to a process started at another time was reused and is left alone.
    pub(super) async fn stop_orphan(&self, pid: u32, started: Option<u64>, timeout: Duration) -> Result<(), IacError> {
        let Ok(pgid) = i32::try_from(pid) else { return Ok(()) };
        if pgid <= 1 {
            return Ok(());
        }
        if let Some(recorded) = started {
            if process_start_time(pid) != Some(recorded) {
                tracing::info!(pid, "the earlier attempt's tool is gone (its pid is free or another process's)");
                return Ok(());
            }
        }
        let names = [self.name.to_owned(), file_name(self.binary)];
        if !group_runs_tool(pgid, &names) {
            tracing::info!(pid, "the earlier attempt's tool is no longer running");
            return Ok(());
        }
        tracing::warn!(
            tool = self.name,
            pid,
            "an earlier attempt of this run left its tool running: sending SIGINT and waiting for it to exit"
        );
        if let Err(e) = killpg(Pid::from_raw(pgid), Signal::SIGINT) {
            tracing::warn!(error = %e, "cannot signal the orphaned tool");
        }
        let deadline = Instant::now() + timeout;
        while group_alive(pgid) {
            if Instant::now() >= deadline {
                return Err(IacError::Locked(format!(
                    "an earlier attempt's {} (pid {pid}) is still shutting down after SIGINT",
                    self.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tracing::info!(pid, "the orphaned tool exited");
        Ok(())
    }
}

/// A started tool process; its group gets SIGINT if this is dropped before the tool exits.
pub(super) struct Running<'a> {
    child: Child,
    guard: GroupGuard,
    tool: &'a str,
    sub: &'a str,
    /// The file the tool writes its standard output to.
    stdout: File,
    /// The file the tool writes its standard error to.
    stderr: File,
}

impl Running<'_> {
    /// The tool's pid (also its process group's id), while it runs.
    pub(super) fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Hands each line of the tool's output (lossy UTF-8) to `on_line` until the tool exits,
    /// forwarding cancellation (`cancel` turning true, also before the first line) as SIGINT to its
    /// process group, once. New output is read every [`OUTPUT_POLL`], and all of it once the tool
    /// has exited.
    pub(super) async fn stream(
        self,
        mut cancel: watch::Receiver<bool>,
        mut on_line: impl FnMut(&str),
    ) -> Result<Exited, IacError> {
        let Running { mut child, mut guard, tool, sub, stdout, stderr } = self;
        let mut lines = OutputLines { file: stdout, offset: 0, partial: Vec::new(), broken: false };
        let mut watching = true;
        let mut cancelled = false;
        if *cancel.borrow_and_update() {
            cancelled = interrupt(tool, sub, guard.pgid);
        }
        let mut poll = tokio::time::interval(OUTPUT_POLL);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let status = loop {
            tokio::select! {
                status = child.wait() => break status?,
                _ = poll.tick() => lines.read_new(tool, &mut on_line),
                changed = cancel.changed(), if watching && !cancelled => match changed {
                    Ok(()) if *cancel.borrow_and_update() => cancelled = interrupt(tool, sub, guard.pgid),
                    Ok(()) => {}
                    Err(_) => watching = false,
                },
            }
        };
        guard.armed = false;
        lines.read_new(tool, &mut on_line);
        lines.finish(&mut on_line);
        let mut text = Vec::new();
        if let Err(e) = read_from(&stderr, 0, &mut text) {
            tracing::warn!(tool, error = %e, "reading the tool's standard error failed");
        }
        Ok(Exited { status, stderr: String::from_utf8_lossy(&text).into_owned(), cancelled })
    }
}

/// How often a streamed tool's output file is read for new lines.
const OUTPUT_POLL: Duration = Duration::from_millis(100);

/// The lines of a growing output file, read from an offset of our own (`read_at`: the tool's
/// writes move the file's shared offset, our reads do not). The file is a temporary one, read
/// from the page cache: reading it does not block.
struct OutputLines {
    file: File,
    offset: u64,
    /// The start of a line whose end has not been written yet.
    partial: Vec<u8>,
    /// Reading failed once (logged); the rest of the output is not read.
    broken: bool,
}

impl OutputLines {
    /// Hands every complete line written since the last call to `on_line`.
    fn read_new(&mut self, tool: &str, on_line: &mut impl FnMut(&str)) {
        if self.broken {
            return;
        }
        let start = self.partial.len();
        match read_from(&self.file, self.offset, &mut self.partial) {
            Ok(read) => self.offset += read,
            Err(e) => {
                tracing::warn!(tool, error = %e, "reading the tool's output failed");
                self.broken = true;
            }
        }
        if self.partial.len() == start {
            return;
        }
        let mut done = 0;
        while let Some(end) = self.partial[done..].iter().position(|b| *b == b'\n') {
            on_line(&String::from_utf8_lossy(&self.partial[done..done + end]));
            done += end + 1;
        }
        self.partial.drain(..done);
    }

    /// Hands a last line without a line end, if any, to `on_line`.
    fn finish(&mut self, on_line: &mut impl FnMut(&str)) {
        if !self.partial.is_empty() {
            on_line(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }
}

/// Appends what `file` holds from `offset` on to `out`; returns how many bytes that was.
fn read_from(file: &File, offset: u64, out: &mut Vec<u8>) -> std::io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut read = 0u64;
    loop {
        match file.read_at(&mut buf, offset + read) {
            Ok(0) => return Ok(read),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                read += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Sends SIGINT to the tool's process group `pgid`; returns whether a signal went out.
fn interrupt(tool: &str, sub: &str, pgid: Option<u32>) -> bool {
    let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()) else { return false };
    tracing::info!(
        tool,
        command = sub,
        pid = pgid,
        "cancellation requested: sending SIGINT and waiting for the tool to save its state"
    );
    match killpg(Pid::from_raw(pgid), Signal::SIGINT) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(tool, error = %e, "cannot signal the tool");
            false
        }
    }
}

/// Sends SIGINT to a tool's process group if the operation is abandoned (its future dropped)
/// while the tool still runs, so it stops cleanly instead of running unsupervised.
struct GroupGuard {
    pgid: Option<u32>,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pgid) = self.pgid.and_then(|p| i32::try_from(p).ok()) {
            tracing::warn!(pid = pgid, "operation abandoned while the tool runs: sending SIGINT");
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGINT);
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Live (not zombie) processes of process group `pgid`, with the file name of their `argv[0]`;
/// `None` when `/proc` cannot be read.
fn group_members(pgid: i32) -> Option<Vec<String>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2).and_then(|p| p.parse::<i32>().ok())) else {
            continue;
        };
        if pgrp != pgid || matches!(*state, "Z" | "X") {
            continue;
        }
        let argv0 = std::fs::read(format!("/proc/{pid}/cmdline"))
            .ok()
            .and_then(|c| c.split(|b| *b == 0).next().map(|a| file_name(Path::new(&*String::from_utf8_lossy(a)))))
            .unwrap_or_default();
        members.push(argv0);
    }
    Some(members)
}

/// When process `pid` started (clock ticks since boot, `/proc/<pid>/stat` field 22): with the pid,
/// it names one process for good, where a pid alone may be reused.
pub(super) fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after "(comm)" start at field 3 (state); starttime is field 22.
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process group `pgid` has live members.
pub(super) fn group_alive(pgid: i32) -> bool {
    match group_members(pgid) {
        Some(members) => !members.is_empty(),
        None => killpg(Pid::from_raw(pgid), None).is_ok(),
    }
}

/// Whether process group `pgid` is alive and one of its processes is the tool (so a reused pid
/// never gets our SIGINT).
pub(super) fn group_runs_tool(pgid: i32, names: &[String]) -> bool {
    match group_members(pgid) {
        Some(members) => members.iter().any(|m| names.contains(m)),
        None => killpg(Pid::from_raw(pgid), None).is_ok(),
    }
}

/// Removes ANSI escape sequences (colour codes some commands print despite `-no-color`).
pub(super) fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: parameters and intermediates up to a final byte in '@'..='~'.
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // Any other escape: drop the escape and the one character after it.
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// The end of a long text (at most [`MAX_DETAIL`] bytes), which is where the tool explains what
/// went wrong.
pub(super) fn tail(text: &str) -> String {
    let text = text.trim();
    if text.len() <= MAX_DETAIL {
        return text.to_owned();
    }
    let mut start = text.len() - MAX_DETAIL;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colour codes go; a long text keeps its end.
    #[test]
    fn escapes_are_stripped_and_long_texts_cut_to_their_end() {
        assert_eq!(strip_ansi("\u{1b}[1m\u{1b}[31mred\u{1b}[0m plain"), "red plain");
        let long = "x".repeat(MAX_DETAIL + 10);
        assert!(tail(&long).chars().count() <= MAX_DETAIL + 1);
    }

    /// A recorded pid is stopped only while it is still the process recorded: the same pid with
    /// another start time (a reused pid) never gets our SIGINT.
    #[tokio::test]
    async fn an_orphan_is_recognised_by_pid_and_start_time() {
        use std::os::unix::process::CommandExt as _;
        let tool = Tool { name: "sleep", binary: Path::new("/bin/sleep"), setting: None };
        let mut child = std::process::Command::new("/bin/sleep").arg("30").process_group(0).spawn().unwrap();
        let pid = child.id();
        let started = process_start_time(pid).expect("a live process has a start time");
        assert_eq!(process_start_time(pid), Some(started), "stable");

        tool.stop_orphan(pid, Some(started + 1), Duration::from_secs(2)).await.unwrap();
        assert!(child.try_wait().unwrap().is_none(), "another start time: not ours, not signalled");

        tool.stop_orphan(pid, Some(started), Duration::from_secs(5)).await.unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the recorded process got SIGINT: {status:?}");
        assert_eq!(process_start_time(pid), None, "reaped");
    }

    /// A streamed tool writes to files, not pipes (so it outlives a killed worker); its lines,
    /// a last one without a line end, its standard error and its exit status all arrive.
    #[tokio::test]
    async fn streamed_output_is_read_from_files() {
        let ws = Workspace {
            dir: std::env::temp_dir(),
            env: Default::default(),
            vars: Default::default(),
            owner: "test".into(),
        };
        let tool = Tool { name: "sh", binary: Path::new("/bin/sh"), setting: None };
        let script = "[ -p /dev/stdout ] || echo 'stdout is not a pipe'; seq 3; printf tail; echo oops >&2; exit 3";
        let running = tool.start(tool.command(&ws, &["-c".into(), script.into()]), "script").unwrap();
        let (_cancel_tx, cancel) = watch::channel(false);
        let mut lines = Vec::new();
        let exited = running.stream(cancel, |line| lines.push(line.to_owned())).await.unwrap();
        assert_eq!(lines, ["stdout is not a pipe", "1", "2", "3", "tail"]);
        assert_eq!(exited.stderr.trim(), "oops");
        assert_eq!(exited.status.code(), Some(3));
        assert!(!exited.cancelled);
    }

    /// A tool sees the base environment and the workspace's variables, nothing else of the
    /// worker's: this test process has `CARGO_*` variables, and the tool must not.
    #[tokio::test]
    async fn a_tool_runs_in_the_environment_ordo_chose() {
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some(), "cargo sets CARGO_* for tests");
        let ws = Workspace {
            dir: std::env::temp_dir(),
            env: [("TF_VAR_prefix".to_owned(), "demo".to_owned())].into(),
            vars: Default::default(),
            owner: "test".into(),
        };
        let tool = Tool { name: "env", binary: Path::new("/usr/bin/env"), setting: None };
        let out = tool.run(tool.command(&ws, &[]), "env", None).await.unwrap();
        let names: Vec<&str> = out.stdout.lines().filter_map(|l| l.split('=').next()).collect();
        assert!(names.contains(&"TF_VAR_prefix") && names.contains(&"PATH"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("CARGO")), "the worker's environment leaked: {names:?}");
    }
}
