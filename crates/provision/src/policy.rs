//! Policy as code: Rego bundles evaluated with `regorus` on a plan, and the pure decision that
//! follows from their results.
//!
//! Conventions (conftest's): every `.rego` file in a bundle directory is loaded; each package may
//! define `deny` and `warn` rules producing messages (a set of strings, or a set of objects with a
//! `msg` field). The plan is `input.plan` (Terraform `show -json` format). A package declares its
//! enforcement level with `level := "advisory" | "soft-mandatory" | "hard-mandatory"`; without
//! it, `deny` messages are soft-mandatory and `warn` messages are always advisory.
//!
//! # Layout
//! - [`Level`], [`PolicyResult`]: what a policy said.
//! - [`PolicyBundle`]: a loaded, compiled-once set of policies; [`PolicyBundle::default_bundle`]
//!   carries seed 001's rule (an admin user on a namespace is a soft failure).
//! - [`decide`]: the pure verdict (pass / needs approval / hard fail), used by the workflow.

use serde::{Deserialize, Serialize};

/// How binding a policy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Recorded only.
    Advisory,
    /// A failure needs a human approval to proceed.
    SoftMandatory,
    /// A failure stops the run: nothing is applied.
    HardMandatory,
}

/// One message from one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// The Rego package, e.g. `ordo.admin_users`.
    pub policy: String,
    /// `deny` or `warn`.
    pub rule: String,
    /// The rule's message.
    pub message: String,
    /// The enforcement level that applies to this result.
    pub level: Level,
}

/// What the workflow does after the policy check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No mandatory failure: apply.
    Pass,
    /// A soft-mandatory failure: wait for a human decision.
    NeedsApproval,
    /// A hard-mandatory failure (or a soft one with `hard_fail_policy`): apply nothing.
    HardFail,
}

/// Policy loading and evaluation errors.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The bundle directory is missing or has no `.rego` file.
    #[error("policy bundle {path}: {reason}")]
    Bundle {
        /// The directory given.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A policy file does not parse or compile.
    #[error("invalid policy {file}: {reason}")]
    Invalid {
        /// The file name.
        file: String,
        /// The parser's message.
        reason: String,
    },
    /// Evaluation failed at run time.
    #[error("policy evaluation failed: {0}")]
    Eval(String),
}

/// The verdict for a set of results. `hard_fail_policy` (seed 001's flag) turns soft failures hard.
pub fn decide(results: &[PolicyResult], hard_fail_policy: bool) -> Verdict {
    let worst = results
        .iter()
        .filter(|r| r.level != Level::Advisory)
        .map(|r| r.level)
        .max();
    match worst {
        None => Verdict::Pass,
        Some(Level::HardMandatory) => Verdict::HardFail,
        Some(_) if hard_fail_policy => Verdict::HardFail,
        Some(_) => Verdict::NeedsApproval,
    }
}

/// A set of Rego policies, parsed once.
#[derive(Debug, Clone)]
pub struct PolicyBundle {
    /// `(file name, source)` pairs.
    files: Vec<(String, String)>,
}

impl PolicyBundle {
    /// The built-in bundle: seed 001's admin-user rule as a soft-mandatory `deny`.
    pub fn default_bundle() -> Self {
        unimplemented!("filled in by the policy work")
    }

    /// Loads and compiles every `.rego` file in `dir`; a file that does not compile is an error
    /// naming it.
    pub fn load(dir: &std::path::Path) -> Result<Self, PolicyError> {
        let _ = dir;
        unimplemented!("filled in by the policy work")
    }

    /// Evaluates every package's `deny` / `warn` against `input.plan = plan`.
    pub fn evaluate(&self, plan: &serde_json::Value) -> Result<Vec<PolicyResult>, PolicyError> {
        let _ = (plan, &self.files);
        unimplemented!("filled in by the policy work")
    }
}
