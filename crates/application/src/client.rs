//! Typed helpers for everything outside the worker (CLI, API): validate and start a request,
//! authorize it, read its state, list requests, cancel (decommission) one, wait for its end.
//! Workflow ids are the seed's: the application name's letters and digits plus a random suffix.

use std::time::Duration;

use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use temporalio_client::errors::{WorkflowGetResultError, WorkflowInteractionError, WorkflowStartError};
use temporalio_client::{
    Client, WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowExecutionStatus, WorkflowGetResultOptions,
    WorkflowListOptions, WorkflowQueryOptions, WorkflowSignalOptions, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

use crate::model::PROVISION_STATUS;
use crate::model::{
    new_application_id, status, ApplicationRequest, AuthorizationReceivedResponse, ProvisionApplicationState,
    WORKFLOW_TYPE,
};
use crate::workflows::ProvisionApplicationWorkflow;
use ordo_core::time::rfc3339;
use ordo_core::RequestError;

/// How long a state query may take before the state is rebuilt from visibility instead.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum ApplicationError {
    /// Bad input, naming the field (nothing was sent).
    #[error(transparent)]
    Invalid(#[from] RequestError),
    /// No application request has this id.
    #[error("no application request with id {0:?}")]
    NotFound(String),
    /// The request cannot take this action now (already decided, already over, id in use).
    #[error("{0}")]
    Conflict(String),
    /// Anything else (connection, server).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// An application request as seen from outside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    /// Workflow id (also the application id).
    pub workflow_id: String,
    /// Temporal execution status (`Running`, `Completed`, `Canceled`, `Failed`, …).
    pub execution_status: String,
    /// The workflow's state (query `GetState`, or rebuilt from visibility when `stale`).
    pub state: ProvisionApplicationState,
    /// True when no worker answered the query: `state` holds only what visibility knows.
    pub stale: bool,
}

/// A row of [`ApplicationClient::list`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationSummary {
    /// Workflow id.
    pub workflow_id: String,
    /// Temporal execution status.
    pub execution_status: String,
    /// The request's status (`provisionStatus` search attribute).
    pub status: Option<String>,
    /// Start time, RFC 3339.
    pub started_at: Option<String>,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplicationEnd {
    /// Completed: rejected or authorization expired (see the state's `Status`).
    Completed(ProvisionApplicationState),
    /// Cancelled: before provisioning, or decommissioned (destroyed).
    Cancelled(ProvisionApplicationState),
    /// Failed, with the failure's message (unknown team, broken stack, failed compensation).
    Failed(String),
}

/// Application requests on one task queue.
#[derive(Clone)]
pub struct ApplicationClient {
    client: Client,
    task_queue: String,
}

impl ApplicationClient {
    /// A client for requests on `task_queue` (`apps` by default).
    pub fn new(client: Client, task_queue: impl Into<String>) -> Self {
        Self { client, task_queue: task_queue.into() }
    }

    /// The task queue requests are started on.
    pub fn task_queue(&self) -> &str {
        &self.task_queue
    }

    /// Validates and starts a request; returns its id (the workflow id, also `applicationId`).
    pub async fn request(&self, request: &ApplicationRequest) -> Result<String, ApplicationError> {
        request.check()?;
        let id = request.application_id.clone().unwrap_or_else(|| new_application_id(&request.application_name));
        let mut request = request.clone();
        request.application_id = Some(id.clone());
        let input = serde_json::to_value(&request).map_err(anyhow::Error::from)?;
        let options = WorkflowStartOptions::new(self.task_queue.clone(), id.clone())
            .search_attributes(SearchAttributes::new([PROVISION_STATUS.value_set(status::REQUESTED.to_owned())]))
            .build();
        match self.client.start_workflow(ProvisionApplicationWorkflow::run, input, options).await {
            Ok(_) => Ok(id),
            Err(WorkflowStartError::AlreadyStarted { .. }) => {
                Err(ApplicationError::Conflict(format!("an application request with id {id:?} is already running")))
            }
            Err(e) => Err(anyhow::Error::from(e).context("starting the application request").into()),
        }
    }

    /// Sends the authorizer's decision (signal `AuthorizationReceivedResponse`) after checking it
    /// and that the request is still waiting for one.
    pub async fn authorize(
        &self,
        id: &str,
        authorization: &AuthorizationReceivedResponse,
    ) -> Result<(), ApplicationError> {
        authorization.check()?;
        let view = self.view(id).await?;
        if view.execution_status != "Running" {
            return Err(ApplicationError::Conflict(format!(
                "application request {id:?} is over ({}, status {:?})",
                view.execution_status, view.state.status
            )));
        }
        if !view.stale {
            if view.state.authorization.is_some() {
                return Err(ApplicationError::Conflict(format!("application request {id:?} was already decided")));
            }
            if let (Some(who), Some(request)) = (&authorization.authorizer_id, &view.state.request) {
                if *who != request.authorizer_id {
                    return Err(ApplicationError::Invalid(RequestError {
                        field: "authorizerId".into(),
                        reason: format!("{who:?} is not the authorizer of this request"),
                    }));
                }
            }
        }
        let payload = serde_json::to_value(authorization).map_err(anyhow::Error::from)?;
        self.handle(id)
            .signal(
                ProvisionApplicationWorkflow::authorization_received_response,
                payload,
                WorkflowSignalOptions::default(),
            )
            .await
            .map_err(|e| ended_meanwhile(id, e))
    }

    /// The request's state: the live query when a worker answers in time, else what visibility
    /// knows, flagged stale.
    pub async fn view(&self, id: &str) -> Result<ApplicationView, ApplicationError> {
        let handle = self.handle(id);
        let description =
            handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| interaction_error(id, e))?;
        if description.workflow_type() != WORKFLOW_TYPE {
            return Err(ApplicationError::NotFound(id.to_owned()));
        }
        let execution_status = status_name(description.status());
        let query = handle.query(ProvisionApplicationWorkflow::get_state, (), WorkflowQueryOptions::default());
        match tokio::time::timeout(QUERY_TIMEOUT, query).await {
            Ok(Ok(state)) => Ok(ApplicationView { workflow_id: id.to_owned(), execution_status, state, stale: false }),
            _ => Ok(ApplicationView {
                workflow_id: id.to_owned(),
                execution_status,
                state: ProvisionApplicationState {
                    status: description.search_attributes().get(&PROVISION_STATUS).unwrap_or_default(),
                    application_id: id.to_owned(),
                    ..Default::default()
                },
                stale: true,
            }),
        }
    }

    /// Requests, newest first; only those whose status is `status` when given.
    pub async fn list(&self, status: Option<&str>, limit: usize) -> Result<Vec<ApplicationSummary>, ApplicationError> {
        let mut query = format!("WorkflowType = '{WORKFLOW_TYPE}'");
        if let Some(status) = status {
            // Quoted with single quotes doubled, never spliced raw.
            query.push_str(&format!(" AND provisionStatus = '{}'", status.replace('\'', "''")));
        }
        let options = WorkflowListOptions::builder().limit(limit).build();
        let mut stream = self.client.list_workflows(query, options);
        let mut rows = Vec::new();
        while let Some(execution) = stream.next().await {
            let execution = execution.map_err(anyhow::Error::from)?;
            rows.push(ApplicationSummary {
                workflow_id: execution.id().to_owned(),
                execution_status: status_name(execution.status()),
                status: execution.search_attributes().get(&PROVISION_STATUS),
                started_at: execution.start_time().map(rfc3339),
            });
        }
        Ok(rows)
    }

    /// Requests waiting for a decision, with their state; only `authorizer`'s when given (the
    /// authorizer's inbox).
    pub async fn pending_authorizations(
        &self,
        authorizer: Option<&str>,
    ) -> Result<Vec<ApplicationView>, ApplicationError> {
        let mut views = Vec::new();
        for row in self.list(Some(status::AWAITING_AUTHORIZATION), 200).await? {
            if row.execution_status != "Running" {
                continue;
            }
            let view = match self.view(&row.workflow_id).await {
                Ok(view) => view,
                Err(ApplicationError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let mine = match (authorizer, &view.state.request) {
                (None, _) => true,
                (Some(who), Some(request)) => request.authorizer_id == who,
                (Some(_), None) => false,
            };
            if mine && view.state.status == status::AWAITING_AUTHORIZATION {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// Cancels a running request: before provisioning it just stops; once provisioned (or while
    /// provisioning) the workflow destroys what was created first.
    pub async fn cancel(&self, id: &str, reason: &str) -> Result<(), ApplicationError> {
        let view = self.view(id).await?;
        if view.execution_status != "Running" {
            return Err(ApplicationError::Conflict(format!(
                "application request {id:?} is over ({}, status {:?})",
                view.execution_status, view.state.status
            )));
        }
        self.handle(id)
            .cancel(WorkflowCancelOptions::builder().reason(reason.to_owned()).build())
            .await
            .map_err(|e| ended_meanwhile(id, e))
    }

    /// Waits for the request to end.
    pub async fn wait(&self, id: &str) -> Result<ApplicationEnd, ApplicationError> {
        match self.handle(id).get_result(WorkflowGetResultOptions::default()).await {
            Ok(state) => Ok(ApplicationEnd::Completed(state)),
            Err(WorkflowGetResultError::Cancelled { details }) => {
                let state = details.deserialize::<ProvisionApplicationState>().unwrap_or_default();
                Ok(ApplicationEnd::Cancelled(state))
            }
            Err(WorkflowGetResultError::Failed(failure)) => {
                Ok(ApplicationEnd::Failed(failure.failure().message.clone()))
            }
            Err(WorkflowGetResultError::NotFound(_)) => Err(ApplicationError::NotFound(id.to_owned())),
            Err(other) => Err(anyhow::anyhow!("the application request did not end normally: {other}").into()),
        }
    }

    fn handle(&self, id: &str) -> temporalio_client::WorkflowHandle<Client, ProvisionApplicationWorkflow> {
        self.client.get_workflow_handle::<ProvisionApplicationWorkflow>(id)
    }
}

fn interaction_error(id: &str, err: WorkflowInteractionError) -> ApplicationError {
    match err {
        WorkflowInteractionError::NotFound(_) => ApplicationError::NotFound(id.to_owned()),
        other => {
            let text = other.to_string();
            if ordo_core::errors::is_not_found(&text) {
                ApplicationError::NotFound(id.to_owned())
            } else {
                ApplicationError::Other(anyhow::anyhow!(text))
            }
        }
    }
}

/// A signal or cancellation the server refused. Both are sent right after [`ApplicationClient::view`]
/// found the request running, and Temporal answers a finished execution with `NotFound`, so
/// "not found" here means the request ended in between: a conflict, told by the status code,
/// not by the server's wording.
fn ended_meanwhile(id: &str, err: WorkflowInteractionError) -> ApplicationError {
    match interaction_error(id, err) {
        ApplicationError::NotFound(_) => ApplicationError::Conflict(format!("application request {id:?} is over")),
        other => other,
    }
}

fn status_name(status: WorkflowExecutionStatus) -> String {
    format!("{status:?}")
}
