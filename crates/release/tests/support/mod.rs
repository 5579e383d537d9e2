//! Test fixtures: ONE Temporal dev server per test binary ([`server`]), and per test an
//! in-process worker of the release domain on a task queue and data directory of its own.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use ordo_core::testing;
pub use ordo_core::testing::poll;
use ordo_core::{Domain as _, HostSettings};
use ordo_release::catalogue::Catalogue;
use ordo_release::client::ReleaseClient;
use ordo_release::model::{DeployInfo, ReleaseInfo, StepKnobs};
use ordo_release::store::ReleaseStore;
use ordo_release::ReleaseArgs;
use temporalio_client::Client;

/// The address of this test binary's dev server (`ordo_core::testing::server`, shared by its tests,
/// each isolating itself by task queue and release keys), with the release search attributes
/// registered.
pub async fn server() -> &'static str {
    testing::server_with(ordo_release::SEARCH_ATTRIBUTES).await
}

/// A client of the shared server.
pub async fn connect() -> Client {
    testing::connect(server().await).await
}

/// One test's world: a worker (on a thread of its own), its task queue and data directory.
pub struct Env {
    pub client: ReleaseClient,
    pub task_queue: String,
    pub data: tempfile::TempDir,
    pub catalogue: Catalogue,
    args: ReleaseArgs,
    worker: Option<WorkerThread>,
}

impl Env {
    /// A worker with default settings.
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// A worker whose settings `configure` adjusts (task queue and data dir are the test's own).
    pub async fn with(configure: impl FnOnce(&mut ReleaseArgs)) -> Self {
        let task_queue = format!("release-test-{}", uuid::Uuid::new_v4());
        let mut args = ReleaseArgs { release_task_queue: task_queue.clone(), ..ReleaseArgs::default() };
        configure(&mut args);
        let data = tempfile::tempdir().unwrap();
        let catalogue = match &args.release_catalogue {
            Some(path) => Catalogue::load(path).unwrap(),
            None => Catalogue::built_in(),
        };
        let client = ReleaseClient::new(connect().await, task_queue.clone());
        let mut env = Self { client, task_queue, data, catalogue, args, worker: None };
        env.start_worker();
        env
    }

    /// (Re)starts the worker.
    pub fn start_worker(&mut self) {
        assert!(self.worker.is_none(), "a worker is running");
        self.worker = Some(WorkerThread::start(self.args.clone(), self.data.path().to_owned()));
    }

    /// Stops the worker (graceful shutdown) and waits for it.
    pub fn stop_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.stop();
        }
    }

    /// The artifact store, environments and audit logs of this test.
    pub fn store(&self) -> ReleaseStore {
        ReleaseStore::new(&self.data.path().canonicalize().unwrap())
    }

    /// Starts a release (checked first, as the API does).
    pub async fn start_release(&self, release: &ReleaseInfo) -> String {
        self.client.start(release, &self.catalogue).await.expect("release starts")
    }

    /// Starts a release and waits for its result.
    pub async fn run(&self, release: &ReleaseInfo) -> String {
        self.start_release(release).await;
        self.result(&release.release_key).await
    }

    /// The release's result (at most 120 s).
    pub async fn result(&self, key: &str) -> String {
        tokio::time::timeout(Duration::from_secs(120), self.client.result(key))
            .await
            .expect("the release ends within 120 s")
            .expect("result")
    }

    /// Polls the release's state until `predicate` holds (60 s at most).
    pub async fn wait_for(
        &self,
        key: &str,
        what: &str,
        predicate: impl Fn(&ordo_release::model::ReleaseState) -> bool,
    ) -> ordo_release::model::ReleaseState {
        poll(what, Duration::from_secs(60), async || match self.client.view(key).await {
            Ok(view) if !view.stale && predicate(&view.state) => Ok(view.state),
            Ok(view) => Err(format!("{:?}", view.state)),
            Err(e) => Err(e.to_string()),
        })
        .await
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop_worker();
    }
}

/// A worker running on a thread with its own runtime until stopped.
struct WorkerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerThread {
    fn start(args: ReleaseArgs, data_dir: PathBuf) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let host = HostSettings { data_dir: data_dir.canonicalize().unwrap() };
                let domain = args.domain(&host).expect("release domain");
                let client = connect().await;
                let sdk = temporalio_sdk::Runtime::from_current_tokio(Default::default()).expect("runtime");
                let mut workers: Vec<temporalio_sdk::Worker> = domain
                    .workers()
                    .unwrap()
                    .into_iter()
                    .map(|options| temporalio_sdk::Worker::new(&sdk, client.clone(), options).expect("worker"))
                    .collect();
                let shutdowns: Vec<_> = workers.iter().map(|w| w.shutdown_handle()).collect();
                let _ = ready_tx.send(());
                let run = futures::future::try_join_all(workers.iter_mut().map(|w| w.run()));
                tokio::pin!(run);
                tokio::select! {
                    result = &mut run => { result.expect("worker runs"); }
                    _ = stopped => {
                        shutdowns.iter().for_each(|s| s());
                        let _ = tokio::time::timeout(Duration::from_secs(20), run).await;
                    }
                }
            });
        });
        ready_rx.recv_timeout(Duration::from_secs(60)).expect("worker ready");
        Self { stop: Some(stop), thread: Some(thread) }
    }

    fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A unique release key.
pub fn unique_key(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// A release of `containers` (each at `version`) to `envs`, with test timings (10 ms retries).
pub fn release(key: &str, containers: &[&str], version: &str, envs: &[&str]) -> ReleaseInfo {
    let deploys = containers
        .iter()
        .map(|c| DeployInfo {
            deploy_key: format!("{key}:{c}"),
            container_id: (*c).to_owned(),
            container_version: version.to_owned(),
            git_url: format!("https://example.com/{c}.git"),
            approved: true,
            approved_by: "Joshua Smith".into(),
            envs: envs.iter().map(|e| (*e).to_owned()).collect(),
            release_key: key.to_owned(),
            knobs: StepKnobs::default(),
        })
        .collect();
    let mut release = ReleaseInfo { deploys, ..ReleaseInfo::from_catalogue(key) };
    release.knobs.retry_initial_ms = Some(10);
    release
}

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

/// Asserts that no step was done twice: in every log, each (step, container, version) once.
pub fn assert_no_step_twice(store: &ReleaseStore) {
    for log in ["artifactory", "DEV", "TEST", "QC", "PROD"] {
        let entries = store.audit(log).unwrap();
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            assert!(
                seen.insert((e.step.clone(), e.container_id.clone(), e.version.clone(), e.deploy_key.clone())),
                "{log}: {} of {} {} done twice: {entries:#?}",
                e.step,
                e.container_id,
                e.version
            );
        }
    }
}
