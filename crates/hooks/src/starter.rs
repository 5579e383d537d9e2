//! The in-process workflow client: a parsed [`WfTemporalSpec`] started through the shared Temporal
//! [`Client`] (the seed wrote a temp file and exec'd a process per request). The workflow input is
//! `workflowParams`, as JSON, as the seed's Go client passes it.

use std::collections::HashMap;

use temporalio_client::tonic::Code;
use temporalio_client::{
    errors::WorkflowStartError, Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions,
};
use temporalio_common::data_converters::RawValue;
use temporalio_common::protos::temporal::api::common::v1::{Payload, SearchAttributes as ProtoSearchAttributes};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_common::{MemoValues, UntypedWorkflow};

use crate::spec::{IdReusePolicy, WfTemporalSpec};

/// A started (or, without error-when-already-started, already running) workflow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    /// Its workflow id (generated when the spec gave none).
    pub workflow_id: String,
    /// Its run id.
    pub run_id: String,
}

/// Why a start failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The id is taken: running under error-when-already-started, or closed under a policy that
    /// rejects reuse.
    #[error("workflow {workflow_id} is already started")]
    Conflict {
        /// The id asked for.
        workflow_id: String,
        /// The run holding it, when the server says.
        run_id: Option<String>,
    },
    /// Temporal refused the request itself (an unregistered search attribute, a bad cron
    /// schedule, an unknown namespace…): the caller's to fix, retrying will not help.
    #[error("temporal refused to start workflow {workflow_id}: {reason}")]
    Invalid {
        /// The id asked for.
        workflow_id: String,
        /// Temporal's message.
        reason: String,
    },
    /// Temporal failed or could not be reached.
    #[error("starting workflow {workflow_id}")]
    Temporal {
        /// The id asked for.
        workflow_id: String,
        /// What went wrong.
        #[source]
        source: WorkflowStartError,
    },
}

/// A JSON payload as every Temporal SDK's default converter writes it.
pub fn json_payload(value: &serde_json::Value) -> Payload {
    Payload {
        metadata: HashMap::from([("encoding".to_owned(), b"json/plain".to_vec())]),
        data: serde_json::to_vec(value).unwrap_or_default(),
        ..Default::default()
    }
}

/// The start options `spec` asks for, with `workflow_id` (the spec's, or generated).
pub fn start_options(spec: &WfTemporalSpec, workflow_id: &str) -> WorkflowStartOptions {
    let s = &spec.start;
    let (reuse, conflict) = match s.id_reuse_policy {
        IdReusePolicy::Unspecified => (WorkflowIdReusePolicy::Unspecified, None),
        IdReusePolicy::AllowDuplicate => (WorkflowIdReusePolicy::AllowDuplicate, None),
        IdReusePolicy::AllowDuplicateFailedOnly => (WorkflowIdReusePolicy::AllowDuplicateFailedOnly, None),
        IdReusePolicy::RejectDuplicate => (WorkflowIdReusePolicy::RejectDuplicate, None),
        // The server replaced the deprecated policy by a conflict policy.
        IdReusePolicy::TerminateIfRunning => {
            (WorkflowIdReusePolicy::AllowDuplicate, Some(WorkflowIdConflictPolicy::TerminateExisting))
        }
    };
    // Go's client returns the running workflow unless error-when-already-started is set.
    let conflict = conflict.unwrap_or(if s.error_when_already_started {
        WorkflowIdConflictPolicy::Fail
    } else {
        WorkflowIdConflictPolicy::UseExisting
    });
    let memo = (!s.memo.is_empty()).then(|| {
        let mut memo = MemoValues::new();
        for (k, v) in &s.memo {
            memo.insert(k.clone(), v.clone());
        }
        memo
    });
    let search_attributes = (!s.search_attributes.is_empty()).then(|| {
        SearchAttributes::from_proto(&ProtoSearchAttributes {
            indexed_fields: s.search_attributes.iter().map(|(k, v)| (k.clone(), json_payload(v))).collect(),
        })
    });
    WorkflowStartOptions::new(s.task_queue.clone(), workflow_id.to_owned())
        .id_reuse_policy(reuse)
        .id_conflict_policy(conflict)
        .maybe_execution_timeout(s.execution_timeout)
        .maybe_run_timeout(s.run_timeout)
        .maybe_task_timeout(s.task_timeout)
        .maybe_cron_schedule(s.cron_schedule.clone())
        .maybe_retry_policy(s.retry_policy.as_ref().map(|r| r.to_temporal()))
        .maybe_memo(memo)
        .maybe_search_attributes(search_attributes)
        .build()
}

/// Starts `spec`'s workflow with `workflowParams` as its input (`params` overrides them, e.g. with
/// the emco section filled in).
pub async fn start(client: &Client, spec: &WfTemporalSpec) -> Result<Started, StartError> {
    let workflow_id = spec.start.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let options = start_options(spec, &workflow_id);
    let input = RawValue::new(vec![json_payload(&spec.params)]);
    match client.start_workflow(UntypedWorkflow::new(spec.workflow_type.clone()), input, options).await {
        Ok(handle) => Ok(Started { workflow_id, run_id: handle.run_id().unwrap_or_default().to_owned() }),
        Err(WorkflowStartError::AlreadyStarted { run_id, .. }) => Err(StartError::Conflict { workflow_id, run_id }),
        Err(WorkflowStartError::Rpc(status))
            if matches!(status.code(), Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition) =>
        {
            Err(StartError::Invalid { workflow_id, reason: status.message().to_owned() })
        }
        Err(source) => Err(StartError::Temporal { workflow_id, source }),
    }
}
