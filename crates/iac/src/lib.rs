//! Infrastructure-as-code drivers: the real `terraform` / `tofu` CLI and the `sim` simulation.
//!
//! Every driver speaks the same language: a plan is Terraform's `show -json` document (so the same
//! policies apply to every driver), a saved plan file is opaque bytes identified by its SHA-256, and
//! progress is reported per resource while applying or destroying.
//!
//! # Layout
//! - [`terraform`]: the `terraform` / `tofu` command-line driver (argument vectors, never a shell).
//! - [`sim`]: a declarative stack file planned and applied against simulated state under the data dir.
//! - [`pulumi`]: the `pulumi` command-line driver (preview / up / destroy / stack output, JSON output).
//! - `process`: how both command-line drivers run their tool (process groups, SIGINT, orphans).
//! - [`workspace`]: where IaC directories may live (inside the configured root).
//! - [`env`]: the environment a tool runs in (allow-listed, never the worker's secrets).
//! - [`heartbeat`]: liveness and progress heartbeats of long steps, cancellation forwarded.
//! - [`settings`]: the worker settings IaC domains share ([`IacArgs`](settings::IacArgs)).

pub mod env;
mod files;
pub mod heartbeat;
mod process;
pub mod pulumi;
pub mod settings;
pub mod sim;
pub mod terraform;
pub mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

/// Which IaC tool a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// The real `terraform` CLI.
    #[default]
    Terraform,
    /// The real OpenTofu CLI (`tofu`), same flags and formats as terraform.
    Tofu,
    /// Simulated cloud: a stack file, simulated state, latency and failure knobs.
    Sim,
    /// The real `pulumi` CLI on a Pulumi project directory (stack `ordo` unless a caller picks one).
    Pulumi,
}

impl DriverKind {
    /// The wire name (`terraform`, `tofu`, `sim`, `pulumi`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terraform => "terraform",
            Self::Tofu => "tofu",
            Self::Sim => "sim",
            Self::Pulumi => "pulumi",
        }
    }
}

/// One workspace operation's context: where, with which variables and environment, run by whom.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Absolute, canonical IaC directory (already checked to be inside the configured root).
    pub dir: PathBuf,
    /// Variables for the tool beyond the base it inherits (see [`env`]): already checked against the
    /// worker's [`env::EnvPolicy`].
    pub env: BTreeMap<String, String>,
    /// Input variables, passed as `-var name=value` arguments (JSON-encoded for non-strings).
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Who is running this (`<workflow id>/<run id>`), written into Ordo's workspace marker so a
    /// retry can tell its own stale lock from someone else's.
    pub owner: String,
}

/// A computed plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanArtifact {
    /// Human-readable plan text (ANSI colours stripped).
    pub human: String,
    /// Terraform's `show -json` plan document. Left out of a plan whose policy was checked where it
    /// was made (it stays on the worker; the workflow keeps what it needs of it).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub json: serde_json::Value,
    /// The saved plan file, opaque; apply uses exactly these bytes.
    #[serde(with = "b64")]
    pub file: Vec<u8>,
    /// Lower-case hex SHA-256 of `file`: what an approval is bound to.
    pub hash: String,
    /// Number of resource changes by action.
    pub summary: PlanSummary,
}

/// Counts of planned resource changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlanSummary {
    /// Resources to create.
    pub create: u32,
    /// Resources to update in place.
    pub update: u32,
    /// Resources to delete (including the delete half of a replace).
    pub delete: u32,
    /// Resources left unchanged.
    pub no_op: u32,
}

/// A resource-level event reported while applying or destroying.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceEvent {
    /// Resource address, e.g. `temporalcloud_namespace.demo`.
    pub address: String,
    /// `create`, `update`, `delete`, …
    pub action: String,
    /// `started`, `complete` or `errored`.
    pub state: String,
}

/// A Terraform output value (`terraform output -json` shape).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputValue {
    /// Whether the value is sensitive (never printed or logged).
    pub sensitive: bool,
    /// Terraform type expression, as given by the tool.
    #[serde(rename = "type", default)]
    pub ty: serde_json::Value,
    /// The value itself.
    pub value: serde_json::Value,
}

/// Outputs by name.
pub type Outputs = BTreeMap<String, OutputValue>;

/// The result of an apply or destroy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangeSummary {
    /// Resources added.
    pub added: u32,
    /// Resources changed.
    pub changed: u32,
    /// Resources destroyed.
    pub destroyed: u32,
}

/// What can go wrong in a driver. `error.rs` decides which of these are retryable.
#[derive(Debug, thiserror::Error)]
pub enum IacError {
    /// The saved plan no longer matches the workspace state: re-plan and re-gate.
    #[error("the saved plan is stale: {0}")]
    StalePlan(String),
    /// Another run holds the workspace's state lock.
    #[error("the workspace is locked by another run: {0}")]
    Locked(String),
    /// Bad configuration that no retry can fix (missing directory, missing binary, bad stack file).
    #[error("invalid workspace: {0}")]
    Invalid(String),
    /// The tool ran and failed; retrying may help.
    #[error("{tool} {command} failed: {detail}")]
    Failed {
        /// `terraform`, `tofu` or `sim`.
        tool: String,
        /// The sub-command (`plan`, `apply`, …).
        command: String,
        /// The tool's own error text (diagnostics), trimmed.
        detail: String,
    },
    /// The operation was cancelled and the tool stopped cleanly.
    #[error("cancelled")]
    Cancelled,
    /// Local I/O failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Channels a long operation uses: resource events out, cancellation in.
pub struct Progress {
    /// Resource-level events as the tool reports them.
    pub events: mpsc::UnboundedSender<ResourceEvent>,
    /// Becomes `true` when the operation must stop (forward SIGINT, let the tool save state).
    pub cancel: watch::Receiver<bool>,
}

/// Plan-file bytes travel through history as standard base64.
/// Bytes as standard base64 in JSON (`#[serde(with = "ordo_iac::b64")]`), and optional bytes
/// (`ordo_iac::b64::option`).
pub mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as a base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Reads a base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
    }

    /// `Option<Vec<u8>>` as an optional base64 string.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serializes present bytes as base64, absent ones as `null`.
        #[allow(clippy::ref_option)] // serde's `with` passes the field by reference
        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, s),
                None => s.serialize_none(),
            }
        }

        /// Reads an optional base64 string.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            #[derive(Deserialize)]
            struct Bytes(#[serde(deserialize_with = "super::deserialize")] Vec<u8>);
            Ok(Option::<Bytes>::deserialize(d)?.map(|b| b.0))
        }
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Worker-side settings every driver needs.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// The `terraform` binary (name on `PATH` or a path).
    pub terraform_bin: PathBuf,
    /// The `tofu` binary (name on `PATH` or a path).
    pub tofu_bin: PathBuf,
    /// Ordo's data directory; the sim driver keeps its state under `<data_dir>/sim/`.
    pub data_dir: PathBuf,
    /// What a tool's environment may hold beyond its base.
    pub env: env::EnvPolicy,
}

/// Simulation knobs a run may set (the sim driver ignores nothing else; the CLI drivers ignore these).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct SimKnobs {
    /// Simulated latency per resource operation, overriding the stack file's.
    pub latency_ms: Option<u64>,
    /// Probability (0..=1) that an operation fails retryably, overriding the stack file's.
    pub failure_rate: Option<f64>,
}

impl SimKnobs {
    /// Whether no knob is set (so a step's input can leave them out).
    pub fn is_default(&self) -> bool {
        self.latency_ms.is_none() && self.failure_rate.is_none()
    }
}

/// A driver ready to run operations.
#[derive(Debug, Clone)]
pub enum Driver {
    /// `terraform` or `tofu`.
    Cli(terraform::CliDriver),
    /// The simulation.
    Sim(sim::SimDriver),
    /// `pulumi`.
    Pulumi(pulumi::PulumiDriver),
}

impl Driver {
    /// The driver for `kind`.
    pub fn new(kind: DriverKind, config: &DriverConfig, knobs: SimKnobs) -> Self {
        match kind {
            DriverKind::Terraform => Self::Cli(terraform::CliDriver::new("terraform", config.terraform_bin.clone())),
            DriverKind::Tofu => Self::Cli(terraform::CliDriver::new("tofu", config.tofu_bin.clone())),
            DriverKind::Sim => Self::Sim(sim::SimDriver::new(config.data_dir.join("sim"), knobs)),
            DriverKind::Pulumi => {
                Self::Pulumi(pulumi::PulumiDriver::new(pulumi::default_binary(), pulumi::DEFAULT_STACK))
            }
        }
    }

    /// Prepares the workspace (`terraform init`); idempotent.
    pub async fn init(&self, ws: &Workspace) -> Result<(), IacError> {
        match self {
            Self::Cli(d) => d.init(ws).await,
            Self::Sim(d) => d.init(ws).await,
            Self::Pulumi(d) => d.init(ws).await,
        }
    }

    /// Computes a plan and saves it.
    pub async fn plan(&self, ws: &Workspace) -> Result<PlanArtifact, IacError> {
        match self {
            Self::Cli(d) => d.plan(ws).await,
            Self::Sim(d) => d.plan(ws).await,
            Self::Pulumi(d) => d.plan(ws).await,
        }
    }

    /// Applies exactly the saved plan `plan_file`; `IacError::StalePlan` if the state moved on.
    pub async fn apply(&self, ws: &Workspace, plan_file: &[u8], progress: Progress) -> Result<ChangeSummary, IacError> {
        match self {
            Self::Cli(d) => d.apply(ws, plan_file, progress).await,
            Self::Sim(d) => d.apply(ws, plan_file, progress).await,
            Self::Pulumi(d) => d.apply(ws, plan_file, progress).await,
        }
    }

    /// Destroys everything the workspace manages.
    pub async fn destroy(&self, ws: &Workspace, progress: Progress) -> Result<ChangeSummary, IacError> {
        match self {
            Self::Cli(d) => d.destroy(ws, progress).await,
            Self::Sim(d) => d.destroy(ws, progress).await,
            Self::Pulumi(d) => d.destroy(ws, progress).await,
        }
    }

    /// Reads the workspace's outputs.
    pub async fn output(&self, ws: &Workspace) -> Result<Outputs, IacError> {
        match self {
            Self::Cli(d) => d.output(ws).await,
            Self::Sim(d) => d.output(ws).await,
            Self::Pulumi(d) => d.output(ws).await,
        }
    }
}

/// The value shown in place of a sensitive output.
pub const SENSITIVE_MASK: &str = "<sensitive>";

/// Replaces every sensitive output value with [`SENSITIVE_MASK`].
pub fn mask_outputs(outputs: &Outputs) -> Outputs {
    outputs
        .iter()
        .map(|(name, out)| {
            let mut out = out.clone();
            if out.sensitive {
                out.value = serde_json::Value::String(SENSITIVE_MASK.to_owned());
            }
            (name.clone(), out)
        })
        .collect()
}
