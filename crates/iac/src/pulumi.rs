//! The `pulumi` command-line driver.
//!
//! Like the terraform driver, every command is an argument vector run in the workspace directory
//! (the Pulumi project, which holds `Pulumi.yaml`) with the worker's environment plus the run's, and
//! never through a shell. One driver works on one stack of that project (`--stack` on every
//! command), created on first use.
//!
//! | operation | commands |
//! |---|---|
//! | init | `pulumi stack select --create --stack S`, then `pulumi config set --stack S --plaintext KEY -- VALUE` per variable |
//! | plan | `pulumi preview --json --stack S`: the preview digest (`steps`, `changeSummary`, `diagnostics`) |
//! | apply | `pulumi up --yes --skip-preview --json --stack S`: the engine event stream, one JSON event per line |
//! | destroy | `pulumi destroy --yes --skip-preview --json --stack S`: the same stream |
//! | output | `pulumi stack output --json --stack S`, once with `--show-secrets` and once without (to learn which outputs are secret: those read `"[secret]"`) |
//!
//! Every command also gets `--non-interactive` and `--color=never`, and the environment
//! `PULUMI_SKIP_UPDATE_CHECK=true`. Backends and secrets work as Pulumi's own documentation says: a
//! passphrase-protected stack needs `PULUMI_CONFIG_PASSPHRASE` in the worker's (or the run's)
//! environment, a self-managed backend `PULUMI_BACKEND_URL`.
//!
//! # What is different from the terraform driver
//! - A Pulumi preview is not a saved plan. The plan "file" is the preview digest itself (its hash is
//!   what an approval is bound to), but `pulumi up` recomputes the changes from the program: Pulumi's
//!   update plans (`preview --save-plan` / `up --plan`) would bind the apply to the preview, and are
//!   not used because they are experimental across the CLI versions in use. A stale preview is
//!   therefore never detected; the apply does what the program says at apply time.
//! - The plan document given to policies is Terraform-shaped (`resource_changes[]` with `address`,
//!   `type`, `name` and `change.{actions, before, after}`), built from the preview's steps: the
//!   address is the resource's URN, the type its Pulumi type token, before/after its inputs.
//! - Cancellation sends `SIGINT` to the tool's process group, which Pulumi answers by letting the
//!   operations in flight finish and saving its state.
//!
//! # Testing
//! No Pulumi binary is installable on the machines Ordo is built and tested on. The command lines
//! and the parsers are unit-tested, the parsers on output recorded from real Pulumi runs
//! (`tests/fixtures/pulumi/`, with a note on where each file comes from); running the commands
//! against a real `pulumi` has not been done here.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::sync::mpsc;

use super::process::{strip_ansi, tail, Captured, Tool};
use super::{
    sha256_hex, ChangeSummary, IacError, OutputValue, Outputs, PlanArtifact, PlanSummary, Progress, ResourceEvent,
    Workspace,
};

/// The stack a driver uses when none is given (the generic provisioning workflow: one stack per
/// project directory, guarded by Ordo's workspace lock).
pub const DEFAULT_STACK: &str = "ordo";
/// Environment variable naming the `pulumi` binary (default: `pulumi` on `PATH`).
pub const BINARY_ENV: &str = "ORDO_PULUMI_BIN";
/// What `pulumi stack output --json` prints in place of a secret without `--show-secrets`.
const SECRET_PLACEHOLDER: &str = "[secret]";
/// Texts by which Pulumi reports that another update holds the stack.
const LOCKED_TEXTS: &[&str] = &["Another update is currently in progress", "the stack is currently locked"];
/// The pseudo-resource every stack has; its steps are not changes anyone asked for.
const ROOT_STACK_TYPE: &str = "pulumi:pulumi:Stack";

/// The `pulumi` binary: [`BINARY_ENV`] when set, else `pulumi` on `PATH`.
pub fn default_binary() -> PathBuf {
    std::env::var_os(BINARY_ENV).filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("pulumi"))
}

/// The `pulumi` CLI driver for one stack.
#[derive(Debug, Clone)]
pub struct PulumiDriver {
    binary: PathBuf,
    stack: String,
}

impl PulumiDriver {
    /// A driver running `binary` on `stack`. The stack name is checked when a command is built.
    pub fn new(binary: PathBuf, stack: impl Into<String>) -> Self {
        Self { binary, stack: stack.into() }
    }

    /// The stack this driver works on.
    pub fn stack(&self) -> &str {
        &self.stack
    }

    // -----------------------------------------------------------------------------------------
    // Command lines (pure: unit-tested)

    fn common(&self, sub: &[&str]) -> Result<Vec<OsString>, IacError> {
        check_stack_name(&self.stack)?;
        let mut out: Vec<OsString> = sub.iter().map(OsString::from).collect();
        out.extend(["--stack", &self.stack, "--non-interactive", "--color=never"].map(OsString::from));
        Ok(out)
    }

    /// `pulumi stack select --create --stack S …`
    pub fn select_stack_args(&self) -> Result<Vec<OsString>, IacError> {
        self.common(&["stack", "select", "--create"])
    }

    /// `pulumi config set --stack S … --plaintext KEY -- VALUE`: strings as they are, other JSON
    /// values as their JSON text. The key is checked so it can never be read as a flag; the value
    /// follows `--`, so nothing in it can either.
    pub fn config_set_args(&self, key: &str, value: &Value) -> Result<Vec<OsString>, IacError> {
        check_config_key(key)?;
        let mut out = self.common(&["config", "set"])?;
        out.push("--plaintext".into());
        out.push(key.into());
        out.push("--".into());
        out.push(
            match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
            .into(),
        );
        Ok(out)
    }

    /// `pulumi preview --json --stack S …`
    pub fn preview_args(&self) -> Result<Vec<OsString>, IacError> {
        self.common(&["preview", "--json"])
    }

    /// `pulumi up --yes --skip-preview --json --stack S …`
    pub fn up_args(&self) -> Result<Vec<OsString>, IacError> {
        self.common(&["up", "--yes", "--skip-preview", "--json"])
    }

    /// `pulumi destroy --yes --skip-preview --json --stack S …`
    pub fn destroy_args(&self) -> Result<Vec<OsString>, IacError> {
        self.common(&["destroy", "--yes", "--skip-preview", "--json"])
    }

    /// `pulumi stack output --json --stack S …` (and `--show-secrets` when asked).
    pub fn stack_output_args(&self, show_secrets: bool) -> Result<Vec<OsString>, IacError> {
        let mut out = self.common(&["stack", "output", "--json"])?;
        if show_secrets {
            out.push("--show-secrets".into());
        }
        Ok(out)
    }

    // -----------------------------------------------------------------------------------------
    // Operations

    /// Selects (creating if needed) the stack and writes the run's variables into its config.
    pub async fn init(&self, ws: &Workspace) -> Result<(), IacError> {
        check_project(&ws.dir).await?;
        let out = self.run(ws, "stack select", self.select_stack_args()?).await?;
        if !out.status.success() {
            return Err(classify("stack select", &[], &out));
        }
        for (key, value) in &ws.vars {
            let out = self.run(ws, "config set", self.config_set_args(key, value)?).await?;
            if !out.status.success() {
                return Err(classify("config set", &[], &out));
            }
        }
        tracing::debug!(dir = %ws.dir.display(), stack = %self.stack, "pulumi stack ready");
        Ok(())
    }

    /// `pulumi preview --json`: the digest becomes the plan (see the module docs).
    pub async fn plan(&self, ws: &Workspace) -> Result<PlanArtifact, IacError> {
        check_project(&ws.dir).await?;
        let out = self.run(ws, "preview", self.preview_args()?).await?;
        let digest = parse_preview(&out.stdout);
        if !out.status.success() {
            let errors = digest.map(|d| d.error_messages()).unwrap_or_default();
            return Err(classify("preview", &errors, &out));
        }
        let digest = digest?;
        let artifact = plan_artifact(&digest, out.stdout.into_bytes());
        tracing::info!(
            stack = %self.stack, plan = %artifact.hash, create = artifact.summary.create,
            update = artifact.summary.update, delete = artifact.summary.delete, "pulumi preview done"
        );
        Ok(artifact)
    }

    /// `pulumi up`: applies the program (not bound to `plan_file`; see the module docs), streaming
    /// resource events.
    pub async fn apply(&self, ws: &Workspace, plan_file: &[u8], progress: Progress) -> Result<ChangeSummary, IacError> {
        check_project(&ws.dir).await?;
        tracing::debug!(stack = %self.stack, preview = %sha256_hex(plan_file), "pulumi up after this preview");
        self.run_streaming(ws, "up", self.up_args()?, progress).await
    }

    /// `pulumi destroy`: deletes every resource of the stack, streaming resource events.
    pub async fn destroy(&self, ws: &Workspace, progress: Progress) -> Result<ChangeSummary, IacError> {
        check_project(&ws.dir).await?;
        self.run_streaming(ws, "destroy", self.destroy_args()?, progress).await
    }

    /// `pulumi stack output --json`, with secrets (marked sensitive).
    pub async fn output(&self, ws: &Workspace) -> Result<Outputs, IacError> {
        check_project(&ws.dir).await?;
        let masked = self.run(ws, "stack output", self.stack_output_args(false)?).await?;
        if !masked.status.success() {
            return Err(classify("stack output", &[], &masked));
        }
        let plain = self.run(ws, "stack output", self.stack_output_args(true)?).await?;
        if !plain.status.success() {
            // Never the stdout: it holds the secrets.
            return Err(classify("stack output", &[], &Captured { stdout: String::new(), ..plain }));
        }
        parse_stack_outputs(&plain.stdout, &masked.stdout)
    }

    // -----------------------------------------------------------------------------------------
    // Running commands

    /// The binary, as the shared process runner runs it.
    fn tool(&self) -> Tool<'_> {
        Tool { name: "pulumi", binary: &self.binary, setting: Some(BINARY_ENV) }
    }

    fn command(&self, ws: &Workspace, args: &[OsString]) -> Command {
        let mut cmd = self.tool().command(ws, args);
        cmd.env("PULUMI_SKIP_UPDATE_CHECK", "true");
        cmd
    }

    async fn run(&self, ws: &Workspace, sub: &str, args: Vec<OsString>) -> Result<Captured, IacError> {
        self.tool().run(self.command(ws, &args), sub, None).await
    }

    /// Runs `up` / `destroy` with `--json`, turning the engine events into resource events and
    /// forwarding cancellation as SIGINT.
    async fn run_streaming(
        &self,
        ws: &Workspace,
        sub: &str,
        args: Vec<OsString>,
        progress: Progress,
    ) -> Result<ChangeSummary, IacError> {
        let Progress { events, mut cancel } = progress;
        if *cancel.borrow_and_update() {
            return Err(IacError::Cancelled);
        }
        let running = self.tool().start(self.command(ws, &args), sub)?;
        let mut stream = EventStream::new(Some(events));
        let exited = running.stream(cancel, |line| stream.handle_line(line)).await?;
        if exited.status.success() {
            return Ok(stream.summary.unwrap_or_default());
        }
        if exited.cancelled {
            return Err(IacError::Cancelled);
        }
        let captured = Captured { status: exited.status, stdout: String::new(), stderr: exited.stderr };
        Err(classify(sub, &stream.errors, &captured))
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Stack names: Pulumi's characters (`org/project/stack` allowed), never starting with `-`.
fn check_stack_name(stack: &str) -> Result<(), IacError> {
    let ok = !stack.is_empty()
        && stack.len() <= 200
        && !stack.starts_with(['-', '/', '.'])
        && stack.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !stack.contains("..");
    if ok {
        Ok(())
    } else {
        Err(IacError::Invalid(format!("bad pulumi stack name {stack:?}")))
    }
}

/// Config keys: `name` or `namespace:name`, Pulumi's characters, never starting with `-`.
fn check_config_key(key: &str) -> Result<(), IacError> {
    let ok = key.len() <= 200
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        && key.matches(':').count() <= 1
        && !key.ends_with(':');
    if ok {
        Ok(())
    } else {
        Err(IacError::Invalid(format!("bad pulumi config key {key:?}")))
    }
}

async fn check_project(dir: &Path) -> Result<(), IacError> {
    match tokio::fs::metadata(dir).await {
        Ok(m) if m.is_dir() => {}
        _ => return Err(IacError::Invalid(format!("workspace directory {} does not exist", dir.display()))),
    }
    for name in ["Pulumi.yaml", "Pulumi.yml"] {
        if tokio::fs::try_exists(dir.join(name)).await.unwrap_or(false) {
            return Ok(());
        }
    }
    Err(IacError::Invalid(format!("no Pulumi.yaml in {}", dir.display())))
}

/// Turns a failed command into the error the workflow acts on.
fn classify(command: &str, errors: &[String], out: &Captured) -> IacError {
    let mut text = errors.join("\n");
    if text.is_empty() {
        text = strip_colors(&out.stderr).trim().to_owned();
    }
    if text.is_empty() {
        text = format!("exited with {}", out.status);
    }
    if LOCKED_TEXTS.iter().any(|t| text.contains(t)) {
        return IacError::Locked(tail(&text));
    }
    if text.contains("no Pulumi.yaml project file found") {
        return IacError::Invalid(tail(&text));
    }
    IacError::Failed { tool: "pulumi".into(), command: command.into(), detail: tail(&text) }
}

/// Removes Pulumi's colour tags (`<{%fg 1%}>`, `<{%reset%}>`) and ANSI escape sequences.
fn strip_colors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<{%") {
        out.push_str(&rest[..start]);
        match rest[start..].find("%}>") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    strip_ansi(&out)
}

// ---------------------------------------------------------------------------------------------
// `pulumi preview --json`

/// The preview digest `pulumi preview --json` prints (fields Ordo reads; others are ignored).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreviewDigest {
    /// One step per resource the program registered.
    pub steps: Vec<PreviewStep>,
    /// Messages from the program and the providers.
    pub diagnostics: Vec<PreviewDiagnostic>,
    /// Counts by operation (`create`, `update`, `delete`, `replace`, `same`, …).
    pub change_summary: BTreeMap<String, u32>,
}

/// One step of a preview.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreviewStep {
    /// `create`, `update`, `delete`, `replace`, `same`, `create-replacement`, `delete-replaced`, …
    pub op: String,
    /// The resource's URN.
    pub urn: String,
    /// State before the step (absent for creates).
    pub old_state: Option<StepState>,
    /// State after the step (absent for deletes).
    pub new_state: Option<StepState>,
}

/// The part of a step's resource state Ordo reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StepState {
    /// Pulumi type token, e.g. `aws:s3/bucket:Bucket`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The resource's inputs (secrets already blinded by Pulumi).
    pub inputs: Option<Value>,
}

/// A preview diagnostic.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PreviewDiagnostic {
    /// The resource it is about, if any.
    pub urn: Option<String>,
    /// The message (colour tags possible).
    pub message: String,
    /// `info`, `warning`, `error`, …
    pub severity: String,
}

impl PreviewDigest {
    /// Messages of error diagnostics, colour tags removed.
    pub fn error_messages(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .map(|d| strip_colors(&d.message).trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect()
    }
}

/// Parses `pulumi preview --json` output.
pub fn parse_preview(stdout: &str) -> Result<PreviewDigest, IacError> {
    serde_json::from_str(stdout.trim()).map_err(|e| IacError::Failed {
        tool: "pulumi".into(),
        command: "preview".into(),
        detail: format!("unreadable preview json: {e}"),
    })
}

/// The type token and name in a URN (`urn:pulumi:STACK::PROJECT::QUALIFIED$TYPE::NAME`).
pub fn urn_parts(urn: &str) -> (String, String) {
    let mut parts = urn.splitn(4, "::");
    let _stack_and_prefix = parts.next();
    let _project = parts.next();
    let qualified = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    let ty = qualified.rsplit('$').next().unwrap_or_default();
    (ty.to_owned(), name.to_owned())
}

/// Terraform's action list for a Pulumi operation.
pub fn actions(op: &str) -> Vec<String> {
    let list: &[&str] = match op {
        "create" | "create-replacement" | "import" | "import-replacement" => &["create"],
        "update" => &["update"],
        "delete" | "delete-replaced" | "discard" | "discard-replaced" => &["delete"],
        // Pulumi replaces create-before-delete unless told otherwise.
        "replace" => &["create", "delete"],
        "same" => &["no-op"],
        "read" | "read-replacement" | "refresh" => &["read"],
        other => return vec![other.to_owned()],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Change counts from the engine's own summary. A replace counts as one create and one delete (as
/// Terraform counts it); the halves of a replace are not counted again.
pub fn plan_summary(change_summary: &BTreeMap<String, u32>) -> PlanSummary {
    let mut summary = PlanSummary::default();
    for (op, n) in change_summary {
        match op.as_str() {
            "create" | "import" => summary.create += n,
            "update" => summary.update += n,
            "delete" => summary.delete += n,
            "replace" => {
                summary.create += n;
                summary.delete += n;
            }
            "same" => summary.no_op += n,
            _ => {}
        }
    }
    summary
}

/// The Terraform-shaped plan document policies and people read (see the module docs).
pub fn plan_document(digest: &PreviewDigest) -> Value {
    let changes: Vec<Value> = digest
        .steps
        .iter()
        .map(|step| {
            let (urn_type, name) = urn_parts(&step.urn);
            let ty = step
                .new_state
                .as_ref()
                .or(step.old_state.as_ref())
                .map(|s| s.ty.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or(urn_type);
            let inputs = |s: &Option<StepState>| s.as_ref().and_then(|s| s.inputs.clone()).unwrap_or(Value::Null);
            json!({
                "address": step.urn,
                "type": ty,
                "name": name,
                "pulumi_op": step.op,
                "change": {
                    "actions": actions(&step.op),
                    "before": inputs(&step.old_state),
                    "after": inputs(&step.new_state),
                },
            })
        })
        .collect();
    json!({
        "format_version": "1.0",
        "ordo_driver": "pulumi",
        "resource_changes": changes,
        "pulumi_change_summary": digest.change_summary,
    })
}

/// The preview as text for people: one line per changing resource, then the counts.
pub fn human_plan(digest: &PreviewDigest) -> String {
    let mut out = String::new();
    for step in digest.steps.iter().filter(|s| s.op != "same") {
        let (ty, name) = urn_parts(&step.urn);
        let symbol = match step.op.as_str() {
            "create" | "create-replacement" | "import" => "+",
            "delete" | "delete-replaced" => "-",
            "update" => "~",
            "replace" => "+-",
            _ => " ",
        };
        out.push_str(&format!("  {symbol:<2} {ty:<50} {name:<40} {}\n", step.op));
    }
    let counts: Vec<String> = digest
        .change_summary
        .iter()
        .map(|(op, n)| if op == "same" { format!("{n} unchanged") } else { format!("{n} to {op}") })
        .collect();
    out.push_str(&format!(
        "\nResources: {}\n",
        if counts.is_empty() { "no changes".to_owned() } else { counts.join(", ") }
    ));
    for message in digest.error_messages() {
        out.push_str(&format!("error: {message}\n"));
    }
    out
}

fn plan_artifact(digest: &PreviewDigest, file: Vec<u8>) -> PlanArtifact {
    PlanArtifact {
        human: human_plan(digest),
        json: plan_document(digest),
        hash: sha256_hex(&file),
        file,
        summary: plan_summary(&digest.change_summary),
    }
}

// ---------------------------------------------------------------------------------------------
// `pulumi up --json` / `pulumi destroy --json`

/// Reads the engine event stream `pulumi up|destroy --json` prints, one JSON event per line.
pub struct EventStream {
    events: Option<mpsc::UnboundedSender<ResourceEvent>>,
    /// Resource events seen so far, in order.
    pub seen: Vec<ResourceEvent>,
    /// Error messages (`diagEvent` with severity `error`, failed resource operations).
    pub errors: Vec<String>,
    /// The change counts of the final `summaryEvent`.
    pub summary: Option<ChangeSummary>,
    /// Whether the engine says the state may be corrupt (an operation was interrupted).
    pub maybe_corrupt: bool,
}

impl EventStream {
    /// A reader forwarding resource events to `events` (when given).
    pub fn new(events: Option<mpsc::UnboundedSender<ResourceEvent>>) -> Self {
        Self { events, seen: Vec::new(), errors: Vec::new(), summary: None, maybe_corrupt: false }
    }

    /// Handles one line of output; lines that are not engine events are ignored.
    pub fn handle_line(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(event) => self.handle(&event),
            Err(_) => tracing::debug!(line, "not an engine event"),
        }
    }

    /// Handles one engine event.
    pub fn handle(&mut self, event: &Value) {
        if let Some(pre) = event.get("resourcePreEvent") {
            if pre.get("planning").and_then(Value::as_bool) != Some(true) {
                self.resource(&pre["metadata"], "started");
            }
        } else if let Some(done) = event.get("resOutputsEvent") {
            if done.get("planning").and_then(Value::as_bool) != Some(true) {
                self.resource(&done["metadata"], "complete");
            }
        } else if let Some(failed) = event.get("resOpFailedEvent") {
            let metadata = &failed["metadata"];
            self.resource(metadata, "errored");
            let urn = metadata["urn"].as_str().unwrap_or_default();
            let op = metadata["op"].as_str().unwrap_or_default();
            self.errors.push(format!("{op} of {urn} failed"));
        } else if let Some(diag) = event.get("diagEvent") {
            if diag["severity"].as_str() == Some("error") {
                let message = strip_colors(diag["message"].as_str().unwrap_or_default()).trim().to_owned();
                if !message.is_empty() {
                    self.errors.push(message);
                }
            }
        } else if let Some(summary) = event.get("summaryEvent") {
            self.maybe_corrupt = summary["maybeCorrupt"].as_bool().unwrap_or(false);
            let count =
                |op: &str| summary["resourceChanges"][op].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            self.summary = Some(ChangeSummary {
                added: count("create") + count("replace"),
                changed: count("update"),
                destroyed: count("delete") + count("replace"),
            });
        }
    }

    fn resource(&mut self, metadata: &Value, state: &str) {
        let op = metadata["op"].as_str().unwrap_or_default();
        let ty = metadata["type"].as_str().unwrap_or_default();
        if op == "same" || op.is_empty() || ty == ROOT_STACK_TYPE || ty.starts_with("pulumi:providers:") {
            return;
        }
        let event = ResourceEvent {
            address: metadata["urn"].as_str().unwrap_or_default().to_owned(),
            action: op.to_owned(),
            state: state.to_owned(),
        };
        if let Some(tx) = &self.events {
            let _ = tx.send(event.clone());
        }
        self.seen.push(event);
    }
}

// ---------------------------------------------------------------------------------------------
// `pulumi stack output --json`

/// Builds outputs from `stack output --json --show-secrets` (`plain`) and the same without
/// `--show-secrets` (`masked`): an output is sensitive when the masked run shows `"[secret]"`.
pub fn parse_stack_outputs(plain: &str, masked: &str) -> Result<Outputs, IacError> {
    let unreadable = |which: &str, e: serde_json::Error| IacError::Failed {
        tool: "pulumi".into(),
        command: "stack output".into(),
        // Never the text itself: it holds secrets.
        detail: format!("unreadable {which} output json: {e}"),
    };
    let plain: BTreeMap<String, Value> = serde_json::from_str(plain.trim()).map_err(|e| unreadable("stack", e))?;
    let masked: BTreeMap<String, Value> =
        serde_json::from_str(masked.trim()).map_err(|e| unreadable("masked stack", e))?;
    Ok(plain
        .into_iter()
        .map(|(name, value)| {
            let sensitive = masked.get(&name).and_then(Value::as_str) == Some(SECRET_PLACEHOLDER);
            (name, OutputValue { sensitive, ty: Value::Null, value })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::process::ExitStatus;

    use super::*;

    fn fixture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pulumi").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    fn driver() -> PulumiDriver {
        PulumiDriver::new("pulumi".into(), "checkout-1a2b3c")
    }

    /// Every command names the stack, is non-interactive and colourless, and uses the flags the
    /// Pulumi CLI documents for JSON output and unattended updates.
    #[test]
    fn commands_are_argument_vectors_with_the_documented_flags() {
        let d = driver();
        let tail = ["--stack", "checkout-1a2b3c", "--non-interactive", "--color=never"];
        let with = |head: &[&str]| head.iter().chain(tail.iter()).map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(strings(d.select_stack_args().unwrap()), with(&["stack", "select", "--create"]));
        assert_eq!(strings(d.preview_args().unwrap()), with(&["preview", "--json"]));
        assert_eq!(strings(d.up_args().unwrap()), with(&["up", "--yes", "--skip-preview", "--json"]));
        assert_eq!(strings(d.destroy_args().unwrap()), with(&["destroy", "--yes", "--skip-preview", "--json"]));
        let mut secrets = with(&["stack", "output", "--json"]);
        secrets.push("--show-secrets".into());
        assert_eq!(strings(d.stack_output_args(true).unwrap()), secrets);
        assert_eq!(strings(d.stack_output_args(false).unwrap()), with(&["stack", "output", "--json"]));
    }

    /// Config values go after `--`, so a value that looks like a flag stays a value; non-strings
    /// are passed as JSON text.
    #[test]
    fn config_values_cannot_become_flags() {
        let d = driver();
        let args = strings(d.config_set_args("aws:region", &json!("--yes; rm -rf /")).unwrap());
        assert_eq!(&args[args.len() - 4..], ["--plaintext", "aws:region", "--", "--yes; rm -rf /"]);
        let args = strings(d.config_set_args("replicas", &json!(3)).unwrap());
        assert_eq!(args.last().unwrap(), "3");
        let args = strings(d.config_set_args("tags", &json!({"team": "a"})).unwrap());
        assert_eq!(args.last().unwrap(), r#"{"team":"a"}"#);
    }

    /// Keys and stack names that could be read as flags or escape the project are refused.
    #[test]
    fn bad_keys_and_stack_names_are_refused() {
        let d = driver();
        for key in ["--secret", "-x", "", "a:b:c", "a b", "aws:", ":x"] {
            assert!(d.config_set_args(key, &json!("v")).is_err(), "{key:?}");
        }
        for stack in ["--stack", "", "a b", "../x", "/abs", "a;b"] {
            let err = PulumiDriver::new("pulumi".into(), stack).up_args().unwrap_err();
            assert!(matches!(err, IacError::Invalid(_)), "{stack:?}: {err}");
        }
        assert!(PulumiDriver::new("pulumi".into(), "acme/shop/prod").up_args().is_ok());
    }

    /// A real preview of an empty stack: 16 creates, the root stack included; the plan document
    /// has one Terraform-shaped change per step with the Pulumi type and the inputs as `after`.
    #[test]
    fn a_recorded_create_preview_becomes_a_plan() {
        let text = fixture("preview_creates.json");
        let digest = parse_preview(&text).unwrap();
        assert_eq!(digest.steps.len(), 16);
        assert_eq!(digest.change_summary.get("create"), Some(&16));
        let plan = plan_artifact(&digest, text.clone().into_bytes());
        assert_eq!(plan.summary, PlanSummary { create: 16, update: 0, delete: 0, no_op: 0 });
        assert_eq!(plan.hash, sha256_hex(text.as_bytes()));

        let changes = plan.json["resource_changes"].as_array().unwrap();
        assert_eq!(changes.len(), 16);
        let bucket =
            changes.iter().find(|c| c["address"] == "urn:pulumi:dev::sample::aws:s3/bucket:Bucket::docs").unwrap();
        assert_eq!(bucket["type"], "aws:s3/bucket:Bucket");
        assert_eq!(bucket["name"], "docs");
        assert_eq!(bucket["change"]["actions"], json!(["create"]));
        assert_eq!(bucket["change"]["before"], Value::Null);
        assert_eq!(bucket["change"]["after"]["bucket"], "docs-32c8f2c");
        // A nested component's URN: the last type of the parent chain is the resource's own.
        let role = urn_parts(
            "urn:pulumi:dev::sample::aws:s3/bucket:Bucket$aws:s3:BucketEventSubscription$aws:iam/role:Role::docsHandler",
        );
        assert_eq!(role, ("aws:iam/role:Role".to_owned(), "docsHandler".to_owned()));
        assert!(plan.human.contains("aws:s3/bucket:Bucket"), "{}", plan.human);
        assert!(plan.human.contains("Resources: 16 to create"), "{}", plan.human);
    }

    /// A real preview that removes resources: deletes keep their old inputs as `before`, sames are
    /// counted as no-ops and left out of the text.
    #[test]
    fn a_recorded_delete_preview_becomes_a_plan() {
        let digest = parse_preview(&fixture("preview_deletes.json")).unwrap();
        let plan = plan_artifact(&digest, b"x".to_vec());
        assert_eq!(plan.summary, PlanSummary { create: 0, update: 0, delete: 14, no_op: 2 });
        let changes = plan.json["resource_changes"].as_array().unwrap();
        let deletes: Vec<&Value> = changes.iter().filter(|c| c["change"]["actions"] == json!(["delete"])).collect();
        assert_eq!(deletes.len(), 14);
        assert!(deletes.iter().all(|c| c["change"]["after"].is_null()));
        assert!(deletes.iter().any(|c| !c["change"]["before"].is_null()));
        assert_eq!(plan.human.lines().filter(|l| l.trim_end().ends_with("delete")).count(), 14);
        assert!(!plan.human.contains(" same\n"), "{}", plan.human);
    }

    /// A replace counts one create and one delete, as Terraform counts it.
    #[test]
    fn replaces_count_as_create_and_delete() {
        let counts: BTreeMap<String, u32> =
            [("replace".to_owned(), 2), ("update".to_owned(), 1), ("same".to_owned(), 4)].into();
        assert_eq!(plan_summary(&counts), PlanSummary { create: 2, update: 1, delete: 2, no_op: 4 });
        assert_eq!(actions("replace"), ["create", "delete"]);
        assert_eq!(actions("delete-replaced"), ["delete"]);
    }

    /// A real `pulumi up` event stream: the six resources become started/complete events (the root
    /// stack is left out) and the summary event gives the counts.
    #[test]
    fn a_recorded_update_stream_becomes_resource_events() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut stream = EventStream::new(Some(tx));
        for line in fixture("up_create.jsonl").lines() {
            stream.handle_line(line);
        }
        assert_eq!(stream.summary, Some(ChangeSummary { added: 6, changed: 0, destroyed: 0 }));
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        assert!(!stream.maybe_corrupt);
        let started = stream.seen.iter().filter(|e| e.state == "started").count();
        let complete = stream.seen.iter().filter(|e| e.state == "complete").count();
        assert_eq!((started, complete), (5, 5), "{:#?}", stream.seen);
        assert!(stream.seen.iter().all(|e| e.action == "create"));
        assert!(
            stream
                .seen
                .iter()
                .any(|e| e.address == "urn:pulumi:dev::eks::aws:eks/cluster:Cluster::eks-cluster"
                    && e.state == "complete")
        );
        assert!(stream.seen.iter().all(|e| !e.address.contains("pulumi:pulumi:Stack")));
        let mut forwarded = 0;
        while rx.try_recv().is_ok() {
            forwarded += 1;
        }
        assert_eq!(forwarded, stream.seen.len());
    }

    /// A real failed update: the failed operation is an `errored` event and an error message, and
    /// the engine's "maybe corrupt" flag is kept.
    #[test]
    fn a_recorded_failed_update_reports_the_failed_resource() {
        let mut stream = EventStream::new(None);
        for line in fixture("up_failed.jsonl").lines() {
            stream.handle_line(line);
        }
        assert!(stream.maybe_corrupt);
        let errored: Vec<&ResourceEvent> = stream.seen.iter().filter(|e| e.state == "errored").collect();
        assert_eq!(errored.len(), 1);
        assert_eq!(errored[0].address, "urn:pulumi:dev::test::pulumi-python:dynamic:Resource::test-x");
        assert_eq!(errored[0].action, "update");
        assert_eq!(stream.errors, ["update of urn:pulumi:dev::test::pulumi-python:dynamic:Resource::test-x failed"]);
        let err = classify(
            "up",
            &stream.errors,
            &Captured { status: exit_status(255), stdout: String::new(), stderr: String::new() },
        );
        assert!(matches!(&err, IacError::Failed { command, .. } if command == "up"), "{err}");
        assert!(err.to_string().contains("test-x"), "{err}");
    }

    /// Error diagnostics lose Pulumi's colour tags; a stack held by another update is `Locked`.
    #[test]
    fn diagnostics_are_cleaned_and_locks_recognised() {
        let mut stream = EventStream::new(None);
        // apitype.DiagnosticEvent's fields (sdk/go/common/apitype/events.go).
        stream.handle(&json!({"sequence": 3, "timestamp": 1, "diagEvent": {
            "urn": "", "prefix": "<{%fg 1%}>error: <{%reset%}>",
            "message": "<{%reset%}>update failed<{%reset%}>\n", "color": "never", "severity": "error"}}));
        stream.handle(&json!({"diagEvent": {"message": "just info", "severity": "info"}}));
        assert_eq!(stream.errors, ["update failed"]);
        let out = Captured {
            status: exit_status(255),
            stdout: String::new(),
            stderr: "error: [409] Conflict: Another update is currently in progress.\n".into(),
        };
        assert!(matches!(classify("up", &[], &out), IacError::Locked(_)));
    }

    /// Outputs: values from `--show-secrets`, sensitivity from the run without it.
    #[test]
    fn stack_outputs_mark_secrets() {
        // The documented shape of `pulumi stack output --json` (no recording was available).
        let masked = r#"{"bucketName": "app-shop", "password": "[secret]", "ports": [80, 443]}"#;
        let plain = r#"{"bucketName": "app-shop", "password": "hunter2", "ports": [80, 443]}"#;
        let outputs = parse_stack_outputs(plain, masked).unwrap();
        assert!(!outputs["bucketName"].sensitive);
        assert!(outputs["password"].sensitive);
        assert_eq!(outputs["password"].value, "hunter2");
        assert_eq!(outputs["ports"].value, json!([80, 443]));
        let err = parse_stack_outputs("not json hunter2", masked).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    /// A directory without `Pulumi.yaml` is not a Pulumi project; a missing binary is reported
    /// by name (both without retrying being of any use).
    #[tokio::test]
    async fn missing_project_or_binary_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace {
            dir: dir.path().to_path_buf(),
            env: BTreeMap::new(),
            vars: BTreeMap::new(),
            owner: "test".into(),
        };
        let d = PulumiDriver::new("/nonexistent/pulumi".into(), "dev");
        let err = d.init(&ws).await.unwrap_err();
        assert!(matches!(&err, IacError::Invalid(m) if m.contains("no Pulumi.yaml")), "{err}");
        std::fs::write(dir.path().join("Pulumi.yaml"), "name: x\nruntime: yaml\n").unwrap();
        let err = d.init(&ws).await.unwrap_err();
        assert!(matches!(&err, IacError::Invalid(m) if m.contains("pulumi binary not found")), "{err}");
    }

    fn exit_status(code: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt as _;
        ExitStatus::from_raw(code << 8)
    }
}
