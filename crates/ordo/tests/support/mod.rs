//! Test fixtures: one real Temporal dev server per test binary, shared by its tests, each test
//! with a namespace and a task queue of its own; `ordo worker` processes; and an IaC root copied
//! from `examples/` into a temporary directory; and a server-sent event stream reader ([`sse::Sse`]).
#![allow(dead_code, unreachable_pub)]

pub mod sse;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_core::devserver::{bound_command, spawn_bound};
pub use ordo_core::testing::poll;
use ordo_iac::DriverKind;
use ordo_provision::client::{ProvisionClient, RunView};
use ordo_provision::model::ProvisionRequest;
use ordo_provision::scenarios;

/// One isolated Ordo: a namespace and task queue of its own on the shared server, workers, IaC
/// root and data directory.
pub struct Env {
    pub address: String,
    pub namespace: String,
    pub client: ProvisionClient,
    pub task_queue: String,
    pub root: tempfile::TempDir,
    pub data: tempfile::TempDir,
    workers: Vec<Child>,
}

impl Env {
    /// A namespace with one worker.
    pub async fn start() -> Self {
        let mut env = Self::without_worker().await;
        env.spawn_worker(&[]);
        env
    }

    /// A namespace, no worker yet.
    pub async fn without_worker() -> Self {
        let address = ordo_core::testing::server().to_owned();
        let namespace = ordo_core::testing::new_namespace(&address).await;
        ordo_core::testing::register_search_attributes(
            &address,
            &namespace,
            &[ordo_provision::SEARCH_ATTRIBUTES, ordo_application::SEARCH_ATTRIBUTES].concat(),
        )
        .await;
        let mut temporal = ordo_core::TemporalArgs::at(address.clone());
        temporal.namespace = namespace.clone();
        let client = ordo_core::connect(&temporal).await.expect("connects");
        let task_queue = format!("test-{}", uuid::Uuid::new_v4());
        let root = tempfile::tempdir().unwrap();
        copy_dir(&workspace_root().join("examples"), root.path());
        let data = tempfile::tempdir().unwrap();
        Self {
            address,
            namespace,
            client: ProvisionClient::new(client, task_queue.clone()),
            task_queue,
            root,
            data,
            workers: Vec::new(),
        }
    }

    /// Starts an `ordo worker` process with extra arguments; returns its index.
    pub fn spawn_worker(&mut self, extra: &[&str]) -> usize {
        let mut command = self.ordo(&["worker"]);
        command.args(extra).stdout(Stdio::null()).stderr(Stdio::inherit());
        self.workers.push(spawn_bound(command).expect("ordo worker starts"));
        self.workers.len() - 1
    }

    /// Starts an `ordo worker` process with extra environment variables.
    pub fn spawn_worker_with_env(&mut self, vars: &[(&str, &str)], extra: &[&str]) -> usize {
        let mut command = self.ordo(&["worker"]);
        command.args(extra).envs(vars.iter().copied()).stdout(Stdio::null()).stderr(Stdio::inherit());
        self.workers.push(spawn_bound(command).expect("ordo worker starts"));
        self.workers.len() - 1
    }

    /// Kills a worker with SIGKILL.
    pub fn kill_worker(&mut self, index: usize) {
        let child = &mut self.workers[index];
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The process id of a worker.
    pub fn worker_pid(&self, index: usize) -> u32 {
        self.workers[index].id()
    }

    /// An `ordo` command wired to this environment; killed when the thread that spawns it ends, or
    /// the test process when spawned with `spawn_bound`.
    pub fn ordo(&self, args: &[&str]) -> Command {
        let mut command = bound_command(env!("CARGO_BIN_EXE_ordo"));
        command
            .args(args)
            .env("TEMPORAL_ADDRESS", &self.address)
            .env("TEMPORAL_NAMESPACE", &self.namespace)
            .env("TEMPORAL_TASK_QUEUE", &self.task_queue)
            .env("ORDO_IAC_ROOT", self.root.path())
            .env("ORDO_DATA_DIR", self.data.path())
            .env("ORDO_TERRAFORM_BIN", terraform_binary())
            .env_remove("TEMPORAL_PROFILE")
            .stdin(Stdio::null());
        command
    }

    /// A scenario's request with test timings: no simulated latency, 100 ms retries.
    pub fn scenario(&self, key: &str) -> ProvisionRequest {
        let mut request = scenarios::find(key).expect("known scenario").request(DriverKind::Sim, Some(2));
        fast(&mut request);
        request
    }

    /// Waits (up to 10 s) until visibility lists a run for `filter`; returns what it lists.
    pub async fn wait_listed(
        &self,
        filter: &ordo_provision::client::ListFilter,
    ) -> Vec<ordo_provision::client::RunSummary> {
        poll("a run to be listed", Duration::from_secs(10), async || {
            let found = self.client.list(filter).await.unwrap();
            if found.is_empty() {
                Err(found)
            } else {
                Ok(found)
            }
        })
        .await
    }

    /// Polls the run until `predicate` holds (or panics after 60 s with the last view).
    pub async fn wait_for(&self, id: &str, what: &str, predicate: impl Fn(&RunView) -> bool) -> RunView {
        poll(what, Duration::from_secs(60), async || {
            let view = self.client.view(id).await.expect("view");
            if predicate(&view) {
                Ok(view)
            } else {
                Err(view)
            }
        })
        .await
    }

    /// Sends `decision` as Ordo's own clients do: naming the plan waiting now unless it names one.
    pub async fn decide(
        &self,
        id: &str,
        mut decision: ordo_provision::model::ApplyDecision,
        via_signal: bool,
    ) -> Result<(), ordo_provision::client::RunError> {
        if decision.plan_hash.is_none() {
            decision.plan_hash = self.client.view(id).await?.state.plan_hash;
        }
        self.client.decide(id, decision, via_signal).await
    }

    /// The history events of provisioning run `id`.
    pub async fn history(&self, id: &str) -> Vec<temporalio_common::protos::temporal::api::history::v1::HistoryEvent> {
        let handle =
            self.client.temporal().get_workflow_handle::<ordo_provision::workflows::ProvisionInfraWorkflow>(id);
        handle.fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default()).into_events().await.unwrap()
    }

    /// Run `id`'s history events by kind (`ActivityTaskScheduled <type>`, `MarkerRecorded <name>`,
    /// `Signaled <name>`, `SignalExternal <name>`, `Upsert`, `WorkflowTaskCompleted`, else `other`).
    pub async fn history_kinds(&self, id: &str) -> Vec<String> {
        use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
        let events = self.history(id).await;
        events
            .iter()
            .map(|e| match &e.attributes {
                Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => {
                    format!("ActivityTaskScheduled {}", a.activity_type.as_ref().map(|t| t.name.as_str()).unwrap_or(""))
                }
                Some(Attributes::MarkerRecordedEventAttributes(m)) => format!("MarkerRecorded {}", m.marker_name),
                Some(Attributes::WorkflowExecutionSignaledEventAttributes(s)) => format!("Signaled {}", s.signal_name),
                Some(Attributes::SignalExternalWorkflowExecutionInitiatedEventAttributes(s)) => {
                    format!("SignalExternal {}", s.signal_name)
                }
                Some(Attributes::UpsertWorkflowSearchAttributesEventAttributes(_)) => "Upsert".to_owned(),
                Some(Attributes::WorkflowTaskCompletedEventAttributes(_)) => "WorkflowTaskCompleted".to_owned(),
                _ => "other".to_owned(),
            })
            .collect()
    }

    /// Waits until the run's status is `status`.
    pub async fn wait_status(&self, id: &str, status: &str) -> RunView {
        self.wait_for(id, status, |v| v.state.status == status).await
    }

    /// The id of the workspace lock of `scenario`'s directory (the hash of its canonical path).
    pub fn workspace_lock_id(&self, scenario: &str) -> String {
        let dir = self.root.path().join(self.scenario(scenario).directory).canonicalize().unwrap();
        format!("workspace-lock-{}", &ordo_iac::sha256_hex(dir.to_string_lossy().as_bytes())[..16])
    }

    /// The sim's effects journal of a stack directory (relative to the IaC root): every resource
    /// operation, with the hash of the plan it came from, as the driver wrote it before acting.
    pub fn sim_effects(&self, dir: &str) -> Vec<ordo_iac::sim::SimEffect> {
        let dir = self.root.path().join(dir).canonicalize().unwrap();
        ordo_iac::sim::effects(&self.data.path().canonicalize().unwrap().join("sim"), &dir).expect("sim effects")
    }

    /// The sim state of a stack directory (relative to the IaC root).
    pub fn sim_state(&self, dir: &str) -> ordo_iac::sim::SimStateSummary {
        let dir = self.root.path().join(dir).canonicalize().unwrap();
        ordo_iac::sim::state_summary(&self.data.path().canonicalize().unwrap().join("sim"), &dir).expect("sim state")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for worker in &mut self.workers {
            let _ = worker.kill();
            let _ = worker.wait();
        }
    }
}

/// Test timings: no simulated latency, fast retries.
pub fn fast(request: &mut ProvisionRequest) {
    request.sim.latency_ms = Some(0);
    request.retry_initial_interval_ms = 100;
}

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

/// The real terraform binary: the project virtualenv's, else PATH's.
pub fn terraform_binary() -> PathBuf {
    let venv = workspace_root().join(".venv/bin/terraform");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("terraform")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let name = entry.file_name();
        if name == ".terraform" || name.to_string_lossy().starts_with("terraform.tfstate") {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Applies a stack with the sim driver directly, as a person working outside Ordo would.
pub async fn apply_outside_ordo(env: &Env, dir: &str) {
    use ordo_iac::{Driver, DriverConfig, Progress, SimKnobs, Workspace};
    let config = DriverConfig {
        terraform_bin: terraform_binary(),
        tofu_bin: "tofu".into(),
        data_dir: env.data.path().canonicalize().unwrap(),
        env: Default::default(),
    };
    let driver = Driver::new(DriverKind::Sim, &config, SimKnobs { latency_ms: Some(0), failure_rate: Some(0.0) });
    let ws = Workspace {
        dir: env.root.path().join(dir).canonicalize().unwrap(),
        env: Default::default(),
        vars: Default::default(),
        owner: "someone-outside-ordo".into(),
    };
    driver.init(&ws).await.unwrap();
    let plan = driver.plan(&ws).await.unwrap();
    let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (_cancel_tx, cancel) = tokio::sync::watch::channel(false);
    driver.apply(&ws, &plan.file, Progress { events, cancel }).await.unwrap();
}

/// The current run id of a workflow.
pub async fn run_id(env: &Env, id: &str) -> String {
    use temporalio_client::WorkflowDescribeOptions;
    let handle = env.client.temporal().get_workflow_handle::<ordo_provision::workflows::ProvisionInfraWorkflow>(id);
    let description = handle.describe(WorkflowDescribeOptions::default()).await.unwrap();
    description
        .raw()
        .workflow_execution_info
        .as_ref()
        .and_then(|i| i.execution.as_ref())
        .map(|e| e.run_id.clone())
        .unwrap_or_default()
}

/// Waits until the named pending activity has reached `attempt`.
pub async fn wait_for_activity_attempt(env: &Env, id: &str, activity: &str, attempt: i32) {
    use temporalio_client::WorkflowDescribeOptions;
    let handle = env.client.temporal().get_workflow_handle::<ordo_provision::workflows::ProvisionInfraWorkflow>(id);
    poll(&format!("{activity} to reach attempt {attempt}"), Duration::from_secs(60), async || {
        let description = handle.describe(WorkflowDescribeOptions::default()).await.unwrap();
        let pending: Vec<(String, i32)> = description
            .raw()
            .pending_activities
            .iter()
            .map(|a| (a.activity_type.as_ref().map(|t| t.name.clone()).unwrap_or_default(), a.attempt))
            .collect();
        if pending.iter().any(|(name, tried)| name == activity && *tried >= attempt) {
            Ok(())
        } else {
            Err(pending)
        }
    })
    .await;
}

/// The attempt on which `terraform_apply` completed, from the run's history.
pub async fn apply_attempts(env: &Env, id: &str) -> i32 {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let events = env.history(id).await;
    let apply_scheduled: Vec<i64> = events
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(a))
                if a.activity_type.as_ref().is_some_and(|t| t.name == "terraform_apply") =>
            {
                Some(e.event_id)
            }
            _ => None,
        })
        .collect();
    events
        .iter()
        .filter_map(|e| match &e.attributes {
            Some(Attributes::ActivityTaskStartedEventAttributes(a))
                if apply_scheduled.contains(&a.scheduled_event_id) =>
            {
                Some(a.attempt)
            }
            _ => None,
        })
        .max()
        .expect("terraform_apply started")
}

/// The metric families the dashboard's queries use (`_bucket` etc. folded into the family).
pub fn dashboard_series() -> Vec<String> {
    let path = workspace_root().join("metrics/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() > 10, "the dashboard has queries");
    let mut names: Vec<String> = exprs
        .iter()
        .flat_map(|e| e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| w.starts_with("temporal_") || w.starts_with("ordo_"))
        .map(|w| w.trim_end_matches("_bucket").trim_end_matches("_count").trim_end_matches("_sum").to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(expr)) = map.get("expr") {
                out.push(expr.clone());
            }
            map.values().for_each(|v| collect_exprs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// A webhook receiver on a free local port: keeps every JSON body POSTed to it and answers each
/// with one status. Stops when dropped.
pub struct Webhook {
    pub url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Webhook {
    pub async fn start(status: u16) -> Self {
        use axum::http::StatusCode;
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(body);
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, bodies, server }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) until at least `count` bodies arrived; returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<serde_json::Value> {
        poll(&format!("{count} webhook calls"), Duration::from_secs(60), async || {
            let received = self.received();
            if received.len() >= count {
                Ok(received)
            } else {
                Err(received)
            }
        })
        .await
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}
