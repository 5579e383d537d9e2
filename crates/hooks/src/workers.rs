//! TAC's `workers` sub-resource: the workers a hook intent needs before its workflow can run. The
//! seed's body is `{metadata:{name}, spec:{startToCloseTimeout (ms, default 1000000),
//! deploymentIntentGroup, compositeApp, compositeAppVersion}}`; Ordo adds `spec.taskQueue` (default:
//! the hook's task queue) and judges readiness the Temporal way: the task queue has live pollers,
//! checked until `startToCloseTimeout`.

use std::time::Duration;

use ordo_core::RequestError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_client::grpc::WorkflowService as _;
use temporalio_client::tonic::Request;
use temporalio_client::{Client, NamespacedClient as _};
use temporalio_common::protos::temporal::api::enums::v1::TaskQueueType;
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeTaskQueueRequest;

use crate::intent::{check_name, Metadata, MAX_TEXT};
use crate::model::WorkerCheck;

/// `startToCloseTimeout` when none is given (the seed's default, in ms).
pub const DEFAULT_START_TO_CLOSE_MS: u64 = 1_000_000;
/// The longest readiness wait accepted (one day, in ms).
pub const MAX_START_TO_CLOSE_MS: u64 = 24 * 3600 * 1000;

/// A worker intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerIntent {
    /// `metadata`.
    pub metadata: Metadata,
    /// `spec`.
    pub spec: WorkerSpec,
}

/// A worker intent's `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerSpec {
    /// How long readiness is awaited, in milliseconds.
    pub start_to_close_timeout: u64,
    /// The DIG deploying the worker.
    #[serde(default)]
    pub deployment_intent_group: String,
    /// Its composite app.
    #[serde(default)]
    pub composite_app: String,
    /// Its version.
    #[serde(default)]
    pub composite_app_version: String,
    /// The task queue the worker polls (Ordo's addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_queue: Option<String>,
}

impl WorkerIntent {
    /// Parses and validates a worker intent; errors name the field.
    pub fn parse(body: &Value) -> Result<Self, RequestError> {
        let Value::Object(top) = body else { return Err(RequestError::new("input", "must be a JSON object")) };
        let metadata = top.get("metadata").ok_or_else(|| RequestError::new("metadata", "is required"))?;
        let metadata: Metadata =
            serde_json::from_value(metadata.clone()).map_err(|e| RequestError::new("metadata", e.to_string()))?;
        check_name("metadata.name", &metadata.name)?;
        if metadata.description.len() > MAX_TEXT {
            return Err(RequestError::new("metadata.description", format!("longer than {MAX_TEXT} characters")));
        }
        let Some(Value::Object(spec)) = top.get("spec") else { return Err(RequestError::new("spec", "is required")) };
        let start_to_close_timeout = match spec.get("startToCloseTimeout") {
            None | Some(Value::Null) => DEFAULT_START_TO_CLOSE_MS,
            Some(v) => v.as_u64().filter(|ms| (1..=MAX_START_TO_CLOSE_MS).contains(ms)).ok_or_else(|| {
                RequestError::new(
                    "spec.startToCloseTimeout",
                    format!("must be milliseconds, 1..={MAX_START_TO_CLOSE_MS}"),
                )
            })?,
        };
        let mut names = Vec::new();
        for key in ["deploymentIntentGroup", "compositeApp", "compositeAppVersion", "taskQueue"] {
            let field = format!("spec.{key}");
            names.push(match spec.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if key == "taskQueue" && !s.is_empty() && s.len() <= 1000 => Some(s.clone()),
                Some(Value::String(s)) if key != "taskQueue" => {
                    check_name(&field, s)?;
                    Some(s.clone())
                }
                Some(_) => return Err(RequestError::new(&field, "must be a name")),
            });
        }
        let mut names = names.into_iter();
        let mut next = || names.next().flatten();
        Ok(Self {
            metadata,
            spec: WorkerSpec {
                start_to_close_timeout,
                deployment_intent_group: next().unwrap_or_default(),
                composite_app: next().unwrap_or_default(),
                composite_app_version: next().unwrap_or_default(),
                task_queue: next(),
            },
        })
    }

    /// The intent's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The task queue whose pollers make this worker ready: its `spec.taskQueue`, else its hook's
    /// (`hook_queue`).
    pub fn task_queue_or<'a>(&'a self, hook_queue: &'a str) -> &'a str {
        self.spec.task_queue.as_deref().unwrap_or(hook_queue)
    }

    /// What the lifecycle checks before starting the hook this worker serves (whose task queue is
    /// `hook_queue`).
    pub fn check(&self, hook_queue: &str) -> WorkerCheck {
        WorkerCheck {
            name: self.name().to_owned(),
            task_queue: self.task_queue_or(hook_queue).to_owned(),
            timeout_ms: self.spec.start_to_close_timeout,
        }
    }
}

/// Whether `task_queue` has a live workflow poller now.
pub async fn has_pollers(client: &Client, task_queue: &str) -> anyhow::Result<bool> {
    let request = DescribeTaskQueueRequest {
        namespace: client.namespace(),
        task_queue: Some(TaskQueue { name: task_queue.to_owned(), ..Default::default() }),
        task_queue_type: TaskQueueType::Workflow as i32,
        ..Default::default()
    };
    let response = client.clone().describe_task_queue(Request::new(request)).await?.into_inner();
    Ok(!response.pollers.is_empty())
}

/// Waits until `task_queue` has a poller, checking every `every`, for at most `timeout`; whether it
/// became ready.
pub async fn wait_ready(client: &Client, task_queue: &str, timeout: Duration, every: Duration) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if has_pollers(client, task_queue).await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() + every > deadline {
            return Ok(false);
        }
        tokio::time::sleep(every).await;
    }
}

/// How often [`readiness`] checks while it waits.
pub const READY_EVERY: Duration = Duration::from_millis(200);

/// A worker's readiness as the API and the CLI report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// The worker intent.
    pub name: String,
    /// The task queue checked: the worker's `spec.taskQueue`, else its hook's.
    pub task_queue: String,
    /// Whether the task queue had a live poller within the wait.
    pub ready: bool,
    /// The longest the check waited, in ms (its `startToCloseTimeout`, at most the caller's
    /// `max_wait`).
    pub wait_ms: u64,
}

/// Waits for `worker` (serving a hook on `hook_queue`) to be ready, at most its
/// `startToCloseTimeout` and `max_wait`.
pub async fn readiness(
    client: &Client,
    worker: &WorkerIntent,
    hook_queue: &str,
    max_wait: Duration,
) -> anyhow::Result<Readiness> {
    let task_queue = worker.task_queue_or(hook_queue).to_owned();
    let wait = Duration::from_millis(worker.spec.start_to_close_timeout).min(max_wait);
    let ready = wait_ready(client, &task_queue, wait, READY_EVERY).await?;
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    Ok(Readiness { name: worker.name().to_owned(), task_queue, ready, wait_ms })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The seed's worker body parses with its default timeout; bad values name the field.
    #[test]
    fn worker_intents() {
        let w = WorkerIntent::parse(&json!({"metadata": {"name": "w1"}, "spec": {"deploymentIntentGroup": "d",
                                                                                  "compositeApp": "c", "compositeAppVersion": "v"}}))
        .unwrap();
        assert_eq!(w.spec.start_to_close_timeout, DEFAULT_START_TO_CLOSE_MS);
        assert_eq!((w.spec.deployment_intent_group.as_str(), w.spec.task_queue.as_deref()), ("d", None));
        for (body, field) in [
            (json!({"spec": {}}), "metadata"),
            (json!({"metadata": {"name": ""}, "spec": {}}), "metadata.name"),
            (json!({"metadata": {"name": "w"}}), "spec"),
            (json!({"metadata": {"name": "w"}, "spec": {"startToCloseTimeout": 0}}), "spec.startToCloseTimeout"),
            (json!({"metadata": {"name": "w"}, "spec": {"startToCloseTimeout": -5}}), "spec.startToCloseTimeout"),
            (json!({"metadata": {"name": "w"}, "spec": {"compositeApp": "a b"}}), "spec.compositeApp"),
        ] {
            assert_eq!(WorkerIntent::parse(&body).unwrap_err().field, field, "{body}");
        }
    }
}
