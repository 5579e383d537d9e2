//! The saved plan: what it changes, in which order, as the sim writes it into the plan file.

use super::*;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanFile {
    pub(super) sim_plan: u32,
    /// Unique per plan, as a Terraform plan file is: two runs planning the same change from the
    /// same state get distinct plans, so one run's apply is never mistaken for another's retry.
    pub(super) plan_id: String,
    pub(super) base_serial: u64,
    pub(super) dir_key: String,
    /// Changes in execution order (deletes first, then creates and updates by dependency).
    pub(super) changes: Vec<PlannedChange>,
    /// The outputs to write once every change is applied (references unresolved).
    pub(super) outputs: BTreeMap<String, StackOutput>,
    /// Run variables merged over the stack's defaults, for `${var.…}` at apply time.
    pub(super) variables: BTreeMap<String, Value>,
    pub(super) latency_ms: Option<u64>,
    pub(super) failure_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlannedChange {
    pub(super) address: String,
    #[serde(rename = "type")]
    pub(super) ty: String,
    pub(super) name: String,
    pub(super) action: Action,
    /// Configured values (references unresolved); empty for deletes.
    pub(super) values: Map<String, Value>,
    pub(super) sensitive_attributes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// References
