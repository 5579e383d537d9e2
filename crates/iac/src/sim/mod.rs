//! The `sim` driver: a simulation of a cloud provider, not a test double.
//!
//! A workspace describes its infrastructure in `stack.json` (resources with attribute values and
//! outputs); the driver plans it against simulated state kept under Ordo's data directory and
//! "applies" it resource by resource with configurable latency and failure rate, so the whole
//! workflow (plan, policy, approval, apply, retries, cancellation, destroy) runs without a cloud
//! account or network access.
//!
//! # Layout
//! - this module: the driver (init, plan, apply, destroy, output) and its runtime knobs.
//! - `stack`: the stack file and its variables; `expr`: references, masking, dependency order.
//! - `plan`: the saved plan file; `state`: simulated state and its lock; `render`: the plan text.
//!
//! # Stack file
//! ```json
//! {
//!   "description": "…", "latency_ms": 200, "failure_rate": 0.0,
//!   "variables": {"prefix": {"default": "ordo"}},
//!   "resources": [{"type": "temporalcloud_namespace", "name": "demo",
//!                  "values": {"name": "${var.prefix}-demo"}, "sensitive_attributes": []}],
//!   "outputs": {"namespace_id": {"value": "${temporalcloud_namespace.demo.id}", "sensitive": false}}
//! }
//! ```
//! Strings may reference `${var.NAME}` (a run variable, else the stack's default) and
//! `${TYPE.NAME.ATTR}` (another resource's attribute, including the generated `id`). A string that
//! is exactly one reference takes the referenced value with its JSON type; references inside a
//! longer string are interpolated. Resources are applied in dependency order.
//!
//! # State
//! `<state_root>/<first 16 hex of sha256(dir)>/state.json`, replaced atomically (write + rename)
//! after every resource, so a killed worker loses at most the resource in flight. A `lock` file next
//! to it is `flock`ed during apply and destroy: the OS releases it when the process dies, so a crash
//! never leaves a stale lock behind.
//!
//! # Plans and idempotence
//! The plan file is JSON (`sim_plan`, `base_serial`, `dir_key`, `changes`, …) and, like a Terraform
//! saved plan, is applied exactly as planned whatever the stack file says by then. The state
//! remembers, per plan hash, which addresses that plan already applied: a retried apply (after a
//! crash, a simulated failure or a cancellation) continues where the earlier attempt stopped instead
//! of applying anything twice, and re-running a completed plan changes nothing. Any other state
//! change since the plan was made makes it stale. `apply_count` / `total_applies` only grow when a
//! resource is really applied, which is what tests and chaos runs check. The plan's hash is also
//! each change's idempotency token (as a cloud API's client token): a worker that dies after a
//! change's effect (its line in the effects journal) but before the state is saved leaves the line,
//! and the retry records that change in the state without making it again.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::files::write_atomic;

mod expr;
mod plan;
mod render;
mod stack;
mod state;

use expr::*;
use plan::*;
use render::*;
use serde_json::{json, Map, Value};
use stack::*;
use state::*;
use tokio::sync::{mpsc, watch};

use super::{
    sha256_hex, ChangeSummary, IacError, OutputValue, Outputs, PlanArtifact, PlanSummary, Progress, ResourceEvent,
    SimKnobs, Workspace,
};

/// The stack file inside a workspace directory.
const STACK_FILE: &str = "stack.json";
/// The provider name the plan document reports for every simulated resource.
const PROVIDER: &str = "registry.ordo.dev/sim/sim";
/// Plan file format version.
const PLAN_VERSION: u32 = 1;
/// Latency when neither the stack nor the knobs say (destroy without a stack file).
const DEFAULT_LATENCY_MS: u64 = 200;
/// How many applied-plan records the state keeps (older ones can no longer be retried anyway:
/// the state has moved on).
const APPLIED_PLANS_KEPT: usize = 32;

/// The simulation driver.
#[derive(Debug, Clone)]
pub struct SimDriver {
    state_root: PathBuf,
    knobs: SimKnobs,
}

/// A short view of a workspace's simulated state, for tests and chaos reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStateSummary {
    /// State serial: grows with every state write.
    pub serial: u64,
    /// Number of resources in the state.
    pub resources: usize,
    /// Resource operations (create, update, delete) really performed by applies, ever.
    pub total_applies: u64,
    /// Resource deletions really performed by destroys, ever.
    pub total_destroys: u64,
    /// Per resource now in the state: how many times an apply created or updated it.
    pub apply_counts: BTreeMap<String, u64>,
}

/// Reads the simulated state of workspace `dir` under `state_root` (the driver's state root, i.e.
/// `<data_dir>/sim`). A workspace that was never applied has an empty state.
pub fn state_summary(state_root: &Path, dir: &Path) -> Result<SimStateSummary, IacError> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let path = state_root.join(dir_key(&dir)).join("state.json");
    let state = match std::fs::read(&path) {
        Ok(bytes) => parse_state(&path, &bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SimState::default(),
        Err(e) => return Err(e.into()),
    };
    Ok(SimStateSummary {
        serial: state.serial,
        resources: state.resources.len(),
        total_applies: state.total_applies,
        total_destroys: state.total_destroys,
        apply_counts: state.resources.iter().map(|(a, r)| (a.clone(), r.apply_count)).collect(),
    })
}

/// One line of a workspace's effects journal: an apply about to create, update or delete a
/// resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimEffect {
    /// `create`, `update` or `delete`.
    pub action: String,
    /// The resource address.
    pub address: String,
    /// The plan's hash.
    pub plan: String,
}

/// Reads the effects journal of workspace `dir` under `state_root` (see [`state_summary`]): every
/// resource operation an apply made, in order, written before the operation and kept apart from
/// the state, so a double apply shows even if the state does not count it.
pub fn effects(state_root: &Path, dir: &Path) -> Result<Vec<SimEffect>, IacError> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let path = state_root.join(dir_key(&dir)).join("effects.log");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|e| IacError::Invalid(format!("{}: a line that is not an effect: {e}", path.display())))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Stack file

/// A uniform number in [0, 1) from a fresh v4 UUID (no extra dependency for a dice roll).
fn roll() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() >> 75; // 53 random bits
    bits as f64 / (1u64 << 53) as f64
}

/// Sleeps `latency`; returns `true` as soon as cancellation is requested.
async fn pause(latency: Duration, cancel: &mut watch::Receiver<bool>) -> bool {
    if *cancel.borrow_and_update() {
        return true;
    }
    let sleep = tokio::time::sleep(latency);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return *cancel.borrow(),
            changed = cancel.changed() => match changed {
                Ok(()) => {
                    if *cancel.borrow_and_update() {
                        return true;
                    }
                }
                // Nobody can cancel any more: just finish the sleep.
                Err(_) => {
                    (&mut sleep).await;
                    return false;
                }
            },
        }
    }
}

fn send(events: &mpsc::UnboundedSender<ResourceEvent>, address: &str, action: Action, state: &str) {
    // A dropped receiver only means nobody is listening any more; the operation goes on.
    let _ = events.send(ResourceEvent {
        address: address.to_owned(),
        action: action.as_str().to_owned(),
        state: state.to_owned(),
    });
}

fn sim_failure(command: &str, detail: String) -> IacError {
    IacError::Failed { tool: "sim".to_owned(), command: command.to_owned(), detail }
}

// ---------------------------------------------------------------------------------------------
// Human-readable plan text

impl SimDriver {
    /// A simulation driver keeping state under `state_root` (`<data_dir>/sim`); `knobs` override the
    /// stack file's latency and failure rate.
    pub fn new(state_root: PathBuf, knobs: SimKnobs) -> Self {
        Self { state_root, knobs }
    }

    fn files(&self, ws: &Workspace) -> StateFiles {
        let key = dir_key(&ws.dir);
        StateFiles { dir: self.state_root.join(&key), key }
    }

    fn latency(&self, stack_latency: Option<u64>) -> Duration {
        Duration::from_millis(self.knobs.latency_ms.or(stack_latency).unwrap_or(DEFAULT_LATENCY_MS))
    }

    fn failure_rate(&self, stack_rate: Option<f64>) -> f64 {
        self.knobs.failure_rate.or(stack_rate).unwrap_or(0.0).clamp(0.0, 1.0)
    }

    async fn check_dir(ws: &Workspace) -> Result<(), IacError> {
        match tokio::fs::metadata(&ws.dir).await {
            Ok(m) if m.is_dir() => Ok(()),
            _ => Err(IacError::Invalid(format!("workspace directory {} does not exist", ws.dir.display()))),
        }
    }

    /// Checks the workspace and its stack file (nothing to download in a simulation).
    pub async fn init(&self, ws: &Workspace) -> Result<(), IacError> {
        Self::check_dir(ws).await?;
        let stack = load_stack(ws).await?;
        // Resolve the dependency graph now so a broken stack fails at init, not after approval.
        dependency_order(&stack.resources)?;
        tracing::debug!(dir = %ws.dir.display(), resources = stack.resources.len(), "sim workspace ready");
        Ok(())
    }

    /// Diffs the stack file against the simulated state.
    pub async fn plan(&self, ws: &Workspace) -> Result<PlanArtifact, IacError> {
        Self::check_dir(ws).await?;
        let stack = load_stack(ws).await?;
        let files = self.files(ws);
        let state = files.load().await?;
        let variables = merged_variables(&stack, ws);
        let ordered = dependency_order(&stack.resources)?;
        // A real plan refreshes every resource against the cloud: simulate that read, one
        // latency per declared resource (no cancellation needed: a plan changes nothing).
        let refresh = self.latency(stack.latency_ms) * u32::try_from(stack.resources.len()).unwrap_or(u32::MAX);
        tokio::time::sleep(refresh).await;

        // Planned values per address (unknown parts masked), for references between resources.
        let mut planned: BTreeMap<String, (Value, Option<Value>)> = BTreeMap::new();
        let mut resource_changes = Vec::new();
        let mut planned_resources = Vec::new();
        let mut changes = Vec::new();
        let mut summary = PlanSummary::default();
        let mut human = String::new();

        // Deletes first, dependents before their dependencies.
        let declared: BTreeSet<String> = stack.resources.iter().map(StackResource::address).collect();
        for address in destroy_order(&state.resources) {
            if declared.contains(&address) {
                continue;
            }
            let Some(prev) = state.resources.get(&address) else { continue };
            summary.delete += 1;
            let lines: Vec<AttrLine> = prev
                .values
                .iter()
                .map(|(k, v)| ('-', k.clone(), format!("{} -> null", shown(k, v, None, &prev.sensitive_attributes))))
                .collect();
            render_resource(&mut human, &prev.ty, &prev.name, "delete", &lines);
            resource_changes.push(json!({
                "address": address, "mode": "managed", "type": prev.ty, "name": prev.name, "provider_name": PROVIDER,
                "change": {"actions": ["delete"], "before": prev.values, "after": null, "after_unknown": {},
                           "before_sensitive": {}, "after_sensitive": false},
            }));
            changes.push(PlannedChange {
                address,
                ty: prev.ty.clone(),
                name: prev.name.clone(),
                action: Action::Delete,
                values: Map::new(),
                sensitive_attributes: prev.sensitive_attributes.clone(),
            });
        }

        for (resource, _deps) in &ordered {
            let address = resource.address();
            let (after, mask) =
                resolve(&Value::Object(resource.values.clone()), &|r| lookup_in(r, &variables, &planned))?;
            let Value::Object(mut after) = after else { continue };
            let mut mask = match mask {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let prev = state.resources.get(&address);
            let action = match prev {
                None => {
                    mask.insert("id".to_owned(), Value::Bool(true));
                    Some(Action::Create)
                }
                Some(prev) => {
                    if let Some(id) = prev.values.get("id") {
                        after.insert("id".to_owned(), id.clone());
                    }
                    (!mask.is_empty() || after != prev.values).then_some(Action::Update)
                }
            };
            let actions = match action {
                Some(a) => a.as_str(),
                None => "no-op",
            };
            match action {
                Some(Action::Create) => summary.create += 1,
                Some(Action::Update) => summary.update += 1,
                _ => summary.no_op += 1,
            }
            let sensitive_after: Map<String, Value> =
                resource.sensitive_attributes.iter().map(|a| (a.clone(), Value::Bool(true))).collect();
            resource_changes.push(json!({
                "address": address, "mode": "managed", "type": resource.ty, "name": resource.name,
                "provider_name": PROVIDER,
                "change": {"actions": [actions], "before": prev.map(|p| Value::Object(p.values.clone())),
                           "after": after, "after_unknown": mask, "before_sensitive": if prev.is_some() { json!({}) } else { json!(false) },
                           "after_sensitive": sensitive_after},
            }));
            planned_resources.push(json!({
                "address": address, "mode": "managed", "type": resource.ty, "name": resource.name,
                "provider_name": PROVIDER, "schema_version": 0, "values": after, "sensitive_values": sensitive_after,
            }));
            if let Some(action) = action {
                let mut lines = Vec::new();
                let mut keys: BTreeSet<&String> = after.keys().collect();
                keys.extend(mask.keys());
                for k in keys {
                    let unknown = mask.get(k).is_some_and(|m| m != &Value::Bool(false));
                    let value = after.get(k).unwrap_or(&Value::Null);
                    let before = prev.and_then(|p| p.values.get(k));
                    let now = shown(k, value, mask.get(k), &resource.sensitive_attributes);
                    match (action, before) {
                        (Action::Update, Some(b)) if b == value && !unknown => {}
                        (Action::Update, Some(b)) => {
                            let was = shown(k, b, None, &resource.sensitive_attributes);
                            lines.push(('~', k.clone(), format!("{was} -> {now}")));
                        }
                        _ => lines.push(('+', k.clone(), now)),
                    }
                }
                render_resource(&mut human, &resource.ty, &resource.name, action.as_str(), &lines);
                changes.push(PlannedChange {
                    address: address.clone(),
                    ty: resource.ty.clone(),
                    name: resource.name.clone(),
                    action,
                    values: resource.values.clone(),
                    sensitive_attributes: resource.sensitive_attributes.clone(),
                });
            }
            planned.insert(address, (Value::Object(after), (!mask.is_empty()).then_some(Value::Object(mask))));
        }

        // Outputs.
        let mut output_changes = Map::new();
        let mut planned_outputs = Map::new();
        let mut output_lines: Vec<AttrLine> = Vec::new();
        for (name, out) in &stack.outputs {
            let (value, mask) = resolve(&out.value, &|r| lookup_in(r, &variables, &planned))?;
            let unknown = mask.is_some();
            let before = state.outputs.get(name);
            let action = match before {
                None => "create",
                Some(b) if !unknown && b.value == value && b.sensitive == out.sensitive => "no-op",
                Some(_) => "update",
            };
            output_changes.insert(
                name.clone(),
                json!({"actions": [action], "before": before.map(|b| b.value.clone()),
                       "after": if unknown { Value::Null } else { value.clone() }, "after_unknown": unknown,
                       "before_sensitive": before.is_some_and(|b| b.sensitive), "after_sensitive": out.sensitive}),
            );
            let mut planned_output = json!({"sensitive": out.sensitive});
            if !unknown {
                planned_output["value"] = value.clone();
            }
            planned_outputs.insert(name.clone(), planned_output);
            if action != "no-op" {
                let symbol = if action == "create" { '+' } else { '~' };
                let text = if out.sensitive {
                    "(sensitive value)".to_owned()
                } else if unknown {
                    "(known after apply)".to_owned()
                } else {
                    attr_text(&value)
                };
                output_lines.push((symbol, name.clone(), text));
            }
        }
        for (name, before) in &state.outputs {
            if !stack.outputs.contains_key(name) {
                output_changes.insert(
                    name.clone(),
                    json!({"actions": ["delete"], "before": before.value, "after": null, "after_unknown": false,
                           "before_sensitive": before.sensitive, "after_sensitive": false}),
                );
                let text = if before.sensitive { "(sensitive value)".to_owned() } else { attr_text(&before.value) };
                output_lines.push(('-', name.clone(), text));
            }
        }

        let plan_json = json!({
            "format_version": "0.2",
            "terraform_version": "sim",
            "planned_values": {"outputs": planned_outputs, "root_module": {"resources": planned_resources}},
            "resource_changes": resource_changes,
            "output_changes": output_changes,
        });

        let file = PlanFile {
            sim_plan: PLAN_VERSION,
            plan_id: uuid::Uuid::new_v4().to_string(),
            base_serial: state.serial,
            dir_key: files.key.clone(),
            changes,
            outputs: stack.outputs.clone(),
            variables,
            latency_ms: stack.latency_ms,
            failure_rate: stack.failure_rate,
        };
        let file_bytes = serde_json::to_vec(&file)
            .map_err(|e| IacError::Io(std::io::Error::other(format!("cannot encode the sim plan: {e}"))))?;

        let mut text = format!(
            "Ordo simulation driver: this plan is simulated, no real infrastructure is read or changed.\n{}\n",
            if stack.description.is_empty() { String::new() } else { format!("Stack: {}\n", stack.description) }
        );
        let resource_changes_count = summary.create + summary.update + summary.delete;
        if resource_changes_count == 0 && output_lines.is_empty() {
            text.push_str("No changes. Your infrastructure matches the configuration.\n");
        } else {
            if resource_changes_count > 0 {
                text.push_str("Ordo will perform the following actions:\n\n");
                text.push_str(&human);
            }
            text.push_str(&format!(
                "Plan: {} to add, {} to change, {} to destroy.\n",
                summary.create, summary.update, summary.delete
            ));
            if !output_lines.is_empty() {
                text.push_str("\nChanges to Outputs:\n");
                let width = output_lines.iter().map(|(_, k, _)| k.len()).max().unwrap_or(0);
                for (symbol, name, value) in &output_lines {
                    text.push_str(&format!("  {symbol} {name:<width$} = {value}\n"));
                }
            }
        }

        tracing::info!(
            dir = %ws.dir.display(), create = summary.create, update = summary.update, delete = summary.delete,
            base_serial = state.serial, "sim plan computed"
        );
        Ok(PlanArtifact { human: text, json: plan_json, hash: sha256_hex(&file_bytes), file: file_bytes, summary })
    }

    /// Applies exactly the saved plan, resuming a partly applied one.
    pub async fn apply(&self, ws: &Workspace, plan_file: &[u8], progress: Progress) -> Result<ChangeSummary, IacError> {
        Self::check_dir(ws).await?;
        let plan: PlanFile =
            serde_json::from_slice(plan_file).map_err(|e| IacError::Invalid(format!("not a sim plan file: {e}")))?;
        if plan.sim_plan != PLAN_VERSION {
            return Err(IacError::Invalid(format!("unsupported sim plan version {}", plan.sim_plan)));
        }
        let files = self.files(ws);
        if plan.dir_key != files.key {
            return Err(IacError::Invalid("the sim plan was made for another workspace".to_owned()));
        }
        let hash = sha256_hex(plan_file);
        let _lock = files.lock(&ws.owner)?;
        let mut state = files.load().await?;

        let done: Vec<String> = match state.applied_plans.get(&hash) {
            Some(record) if record.complete => {
                tracing::info!(plan = %hash, "sim plan already applied; nothing to do");
                return Ok(plan_summary(&plan, &record.done));
            }
            Some(record) if record.at_serial == state.serial => {
                tracing::info!(plan = %hash, done = record.done.len(), "resuming a partly applied sim plan");
                record.done.clone()
            }
            Some(record) => {
                return Err(IacError::StalePlan(format!(
                    "the simulated state changed (serial {} -> {}) since this plan was partly applied",
                    record.at_serial, state.serial
                )));
            }
            None if plan.base_serial != state.serial => {
                return Err(IacError::StalePlan(format!(
                    "the plan was made at state serial {} but the simulated state is at serial {}",
                    plan.base_serial, state.serial
                )));
            }
            None => Vec::new(),
        };
        if !state.applied_plans.contains_key(&hash) {
            state.plan_seq += 1;
            let seq = state.plan_seq;
            state
                .applied_plans
                .insert(hash.clone(), AppliedPlan { done: Vec::new(), complete: false, at_serial: state.serial, seq });
            prune_applied(&mut state);
        }

        let latency = self.latency(plan.latency_ms);
        let failure_rate = self.failure_rate(plan.failure_rate);
        let Progress { events, mut cancel } = progress;
        let done_set: BTreeSet<String> = done.into_iter().collect();

        let pending: Vec<&PlannedChange> = plan.changes.iter().filter(|c| !done_set.contains(&c.address)).collect();
        // The plan's hash is its changes' idempotency token, as a cloud API's client token: a
        // change whose effect an earlier attempt made (it died before saving the state) is not
        // made again, only recorded in the state.
        let made = if pending.is_empty() { BTreeSet::new() } else { files.effects_of(&hash)? };
        for (i, change) in pending.iter().enumerate() {
            if *cancel.borrow_and_update() {
                return Err(IacError::Cancelled);
            }
            send(&events, &change.address, change.action, "started");
            if pause(latency, &mut cancel).await {
                tracing::info!(address = %change.address, "sim apply cancelled; applied resources are saved");
                return Err(IacError::Cancelled);
            }
            if roll() < failure_rate {
                send(&events, &change.address, change.action, "errored");
                return Err(sim_failure(
                    "apply",
                    format!("simulated API failure while applying {} ({})", change.address, change.action.as_str()),
                ));
            }
            if !made.contains(&change.address) {
                files.record_effect(change.action.as_str(), &change.address, &hash)?;
            }
            match change.action {
                Action::Delete => {
                    state.resources.remove(&change.address);
                }
                Action::Create | Action::Update => {
                    let (values, deps) = resolve_for_apply(change, &plan.variables, &state)?;
                    let prev = state.resources.get(&change.address);
                    let apply_count = prev.map_or(0, |p| p.apply_count) + 1;
                    let id = prev.and_then(|p| p.values.get("id").cloned()).unwrap_or_else(|| {
                        Value::String(generated_id(&plan.dir_key, &change.address, plan.base_serial))
                    });
                    let mut values = values;
                    values.insert("id".to_owned(), id);
                    state.resources.insert(
                        change.address.clone(),
                        ResourceState {
                            ty: change.ty.clone(),
                            name: change.name.clone(),
                            values,
                            depends_on: deps,
                            sensitive_attributes: change.sensitive_attributes.clone(),
                            apply_count,
                        },
                    );
                }
            }
            state.total_applies += 1;
            record_progress(&mut state, &hash, Some(&change.address), false);
            // The last change is saved with the outputs and the plan's completion, in one write.
            if i + 1 < pending.len() {
                files.save(&mut state, Some(&hash)).await?;
                send(&events, &change.address, change.action, "complete");
            }
        }

        // Outputs last, once everything they may reference exists.
        let outputs = match plan_outputs(&plan, &state) {
            Ok(outputs) => outputs,
            Err(e) => {
                // Keep what was applied: a retry must not apply the last change again.
                if !pending.is_empty() {
                    files.save(&mut state, Some(&hash)).await?;
                }
                return Err(e);
            }
        };
        let outputs_changed = outputs != state.outputs;
        state.outputs = outputs;
        record_progress(&mut state, &hash, None, true);
        if outputs_changed || !pending.is_empty() {
            files.save(&mut state, Some(&hash)).await?;
        }
        if let Some(last) = pending.last() {
            send(&events, &last.address, last.action, "complete");
        }

        let all_done = state.applied_plans.get(&hash).map(|r| r.done.clone()).unwrap_or_default();
        let summary = plan_summary(&plan, &all_done);
        tracing::info!(
            plan = %hash, added = summary.added, changed = summary.changed, destroyed = summary.destroyed,
            serial = state.serial, "sim apply complete"
        );
        Ok(summary)
    }

    /// Deletes every resource of the workspace and empties its outputs.
    pub async fn destroy(&self, ws: &Workspace, progress: Progress) -> Result<ChangeSummary, IacError> {
        Self::check_dir(ws).await?;
        // Latency and failure rate from the stack file when it is still there; destroying must not
        // depend on it (the stack may have been removed already).
        let (stack_latency, stack_rate) = match load_stack(ws).await {
            Ok(stack) => (stack.latency_ms, stack.failure_rate),
            Err(_) => (None, None),
        };
        let latency = self.latency(stack_latency);
        let failure_rate = self.failure_rate(stack_rate);
        let files = self.files(ws);
        let _lock = files.lock(&ws.owner)?;
        let mut state = files.load().await?;
        let Progress { events, mut cancel } = progress;
        let mut summary = ChangeSummary::default();

        for address in destroy_order(&state.resources) {
            if *cancel.borrow_and_update() {
                return Err(IacError::Cancelled);
            }
            send(&events, &address, Action::Delete, "started");
            if pause(latency, &mut cancel).await {
                tracing::info!(address = %address, "sim destroy cancelled; destroyed resources are saved");
                return Err(IacError::Cancelled);
            }
            if roll() < failure_rate {
                send(&events, &address, Action::Delete, "errored");
                return Err(sim_failure("destroy", format!("simulated API failure while destroying {address}")));
            }
            state.resources.remove(&address);
            state.total_destroys += 1;
            // Plans applied before no longer describe anything that exists: re-running one must
            // be refused as stale, not reported as already done.
            state.applied_plans.clear();
            files.save(&mut state, None).await?;
            summary.destroyed += 1;
            send(&events, &address, Action::Delete, "complete");
        }
        if !state.outputs.is_empty() {
            state.outputs.clear();
            state.applied_plans.clear();
            files.save(&mut state, None).await?;
        }
        tracing::info!(dir = %ws.dir.display(), destroyed = summary.destroyed, serial = state.serial, "sim destroy complete");
        Ok(summary)
    }

    /// The outputs as last applied.
    pub async fn output(&self, ws: &Workspace) -> Result<Outputs, IacError> {
        Self::check_dir(ws).await?;
        Ok(self.files(ws).load().await?.outputs)
    }
}

/// Resource values from the state, for references at apply time (everything is known by then).
fn state_scope(state: &SimState) -> BTreeMap<String, (Value, Option<Value>)> {
    state.resources.iter().map(|(a, r)| (a.clone(), (Value::Object(r.values.clone()), None))).collect()
}

/// Resolves a change's configured values against the live state.
fn resolve_for_apply(
    change: &PlannedChange,
    variables: &BTreeMap<String, Value>,
    state: &SimState,
) -> Result<(Map<String, Value>, Vec<String>), IacError> {
    let config = Value::Object(change.values.clone());
    let mut deps = BTreeSet::new();
    referenced_addresses(&config, &mut deps);
    let scope = state_scope(state);
    let (values, mask) = resolve(&config, &|r| lookup_in(r, variables, &scope))?;
    if mask.is_some() {
        // Cannot happen for a plan applied in order; refuse rather than store nulls.
        return Err(IacError::Invalid(format!(
            "{}: a referenced value is still unknown at apply time",
            change.address
        )));
    }
    match values {
        Value::Object(map) => Ok((map, deps.into_iter().collect())),
        _ => Err(IacError::Invalid(format!("{}: values must be an object", change.address))),
    }
}

/// A deterministic id: the same plan always generates the same ids, also when retried.
fn generated_id(dir_key: &str, address: &str, serial: u64) -> String {
    let digest = sha256_hex(format!("{dir_key}/{address}/{serial}").as_bytes());
    format!("sim-{}", &digest[..16])
}

/// The plan's outputs, resolved against `state`.
fn plan_outputs(plan: &PlanFile, state: &SimState) -> Result<Outputs, IacError> {
    let lookup_state = state_scope(state);
    let mut outputs = Outputs::new();
    for (name, out) in &plan.outputs {
        let (value, _) = resolve(&out.value, &|r| lookup_in(r, &plan.variables, &lookup_state))?;
        outputs.insert(name.clone(), OutputValue { sensitive: out.sensitive, ty: type_of(&value), value });
    }
    Ok(outputs)
}

fn record_progress(state: &mut SimState, hash: &str, address: Option<&str>, complete: bool) {
    if let Some(record) = state.applied_plans.get_mut(hash) {
        if let Some(address) = address {
            record.done.push(address.to_owned());
        }
        record.complete |= complete;
    }
}

fn prune_applied(state: &mut SimState) {
    while state.applied_plans.len() > APPLIED_PLANS_KEPT {
        let Some(oldest) = state.applied_plans.iter().min_by_key(|(_, r)| r.seq).map(|(h, _)| h.clone()) else { break };
        state.applied_plans.remove(&oldest);
    }
}

/// Counts of the plan's changes among `done`.
fn plan_summary(plan: &PlanFile, done: &[String]) -> ChangeSummary {
    let done: BTreeSet<&String> = done.iter().collect();
    let mut summary = ChangeSummary::default();
    for change in plan.changes.iter().filter(|c| done.contains(&c.address)) {
        match change.action {
            Action::Create => summary.added += 1,
            Action::Update => summary.changed += 1,
            Action::Delete => summary.destroyed += 1,
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = r#"{
      "description": "test stack",
      "latency_ms": 0,
      "variables": {"prefix": {"default": "t"}},
      "resources": [
        {"type": "sim_user", "name": "u", "values": {"ns": "${sim_ns.a.id}", "access": [{"ns_name": "${sim_ns.a.name}", "permission": "admin"}]}},
        {"type": "sim_ns", "name": "a", "values": {"name": "${var.prefix}-a", "size": 1}},
        {"type": "sim_ns", "name": "b", "values": {"name": "${var.prefix}-b"}}
      ],
      "outputs": {
        "ns_id": {"value": "${sim_ns.a.id}"},
        "endpoint": {"value": "${sim_ns.a.name}.example:7233"},
        "secret": {"value": "${sim_ns.b.name}", "sensitive": true}
      }
    }"#;

    struct Fixture {
        _root: tempfile::TempDir,
        state_root: PathBuf,
        ws: Workspace,
    }

    impl Fixture {
        fn new(stack: &str) -> Self {
            let root = tempfile::tempdir().unwrap();
            let dir = root.path().join("ws");
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join(STACK_FILE), stack).unwrap();
            let ws = Workspace {
                dir: dir.canonicalize().unwrap(),
                env: BTreeMap::new(),
                vars: BTreeMap::new(),
                owner: "wf/run".to_owned(),
            };
            Self { state_root: root.path().join("sim"), _root: root, ws }
        }

        fn driver(&self, latency_ms: u64, failure_rate: Option<f64>) -> SimDriver {
            SimDriver::new(self.state_root.clone(), SimKnobs { latency_ms: Some(latency_ms), failure_rate })
        }

        fn summary(&self) -> SimStateSummary {
            state_summary(&self.state_root, &self.ws.dir).unwrap()
        }
    }

    fn progress() -> (Progress, mpsc::UnboundedReceiver<ResourceEvent>, watch::Sender<bool>) {
        let (events, rx) = mpsc::unbounded_channel();
        let (cancel_tx, cancel) = watch::channel(false);
        (Progress { events, cancel }, rx, cancel_tx)
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<ResourceEvent>) -> Vec<ResourceEvent> {
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            out.push(e);
        }
        out
    }

    /// The full lifecycle: plan, apply (in dependency order, references resolved), a second plan
    /// that changes nothing, outputs with their sensitivity, destroy back to an empty state.
    #[tokio::test]
    async fn plan_apply_noop_destroy() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        driver.init(&fx.ws).await.unwrap();

        let plan = driver.plan(&fx.ws).await.unwrap();
        assert_eq!(plan.summary, PlanSummary { create: 3, update: 0, delete: 0, no_op: 0 });
        assert_eq!(plan.hash, sha256_hex(&plan.file));
        assert!(plan.human.starts_with("Ordo simulation driver"), "{}", plan.human);
        assert!(plan.human.contains("# sim_ns.a will be created"), "{}", plan.human);
        assert!(plan.human.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "{}", plan.human);
        assert!(
            plan.human.lines().any(|l| l.starts_with("  + secret ") && l.ends_with("= (sensitive value)")),
            "{}",
            plan.human
        );
        let user =
            plan.json["resource_changes"].as_array().unwrap().iter().find(|rc| rc["address"] == "sim_user.u").unwrap();
        assert_eq!(user["change"]["actions"], json!(["create"]));
        assert_eq!(user["change"]["after"]["access"][0]["permission"], "admin");
        assert_eq!(user["change"]["after"]["access"][0]["ns_name"], "t-a", "known at plan time");
        assert_eq!(user["change"]["after_unknown"]["ns"], true, "the id is only known after apply");
        assert_eq!(user["change"]["after_unknown"]["id"], true);
        // Like Terraform plan files, every plan is distinct, even of the same change.
        let twin = driver.plan(&fx.ws).await.unwrap();
        assert_ne!(twin.hash, plan.hash);
        assert_eq!(twin.json, plan.json);

        let (p, mut rx, _cancel) = progress();
        let changes = driver.apply(&fx.ws, &plan.file, p).await.unwrap();
        assert_eq!(changes, ChangeSummary { added: 3, changed: 0, destroyed: 0 });
        let events = drain(&mut rx);
        assert_eq!(events.len(), 6);
        let order: Vec<&str> = events.iter().filter(|e| e.state == "complete").map(|e| e.address.as_str()).collect();
        let pos = |a: &str| order.iter().position(|x| *x == a).unwrap();
        assert!(pos("sim_ns.a") < pos("sim_user.u"), "dependencies first: {order:?}");

        let outputs = driver.output(&fx.ws).await.unwrap();
        let ns_id = outputs["ns_id"].value.as_str().unwrap().to_owned();
        assert!(ns_id.starts_with("sim-"));
        assert_eq!(outputs["endpoint"].value, "t-a.example:7233");
        assert_eq!(outputs["endpoint"].ty, json!("string"));
        assert!(outputs["secret"].sensitive);
        assert!(!outputs["ns_id"].sensitive);

        let again = driver.plan(&fx.ws).await.unwrap();
        assert_eq!(again.summary, PlanSummary { create: 0, update: 0, delete: 0, no_op: 3 });
        assert!(again.human.contains("No changes."), "{}", again.human);
        assert!(again.json["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|rc| rc["change"]["actions"] == json!(["no-op"])));

        let summary = fx.summary();
        assert_eq!(summary.resources, 3);
        assert_eq!(summary.total_applies, 3);
        assert!(summary.apply_counts.values().all(|c| *c == 1));

        let (p, mut rx, _cancel) = progress();
        let destroyed = driver.destroy(&fx.ws, p).await.unwrap();
        assert_eq!(destroyed.destroyed, 3);
        let deletes: Vec<String> =
            drain(&mut rx).into_iter().filter(|e| e.state == "complete").map(|e| e.address).collect();
        let pos = |a: &str| deletes.iter().position(|x| x == a).unwrap();
        assert!(pos("sim_user.u") < pos("sim_ns.a"), "dependents are destroyed first: {deletes:?}");
        assert!(driver.output(&fx.ws).await.unwrap().is_empty());
        let summary = fx.summary();
        assert_eq!(summary.resources, 0);
        assert_eq!(summary.total_destroys, 3);

        // The plan applied before the destroy is stale now, not "already done".
        let err = driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::StalePlan(_)), "{err}");

        // After destroy, the stack plans as creates again.
        assert_eq!(driver.plan(&fx.ws).await.unwrap().summary.create, 3);
    }

    /// Updates and deletes are planned from the stack diff, and run variables override defaults.
    #[tokio::test]
    async fn updates_deletes_and_variables() {
        let mut fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        let plan = driver.plan(&fx.ws).await.unwrap();
        driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
        let id_before = driver.output(&fx.ws).await.unwrap()["ns_id"].value.clone();

        let stack = STACK
            .replace(
                r#",
        {"type": "sim_ns", "name": "b", "values": {"name": "${var.prefix}-b"}}"#,
                "",
            )
            .replace(
                r#",
        "secret": {"value": "${sim_ns.b.name}", "sensitive": true}"#,
                "",
            );
        std::fs::write(fx.ws.dir.join(STACK_FILE), stack).unwrap();
        fx.ws.vars.insert("prefix".to_owned(), json!("p"));
        fx.ws.vars.insert("undeclared".to_owned(), json!(1));
        let plan = driver.plan(&fx.ws).await.unwrap();
        assert_eq!(plan.summary, PlanSummary { create: 0, update: 2, delete: 1, no_op: 0 }, "{}", plan.human);
        assert!(plan.human.contains("~ name = \"t-a\" -> \"p-a\""), "{}", plan.human);
        assert!(plan.human.contains("# sim_ns.b will be destroyed"), "{}", plan.human);
        assert_eq!(plan.json["output_changes"]["secret"]["actions"], json!(["delete"]));

        let changes = driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
        assert_eq!(changes, ChangeSummary { added: 0, changed: 2, destroyed: 1 });
        let outputs = driver.output(&fx.ws).await.unwrap();
        assert_eq!(outputs["ns_id"].value, id_before, "an update keeps the id");
        assert_eq!(outputs["endpoint"].value, "p-a.example:7233");
        assert!(!outputs.contains_key("secret"));
        let summary = fx.summary();
        assert_eq!(summary.apply_counts["sim_ns.a"], 2);
        assert_eq!(summary.total_applies, 6);
    }

    /// A plan made before another plan was applied no longer applies.
    #[tokio::test]
    async fn stale_plan_is_refused() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        let old = driver.plan(&fx.ws).await.unwrap();
        std::fs::write(fx.ws.dir.join(STACK_FILE), STACK.replace("\"size\": 1", "\"size\": 2")).unwrap();
        let newer = driver.plan(&fx.ws).await.unwrap();
        assert_ne!(old.hash, newer.hash);
        driver.apply(&fx.ws, &newer.file, progress().0).await.unwrap();

        let err = driver.apply(&fx.ws, &old.file, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::StalePlan(_)), "{err}");
        assert_eq!(fx.summary().total_applies, 3);
        // Re-running the plan that was applied is a success that changes nothing.
        let again = driver.apply(&fx.ws, &newer.file, progress().0).await.unwrap();
        assert_eq!(again.added, 3);
        assert_eq!(fx.summary().total_applies, 3);
    }

    /// With a failure rate of 1 every apply fails retryably before touching anything.
    #[tokio::test]
    async fn failure_rate_one_fails_before_applying() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, Some(1.0));
        let plan = driver.plan(&fx.ws).await.unwrap();
        for _ in 0..3 {
            let (p, mut rx, _cancel) = progress();
            let err = driver.apply(&fx.ws, &plan.file, p).await.unwrap_err();
            assert!(
                matches!(&err, IacError::Failed { tool, command, .. } if tool == "sim" && command == "apply"),
                "{err}"
            );
            assert!(drain(&mut rx).iter().any(|e| e.state == "errored"));
        }
        let summary = fx.summary();
        assert_eq!(summary.total_applies, 0);
        assert_eq!(summary.resources, 0);
        assert!(driver.output(&fx.ws).await.unwrap().is_empty());

        // The same plan still applies once the failures stop.
        fx.driver(0, Some(0.0)).apply(&fx.ws, &plan.file, progress().0).await.unwrap();
        assert_eq!(fx.summary().total_applies, 3);
    }

    /// An output that cannot be resolved fails the apply after every change is made; what was
    /// applied is saved all the same, so a retry of the plan applies nothing again.
    #[tokio::test]
    async fn an_unresolvable_output_keeps_what_was_applied() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        let plan = driver.plan(&fx.ws).await.unwrap();
        let mut file: Value = serde_json::from_slice(&plan.file).unwrap();
        file["outputs"]["broken"] = serde_json::json!({"value": "${var.nobody_set_this}"});
        let file = serde_json::to_vec(&file).unwrap();

        for attempt in 1..=2 {
            let err = driver.apply(&fx.ws, &file, progress().0).await.unwrap_err();
            assert!(matches!(err, IacError::Invalid(_)), "attempt {attempt}: {err}");
            let summary = fx.summary();
            assert_eq!((summary.resources, summary.total_applies), (3, 3), "attempt {attempt}");
        }
        assert_eq!(effects(&fx.state_root, &fx.ws.dir).unwrap().len(), 3, "each resource applied once");
    }

    /// A cancelled apply keeps what it did; retrying the same plan finishes the rest without
    /// applying anything twice, and once complete it is a no-op.
    #[tokio::test]
    async fn retry_after_partial_apply_does_not_double_apply() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(150, None);
        let plan = driver.plan(&fx.ws).await.unwrap();

        let (p, mut rx, cancel) = progress();
        let task = {
            let (driver, ws, file) = (driver.clone(), fx.ws.clone(), plan.file.clone());
            tokio::spawn(async move { driver.apply(&ws, &file, p).await })
        };
        loop {
            let event = rx.recv().await.unwrap();
            if event.state == "complete" {
                break;
            }
        }
        cancel.send(true).unwrap();
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, IacError::Cancelled), "{err}");
        let partial = fx.summary();
        assert_eq!(partial.total_applies, 1);
        assert_eq!(partial.resources, 1);
        assert_eq!(effects(&fx.state_root, &fx.ws.dir).unwrap().len(), 1, "the journal has the one effect");

        // Another plan made now is based on the partial state; the old plan still resumes.
        let (p, mut rx, _cancel) = progress();
        let changes = fx.driver(0, None).apply(&fx.ws, &plan.file, p).await.unwrap();
        assert_eq!(changes.added, 3, "counts cover the whole plan");
        assert_eq!(drain(&mut rx).iter().filter(|e| e.state == "complete").count(), 2, "only the rest is applied");
        let summary = fx.summary();
        assert_eq!(summary.total_applies, 3);
        assert_eq!(summary.resources, 3);
        assert_eq!(summary.serial, partial.serial + 2, "one write per resource, the last with the outputs");
        assert!(summary.apply_counts.values().all(|c| *c == 1), "{:?}", summary.apply_counts);

        let (p, mut rx, _cancel) = progress();
        fx.driver(0, None).apply(&fx.ws, &plan.file, p).await.unwrap();
        assert!(drain(&mut rx).is_empty());
        assert_eq!(fx.summary().total_applies, 3);
        assert_eq!(fx.summary().serial, summary.serial, "a completed plan re-run writes nothing");
        // The journal, kept apart from the state: each resource created once, by this plan.
        let journal = effects(&fx.state_root, &fx.ws.dir).unwrap();
        let addresses: BTreeSet<&str> = journal.iter().map(|e| e.address.as_str()).collect();
        assert_eq!((journal.len(), addresses.len()), (3, 3), "{journal:?}");
        assert!(journal.iter().all(|e| e.action == "create" && e.plan == plan.hash), "{journal:?}");
    }

    /// A worker that died between a change's effect (its journal line) and the state save: the
    /// retry finds the plan's line and does not make that change again (the plan's hash is the
    /// change's idempotency token), and completes the state.
    #[tokio::test]
    async fn a_change_made_before_a_crash_is_not_made_again() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        let plan = driver.plan(&fx.ws).await.unwrap();
        let first: PlanFile = serde_json::from_slice(&plan.file).unwrap();
        let address = first.changes[0].address.clone();
        // What the dead attempt left: its line in the journal, nothing in the state.
        driver.files(&fx.ws).record_effect("create", &address, &plan.hash).unwrap();
        assert_eq!(fx.summary().resources, 0);

        let (p, _rx, _cancel) = progress();
        driver.apply(&fx.ws, &plan.file, p).await.unwrap();
        let journal = effects(&fx.state_root, &fx.ws.dir).unwrap();
        assert_eq!(journal.iter().filter(|e| e.address == address).count(), 1, "{journal:?}");
        assert_eq!(journal.len(), 3, "each change made once: {journal:?}");
        assert_eq!(fx.summary().resources, 3);
    }

    /// A partly applied plan cannot be resumed once something else changed the state.
    #[tokio::test]
    async fn partial_plan_is_stale_after_other_changes() {
        let fx = Fixture::new(STACK);
        let plan = fx.driver(0, None).plan(&fx.ws).await.unwrap();
        let (p, mut rx, cancel) = progress();
        let task = {
            let (driver, ws, file) = (fx.driver(150, None), fx.ws.clone(), plan.file.clone());
            tokio::spawn(async move { driver.apply(&ws, &file, p).await })
        };
        while rx.recv().await.unwrap().state != "complete" {}
        cancel.send(true).unwrap();
        assert!(matches!(task.await.unwrap(), Err(IacError::Cancelled)));
        assert_eq!(fx.summary().total_applies, 1);

        // Another plan, made and applied on top of the partial state, makes the first one stale.
        std::fs::write(fx.ws.dir.join(STACK_FILE), STACK.replace("\"size\": 1", "\"size\": 3")).unwrap();
        let other = fx.driver(0, None).plan(&fx.ws).await.unwrap();
        fx.driver(0, None).apply(&fx.ws, &other.file, progress().0).await.unwrap();
        let applies = fx.summary().total_applies;
        let err = fx.driver(0, None).apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(&err, IacError::StalePlan(m) if m.contains("partly applied")), "{err}");
        assert_eq!(fx.summary().total_applies, applies);
    }

    /// Stack files are checked strictly: unknown fields are named, broken references refused.
    #[tokio::test]
    async fn bad_stacks_are_invalid() {
        let cases = [
            (r#"{"resources": [], "latency": 5}"#, "unknown field `latency`"),
            (r#"{"resources": [{"type": "a", "name": "b", "valuez": {}}]}"#, "unknown field `valuez`"),
            (r#"{"resources": [{"type": "a", "name": "b", "values": {"x": "${c.d.id}"}}]}"#, "c.d"),
            (r#"{"resources": [{"type": "a", "name": "b", "values": {"id": "x"}}]}"#, "generated"),
            (
                r#"{"resources": [{"type": "a", "name": "b", "values": {"x": "${a.c.id}"}},
                               {"type": "a", "name": "c", "values": {"x": "${a.b.id}"}}]}"#,
                "cycle",
            ),
            (r#"{"failure_rate": 2}"#, "failure_rate"),
            (r#"{"outputs": {"o": {"value": "${var.nope}"}}}"#, "nope"),
        ];
        for (stack, expected) in cases {
            let fx = Fixture::new(stack);
            let driver = fx.driver(0, None);
            let err = match driver.init(&fx.ws).await {
                Err(e) => e,
                Ok(()) => driver.plan(&fx.ws).await.unwrap_err(),
            };
            assert!(matches!(err, IacError::Invalid(_)), "{stack}: {err}");
            assert!(err.to_string().contains(expected), "{stack}: {err}");
        }
        let fx = Fixture::new(STACK);
        std::fs::remove_file(fx.ws.dir.join(STACK_FILE)).unwrap();
        assert!(matches!(fx.driver(0, None).plan(&fx.ws).await, Err(IacError::Invalid(_))));
    }

    /// Plan files are bound to their workspace and checked.
    #[tokio::test]
    async fn foreign_or_garbage_plans_are_invalid() {
        let a = Fixture::new(STACK);
        let b = Fixture::new(STACK);
        let plan = a.driver(0, None).plan(&a.ws).await.unwrap();
        let err = b.driver(0, None).apply(&b.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::Invalid(_)), "{err}");
        let err = a.driver(0, None).apply(&a.ws, b"not a plan", progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::Invalid(_)), "{err}");
    }

    /// Two mutating operations on one workspace exclude each other.
    #[tokio::test]
    async fn concurrent_operations_are_locked() {
        let fx = Fixture::new(STACK);
        let driver = fx.driver(0, None);
        let plan = driver.plan(&fx.ws).await.unwrap();
        let _held = driver.files(&fx.ws).lock("other/run").unwrap();
        let err = driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap_err();
        assert!(matches!(&err, IacError::Locked(m) if m.contains("other/run")), "{err}");
        let err = driver.destroy(&fx.ws, progress().0).await.unwrap_err();
        assert!(matches!(err, IacError::Locked(_)), "{err}");
    }

    /// The shipped example stacks plan, and the admin-user one shows what seed 001's policy flags.
    #[tokio::test]
    async fn example_stacks_plan() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/stacks");
        for (name, creates) in [("tcloud_namespace", 2), ("tcloud_admin_user", 2)] {
            let stack = std::fs::read_to_string(examples.join(name).join(STACK_FILE)).unwrap();
            let fx = Fixture::new(&stack);
            let driver = fx.driver(0, None);
            driver.init(&fx.ws).await.unwrap();
            let plan = driver.plan(&fx.ws).await.unwrap();
            assert_eq!(plan.summary.create, creates, "{name}");
            let admin_grants = plan.json["resource_changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|rc| rc["type"] == "temporalcloud_user" && rc["change"]["actions"] == json!(["create"]))
                .flat_map(|rc| rc["change"]["after"]["namespace_accesses"].as_array().cloned().unwrap_or_default())
                .filter(|a| a["permission"] == "admin")
                .count();
            assert_eq!(admin_grants, usize::from(name == "tcloud_admin_user"), "{name}");
            assert!(!plan.human.contains("PRIVATE KEY"), "sensitive attributes are masked: {}", plan.human);

            driver.apply(&fx.ws, &plan.file, progress().0).await.unwrap();
            let outputs = driver.output(&fx.ws).await.unwrap();
            assert!(outputs["namespace_id"].value.as_str().unwrap().starts_with("sim-"), "{name}");
            if name == "tcloud_namespace" {
                assert!(outputs["terraform_test_private_key"].sensitive);
                assert!(!outputs["namespace_id"].sensitive);
            }
        }
    }
}
