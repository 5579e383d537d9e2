//! Typed helpers for everything outside the worker (CLI, API): validate and start runs, read
//! their state, decide, re-plan, extend, list. Workflow ids are `provision-infra-<uuid>` and
//! `deprovision-infra-<uuid>`, as in seed 001.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowUpdateError};
use temporalio_client::grpc::WorkflowService as _;
use temporalio_client::{
    Client, NamespacedClient as _, WorkflowDescribeOptions, WorkflowExecuteUpdateOptions, WorkflowExecutionStatus,
    WorkflowFetchHistoryOptions, WorkflowGetResultOptions, WorkflowListOptions, WorkflowQueryOptions,
    WorkflowSignalOptions, WorkflowStartOptions,
};
use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_common::protos::temporal::api::enums::v1::ResetReapplyExcludeType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::protos::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest;
use temporalio_common::search_attributes::SearchAttributes;

use crate::lock::GIVE_BACK_ACTIVITY;
use crate::model::{
    ApplyDecision, ExtendTtl, ProvisionRequest, ProvisionResult, ProvisionState, Refusal, RefusalKind, RequestError,
    PROVISION_WORKFLOW,
};
use crate::policy::PolicyBundle;
use crate::workflows::{DeprovisionInfraWorkflow, ProvisionInfraWorkflow, PROVISION_STATUS, SCENARIO, TF_DIRECTORY};
use ordo_core::time::rfc3339;
use ordo_iac::workspace;

/// Checks what can be checked before a run starts: the directory resolves inside the IaC root
/// and the policy bundle compiles. (The worker checks again: it is the authority.)
pub fn validate(request: &ProvisionRequest, iac_root: &Path) -> Result<(), RequestError> {
    request.check()?;
    workspace::resolve(iac_root, &request.directory)
        .map_err(|e| RequestError { field: "directory".into(), reason: e.to_string() })?;
    if let Some(policy) = &request.policy {
        let dir = workspace::resolve(iac_root, policy)
            .map_err(|e| RequestError { field: "policy".into(), reason: e.to_string() })?;
        PolicyBundle::load(&dir).map_err(|e| RequestError { field: "policy".into(), reason: e.to_string() })?;
    }
    Ok(())
}

/// A run as seen from outside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunView {
    /// Workflow id.
    pub workflow_id: String,
    /// `ProvisionInfraWorkflow` or `DeprovisionInfraWorkflow`.
    pub workflow_type: String,
    /// Temporal execution status (`Running`, `Completed`, `Failed`, …).
    pub execution_status: String,
    /// The workflow's own state (from the `get_state` query, or rebuilt from visibility).
    pub state: ProvisionState,
    /// True when no worker answered the query and `state` was rebuilt from visibility: it may lag.
    pub stale: bool,
}

/// A row of `list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Workflow id.
    pub workflow_id: String,
    /// Workflow type.
    pub workflow_type: String,
    /// Temporal execution status.
    pub execution_status: String,
    /// `provisionStatus` search attribute, when the run publishes it.
    pub provision_status: Option<String>,
    /// `scenario` search attribute.
    pub scenario: Option<String>,
    /// `tfDirectory` search attribute.
    pub directory: Option<String>,
    /// Start time, RFC 3339.
    pub started_at: Option<String>,
}

/// What `describe` tells without asking a worker.
#[derive(Debug, Clone)]
pub struct Described {
    /// `ProvisionInfraWorkflow` or `DeprovisionInfraWorkflow`.
    pub workflow_type: String,
    /// Temporal execution status (`Running`, `Completed`, …).
    pub execution_status: String,
    /// The current execution's run id.
    pub run_id: String,
}

/// The execution that continues after a reset.
#[derive(Debug, Clone)]
pub struct Reset {
    /// The new run's id.
    pub run_id: String,
    /// The workflow task the run was reset to (the one that scheduled the last plan).
    pub reset_to_event_id: i64,
}

/// Filters for `list`, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `provisionStatus` equals.
    pub status: Option<String>,
    /// `scenario` equals.
    pub scenario: Option<String>,
    /// `tfDirectory` equals.
    pub directory: Option<String>,
    /// At most this many rows.
    pub limit: Option<usize>,
}

impl ListFilter {
    /// The visibility query. Values are quoted (backslashes escaped, single quotes doubled), never spliced raw.
    pub fn query(&self) -> String {
        let mut clauses =
            vec!["(WorkflowType = 'ProvisionInfraWorkflow' OR WorkflowType = 'DeprovisionInfraWorkflow')".to_owned()];
        for (attr, value) in
            [("provisionStatus", &self.status), ("scenario", &self.scenario), ("tfDirectory", &self.directory)]
        {
            if let Some(value) = value {
                clauses.push(format!("{attr} = '{}'", value.replace('\\', "\\\\").replace('\'', "''")));
            }
        }
        clauses.join(" AND ")
    }
}

/// Errors a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No such workflow.
    #[error("no run with id {0:?}")]
    NotFound(String),
    /// The run refused (an update's validator, or a reset without a plan stage): act on its kind.
    #[error("the run refused: {0}")]
    Refused(Refusal),
    /// Anything else (connection, server).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Provisioning runs on one task queue.
#[derive(Clone)]
pub struct ProvisionClient {
    client: Client,
    task_queue: String,
}

impl ProvisionClient {
    /// A client for runs on `task_queue`.
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self { client, task_queue: task_queue.into() }
    }

    /// The underlying Temporal client.
    pub fn temporal(&self) -> &Client {
        &self.client
    }

    /// Starts a provisioning run (or, with `destroy`, a destroy run); returns the workflow id.
    pub async fn start(&self, request: &ProvisionRequest, destroy: bool) -> anyhow::Result<String> {
        let input = serde_json::to_value(request)?;
        let mut attributes =
            vec![PROVISION_STATUS.value_set(String::new()), TF_DIRECTORY.value_set(request.directory.clone())];
        if let Some(scenario) = &request.scenario {
            attributes.push(SCENARIO.value_set(scenario.clone()));
        }
        let search_attributes = SearchAttributes::new(attributes);
        let prefix = if destroy { "deprovision-infra" } else { "provision-infra" };
        let id = format!("{prefix}-{}", uuid::Uuid::new_v4());
        let options =
            WorkflowStartOptions::new(self.task_queue.clone(), id.clone()).search_attributes(search_attributes).build();
        if destroy {
            self.client.start_workflow(DeprovisionInfraWorkflow::run, input, options).await?;
        } else {
            self.client.start_workflow(ProvisionInfraWorkflow::run, input, options).await?;
        }
        Ok(id)
    }

    /// The run's state: the live query when a worker answers within a few seconds, else what
    /// visibility knows, flagged stale.
    pub async fn view(&self, id: &str) -> Result<RunView, RunError> {
        let handle = self.client.get_workflow_handle::<ProvisionInfraWorkflow>(id);
        let description =
            handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| not_found_or(id, e.to_string()))?;
        let workflow_type = description.workflow_type().to_owned();
        ensure_provisioning(id, &workflow_type)?;
        let execution_status = format!("{:?}", description.status());
        let query = async {
            if workflow_type == crate::model::DEPROVISION_WORKFLOW {
                self.client
                    .get_workflow_handle::<DeprovisionInfraWorkflow>(id)
                    .query(DeprovisionInfraWorkflow::get_state, (), WorkflowQueryOptions::default())
                    .await
            } else {
                handle.query(ProvisionInfraWorkflow::get_state, (), WorkflowQueryOptions::default()).await
            }
        };
        match tokio::time::timeout(Duration::from_secs(5), query).await {
            Ok(Ok(state)) => {
                Ok(RunView { workflow_id: id.to_owned(), workflow_type, execution_status, state, stale: false })
            }
            _ => {
                let attrs = description.search_attributes();
                let state = ProvisionState {
                    status: attrs.get(&PROVISION_STATUS).unwrap_or_default(),
                    directory: attrs.get(&TF_DIRECTORY).unwrap_or_default(),
                    scenario: attrs.get(&SCENARIO),
                    ..ProvisionState::default()
                };
                Ok(RunView { workflow_id: id.to_owned(), workflow_type, execution_status, state, stale: true })
            }
        }
    }

    /// Waits for the run's result (following continue-as-new).
    pub async fn result(&self, id: &str) -> Result<ProvisionResult, RunError> {
        let handle = self.client.get_workflow_handle::<ProvisionInfraWorkflow>(id);
        handle.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| match e {
            WorkflowGetResultError::Failed(f) => {
                RunError::Other(anyhow::anyhow!("the run failed: {}", f.failure().message))
            }
            other => RunError::Other(anyhow::anyhow!("the run did not complete: {other}")),
        })
    }

    /// Approves or rejects: through the update (validated; a refusal comes back as
    /// [`RunError::Refused`]) or, with `via_signal`, seed 001's fire-and-forget signal.
    pub async fn decide(&self, id: &str, decision: ApplyDecision, via_signal: bool) -> Result<(), RunError> {
        self.describe(id).await?;
        let handle = self.client.get_workflow_handle::<ProvisionInfraWorkflow>(id);
        if via_signal {
            return handle
                .signal(ProvisionInfraWorkflow::signal_apply_decision, decision, WorkflowSignalOptions::default())
                .await
                .map_err(|e| not_found_or(id, e.to_string()));
        }
        handle
            .execute_update(
                ProvisionInfraWorkflow::update_apply_decision,
                decision,
                WorkflowExecuteUpdateOptions::default(),
            )
            .await
            .map(|_| ())
            .map_err(|e| update_error(id, e))
    }

    /// Asks for a fresh plan (continue-as-new with the same input).
    pub async fn replan(&self, id: &str) -> Result<(), RunError> {
        self.describe(id).await?;
        self.client
            .get_workflow_handle::<ProvisionInfraWorkflow>(id)
            .signal(ProvisionInfraWorkflow::request_continue_as_new, (), WorkflowSignalOptions::default())
            .await
            .map_err(|e| not_found_or(id, e.to_string()))
    }

    /// Pushes an ephemeral run's destroy out by `seconds`; returns the new deadline.
    pub async fn extend_ttl(&self, id: &str, seconds: u64) -> Result<String, RunError> {
        self.describe(id).await?;
        self.client
            .get_workflow_handle::<ProvisionInfraWorkflow>(id)
            .execute_update(
                ProvisionInfraWorkflow::extend_ttl,
                ExtendTtl { seconds },
                WorkflowExecuteUpdateOptions::default(),
            )
            .await
            .map_err(|e| update_error(id, e))
    }

    /// What Temporal knows of the run's current execution, without asking a worker.
    pub async fn describe(&self, id: &str) -> Result<Described, RunError> {
        let description = self
            .client
            .get_workflow_handle::<ProvisionInfraWorkflow>(id)
            .describe(WorkflowDescribeOptions::default())
            .await
            .map_err(|e| not_found_or(id, e.to_string()))?;
        let run_id = description
            .raw()
            .workflow_execution_info
            .as_ref()
            .and_then(|i| i.execution.as_ref())
            .map(|e| e.run_id.clone())
            .unwrap_or_default();
        ensure_provisioning(id, description.workflow_type())?;
        Ok(Described {
            workflow_type: description.workflow_type().to_owned(),
            execution_status: execution_status_name(description.status()),
            run_id,
        })
    }

    /// Resets a provisioning run to its plan stage: the current execution is terminated and a new
    /// one re-plans from the workflow task that scheduled the last plan. Earlier decisions and
    /// re-plan requests are not re-applied, so the new plan needs a new approval. `reason` and
    /// `identity` are recorded in the history. Refused ([`RefusalKind::NoPlanStage`]) for destroy
    /// runs and runs that never planned. In a `local-init` run that task also took the workspace:
    /// the new execution asks its lock again, which grants it to the holder it already names.
    #[tracing::instrument(skip_all, fields(workflow_id = id))]
    pub async fn reset(&self, id: &str, reason: &str, identity: &str) -> Result<Reset, RunError> {
        let described = self.describe(id).await?;
        if described.workflow_type != PROVISION_WORKFLOW {
            let message = "only provisioning runs have a plan stage";
            return Err(RunError::Refused(Refusal::new(RefusalKind::NoPlanStage, message)));
        }
        let events = self
            .client
            .get_workflow_handle::<ProvisionInfraWorkflow>(id)
            .fetch_history(WorkflowFetchHistoryOptions::default())
            .into_events()
            .await
            .map_err(|e| anyhow::anyhow!("fetching the history of {id}: {e}"))?;
        let reset_to = events
            .iter()
            .rev()
            .find_map(|e| match &e.attributes {
                Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                    if a.activity_type.as_ref().is_some_and(|t| t.name == "terraform_plan") =>
                {
                    Some(a.workflow_task_completed_event_id)
                }
                _ => None,
            })
            .ok_or_else(|| {
                let message = "the run has not reached its plan stage yet";
                RunError::Refused(Refusal::new(RefusalKind::NoPlanStage, message))
            })?;
        // Past the reset point the run gave its workspace back (it applied, or ended): the lock
        // is not reset with it, so a reset run would plan and apply without holding it.
        // By signal, or (`light-run`) by the local activity whose marker names it.
        let released = events.iter().any(|e| {
            e.event_id > reset_to
                && match &e.attributes {
                    Some(Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(a)) => {
                        a.signal_name == "release_workspace"
                    }
                    Some(Attributes::MarkerRecordedEventAttributes(m)) => m.details.get("data").is_some_and(|d| {
                        d.payloads.iter().any(|p| String::from_utf8_lossy(&p.data).contains(GIVE_BACK_ACTIVITY))
                    }),
                    _ => false,
                }
        });
        if released {
            let message = "the run has already given its workspace back (it applied or ended); \
                           start a new run to plan again";
            return Err(RunError::Refused(Refusal::new(RefusalKind::WorkspaceReleased, message)));
        }
        let response = self
            .client
            .clone()
            .reset_workflow_execution(temporalio_client::tonic::Request::new(ResetWorkflowExecutionRequest {
                namespace: self.client.namespace(),
                workflow_execution: Some(WorkflowExecution { workflow_id: id.to_owned(), run_id: described.run_id }),
                reason: reason.to_owned(),
                workflow_task_finish_event_id: reset_to,
                request_id: uuid::Uuid::new_v4().to_string(),
                reset_reapply_exclude_types: vec![
                    ResetReapplyExcludeType::Signal as i32,
                    ResetReapplyExcludeType::Update as i32,
                ],
                identity: identity.to_owned(),
                ..Default::default()
            }))
            .await
            .map_err(|status| anyhow::anyhow!("resetting {id}: {status}"))?
            .into_inner();
        Ok(Reset { run_id: response.run_id, reset_to_event_id: reset_to })
    }

    /// Runs matching `filter`, newest first.
    pub async fn list(&self, filter: &ListFilter) -> anyhow::Result<Vec<RunSummary>> {
        let options = WorkflowListOptions::builder().maybe_limit(filter.limit).build();
        let mut stream = self.client.list_workflows(filter.query(), options);
        let mut rows = Vec::new();
        while let Some(execution) = stream.next().await {
            let execution = execution?;
            let attrs = execution.search_attributes();
            rows.push(RunSummary {
                workflow_id: execution.id().to_owned(),
                workflow_type: execution.workflow_type().to_owned(),
                execution_status: execution_status_name(execution.status()),
                provision_status: attrs.get(&PROVISION_STATUS).filter(|s| !s.is_empty()),
                scenario: attrs.get(&SCENARIO),
                directory: attrs.get(&TF_DIRECTORY),
                started_at: execution.start_time().map(rfc3339),
            });
        }
        Ok(rows)
    }
}

fn execution_status_name(status: WorkflowExecutionStatus) -> String {
    format!("{status:?}")
}

/// Another domain's workflow (an order, a release) is not a run: the same id space, not the same
/// thing, so provisioning calls on it are a "not found", never a confused answer.
fn ensure_provisioning(id: &str, workflow_type: &str) -> Result<(), RunError> {
    if workflow_type == PROVISION_WORKFLOW || workflow_type == crate::model::DEPROVISION_WORKFLOW {
        Ok(())
    } else {
        Err(RunError::NotFound(id.to_owned()))
    }
}

fn not_found_or(id: &str, message: String) -> RunError {
    if ordo_core::errors::is_not_found(&message) {
        RunError::NotFound(id.to_owned())
    } else {
        RunError::Other(anyhow::anyhow!(message))
    }
}

fn update_error(id: &str, err: WorkflowUpdateError) -> RunError {
    match err {
        WorkflowUpdateError::Failed(failure) => match Refusal::from_message(&failure.message) {
            Some(refusal) => RunError::Refused(refusal),
            None => RunError::Other(anyhow::anyhow!("the update failed: {}", failure.message)),
        },
        WorkflowUpdateError::NotFound(_) => RunError::NotFound(id.to_owned()),
        other => not_found_or(id, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Filter values cannot break out of their quotes.
    #[test]
    fn filter_values_are_escaped() {
        let filter = ListFilter { status: Some(r"a\' OR 'x'='x".into()), ..ListFilter::default() };
        assert!(filter.query().ends_with(r"provisionStatus = 'a\\'' OR ''x''=''x'"), "{}", filter.query());
    }
}
