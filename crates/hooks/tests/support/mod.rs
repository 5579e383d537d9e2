//! Test fixtures: ONE Temporal dev server per test binary ([`server`], started lazily and shared),
//! workers in-process on each test's own task queues ([`with_workers`]), and a probe workflow hooks
//! can start ([`ProbeWorkflow`]).
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use ordo_core::devserver::{find_temporal_binary, DevServer, DevServerOptions};
use temporalio_client::Client;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::{ApplicationFailure, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult};

/// The binary's dev server address. The server lives on a thread of its own (its runtime drives
/// the child process for every test's runtime), and a watchdog stops it when this process exits,
/// since statics are never dropped. Swappable for a shared fixture: nothing else starts servers.
pub fn server() -> &'static str {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let server = DevServer::start(DevServerOptions::ephemeral(find_temporal_binary()))
                    .await
                    .expect("dev server starts");
                let watchdog = format!(
                    "while kill -0 {} 2>/dev/null; do sleep 1; done; kill {} 2>/dev/null",
                    std::process::id(),
                    server.pid().unwrap_or_default()
                );
                // The watchdog outlives this process on purpose; init reaps it.
                #[allow(clippy::zombie_processes)]
                let _watchdog =
                    std::process::Command::new("sh").args(["-c", &watchdog]).spawn().expect("watchdog starts");
                tx.send(server.address().to_owned()).expect("address sent");
                // Keep the server (and this runtime, which reaps it) for the life of the process.
                std::future::pending::<()>().await;
                drop(server);
            });
        });
        rx.recv_timeout(Duration::from_secs(90)).expect("dev server address")
    })
}

/// A client of the binary's server, made on the calling test's runtime.
pub async fn client() -> Client {
    ordo_core::connect(&ordo_core::TemporalArgs::at(server().to_owned())).await.expect("connects")
}

/// A task queue of this test's own.
pub fn task_queue(what: &str) -> String {
    format!("test-{what}-{}", uuid::Uuid::new_v4())
}

/// Runs `body` while in-process workers with `options` poll; shuts them down after.
pub async fn with_workers<T>(client: &Client, options: Vec<WorkerOptions>, body: impl Future<Output = T>) -> T {
    let runtime = Runtime::from_current_tokio(RuntimeOptions::default()).expect("runtime");
    let mut workers: Vec<Worker> =
        options.into_iter().map(|o| Worker::new(&runtime, client.clone(), o).expect("worker")).collect();
    let shutdowns: Vec<_> = workers.iter().map(|w| w.shutdown_handle()).collect();
    let run = futures::future::try_join_all(workers.iter_mut().map(|w| w.run()));
    tokio::pin!(run);
    let out = tokio::select! {
        r = &mut run => panic!("workers stopped early: {r:?}"),
        out = body => out,
    };
    shutdowns.iter().for_each(|s| s());
    run.await.expect("workers shut down");
    out
}

/// A hook workflow for tests: `activityParams.probe.outcome` = `ok` (default), `fail` or `sleep`
/// (`activityParams.probe.sleepMs`); returns the params it received, so tests can see the `emco`
/// section.
#[workflow]
#[derive(Default)]
pub struct ProbeWorkflow;

#[workflow_methods]
impl ProbeWorkflow {
    #[run(name = "Probe")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, params: serde_json::Value) -> WorkflowResult<serde_json::Value> {
        let probe = ordo_hooks::spec::activity_params(&params).get("probe").cloned().unwrap_or_default();
        match probe.get("outcome").map(String::as_str) {
            Some("fail") => return Err(ApplicationFailure::non_retryable("probe asked to fail").into()),
            Some("sleep") => {
                let ms = probe.get("sleepMs").and_then(|s| s.parse().ok()).unwrap_or(60_000);
                ctx.timer(Duration::from_millis(ms)).await;
            }
            _ => {}
        }
        Ok(params)
    }
}

/// Worker options serving [`ProbeWorkflow`] on `queue`.
pub fn probe_worker(queue: &str) -> WorkerOptions {
    WorkerOptions::new(queue).register_workflow::<ProbeWorkflow>().expect("probe registers").build()
}
