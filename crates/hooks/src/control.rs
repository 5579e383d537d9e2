//! TAC's `{intent}/cancel` and `{intent}/status`: their bodies parsed and bounded as pure
//! functions, and the calls through the shared Temporal client. The status call also does what the
//! seed's never did: with `waitForResult` it returns the workflow's result (bounded by a wait
//! timeout, since an HTTP caller cannot wait forever).

use std::time::Duration;

use ordo_core::RequestError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use temporalio_client::errors::WorkflowGetResultError;
use temporalio_client::{
    Client, NamespacedClient as _, UntypedQuery, WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowExecutionInfo,
    WorkflowFetchHistoryOptions, WorkflowGetResultOptions, WorkflowHandle, WorkflowQueryOptions,
    WorkflowTerminateOptions,
};
use temporalio_common::data_converters::RawValue;
use temporalio_common::protos::temporal::api::common::v1::Payloads;
use temporalio_common::UntypedWorkflow;

use crate::starter::json_payload;

/// The most `details` / `queryParams` entries accepted.
pub const MAX_ARGS: usize = 20;
/// The longest reason, id or query name accepted.
pub const MAX_TEXT: usize = 1000;
/// How long a status call waits for a result at most.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// The body of `{intent}/cancel` (the seed's `WfTemporalCancelRequest`; extra keys refused).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    /// `spec.workflowID`: the workflow; default the intent's `workflowStartOptions.ID`.
    pub workflow_id: Option<String>,
    /// `spec.runID`.
    pub run_id: Option<String>,
    /// `spec.terminate`: terminate instead of requesting cancellation.
    pub terminate: bool,
    /// `spec.reason`.
    pub reason: String,
    /// `spec.details` (termination details).
    pub details: Vec<Value>,
}

/// The body of `{intent}/status` (the seed's `WfTemporalStatusQuery`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusQuery {
    /// `workflowID` (required).
    pub workflow_id: String,
    /// `runID`.
    pub run_id: Option<String>,
    /// `waitForResult`: wait for the workflow to close and return its result.
    pub wait_for_result: bool,
    /// `runDescribeWfExec`.
    pub describe: bool,
    /// `getWfHistory`.
    pub history: bool,
    /// `queryType`: a query to pass through.
    pub query_type: Option<String>,
    /// `queryParams`.
    pub query_params: Vec<Value>,
}

/// The seed's `WfTemporalStatusResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// `workflowID`.
    #[serde(rename = "workflowID")]
    pub workflow_id: String,
    /// `runID`.
    #[serde(rename = "runID")]
    pub run_id: String,
    /// `workflowExecutionDescription`: status, type, task queue, history length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_execution_description: Option<Value>,
    /// `workflowHistory`: the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_history: Option<Value>,
    /// `workflowResult`: the result of a completed workflow (never filled by the seed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_result: Option<Value>,
    /// `workflowQueryResult`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_query_result: Option<Value>,
}

/// Why a cancel or status call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No such workflow (or run).
    #[error("workflow not found")]
    NotFound,
    /// The workflow did not close within the wait.
    #[error("the workflow did not close within {0:?}")]
    WaitTimedOut(Duration),
    /// The workflow closed without a result (failed, cancelled, terminated, timed out).
    #[error("the workflow closed without a result: {0}")]
    NoResult(String),
    /// Temporal failed.
    #[error("temporal call failed: {0}")]
    Temporal(String),
}

fn text(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, RequestError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_TEXT => Ok(Some(s.clone())),
        Some(_) => Err(RequestError::new(field, format!("must be a string of at most {MAX_TEXT} characters"))),
    }
}

fn flag(map: &Map<String, Value>, key: &str, field: &str) -> Result<bool, RequestError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RequestError::new(field, "must be true or false")),
    }
}

fn args(map: &Map<String, Value>, key: &str, field: &str) -> Result<Vec<Value>, RequestError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) if a.len() <= MAX_ARGS => Ok(a.clone()),
        Some(_) => Err(RequestError::new(field, format!("must be a list of at most {MAX_ARGS} values"))),
    }
}

fn only(map: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), RequestError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(RequestError::new(&format!("{path}{k}"), "is not a known field")),
        None => Ok(()),
    }
}

impl CancelRequest {
    /// Parses `{metadata?, spec: {temporalServer, workflowID?, runID?, terminate?, reason?,
    /// details?}}`. `temporalServer` is required as in the seed (Ordo uses its own connection).
    pub fn parse(body: &Value) -> Result<Self, RequestError> {
        let Value::Object(top) = body else { return Err(RequestError::new("input", "must be a JSON object")) };
        only(top, &["metadata", "spec"], "")?;
        let Some(Value::Object(spec)) = top.get("spec") else { return Err(RequestError::new("spec", "is required")) };
        only(spec, &["temporalServer", "workflowID", "runID", "terminate", "reason", "details"], "spec.")?;
        if text(spec, "temporalServer", "spec.temporalServer")?.is_none_or(|s| s.is_empty()) {
            return Err(RequestError::new("spec.temporalServer", "is required"));
        }
        Ok(Self {
            workflow_id: text(spec, "workflowID", "spec.workflowID")?.filter(|s| !s.is_empty()),
            run_id: text(spec, "runID", "spec.runID")?.filter(|s| !s.is_empty()),
            terminate: flag(spec, "terminate", "spec.terminate")?,
            reason: text(spec, "reason", "spec.reason")?.unwrap_or_default(),
            details: args(spec, "details", "spec.details")?,
        })
    }
}

impl StatusQuery {
    /// Parses the seed's status query (`temporalServer` and `workflowID` required).
    pub fn parse(body: &Value) -> Result<Self, RequestError> {
        let Value::Object(q) = body else { return Err(RequestError::new("input", "must be a JSON object")) };
        if text(q, "temporalServer", "temporalServer")?.is_none_or(|s| s.is_empty()) {
            return Err(RequestError::new("temporalServer", "is required"));
        }
        let workflow_id = text(q, "workflowID", "workflowID")?.filter(|s| !s.is_empty());
        let workflow_id = workflow_id.ok_or_else(|| RequestError::new("workflowID", "is required"))?;
        Ok(Self {
            workflow_id,
            run_id: text(q, "runID", "runID")?.filter(|s| !s.is_empty()),
            wait_for_result: flag(q, "waitForResult", "waitForResult")?,
            describe: flag(q, "runDescribeWfExec", "runDescribeWfExec")?,
            history: flag(q, "getWfHistory", "getWfHistory")?,
            query_type: text(q, "queryType", "queryType")?.filter(|s| !s.is_empty()),
            query_params: args(q, "queryParams", "queryParams")?,
        })
    }
}

fn handle(client: &Client, workflow_id: &str, run_id: Option<&str>) -> WorkflowHandle<Client, UntypedWorkflow> {
    let info = WorkflowExecutionInfo::builder()
        .namespace(client.namespace())
        .workflow_id(workflow_id.to_owned())
        .maybe_run_id(run_id.map(str::to_owned))
        .build();
    WorkflowHandle::new(client.clone(), info)
}

fn classify(err: impl std::fmt::Display) -> ControlError {
    let text = err.to_string();
    if ordo_core::errors::is_not_found(&text) {
        ControlError::NotFound
    } else {
        ControlError::Temporal(text)
    }
}

fn decode(payload: Option<&temporalio_common::protos::temporal::api::common::v1::Payload>) -> Value {
    payload.and_then(|p| serde_json::from_slice(&p.data).ok()).unwrap_or(Value::Null)
}

/// Cancels (or terminates) `request.workflow_id`, else `default_workflow_id`.
pub async fn cancel(client: &Client, default_workflow_id: &str, request: &CancelRequest) -> Result<(), ControlError> {
    let workflow_id = request.workflow_id.as_deref().unwrap_or(default_workflow_id);
    let handle = handle(client, workflow_id, request.run_id.as_deref());
    if request.terminate {
        let details = (!request.details.is_empty())
            .then(|| Payloads { payloads: request.details.iter().map(json_payload).collect() });
        let options = WorkflowTerminateOptions::builder().reason(request.reason.clone()).maybe_details(details).build();
        handle.terminate(options).await.map_err(classify)
    } else {
        handle.cancel(WorkflowCancelOptions::builder().reason(request.reason.clone()).build()).await.map_err(classify)
    }
}

/// Answers a status query: describe, history, query passthrough and, with `waitForResult`, the
/// result once the workflow closes (at most `wait`, itself at most [`MAX_WAIT`]).
pub async fn status(client: &Client, query: &StatusQuery, wait: Duration) -> Result<StatusResponse, ControlError> {
    let handle = handle(client, &query.workflow_id, query.run_id.as_deref());
    let mut response = StatusResponse { workflow_id: query.workflow_id.clone(), ..Default::default() };
    if query.wait_for_result {
        let result = tokio::time::timeout(wait.min(MAX_WAIT), handle.get_result(WorkflowGetResultOptions::default()))
            .await
            .map_err(|_| ControlError::WaitTimedOut(wait.min(MAX_WAIT)))?;
        response.workflow_result = Some(match result {
            Ok(raw) => decode(raw.payloads.first()),
            Err(WorkflowGetResultError::NotFound(_)) => return Err(ControlError::NotFound),
            Err(
                e @ (WorkflowGetResultError::Failed(_)
                | WorkflowGetResultError::Cancelled { .. }
                | WorkflowGetResultError::Terminated { .. }
                | WorkflowGetResultError::TimedOut),
            ) => return Err(ControlError::NoResult(e.to_string())),
            Err(e) => return Err(classify(e)),
        });
    }
    let description = handle.describe(WorkflowDescribeOptions::default()).await.map_err(classify)?;
    let info = description.raw().workflow_execution_info.clone().unwrap_or_default();
    response.run_id = info.execution.as_ref().map(|e| e.run_id.clone()).unwrap_or_default();
    if query.describe {
        response.workflow_execution_description = Some(serde_json::json!({
            "status": format!("{:?}", description.status()),
            "type": info.r#type.as_ref().map(|t| t.name.clone()),
            "taskQueue": info.task_queue,
            "historyLength": info.history_length,
            "startTime": info.start_time.as_ref().map(|t| t.seconds),
            "closeTime": info.close_time.as_ref().map(|t| t.seconds),
        }));
    }
    if query.history {
        let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await.map_err(classify)?;
        let history: Value = serde_json::from_slice(&json).map_err(|e| ControlError::Temporal(e.to_string()))?;
        response.workflow_history = Some(history.get("events").cloned().unwrap_or(history));
    }
    if let Some(name) = &query.query_type {
        let args = RawValue::new(query.query_params.iter().map(json_payload).collect());
        let answer = handle
            .query(UntypedQuery::<UntypedWorkflow>::new(name.clone()), args, WorkflowQueryOptions::default())
            .await
            .map_err(classify)?;
        response.workflow_query_result = Some(decode(answer.payloads.first()));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The seed's cancel cases: an empty or partial body names the field; extra keys are refused.
    #[test]
    fn cancel_bodies() {
        let ok = CancelRequest::parse(&json!({"spec": {"temporalServer": "t:7233", "terminate": true, "reason": "r",
                                                       "details": ["x"]}}))
        .unwrap();
        assert!(ok.terminate);
        assert_eq!(ok.details, vec![json!("x")]);
        for (body, field) in [
            (json!({}), "spec"),
            (json!({"spec": {}}), "spec.temporalServer"),
            (json!({"spec": {"temporalServer": "t", "bogus": 1}}), "spec.bogus"),
            (json!({"spec": {"temporalServer": "t", "terminate": "yes"}}), "spec.terminate"),
            (json!({"spec": {"temporalServer": "t", "details": vec![0; 21]}}), "spec.details"),
            (json!("x"), "input"),
        ] {
            assert_eq!(CancelRequest::parse(&body).unwrap_err().field, field, "{body}");
        }
    }

    /// The seed's status query: temporalServer and workflowID required, flags typed.
    #[test]
    fn status_queries() {
        let q = StatusQuery::parse(&json!({"temporalServer": "t", "workflowID": "w", "waitForResult": true,
                                           "queryType": "history", "queryParams": [1]}))
        .unwrap();
        assert!(q.wait_for_result && !q.history);
        assert_eq!(q.query_type.as_deref(), Some("history"));
        for (body, field) in [
            (json!({}), "temporalServer"),
            (json!({"temporalServer": "t"}), "workflowID"),
            (json!({"temporalServer": "t", "workflowID": "w", "getWfHistory": 1}), "getWfHistory"),
        ] {
            assert_eq!(StatusQuery::parse(&body).unwrap_err().field, field, "{body}");
        }
    }
}
