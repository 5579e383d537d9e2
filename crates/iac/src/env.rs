//! The environment a tool runs in: chosen by Ordo, never inherited wholesale.
//!
//! A tool process starts from an empty environment plus:
//! - from the worker's own environment, only what a tool needs to run ([`BASE`]: `PATH`, `HOME`,
//!   locale, proxies, CA certificates) and the tool's own settings the operator gave the worker
//!   (`TF_*`, `PULUMI_*`) — never the worker's secrets (codec keys, Temporal API keys, `ORDO_*`);
//! - names the operator allows (`--iac-allow-env`, e.g. `AWS_*`), from the worker's environment;
//! - the run's `env_vars`, but only names matching [`REQUEST_ALLOWED`] or the operator's list. Names
//!   that change which binary runs or how ([`NEVER`]: `PATH`, `LD_PRELOAD`, `TF_CLI_ARGS`, …) are
//!   refused from requests whatever the operator allows.

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::IacError;

/// Names inherited from the worker's environment (a trailing `*` is a prefix).
pub const BASE: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_*",
    "TZ",
    "USER",
    "LOGNAME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "TF_*",
    "PULUMI_*",
];

/// Names a run's `env_vars` may always set: Terraform input variables, and the Temporal Cloud
/// provider's key (seed 001 passes it this way).
pub const REQUEST_ALLOWED: &[&str] = &["TF_VAR_*", "TEMPORAL_CLOUD_API_KEY"];

/// Names a run may never set: they choose the binary, inject code or arguments, or redirect the
/// tool's configuration, state or logs.
pub const NEVER: &[&str] = &[
    "PATH",
    "HOME",
    "LD_*",
    "DYLD_*",
    "TF_CLI_ARGS*",
    "TF_CLI_CONFIG_FILE",
    "TERRAFORM_CONFIG",
    "TF_LOG*",
    "TF_DATA_DIR",
    "TF_PLUGIN_CACHE_DIR",
    "TF_IN_AUTOMATION",
    "TF_INPUT",
    "PULUMI_HOME",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE*",
    "SSL_CERT_*",
    "*_PROXY",
    "*_proxy",
];

/// Whether `name` matches `pattern` (exact, `PREFIX*` or `*SUFFIX`).
fn matches(pattern: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        name.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        name.ends_with(suffix)
    } else {
        pattern == name
    }
}

fn any(patterns: &[impl AsRef<str>], name: &str) -> bool {
    patterns.iter().any(|p| matches(p.as_ref(), name))
}

/// Whether a run may never set `name` (checked where requests are parsed, before anything starts).
pub fn never_allowed(name: &str) -> bool {
    any(NEVER, name)
}

/// What the worker lets into a tool's environment.
#[derive(Debug, Clone, Default)]
pub struct EnvPolicy {
    /// Names (or `PREFIX*`) the operator allows, from the worker's environment and from runs.
    allowed: Vec<String>,
}

impl EnvPolicy {
    /// A policy allowing `names` beyond the defaults. A name a run may never set is refused here
    /// too, so a typo cannot open `PATH`.
    pub fn new(names: &[String]) -> Result<Self, String> {
        for name in names {
            let bare = name.trim_end_matches('*');
            if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{name:?} is not a variable name (letters, digits, `_`, a trailing `*`)"));
            }
            if never_allowed(bare) || NEVER.contains(&name.as_str()) {
                return Err(format!("{name:?} can change which tool runs or how; it is never passed to a tool"));
            }
        }
        Ok(Self { allowed: names.to_vec() })
    }

    /// The names of `requested` this worker refuses, sorted.
    pub fn refused<'a>(&self, requested: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
        let mut refused: Vec<&str> = requested
            .into_iter()
            .map(String::as_str)
            .filter(|name| never_allowed(name) || !(any(REQUEST_ALLOWED, name) || any(&self.allowed, name)))
            .collect();
        refused.sort_unstable();
        refused
    }

    /// The variables a tool gets beyond [`BASE`]: the operator-allowed ones the worker has, then
    /// the run's (which must all be allowed).
    pub fn tool_env(&self, requested: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, IacError> {
        let refused = self.refused(requested.keys());
        if !refused.is_empty() {
            return Err(IacError::Invalid(format!(
                "env_vars: {} not allowed; a tool gets TF_VAR_*, TEMPORAL_CLOUD_API_KEY and what the worker \
                 allows (--iac-allow-env)",
                refused.join(", ")
            )));
        }
        let mut env: BTreeMap<String, String> =
            std::env::vars().filter(|(name, _)| any(&self.allowed, name) && !never_allowed(name)).collect();
        env.extend(requested.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(env)
    }
}

/// The part of `worker_env` a tool inherits ([`BASE`]).
pub(crate) fn inherited(worker_env: impl Iterator<Item = (OsString, OsString)>) -> Vec<(OsString, OsString)> {
    worker_env.filter(|(name, _)| name.to_str().is_some_and(|n| any(BASE, n))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run may set Terraform variables and the Cloud key, and what the operator allows; never
    /// `PATH`, `LD_PRELOAD`, `TF_CLI_ARGS*` or the worker's own secrets — each refused by name.
    #[test]
    fn a_run_sets_only_allowed_names_and_refusals_name_them() {
        let policy = EnvPolicy::new(&["AWS_*".to_owned()]).unwrap();
        let requested: BTreeMap<String, String> = [
            ("TF_VAR_prefix", "demo"),
            ("TEMPORAL_CLOUD_API_KEY", "k"),
            ("AWS_REGION", "eu-west-1"),
            ("PATH", "/tmp/evil"),
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("TF_CLI_ARGS_apply", "-auto-approve"),
            ("ORDO_CODEC_KEY", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let err = policy.tool_env(&requested).unwrap_err().to_string();
        assert!(err.contains("LD_PRELOAD, ORDO_CODEC_KEY, PATH, TF_CLI_ARGS_apply not allowed"), "{err}");
        let fine: BTreeMap<String, String> = requested
            .into_iter()
            .filter(|(k, _)| k.starts_with("TF_VAR") || k.starts_with("AWS") || k.starts_with("TEMPORAL"))
            .collect();
        let env = policy.tool_env(&fine).unwrap();
        assert_eq!(env.get("AWS_REGION").map(String::as_str), Some("eu-west-1"));
        assert!(EnvPolicy::default().tool_env(&fine).is_err(), "AWS_* is not allowed by default");
    }

    /// The operator cannot open a name that changes which tool runs.
    #[test]
    fn the_operator_cannot_allow_path_or_preloads() {
        for bad in ["PATH", "LD_*", "LD_PRELOAD", "TF_CLI_ARGS", "a-b", "*"] {
            assert!(EnvPolicy::new(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    /// A tool inherits what it needs to run and its own settings, not the worker's secrets.
    #[test]
    fn the_worker_passes_on_only_the_base_environment() {
        let worker = [
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("TF_PLUGIN_CACHE_DIR", "/cache"),
            ("LC_ALL", "C"),
            ("ORDO_CODEC_KEY", "secret"),
            ("TEMPORAL_CLOUD_API_KEY", "secret"),
            ("ENCRYPT_PAYLOADS", "true"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let names: Vec<String> =
            inherited(worker.into_iter()).into_iter().map(|(k, _)| k.into_string().unwrap()).collect();
        assert_eq!(names, ["PATH", "HOME", "TF_PLUGIN_CACHE_DIR", "LC_ALL"]);
    }
}
