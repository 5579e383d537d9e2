//! Test fixtures: ONE Temporal dev server per test binary (`ordo_core::testing::server`, shared),
//! workers in-process on each test's own task queues ([`with_workers`]), and a probe workflow hooks
//! can start ([`ProbeWorkflow`]).
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use temporalio_client::Client;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::{ApplicationFailure, Runtime, Worker, WorkerOptions, WorkflowContext, WorkflowResult};

/// A client of the binary's dev server (`ordo_core::testing::server`, shared by all its tests),
/// made on the calling test's runtime.
pub async fn client() -> Client {
    ordo_core::testing::client().await
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

/// A `postgres://` URL of a PostgreSQL cluster this binary started (`initdb` in a temp dir, a free
/// port, trust auth on 127.0.0.1), shared by its tests and stopped when the process exits. As root,
/// the server runs as the `postgres` user (it refuses root).
pub fn postgres() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        // The server is spawned from a thread that lives as long as the process, so its
        // parent-death signal fires only when the process ends.
        std::thread::spawn(move || {
            let url = start_postgres();
            tx.send(url).expect("url sent");
            loop {
                std::thread::park();
            }
        });
        rx.recv_timeout(Duration::from_secs(120)).expect("postgres starts")
    })
}

fn start_postgres() -> String {
    use std::process::{Command, Stdio};
    let bin = glob_first("/usr/lib/postgresql", "bin/initdb")
        .expect("PostgreSQL is installed (scripts/setup.sh installs Debian's postgresql)")
        .parent()
        .unwrap()
        .to_owned();
    let dir = tempfile::Builder::new().prefix("ordo-hooks-pg").tempdir().unwrap().keep();
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    let root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let as_postgres = |program: &str| {
        let mut c = Command::new("setpriv");
        if root {
            c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
        }
        c.args(["--pdeathsig", "INT", "--"]).arg(bin.join(program));
        c
    };
    if root {
        let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
        assert!(status.success(), "chown the cluster directory");
    }
    let data = dir.join("data");
    let out = as_postgres("initdb")
        .args(["-A", "trust", "-U", "ordo", "-E", "UTF8", "--no-sync", "-D"])
        .arg(&data)
        .output()
        .expect("initdb runs");
    assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
    let port = ordo_core::devserver::free_port().unwrap();
    let log = std::fs::File::create(dir.join("postgres.log")).unwrap();
    if root {
        let _ = Command::new("chown").args(["postgres:postgres"]).arg(dir.join("postgres.log")).status();
    }
    let child = as_postgres("postgres")
        .args(["-D"])
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .arg("-k")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("postgres starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let ready = || {
        Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "ordo", "-q"])
            .status()
            .is_ok_and(|s| s.success())
    };
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "postgres did not start on {port}; see {}", dir.display());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::mem::forget(child);
    // The cluster directory goes once this process (and so the server) is gone.
    let cleanup = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; sleep 2; rm -rf '{}'",
        std::process::id(),
        dir.display()
    );
    #[allow(clippy::zombie_processes)]
    let _cleanup = Command::new("sh").args(["-c", &cleanup]).spawn().expect("cleanup starts");
    format!("postgres://ordo@127.0.0.1:{port}/postgres")
}

fn glob_first(root: &str, tail: &str) -> Option<std::path::PathBuf> {
    let mut found: Vec<_> =
        std::fs::read_dir(root).ok()?.flatten().map(|e| e.path().join(tail)).filter(|p| p.is_file()).collect();
    found.sort();
    found.pop()
}
