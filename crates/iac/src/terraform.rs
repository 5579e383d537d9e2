//! The `terraform` / `tofu` command-line driver.
//!
//! Every command is an argument vector run in the workspace directory (never through a shell), in an
//! environment Ordo chose (the allow-listed part of the worker's, see [`crate::env`], plus the run's
//! checked `env_vars`), with `TF_IN_AUTOMATION=1` and `TF_INPUT=0`. Plans
//! are saved (`plan -out`), shown (`show -json`) and applied from exactly those bytes; apply and
//! destroy stream Terraform's machine-readable UI (`-json`) into per-resource events.
//!
//! # Signals
//! Every tool process gets its own process group and cancellation sends `SIGINT` to that group
//! (never `SIGKILL`: on SIGINT Terraform stops starting new operations, waits for the ones in
//! flight and saves the state). Signalling the group rather than the pid is required: Terraform
//! 1.0.x runs itself under `panicwrap`, a parent process that *ignores* SIGINT and expects the
//! terminal to deliver it to the whole foreground group; a SIGINT sent only to the pid we spawned
//! is silently dropped (verified with 1.0.3). If the operation's future is dropped, the group gets
//! SIGINT as well, so no tool keeps running unsupervised.
//!
//! # Workspace marker and stale locks
//! Before apply or destroy the driver claims `.ordo-run.json` in the workspace (`create_new`, so
//! two Ordo runs exclude each other), recording the run (`owner`), the tool's pid and the host; it
//! is removed when the tool has exited. Finding a marker at the start:
//! - from another run: the workspace is busy, [`IacError::Locked`] naming that run (never touched);
//! - from this run on this host (an earlier attempt whose worker was killed): if its tool process
//!   group still runs (an orphan), it gets SIGINT and the driver waits up to a minute for it to
//!   save its state and exit, then carries on;
//! - from this run on another host: that host's processes cannot be seen; Terraform's own state
//!   lock still guards the state, so the driver carries on.
//!
//! What Terraform 1.0.3 (and 1.11) does with the local backend, verified experimentally:
//! - the state lock is an `fcntl` lock on `terraform.tfstate` plus an informational
//!   `.terraform.tfstate.lock.info`. When the process dies the OS drops the `fcntl` lock but the
//!   info file stays behind;
//! - a stale info file does not block anything: the next command takes the `fcntl` lock and
//!   overwrites the file;
//! - `terraform force-unlock -force <ID>` on the local backend always fails with "LocalState not
//!   locked" (it can only release a lock held by its own process) and leaves the file alone.
//!
//! So for the local backend the orphan wait is what frees the lock; the driver still runs
//! `force-unlock` on a leftover info file (as it would help a backend that keeps lock files) and
//! treats "not locked" as the expected outcome. A lock really held by a live process makes the
//! tool fail with "Error acquiring the state lock", reported as [`IacError::Locked`].
//!
//! # Stale plans
//! Terraform refuses a saved plan whose state lineage and serial no longer match ("Saved plan is
//! stale"), but only when the plan was made against an existing state: a plan made in a workspace
//! without any state records no lineage and 1.0.3 applies it even after the state has changed
//! (verified). Because that is exactly the situation of a first apply that is retried after the
//! worker died, [`CliDriver::plan`] first pushes an empty state (serial 0, fresh lineage) into a
//! workspace that has none, so every saved plan it makes is checked.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc;

use super::process::{strip_ansi, tail, Captured, Exited, Tool};
use super::{
    sha256_hex, ChangeSummary, IacError, Outputs, PlanArtifact, PlanSummary, Progress, ResourceEvent, Workspace,
};

/// Ordo's marker of a running apply / destroy, inside the workspace.
const MARKER_FILE: &str = ".ordo-run.json";
/// The local backend's lock information file.
const LOCAL_LOCK_INFO: &str = ".terraform.tfstate.lock.info";
/// How long to wait for an orphaned tool to save its state and exit after SIGINT.
const ORPHAN_STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// A marker that cannot be parsed is being written right now if it is younger than this.
const MARKER_WRITE_GRACE: Duration = Duration::from_secs(10);

/// Terraform says this when a saved plan no longer matches the state.
const STALE_PLAN_TEXT: &str = "Saved plan is stale";
/// Terraform says this when the state lock is held.
const LOCK_ERROR_TEXT: &str = "Error acquiring the state lock";

/// The `terraform` / `tofu` CLI driver.
#[derive(Debug, Clone)]
pub struct CliDriver {
    tool: &'static str,
    binary: PathBuf,
}

/// A diagnostic from the machine-readable UI.
#[derive(Debug, Clone)]
struct Diagnostic {
    summary: String,
    detail: String,
}

/// What a streamed apply / destroy produced.
struct Streamed {
    exited: Exited,
    summary: Option<ChangeSummary>,
    errors: Vec<Diagnostic>,
}

impl CliDriver {
    /// A driver running `binary` (a name on `PATH` or a path); `tool` (`terraform` or `tofu`) names
    /// it in errors.
    pub fn new(tool: &'static str, binary: PathBuf) -> Self {
        Self { tool, binary }
    }

    /// `terraform init`: downloads providers and modules, configures the backend; idempotent.
    pub async fn init(&self, ws: &Workspace) -> Result<(), IacError> {
        check_dir(ws).await?;
        let out = self.run(ws, "init", args(&["init", "-input=false", "-no-color"]), None).await?;
        if !out.status.success() {
            return Err(self.classify("init", &[], &out));
        }
        tracing::debug!(tool = self.tool, dir = %ws.dir.display(), "workspace initialised");
        Ok(())
    }

    /// `terraform plan -out`, then `show` (text and JSON) of the saved plan.
    pub async fn plan(&self, ws: &Workspace) -> Result<PlanArtifact, IacError> {
        check_dir(ws).await?;
        let mut plan_args = args(&["plan", "-input=false", "-no-color"]);
        plan_args.extend(var_args(ws)?);
        self.ensure_state_lineage(ws).await?;

        let name = format!(".ordo-plan-{}.tfplan", uuid::Uuid::new_v4().simple());
        let plan_file = TempFile(ws.dir.join(&name));
        plan_args.push(format!("-out={name}").into());
        let out = self.run(ws, "plan", plan_args, None).await?;
        if !out.status.success() {
            return Err(self.classify("plan", &[], &out));
        }

        let shown = self.run(ws, "show", args(&["show", "-no-color", &name]), None).await?;
        if !shown.status.success() {
            return Err(self.classify("show", &[], &shown));
        }
        let shown_json = self.run(ws, "show", args(&["show", "-json", &name]), None).await?;
        if !shown_json.status.success() {
            return Err(self.classify("show", &[], &shown_json));
        }
        let json: Value = serde_json::from_str(&shown_json.stdout)
            .map_err(|e| self.failed("show", format!("unreadable plan json: {e}")))?;
        let bytes = tokio::fs::read(&plan_file.0).await?;
        drop(plan_file);

        let summary = summarize(&json);
        let hash = sha256_hex(&bytes);
        tracing::info!(
            tool = self.tool, dir = %ws.dir.display(), plan = %hash, create = summary.create, update = summary.update,
            delete = summary.delete, "plan saved"
        );
        Ok(PlanArtifact { human: strip_ansi(&shown.stdout), json, file: bytes, hash, summary })
    }

    /// `terraform apply` of exactly the saved plan `plan_file`.
    pub async fn apply(&self, ws: &Workspace, plan_file: &[u8], progress: Progress) -> Result<ChangeSummary, IacError> {
        check_dir(ws).await?;
        if *progress.cancel.borrow() {
            return Err(IacError::Cancelled);
        }
        let mut marker = self.claim_marker(ws, "apply").await?;
        let name = format!(".ordo-apply-{}.tfplan", uuid::Uuid::new_v4().simple());
        let _plan = TempFile(ws.dir.join(&name));
        tokio::fs::write(ws.dir.join(&name), plan_file).await?;
        // A saved plan carries its variables and approval: no -var, no -auto-approve.
        let apply_args = args(&["apply", "-input=false", "-no-color", "-json", &name]);
        let streamed = self.run_streaming(ws, "apply", apply_args, progress, &mut marker).await?;
        self.finish("apply", streamed)
    }

    /// `terraform destroy -auto-approve` (this design keeps no saved destroy plan).
    pub async fn destroy(&self, ws: &Workspace, progress: Progress) -> Result<ChangeSummary, IacError> {
        check_dir(ws).await?;
        if *progress.cancel.borrow() {
            return Err(IacError::Cancelled);
        }
        let mut destroy_args = args(&["destroy", "-input=false", "-no-color", "-json", "-auto-approve"]);
        destroy_args.extend(var_args(ws)?);
        let mut marker = self.claim_marker(ws, "destroy").await?;
        let streamed = self.run_streaming(ws, "destroy", destroy_args, progress, &mut marker).await?;
        self.finish("destroy", streamed)
    }

    /// `terraform output -json`.
    pub async fn output(&self, ws: &Workspace) -> Result<Outputs, IacError> {
        check_dir(ws).await?;
        let out = self.run(ws, "output", args(&["output", "-json"]), None).await?;
        if !out.status.success() {
            return Err(self.classify("output", &[], &out));
        }
        // Never echo the text itself in the error: it holds sensitive values.
        serde_json::from_str(&out.stdout).map_err(|e| self.failed("output", format!("unreadable output json: {e}")))
    }

    // -----------------------------------------------------------------------------------------
    // Running commands

    /// The binary, as the shared process runner runs it.
    fn tool(&self) -> Tool<'_> {
        Tool { name: self.tool, binary: &self.binary, setting: None }
    }

    fn command(&self, ws: &Workspace, args: &[OsString]) -> Command {
        let mut cmd = self.tool().command(ws, args);
        cmd.env("TF_IN_AUTOMATION", "1").env("TF_INPUT", "0");
        cmd
    }

    /// Runs a command to completion and captures its output.
    async fn run(
        &self,
        ws: &Workspace,
        sub: &str,
        args: Vec<OsString>,
        stdin: Option<Vec<u8>>,
    ) -> Result<Captured, IacError> {
        self.tool().run(self.command(ws, &args), sub, stdin).await
    }

    /// Runs apply / destroy with `-json`, turning the UI stream into events and forwarding
    /// cancellation as SIGINT.
    async fn run_streaming(
        &self,
        ws: &Workspace,
        sub: &str,
        args: Vec<OsString>,
        progress: Progress,
        marker: &mut MarkerGuard,
    ) -> Result<Streamed, IacError> {
        let Progress { events, cancel } = progress;
        let running = self.tool().start(self.command(ws, &args), sub)?;
        marker.spawned = true;
        if let Some(pid) = running.id() {
            if let Err(e) = marker.record_pid(pid).await {
                // The tool is already running; the marker only helps a later retry.
                tracing::warn!(error = %e, "cannot record the tool's pid in the workspace marker");
            }
        }
        let mut ui = UiStream::new(events);
        let exited = running.stream(cancel, |line| ui.handle(line)).await?;
        marker.finished = true;
        Ok(Streamed { exited, summary: ui.summary, errors: ui.errors })
    }

    fn finish(&self, command: &str, streamed: Streamed) -> Result<ChangeSummary, IacError> {
        let Streamed { exited, summary, errors } = streamed;
        if exited.status.success() {
            if exited.cancelled {
                // The interrupt came too late to stop anything: report what really happened.
                tracing::info!(tool = self.tool, command, "finished before the interrupt took effect");
            }
            return Ok(summary.unwrap_or_default());
        }
        if exited.cancelled {
            return Err(IacError::Cancelled);
        }
        let captured = Captured { status: exited.status, stdout: String::new(), stderr: exited.stderr };
        Err(self.classify(command, &errors, &captured))
    }

    fn failed(&self, command: &str, detail: String) -> IacError {
        IacError::Failed { tool: self.tool.to_owned(), command: command.to_owned(), detail }
    }

    /// Turns a failed command into the error the workflow acts on.
    fn classify(&self, command: &str, diagnostics: &[Diagnostic], out: &Captured) -> IacError {
        let mut text = diagnostics
            .iter()
            .map(|d| if d.detail.is_empty() { d.summary.clone() } else { format!("{}: {}", d.summary, d.detail) })
            .collect::<Vec<_>>()
            .join("\n");
        if text.is_empty() {
            text = strip_ansi(&out.stderr).trim().to_owned();
        }
        if text.is_empty() {
            // Never the stdout of `output` (secrets); other commands print nothing useful there.
            text = format!("exited with {}", out.status);
        }
        if text.contains(STALE_PLAN_TEXT) {
            return IacError::StalePlan(tail(&text));
        }
        if text.contains(LOCK_ERROR_TEXT) {
            return IacError::Locked(describe_lock(&text));
        }
        self.failed(command, tail(&text))
    }

    // -----------------------------------------------------------------------------------------
    // State lineage

    /// Gives a workspace without any state an empty one, so the saved plans made from now on carry
    /// a lineage and serial that Terraform checks at apply (see the module docs).
    async fn ensure_state_lineage(&self, ws: &Workspace) -> Result<(), IacError> {
        let pulled = self.run(ws, "state pull", args(&["state", "pull"]), None).await?;
        if !pulled.status.success() {
            // Plan reports whatever is wrong with the backend much better than we could.
            tracing::debug!(tool = self.tool, "state pull failed; not seeding a state");
            return Ok(());
        }
        if !pulled.stdout.trim().is_empty() {
            return Ok(());
        }
        let version = self.run(ws, "version", args(&["version", "-json"]), None).await?;
        let version: Value = serde_json::from_str(&version.stdout).unwrap_or(Value::Null);
        let Some(version) = version.get("terraform_version").and_then(Value::as_str) else {
            tracing::warn!(tool = self.tool, "unknown tool version; not seeding a state");
            return Ok(());
        };
        let seed = serde_json::json!({
            "version": 4, "terraform_version": version, "serial": 0,
            "lineage": uuid::Uuid::new_v4().to_string(), "outputs": {}, "resources": [],
        });
        let pushed =
            self.run(ws, "state push", args(&["state", "push", "-"]), Some(seed.to_string().into_bytes())).await?;
        if pushed.status.success() {
            tracing::info!(tool = self.tool, dir = %ws.dir.display(), "seeded an empty state so saved plans are checked for staleness");
            return Ok(());
        }
        // Someone else may have created the state in between: fine, as long as there is one now.
        let again = self.run(ws, "state pull", args(&["state", "pull"]), None).await?;
        if again.status.success() && !again.stdout.trim().is_empty() {
            return Ok(());
        }
        Err(self.classify("state push", &[], &pushed))
    }

    // -----------------------------------------------------------------------------------------
    // Workspace marker

    /// Claims the workspace marker for an apply / destroy, first dealing with a marker left behind.
    async fn claim_marker(&self, ws: &Workspace, command: &str) -> Result<MarkerGuard, IacError> {
        let path = ws.dir.join(MARKER_FILE);
        let host = hostname();
        for _ in 0..3 {
            let marker = RunMarker {
                owner: ws.owner.clone(),
                pid: None,
                pid_started: None,
                host: host.clone(),
                started_at: ordo_core::time::rfc3339(SystemTime::now()),
                command: command.to_owned(),
                token: uuid::Uuid::new_v4().to_string(),
            };
            let bytes = marker_bytes(&marker)?;
            let created = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await;
            match created {
                Ok(mut file) => {
                    file.write_all(&bytes).await?;
                    file.sync_all().await?;
                    return Ok(MarkerGuard { path, marker, spawned: false, finished: false });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    self.clear_marker(ws, &path, &host).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(IacError::Locked(format!("{} keeps being claimed by other runs", path.display())))
    }

    /// Deals with an existing marker; `Ok` means it is gone and claiming may be retried.
    async fn clear_marker(&self, ws: &Workspace, path: &Path, host: &str) -> Result<(), IacError> {
        let (text, age) = match tokio::fs::read_to_string(path).await {
            Ok(text) => {
                let age = tokio::fs::metadata(path)
                    .await
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or_default();
                (text, age)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let Ok(existing) = serde_json::from_str::<RunMarker>(&text) else {
            if age < MARKER_WRITE_GRACE {
                return Err(IacError::Locked(format!("another run is claiming {} right now", path.display())));
            }
            // Torn by a crash while it was being written: nobody can be relying on it.
            tracing::warn!(path = %path.display(), "removing an unreadable workspace marker");
            remove_if_present(path).await?;
            return Ok(());
        };

        if !same_run(&existing.owner, &ws.owner) {
            let pid = existing.pid.map_or_else(|| "none yet".to_owned(), |p| p.to_string());
            return Err(IacError::Locked(format!(
                "run {} is running {} here (host {}, pid {pid}, since {}); if that run is gone, remove {}",
                existing.owner,
                existing.command,
                existing.host,
                existing.started_at,
                path.display()
            )));
        }

        if existing.host != host {
            tracing::warn!(
                earlier_host = %existing.host, "an earlier attempt of this run on another host left its marker; \
                 its processes cannot be checked from here, terraform's state lock still protects the state"
            );
        } else if let Some(pid) = existing.pid {
            self.tool().stop_orphan(pid, existing.pid_started, ORPHAN_STOP_TIMEOUT).await?;
        }
        self.release_stale_local_lock(ws, &existing.started_at).await;
        // Only remove what we read: another attempt may have replaced it meanwhile.
        if tokio::fs::read_to_string(path).await.is_ok_and(|now| now == text) {
            remove_if_present(path).await?;
        }
        Ok(())
    }

    /// After an orphan is gone: release a lock it may have left (see the module docs for why this
    /// is a no-op with the local backend) — only one taken while its marker held the workspace
    /// (`claimed_at`), which no other run could have taken.
    async fn release_stale_local_lock(&self, ws: &Workspace, claimed_at: &str) {
        let Ok(text) = tokio::fs::read_to_string(ws.dir.join(LOCAL_LOCK_INFO)).await else { return };
        let Some(id) = lock_taken_since(&text, claimed_at) else {
            tracing::warn!(
                "a state lock older than this run's claim on the workspace is left alone: it is not this run's"
            );
            return;
        };
        match self.run(ws, "force-unlock", args(&["force-unlock", "-force", "-no-color", &id]), None).await {
            Ok(out) if out.status.success() => {
                tracing::info!(lock = %id, "released the state lock left by an earlier attempt")
            }
            Ok(out)
                if strip_ansi(&out.stderr).contains("not locked") || strip_ansi(&out.stdout).contains("not locked") =>
            {
                tracing::debug!(lock = %id, "leftover lock info without a lock: the OS released it, terraform overwrites the file");
            }
            Ok(out) => tracing::warn!(lock = %id, error = %tail(strip_ansi(&out.stderr).trim()), "force-unlock failed"),
            Err(e) => tracing::warn!(lock = %id, error = %e, "force-unlock could not run"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Machine-readable UI

/// State of one `-json` UI stream.
struct UiStream {
    events: mpsc::UnboundedSender<ResourceEvent>,
    summary: Option<ChangeSummary>,
    errors: Vec<Diagnostic>,
}

impl UiStream {
    fn new(events: mpsc::UnboundedSender<ResourceEvent>) -> Self {
        Self { events, summary: None, errors: Vec::new() }
    }

    /// One line of output. Lines that are not JSON (Terraform prints "Acquiring state lock…" as
    /// plain text even with `-json`) are skipped. Nothing here is logged verbatim: the `outputs`
    /// message carries sensitive values.
    fn handle(&mut self, line: &str) {
        let Ok(msg) = serde_json::from_str::<Value>(line.trim()) else { return };
        let text = |pointer: &str| msg.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
        match msg.get("type").and_then(Value::as_str) {
            Some(kind @ ("apply_start" | "apply_complete" | "apply_errored")) => {
                let state = match kind {
                    "apply_start" => "started",
                    "apply_complete" => "complete",
                    _ => "errored",
                };
                let event = ResourceEvent {
                    address: text("/hook/resource/addr"),
                    action: text("/hook/action"),
                    state: state.to_owned(),
                };
                tracing::debug!(address = %event.address, action = %event.action, state, "resource");
                // A dropped receiver only means nobody listens any more.
                let _ = self.events.send(event);
            }
            // Destroy reports its plan's summary first; keep the one of the operation itself.
            Some("change_summary") if text("/changes/operation") != "plan" => {
                let count =
                    |field: &str| msg.pointer(&format!("/changes/{field}")).and_then(Value::as_u64).unwrap_or(0);
                let to_u32 = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                self.summary = Some(ChangeSummary {
                    added: to_u32(count("add")),
                    changed: to_u32(count("change")),
                    destroyed: to_u32(count("remove")),
                });
            }
            Some("diagnostic") => {
                let diagnostic =
                    Diagnostic { summary: text("/diagnostic/summary"), detail: text("/diagnostic/detail") };
                if text("/diagnostic/severity") == "error" {
                    self.errors.push(diagnostic);
                } else {
                    tracing::debug!(summary = %diagnostic.summary, "tool warning");
                }
            }
            _ => {}
        }
    }
}

/// Counts `show -json`'s `resource_changes` by action.
fn summarize(plan: &Value) -> PlanSummary {
    let mut summary = PlanSummary::default();
    let changes = plan.get("resource_changes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for change in changes {
        let actions: Vec<&str> = change
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match actions.as_slice() {
            ["create"] => summary.create += 1,
            ["update"] => summary.update += 1,
            ["delete"] => summary.delete += 1,
            ["delete", "create"] | ["create", "delete"] => {
                summary.delete += 1;
                summary.create += 1;
            }
            ["no-op"] | ["read"] => summary.no_op += 1,
            _ => {}
        }
    }
    summary
}

/// "state lock <ID> held by <Who> (<Operation>, since <Created>)" from Terraform's lock error.
fn describe_lock(text: &str) -> String {
    let field = |name: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned())).filter(|v| !v.is_empty())
    };
    match (field("ID:"), field("Who:")) {
        (Some(id), Some(who)) => {
            let operation = field("Operation:").unwrap_or_default();
            let created = field("Created:").unwrap_or_default();
            format!("terraform state lock {id} held by {who} ({operation}, since {created})")
        }
        _ => tail(text),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn args(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

/// `-var name=value` arguments: strings raw, everything else as JSON (which Terraform parses as an
/// HCL expression). Names are checked so a value can never turn into another argument.
fn var_args(ws: &Workspace) -> Result<Vec<OsString>, IacError> {
    let mut out = Vec::with_capacity(ws.vars.len() * 2);
    for (name, value) in &ws.vars {
        let mut chars = name.chars();
        let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(IacError::Invalid(format!("bad variable name {name:?}")));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push(OsString::from("-var"));
        out.push(OsString::from(format!("{name}={text}")));
    }
    Ok(out)
}

async fn check_dir(ws: &Workspace) -> Result<(), IacError> {
    match tokio::fs::metadata(&ws.dir).await {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(IacError::Invalid(format!("workspace directory {} does not exist", ws.dir.display()))),
    }
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_owned())
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

async fn remove_if_present(path: &Path) -> Result<(), IacError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A temporary file in the workspace, removed whatever happens.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `.ordo-run.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct RunMarker {
    /// `<workflow id>/<run id>` of the run holding the workspace.
    owner: String,
    /// The tool's pid (and process group); `None` until it is started.
    pid: Option<u32>,
    /// When that process started (clock ticks since boot), so a reused pid is not mistaken for it.
    #[serde(default)]
    pid_started: Option<u64>,
    host: String,
    started_at: String,
    #[serde(default)]
    command: String,
    /// Tells this claim from a later one by the same owner.
    #[serde(default)]
    token: String,
}

/// Whether two marker owners (`<workflow id>/<run id>`) are the same run: the same workflow id,
/// whatever its run id (a reset or a re-plan by continue-as-new starts a new run of the same run).
fn same_run(a: &str, b: &str) -> bool {
    let workflow = |owner: &str| owner.split_once('/').map_or(owner, |(w, _)| w).to_owned();
    workflow(a) == workflow(b)
}

/// The id of the lock in Terraform's lock info `text` if it was created at or after `since`
/// (RFC 3339, to the second).
fn lock_taken_since(text: &str, since: &str) -> Option<String> {
    let info: Value = serde_json::from_str(text).ok()?;
    let created = chrono::DateTime::parse_from_rfc3339(info.get("Created")?.as_str()?).ok()?;
    let since = chrono::DateTime::parse_from_rfc3339(since).ok()?;
    // The claim's time is truncated to the second.
    (created >= since).then(|| info.get("ID")?.as_str().map(str::to_owned))?
}

fn marker_bytes(marker: &RunMarker) -> Result<Vec<u8>, IacError> {
    serde_json::to_vec_pretty(marker)
        .map_err(|e| IacError::Io(std::io::Error::other(format!("cannot encode the marker: {e}"))))
}

/// Our claim on the workspace. Dropped, it removes the marker unless the tool may still be running
/// (then a retry must find it to stop that tool first).
struct MarkerGuard {
    path: PathBuf,
    marker: RunMarker,
    spawned: bool,
    finished: bool,
}

impl MarkerGuard {
    async fn record_pid(&mut self, pid: u32) -> Result<(), IacError> {
        self.marker.pid = Some(pid);
        self.marker.pid_started = super::process::process_start_time(pid);
        crate::files::write_atomic(&self.path, &marker_bytes(&self.marker)?).await
    }
}

impl Drop for MarkerGuard {
    fn drop(&mut self) {
        if self.spawned && !self.finished {
            tracing::warn!(path = %self.path.display(), "keeping the workspace marker: the tool may still be shutting down");
            return;
        }
        // Only our own claim: never a marker another attempt wrote since.
        let ours = std::fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice::<RunMarker>(&b).ok())
            .is_some_and(|m| m.token == self.marker.token);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::process::CommandExt as _;
    use std::process::{ExitStatus, Stdio};
    use std::time::Instant;

    use tokio::io::{AsyncBufReadExt as _, BufReader};
    use tokio::sync::watch;

    use super::*;
    use crate::process::{group_alive, group_runs_tool};

    /// The pip-installed Terraform 1.0.3 of this repository. Set-up installs it: missing, these
    /// tests fail rather than pass untested.
    fn terraform() -> Option<PathBuf> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/terraform");
        assert!(path.exists(), "{} is missing: run `make setup`", path.display());
        Some(path)
    }

    /// Python runs the fake lock holder; the machine's own is required.
    fn python() -> Option<&'static str> {
        let ok = std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(ok, "python3 (the fake lock holder) is missing");
        Some("python3")
    }

    /// A copy of the example module in a temporary workspace.
    struct Fixture {
        _root: tempfile::TempDir,
        ws: Workspace,
        driver: CliDriver,
    }

    impl Fixture {
        fn new(binary: PathBuf) -> Self {
            let root = tempfile::tempdir().unwrap();
            let dir = root.path().join("ws");
            std::fs::create_dir(&dir).unwrap();
            let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/terraform/outputs_module/main.tf");
            std::fs::copy(module, dir.join("main.tf")).unwrap();
            let ws = Workspace {
                dir: dir.canonicalize().unwrap(),
                env: BTreeMap::new(),
                vars: BTreeMap::new(),
                owner: "wf/run-1".to_owned(),
            };
            Self { _root: root, ws, driver: CliDriver::new("terraform", binary) }
        }

        fn with_vars(mut self, prefix: &str) -> Self {
            self.ws.vars.insert("prefix".to_owned(), Value::String(prefix.to_owned()));
            self
        }

        /// Writes the run marker of an attempt of `owner` whose tool is `pid` on this host; returns
        /// the marker's text.
        fn write_marker(&self, owner: &str, pid: u32) -> String {
            let marker = format!(
                r#"{{"owner":"{owner}","pid":{pid},"host":"{}","started_at":"2026-01-01T00:00:00Z"}}"#,
                hostname()
            );
            std::fs::write(self.ws.dir.join(MARKER_FILE), &marker).unwrap();
            marker
        }

        fn leftovers(&self) -> Vec<String> {
            std::fs::read_dir(&self.ws.dir)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.starts_with(".ordo-"))
                .collect()
        }
    }

    fn progress() -> (Progress, mpsc::UnboundedReceiver<ResourceEvent>, watch::Sender<bool>) {
        let (events, rx) = mpsc::unbounded_channel();
        let (cancel_tx, cancel) = watch::channel(false);
        (Progress { events, cancel }, rx, cancel_tx)
    }

    /// Holds the local backend's state lock like a running terraform would (an `fcntl` lock on the
    /// state plus the lock info file) until killed.
    struct LockHolder(tokio::process::Child);

    impl LockHolder {
        async fn start(python: &str, dir: &Path) -> Self {
            let script = r#"
import fcntl, sys, time
f = open('terraform.tfstate', 'r+')
fcntl.lockf(f, fcntl.LOCK_EX)
open('.terraform.tfstate.lock.info', 'w').write('{"ID":"held-by-test","Operation":"OperationTypeApply","Info":"","Who":"test@holder","Version":"1.0.3","Created":"2026-01-01T00:00:00Z","Path":"terraform.tfstate"}')
print('locked', flush=True)
time.sleep(300)
"#;
            let mut child = tokio::process::Command::new(python)
                .args(["-c", script])
                .current_dir(dir)
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).await.unwrap();
            assert_eq!(line.trim(), "locked");
            Self(child)
        }

        async fn stop(mut self, dir: &Path) {
            self.0.kill().await.unwrap();
            let _ = std::fs::remove_file(dir.join(LOCAL_LOCK_INFO));
        }
    }

    /// init (twice), plan with variables, apply the saved plan, read outputs, destroy.
    #[tokio::test]
    async fn lifecycle_with_the_example_module() {
        let Some(bin) = terraform() else { return };
        let fx = Fixture::new(bin).with_vars("acme");
        fx.driver.init(&fx.ws).await.unwrap();
        fx.driver.init(&fx.ws).await.unwrap();

        let plan = fx.driver.plan(&fx.ws).await.unwrap();
        assert_eq!(plan.hash, sha256_hex(&plan.file));
        assert_eq!(plan.summary, PlanSummary::default(), "an outputs-only module has no resources");
        assert!(plan.human.contains("acme-ns-local"), "{}", plan.human);
        assert!(!plan.human.contains('\u{1b}'));
        assert_eq!(plan.json["output_changes"]["namespace_name"]["after"], "acme-ns-local");
        assert_eq!(plan.json["output_changes"]["api_token"]["after_sensitive"], true);
        assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());

        let (p, mut rx, _cancel) = progress();
        let summary = fx.driver.apply(&fx.ws, &plan.file, p).await.unwrap();
        assert_eq!(summary, ChangeSummary::default());
        assert!(rx.try_recv().is_err(), "no resources, no resource events");
        assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());

        let outputs = fx.driver.output(&fx.ws).await.unwrap();
        assert_eq!(outputs["namespace_name"].value, "acme-ns-local");
        assert_eq!(outputs["endpoint"].value, "acme-ns-local.tmprl.local:7233");
        assert_eq!(outputs["namespace_name"].ty, "string");
        assert!(!outputs["namespace_name"].sensitive);
        assert!(outputs["api_token"].sensitive);
        assert_eq!(outputs["api_token"].value, "s3cr3t");

        // Applying the same saved plan again: the state moved on, so it is stale.
        let err = fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::StalePlan(_)), "{err}");

        let destroyed = fx.driver.destroy(&fx.ws, progress().0).await.unwrap();
        assert_eq!(destroyed, ChangeSummary::default());
        assert!(fx.driver.output(&fx.ws).await.unwrap().is_empty());
        assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());
    }

    /// Two plans from the same state: once one is applied the other is stale, also in a workspace
    /// that had no state at all when both were made (the seeded lineage makes Terraform check).
    #[tokio::test]
    async fn stale_plan_is_detected_from_the_first_apply_on() {
        let Some(bin) = terraform() else { return };
        let mut fx = Fixture::new(bin).with_vars("first");
        fx.driver.init(&fx.ws).await.unwrap();
        let first = fx.driver.plan(&fx.ws).await.unwrap();
        fx.ws.vars.insert("prefix".to_owned(), Value::String("second".to_owned()));
        let second = fx.driver.plan(&fx.ws).await.unwrap();
        assert_ne!(first.hash, second.hash);

        fx.driver.apply(&fx.ws, &second.file, progress().0).await.unwrap();
        let err = fx.driver.apply(&fx.ws, &first.file, progress().0).await.unwrap_err();
        assert!(matches!(&err, IacError::StalePlan(m) if m.contains("Saved plan is stale")), "{err}");
        assert_eq!(fx.driver.output(&fx.ws).await.unwrap()["namespace_name"].value, "second-ns-local");
        assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());
    }

    /// Unusable setups are invalid (not retryable); a broken module fails with terraform's words.
    #[tokio::test]
    async fn missing_binary_directory_and_broken_module() {
        let fx = Fixture::new(PathBuf::from("/nonexistent/terraform"));
        let err = fx.driver.init(&fx.ws).await.unwrap_err();
        assert!(matches!(&err, IacError::Invalid(m) if m.contains("terraform binary not found")), "{err}");

        let Some(bin) = terraform() else { return };
        let mut fx = Fixture::new(bin);
        let missing = Workspace { dir: fx.ws.dir.join("missing"), ..fx.ws.clone() };
        assert!(matches!(fx.driver.init(&missing).await, Err(IacError::Invalid(_))));
        assert!(matches!(fx.driver.plan(&missing).await, Err(IacError::Invalid(_))));

        fx.ws.vars.insert("bad name".to_owned(), Value::Null);
        assert!(matches!(fx.driver.plan(&fx.ws).await, Err(IacError::Invalid(_))));
        fx.ws.vars.clear();

        std::fs::write(fx.ws.dir.join("broken.tf"), "output \"x\" {\n  value = var.undefined\n}\n").unwrap();
        fx.driver.init(&fx.ws).await.unwrap();
        let err = fx.driver.plan(&fx.ws).await.unwrap_err();
        assert!(
            matches!(&err, IacError::Failed { tool, command, detail } if tool == "terraform" && command == "plan" && detail.contains("undeclared")),
            "{err}"
        );
        assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());
    }

    /// Another run's marker means the workspace is busy; it is never touched.
    #[tokio::test]
    async fn marker_of_another_run_is_locked() {
        let Some(bin) = terraform() else { return };
        let fx = Fixture::new(bin);
        fx.driver.init(&fx.ws).await.unwrap();
        let plan = fx.driver.plan(&fx.ws).await.unwrap();
        let marker = fx.write_marker("other-workflow/run-1", std::process::id());
        let err = fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(&err, IacError::Locked(m) if m.contains("other-workflow/run-1")), "{err}");
        let err = fx.driver.destroy(&fx.ws, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::Locked(_)), "{err}");
        assert_eq!(std::fs::read_to_string(fx.ws.dir.join(MARKER_FILE)).unwrap(), marker);
    }

    /// Our own earlier attempt's marker with a dead tool (and a stale lock info file, as a killed
    /// terraform leaves): the retry proceeds.
    #[tokio::test]
    async fn own_marker_with_dead_tool_proceeds() {
        let Some(bin) = terraform() else { return };
        let fx = Fixture::new(bin);
        fx.driver.init(&fx.ws).await.unwrap();
        let plan = fx.driver.plan(&fx.ws).await.unwrap();
        let mut dead = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = dead.id();
        dead.wait().unwrap();
        fx.write_marker("wf/run-1", dead_pid);
        std::fs::write(
            fx.ws.dir.join(LOCAL_LOCK_INFO),
            r#"{"ID":"11111111-2222-3333-4444-555555555555","Operation":"OperationTypeApply","Who":"root@elsewhere","Version":"1.0.3","Created":"2026-01-01T00:00:00Z","Path":"terraform.tfstate"}"#,
        )
        .unwrap();
        fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
        assert!(!fx.ws.dir.join(MARKER_FILE).exists());
        assert!(!fx.ws.dir.join(LOCAL_LOCK_INFO).exists(), "terraform took the lock and released it");
        assert_eq!(fx.driver.output(&fx.ws).await.unwrap()["namespace_name"].value, "ordo-ns-local");
    }

    /// Cancelling a running apply interrupts terraform (SIGINT to its process group) and waits for
    /// it to exit. Terraform is kept busy by waiting for a state lock held by another process.
    #[tokio::test]
    async fn cancellation_interrupts_terraform() {
        let (Some(bin), Some(python)) = (terraform(), python()) else { return };
        let mut fx = Fixture::new(bin);
        fx.driver.init(&fx.ws).await.unwrap();
        let plan = fx.driver.plan(&fx.ws).await.unwrap();
        let holder = LockHolder::start(python, &fx.ws.dir).await;
        fx.ws.env.insert("TF_CLI_ARGS_apply".to_owned(), "-lock-timeout=120s".to_owned());

        let (p, _rx, cancel) = progress();
        let task = {
            let (driver, ws, file) = (fx.driver.clone(), fx.ws.clone(), plan.file.clone());
            tokio::spawn(async move { driver.apply(&ws, &file, p).await })
        };
        // Wait until terraform runs (its pid is in the marker), then give it a moment to block.
        let pid = loop {
            let marker = std::fs::read(fx.ws.dir.join(MARKER_FILE))
                .ok()
                .and_then(|b| serde_json::from_slice::<RunMarker>(&b).ok());
            if let Some(pid) = marker.and_then(|m| m.pid) {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(group_alive(pid as i32), "terraform is waiting for the lock");

        let started = Instant::now();
        cancel.send(true).unwrap();
        let result =
            tokio::time::timeout(Duration::from_secs(30), task).await.expect("terraform exits after SIGINT").unwrap();
        assert!(matches!(result, Err(IacError::Cancelled)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(!group_alive(pid as i32), "no terraform process is left");
        assert!(!fx.ws.dir.join(MARKER_FILE).exists(), "the marker goes once terraform has exited");
        holder.stop(&fx.ws.dir).await;

        // Nothing was applied: the plan is still good.
        fx.ws.env.clear();
        fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
    }

    /// A retry finding its own earlier attempt's terraform still running (the worker was killed,
    /// terraform was not) interrupts it, waits for it, then runs; a lock held by someone else is
    /// then reported as `Locked`.
    #[tokio::test]
    async fn orphan_of_an_earlier_attempt_is_stopped() {
        let (Some(bin), Some(python)) = (terraform(), python()) else { return };
        let fx = Fixture::new(bin.clone());
        fx.driver.init(&fx.ws).await.unwrap();
        let plan = fx.driver.plan(&fx.ws).await.unwrap();
        let holder = LockHolder::start(python, &fx.ws.dir).await;

        // The "orphan": an apply of the same plan, stuck waiting for the lock, in its own group.
        std::fs::write(fx.ws.dir.join("orphan.tfplan"), &plan.file).unwrap();
        let mut orphan = std::process::Command::new(&bin)
            .args(["apply", "-input=false", "-no-color", "-json", "-lock-timeout=120s", "orphan.tfplan"])
            .current_dir(&fx.ws.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let orphan_pid = orphan.id();
        fx.write_marker("wf/run-1", orphan_pid);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(group_runs_tool(orphan_pid as i32, &["terraform".to_owned()]));

        let err = fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(&err, IacError::Locked(m) if m.contains("test@holder")), "{err}");
        // The orphan exited on SIGINT (it is our child here, so reap it).
        let status = orphan.try_wait().unwrap();
        assert!(status.is_some(), "the orphaned terraform was stopped");
        assert!(!fx.ws.dir.join(MARKER_FILE).exists());

        holder.stop(&fx.ws.dir).await;
        fx.driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
    }

    /// Terraform's machine-readable UI stream becomes events, a summary and diagnostics.
    /// A marker is its run's across a reset or a re-plan (same workflow id, another run id).
    #[test]
    fn a_run_recognises_its_marker_after_a_reset() {
        assert!(same_run("provision-infra-1/run-a", "provision-infra-1/run-b"));
        assert!(!same_run("provision-infra-1/run-a", "provision-infra-2/run-a"));
    }

    /// Only a state lock taken since the run claimed the workspace is released.
    #[test]
    fn only_a_lock_taken_under_the_runs_claim_is_released() {
        let info = r#"{"ID":"abc","Operation":"OperationTypeApply","Created":"2026-12-06T11:00:05.123456Z"}"#;
        assert_eq!(lock_taken_since(info, "2026-12-06T11:00:05Z").as_deref(), Some("abc"));
        assert_eq!(lock_taken_since(info, "2026-12-06T11:00:06Z"), None, "taken before the claim");
        assert_eq!(lock_taken_since("{}", "2026-12-06T11:00:05Z"), None);
    }

    #[test]
    fn ui_stream_is_parsed() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut ui = UiStream::new(tx);
        for line in [
            r#"{"@level":"info","type":"version","terraform":"1.0.3","ui":"0.1.0"}"#,
            "Acquiring state lock. This may take a few moments...",
            r#"{"type":"apply_start","hook":{"resource":{"addr":"null_resource.a"},"action":"create"}}"#,
            r#"{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.a"},"action":"create"}}"#,
            r#"{"type":"apply_errored","hook":{"resource":{"addr":"null_resource.b"},"action":"delete"}}"#,
            r#"{"type":"change_summary","changes":{"add":0,"change":0,"remove":2,"operation":"plan"}}"#,
            r#"{"type":"change_summary","changes":{"add":1,"change":2,"remove":3,"operation":"destroy"}}"#,
            r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"meh","detail":""}}"#,
            r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Saved plan is stale","detail":"changed"}}"#,
            r#"{"type":"outputs","outputs":{"secret":{"sensitive":true,"value":"x"}}}"#,
        ] {
            ui.handle(line);
        }
        let states: Vec<(String, String, String)> =
            std::iter::from_fn(|| rx.try_recv().ok()).map(|e| (e.address, e.action, e.state)).collect();
        assert_eq!(
            states,
            [
                ("null_resource.a".into(), "create".into(), "started".into()),
                ("null_resource.a".into(), "create".into(), "complete".into()),
                ("null_resource.b".into(), "delete".into(), "errored".into()),
            ]
        );
        assert_eq!(ui.summary, Some(ChangeSummary { added: 1, changed: 2, destroyed: 3 }));
        assert_eq!(ui.errors.len(), 1);

        let driver = CliDriver::new("tofu", PathBuf::from("tofu"));
        let out = Captured { status: ExitStatus::default(), stdout: String::new(), stderr: String::new() };
        assert!(matches!(driver.classify("apply", &ui.errors, &out), IacError::StalePlan(_)));
        let lock = Diagnostic {
            summary: "Error acquiring the state lock".into(),
            detail: "Error message: resource temporarily unavailable\nLock Info:\n  ID:        abc\n  Path:      terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       me@host\n  Created:   2026-01-01\n".into(),
        };
        let err = driver.classify("apply", &[lock], &out);
        assert!(matches!(&err, IacError::Locked(m) if m.contains("abc") && m.contains("me@host")), "{err}");
        let err = driver.classify("init", &[], &Captured { stderr: "\u{1b}[31mError: boom\u{1b}[0m\n".into(), ..out });
        assert!(
            matches!(&err, IacError::Failed { tool, detail, .. } if tool == "tofu" && detail == "Error: boom"),
            "{err}"
        );
    }

    /// Plan summaries count replacements as a delete and a create.
    #[test]
    fn plan_summary_counts_actions() {
        let plan = serde_json::json!({"resource_changes": [
            {"change": {"actions": ["create"]}}, {"change": {"actions": ["update"]}},
            {"change": {"actions": ["delete"]}}, {"change": {"actions": ["delete", "create"]}},
            {"change": {"actions": ["create", "delete"]}}, {"change": {"actions": ["no-op"]}},
            {"change": {"actions": ["read"]}},
        ]});
        assert_eq!(summarize(&plan), PlanSummary { create: 3, update: 1, delete: 3, no_op: 2 });
        assert_eq!(summarize(&serde_json::json!({})), PlanSummary::default());
    }

    /// Variables: strings raw, everything else JSON.
    #[test]
    fn variables_become_var_arguments() {
        let mut ws =
            Workspace { dir: PathBuf::from("/"), env: BTreeMap::new(), vars: BTreeMap::new(), owner: String::new() };
        ws.vars.insert("name".into(), Value::String("a b".into()));
        ws.vars.insert("count".into(), serde_json::json!(3));
        ws.vars.insert("tags".into(), serde_json::json!({"k": ["v"]}));
        let got: Vec<String> = var_args(&ws).unwrap().into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(got, ["-var", "count=3", "-var", "name=a b", "-var", r#"tags={"k":["v"]}"#]);
        ws.vars.insert("x=y".into(), Value::Null);
        assert!(var_args(&ws).is_err());
    }
}
