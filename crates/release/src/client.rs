//! Typed helpers for everything outside the worker (CLI, API): check and start releases, read
//! their state and matrix, approve, decide the gate, pause / resume / abort, list. Workflow ids
//! are seed 003's `release-workflow:<release_key>`.

use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowUpdateError};
use temporalio_client::{
    Client, WorkflowDescribeOptions, WorkflowExecuteUpdateOptions, WorkflowExecutionDescription,
    WorkflowGetResultOptions, WorkflowListOptions, WorkflowQueryOptions, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

use crate::catalogue::Catalogue;
use crate::model::{
    deploy_workflow_id, release_workflow_id, Approval, ApprovalRecord, CellState, Control, DeployState, GateDecision,
    Matrix, ReleaseInfo, ReleaseState,
};
use crate::rules;
use crate::workflows::{DeployWorkflow, ReleaseWorkflow, RELEASE_ENVIRONMENT, RELEASE_KEY};
use ordo_core::time::rfc3339;
use ordo_core::RequestError;

/// Checks a release before it starts, as the workflow will (which stays the authority): its
/// fields, and its deploys, or those the catalogue has for its key. Returns the release with the
/// deploys it will run.
pub fn validate(release: &ReleaseInfo, catalogue: &Catalogue) -> Result<ReleaseInfo, RequestError> {
    let as_request = |r: crate::model::Rejection| RequestError::new(&r.field, format!("{}: {}", r.rule, r.message));
    rules::check_release_fields(release).map_err(as_request)?;
    let mut resolved = release.clone();
    if resolved.deploys.is_empty() {
        resolved.deploys = catalogue.deploys(&release.release_key).ok_or_else(|| {
            RequestError::new(
                "release_key",
                format!(
                    "{}: {} is not in the catalogue, and the release lists no deploys",
                    rules::rule::UNKNOWN_RELEASE,
                    release.release_key
                ),
            )
        })?;
    }
    rules::check_release(&resolved).map_err(as_request)?;
    Ok(resolved)
}

/// A release as seen from outside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseView {
    /// Workflow id.
    pub workflow_id: String,
    /// Temporal execution status (`Running`, `Completed`, …).
    pub execution_status: String,
    /// The workflow's state (`get_state`), or what visibility knows when no worker answers.
    pub state: ReleaseState,
    /// True when `state` was rebuilt from visibility and may lag.
    pub stale: bool,
}

/// A row of `list`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseSummary {
    /// Workflow id.
    pub workflow_id: String,
    /// `releaseKey`.
    pub release_key: Option<String>,
    /// `releaseEnvironment`: where it is (or got to).
    pub environment: Option<String>,
    /// Temporal execution status.
    pub execution_status: String,
    /// Start time, RFC 3339.
    pub started_at: Option<String>,
}

/// Errors a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// Bad input, naming the field; nothing was started.
    #[error(transparent)]
    Invalid(#[from] RequestError),
    /// No such release.
    #[error("no release {0:?}")]
    NotFound(String),
    /// A release with this key is running.
    #[error("release {0:?} is already running")]
    AlreadyRunning(String),
    /// The workflow refused (update validator): the message says why.
    #[error("{0}")]
    Rejected(String),
    /// Anything else (connection, server).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Releases on one task queue.
#[derive(Clone)]
pub struct ReleaseClient {
    client: Client,
    task_queue: String,
}

impl ReleaseClient {
    /// A client for releases on `task_queue`.
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self { client, task_queue: task_queue.into() }
    }

    /// The underlying Temporal client.
    pub fn temporal(&self) -> &Client {
        &self.client
    }

    /// Checks `release` against `catalogue` and starts it; returns the workflow id.
    pub async fn start(&self, release: &ReleaseInfo, catalogue: &Catalogue) -> Result<String, ReleaseError> {
        validate(release, catalogue)?;
        let id = release_workflow_id(&release.release_key);
        let input = serde_json::to_value(release).map_err(anyhow::Error::from)?;
        let options = WorkflowStartOptions::new(self.task_queue.clone(), id.clone())
            .search_attributes(SearchAttributes::new([RELEASE_KEY.value_set(release.release_key.clone())]))
            .build();
        match self.client.start_workflow(ReleaseWorkflow::run, input, options).await {
            Ok(_) => Ok(id),
            Err(e) if e.to_string().to_lowercase().contains("already") => {
                Err(ReleaseError::AlreadyRunning(release.release_key.clone()))
            }
            Err(e) => Err(ReleaseError::Other(anyhow::anyhow!(e))),
        }
    }

    /// The release's state: the live query when a worker answers within a few seconds, else what
    /// visibility knows, flagged stale.
    pub async fn view(&self, release_key: &str) -> Result<ReleaseView, ReleaseError> {
        let id = release_workflow_id(release_key);
        let handle = self.client.get_workflow_handle::<ReleaseWorkflow>(&id);
        let description = self.describe(release_key).await?;
        let execution_status = format!("{:?}", description.status());
        let query = handle.query(ReleaseWorkflow::get_state, (), WorkflowQueryOptions::default());
        match tokio::time::timeout(std::time::Duration::from_secs(5), query).await {
            Ok(Ok(mut state)) => {
                self.refine_in_flight(&mut state).await;
                Ok(ReleaseView { workflow_id: id, execution_status, state, stale: false })
            }
            _ => {
                let attrs = description.search_attributes();
                let state = ReleaseState {
                    release_key: attrs.get(&RELEASE_KEY).unwrap_or_else(|| release_key.to_owned()),
                    current_env: attrs.get(&RELEASE_ENVIRONMENT).and_then(|e| crate::model::Environment::parse(&e)),
                    ..ReleaseState::default()
                };
                Ok(ReleaseView { workflow_id: id, execution_status, state, stale: true })
            }
        }
    }

    /// The release's Temporal execution status (`Running`, `Completed`, …), without asking a
    /// worker: `NotFound` when there is no such release.
    pub async fn execution_status(&self, release_key: &str) -> Result<String, ReleaseError> {
        Ok(format!("{:?}", self.describe(release_key).await?.status()))
    }

    async fn describe(&self, release_key: &str) -> Result<WorkflowExecutionDescription, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .describe(WorkflowDescribeOptions::default())
            .await
            .map_err(|e| not_found_or(release_key, e.to_string()))
    }

    /// The parent knows a deploy is in flight; its child knows the step (building, deploying,
    /// verifying): ask the children of the cells in flight, briefly, and keep the parent's view
    /// where one does not answer.
    async fn refine_in_flight(&self, state: &mut ReleaseState) {
        let in_flight: Vec<(usize, String)> = state
            .cells
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                matches!(c.state, CellState::Building | CellState::Deploying) && Some(c.env) == state.current_env
            })
            .map(|(i, c)| (i, c.deploy_key.clone()))
            .collect();
        let queries = in_flight.iter().map(|(_, key)| async move {
            let handle = self.client.get_workflow_handle::<DeployWorkflow>(&deploy_workflow_id(key));
            let query = handle.query(DeployWorkflow::get_state, (), WorkflowQueryOptions::default());
            tokio::time::timeout(std::time::Duration::from_secs(2), query).await.ok().and_then(Result::ok)
        });
        let answers = futures::future::join_all(queries).await;
        for ((i, _), answer) in in_flight.into_iter().zip(answers) {
            let cell = &mut state.cells[i];
            if let Some(DeployState { env: Some(env), step: Some(step), .. }) = answer {
                if env == cell.env && matches!(step, CellState::Building | CellState::Deploying | CellState::Verifying)
                {
                    cell.state = step;
                }
            }
        }
    }

    /// The deploys × environments matrix.
    pub async fn matrix(&self, release_key: &str) -> Result<Matrix, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .query(ReleaseWorkflow::get_matrix, (), WorkflowQueryOptions::default())
            .await
            .map_err(|e| not_found_or(release_key, e.to_string()))
    }

    /// Waits for the release's result (`Release <key>: SUCCESS`, or the outcome and why).
    pub async fn result(&self, release_key: &str) -> Result<String, ReleaseError> {
        let handle = self.client.get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key));
        handle.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| match e {
            WorkflowGetResultError::Failed(f) => {
                ReleaseError::Other(anyhow::anyhow!("the release failed: {}", f.failure().message))
            }
            other => not_found_or(release_key, other.to_string()),
        })
    }

    /// Approves (or refuses) the release or one of its deploys.
    pub async fn approve(&self, release_key: &str, approval: Approval) -> Result<ApprovalRecord, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .execute_update(ReleaseWorkflow::approve, approval, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| update_error(release_key, e))
    }

    /// Decides the promotion gate before PROD.
    pub async fn decide_gate(&self, release_key: &str, decision: GateDecision) -> Result<ApprovalRecord, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .execute_update(ReleaseWorkflow::decide_gate, decision, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| update_error(release_key, e))
    }

    /// Pauses before the next environment; returns the status.
    pub async fn pause(&self, release_key: &str, control: Control) -> Result<String, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .execute_update(ReleaseWorkflow::pause, control, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| update_error(release_key, e))
    }

    /// Resumes a paused release; returns the status.
    pub async fn resume(&self, release_key: &str, control: Control) -> Result<String, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .execute_update(ReleaseWorkflow::resume, control, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| update_error(release_key, e))
    }

    /// Aborts: deploys in flight roll back, nothing else starts; returns the status.
    pub async fn abort(&self, release_key: &str, control: Control) -> Result<String, ReleaseError> {
        self.client
            .get_workflow_handle::<ReleaseWorkflow>(&release_workflow_id(release_key))
            .execute_update(ReleaseWorkflow::abort, control, WorkflowExecuteUpdateOptions::default())
            .await
            .map_err(|e| update_error(release_key, e))
    }

    /// Releases on this task queue, newest first (at most `limit`, bounded to 1..=1000).
    pub async fn list(&self, limit: usize) -> Result<Vec<ReleaseSummary>, ReleaseError> {
        let limit = limit.clamp(1, 1000);
        let query = format!(
            "WorkflowType = 'ReleaseWorkflow' AND TaskQueue = '{}'",
            self.task_queue.replace('\\', "\\\\").replace('\'', "''")
        );
        let options = WorkflowListOptions::builder().limit(limit).build();
        let mut stream = self.client.list_workflows(query, options);
        let mut rows = Vec::new();
        while let Some(execution) = stream.next().await {
            let execution = execution.map_err(|e| ReleaseError::Other(anyhow::anyhow!(e)))?;
            let attrs = execution.search_attributes();
            rows.push(ReleaseSummary {
                workflow_id: execution.id().to_owned(),
                release_key: attrs.get(&RELEASE_KEY),
                environment: attrs.get(&RELEASE_ENVIRONMENT),
                execution_status: format!("{:?}", execution.status()),
                started_at: execution.start_time().map(rfc3339),
            });
        }
        Ok(rows)
    }
}

fn not_found_or(release_key: &str, message: String) -> ReleaseError {
    if ordo_core::errors::is_not_found(&message) {
        ReleaseError::NotFound(release_key.to_owned())
    } else {
        ReleaseError::Other(anyhow::anyhow!(message))
    }
}

fn update_error(release_key: &str, err: WorkflowUpdateError) -> ReleaseError {
    match err {
        WorkflowUpdateError::Failed(failure) => ReleaseError::Rejected(failure.message.clone()),
        WorkflowUpdateError::NotFound(_) => ReleaseError::NotFound(release_key.to_owned()),
        other => not_found_or(release_key, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bad input is refused before anything starts, naming the field.
    #[test]
    fn validate_names_the_field() {
        let catalogue = Catalogue::built_in();
        let err = validate(&ReleaseInfo::from_catalogue("NOPE"), &catalogue).unwrap_err();
        assert_eq!(err.field, "release_key");
        let mut release = ReleaseInfo::from_catalogue("RELEASE-NOV-23-INITIAL");
        assert_eq!(validate(&release, &catalogue).unwrap().deploys.len(), 3);
        release.deploys = catalogue.deploys("RELEASE-NOV-23-INITIAL").unwrap();
        release.deploys[1].envs = vec!["TEST".into(), "PROD".into()];
        let err = validate(&release, &catalogue).unwrap_err();
        assert_eq!(err.field, "deploys[1].envs");
        assert!(err.reason.starts_with("prod-without-qc"), "{err}");
    }
}
