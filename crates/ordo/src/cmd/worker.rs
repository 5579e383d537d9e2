//! `ordo worker`: hosts the selected domains (default all), each on its task queue(s), until
//! Ctrl-C / SIGTERM. Before polling it makes sure the namespace has every search attribute the
//! domains write: a workflow upserting a missing one would fail its tasks forever.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ordo_core::search_attributes::{self, Registration};
use ordo_core::{Domain, HostSettings};
use temporalio_client::Client;
use temporalio_sdk::{Worker, WorkerOptions};

use super::domains::{DomainArgs, DomainName};
use super::idle;
use super::telemetry::{AbortOnDrop, Telemetry};

/// Worker settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The domains this worker hosts, comma-separated.
    #[arg(long, env = "ORDO_DOMAINS", value_delimiter = ',', default_values_t = DomainName::ALL.to_vec())]
    pub(crate) domains: Vec<DomainName>,
    /// Ordo's data directory (sim state, dev-server database).
    #[arg(long, env = "ORDO_DATA_DIR", default_value = ".ordo")]
    pub(crate) data_dir: PathBuf,
    /// Serve Prometheus metrics (the SDK's and the domains' series) on this address, e.g.
    /// `127.0.0.1:9000` (seed 001's port); off when unset.
    #[arg(long, env = "ORDO_METRICS_ADDR")]
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// Seconds between refreshes of the domain gauges (visibility reads) when metrics are on.
    #[arg(long, env = "ORDO_DOMAIN_METRICS_INTERVAL", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) domain_metrics_interval: u64,
    /// How many workflows each worker keeps in memory between tasks (the SDK's sticky cache; an
    /// evicted run replays its history on its next task). Runs idle for `--evict-idle-after` leave
    /// it anyway, so this bounds the runs working at once; a cache smaller than the runs in flight
    /// makes their tasks replay. At least 1: a run takes its workspace lock in a local activity,
    /// which Temporal core cannot finish for a workflow it keeps no cache of. A ceiling: workers
    /// that need less keep less (the workspace locks' keeps 100).
    #[arg(long, env = "ORDO_MAX_CACHED_WORKFLOWS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub(crate) max_cached_workflows: u64,
    /// Evict a workflow from the cache once it has had no task for this many seconds: a run waiting
    /// for approval, a timer or a long activity (never one with a local activity in flight); its
    /// next task replays its history. 0 keeps every run cached until the cache is full (measured,
    /// release build, 1,000 runs parked at approval: ~56 MiB of worker at 1 s, ~71 MiB at 5 s,
    /// ~141 MiB with 0).
    #[arg(long, env = "ORDO_EVICT_IDLE_AFTER", default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) evict_idle_after: u64,
    /// Never register missing search attributes: refuse to start and print the command that
    /// registers them (for namespaces where workers must not change the schema).
    #[arg(long, env = "ORDO_NO_REGISTER_SEARCH_ATTRIBUTES")]
    pub(crate) no_register_search_attributes: bool,
    #[command(flatten)]
    pub(crate) hosted: DomainArgs,
}

impl WorkerArgs {
    /// The selected domains, built from their settings.
    pub(crate) fn domains(&self) -> anyhow::Result<Vec<Box<dyn Domain>>> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))?;
        let host = HostSettings { data_dir: self.data_dir.canonicalize()? };
        self.hosted.build(&self.domains, &host)
    }
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let domains = args.domains()?;
    let telemetry = Telemetry::start(args.metrics_addr, histogram_buckets(&domains))?;
    let client = ordo_core::config::connect_with_metrics(&temporal, telemetry.client_meter()).await?;
    ensure_search_attributes(&client, &temporal.namespace, &domains, !args.no_register_search_attributes).await?;
    run_worker(client, &telemetry, &args, &domains, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Every hosted domain's histogram boundaries.
pub(crate) fn histogram_buckets(domains: &[Box<dyn Domain>]) -> Vec<(String, Vec<f64>)> {
    domains.iter().flat_map(|d| d.histogram_buckets()).collect()
}

/// Checks (and, when allowed, registers) the union of the domains' search attributes; reports
/// what it created and attributes of another type.
pub(crate) async fn ensure_search_attributes(
    client: &Client,
    namespace: &str,
    domains: &[Box<dyn Domain>],
    may_register: bool,
) -> anyhow::Result<()> {
    let specs = ordo_core::domain::search_attributes(domains.iter().map(|d| d.as_ref()));
    for registration in search_attributes::ensure(client, namespace, &specs, may_register).await? {
        match registration {
            Registration::Created(name) => eprintln!("search attribute {name}: created in namespace {namespace:?}"),
            Registration::Present(_) => {}
            Registration::OtherType { name, existing } => eprintln!(
                "warning: search attribute {name} exists as {existing}, not as Ordo declares it; filters may behave differently"
            ),
        }
    }
    Ok(())
}

/// `domain`'s worker options, each cache capped at the host's `max_cached_workflows` (a worker that
/// asks for less keeps less).
fn worker_options(domain: &dyn Domain, max_cached_workflows: u64) -> anyhow::Result<Vec<WorkerOptions>> {
    let cap = usize::try_from(max_cached_workflows).unwrap_or(usize::MAX);
    let mut workers = domain.workers()?;
    for options in &mut workers {
        options.max_cached_workflows = options.max_cached_workflows.min(cap);
    }
    Ok(workers)
}

/// A worker for `options`, on a core worker built here (as `Worker::new` does) so that, when
/// `idle_after` is set, its runs idle that long are evicted (the returned task; see [`idle`]).
fn new_worker(
    telemetry: &Telemetry,
    client: &Client,
    mut options: WorkerOptions,
    idle_after: Option<Duration>,
) -> anyhow::Result<(Worker, Option<AbortOnDrop>)> {
    let idle_runs = idle_after.filter(|_| !options.workflows().is_empty()).map(|_| Arc::new(idle::IdleRuns::default()));
    if let Some(runs) = &idle_runs {
        options.worker_interceptor(idle::Watch(runs.clone()));
    }
    let config = options
        .to_core_options(client.options().namespace.clone(), client.connection().identity().to_owned())
        .map_err(anyhow::Error::msg)?;
    let core = Arc::new(temporalio_sdk_core::init_worker(&telemetry.runtime, config, client.connection().clone())?);
    let evictor = idle_runs
        .zip(idle_after)
        .map(|(runs, after)| AbortOnDrop::spawn(Box::pin(idle::evict_idle(Arc::downgrade(&core), runs, after))));
    let worker = Worker::new_from_core_options(core, client.options().clone(), options)?;
    Ok((worker, evictor))
}

/// Runs every domain's workers until `stop` resolves, then shuts them down gracefully.
pub(crate) async fn run_worker(
    client: Client,
    telemetry: &Telemetry,
    args: &WorkerArgs,
    domains: &[Box<dyn Domain>],
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let every = Duration::from_secs(args.domain_metrics_interval);
    let _gauges: Vec<AbortOnDrop> = match telemetry.meter() {
        Some(meter) => domains
            .iter()
            .filter_map(|d| d.gauges(client.clone(), meter.clone(), every))
            .map(AbortOnDrop::spawn)
            .collect(),
        None => Vec::new(),
    };
    let idle_after = (args.evict_idle_after > 0).then(|| Duration::from_secs(args.evict_idle_after));
    let mut workers = Vec::new();
    let mut evictors = Vec::new();
    for domain in domains {
        for options in worker_options(domain.as_ref(), args.max_cached_workflows)? {
            eprintln!("{}: polling task queue {:?}", domain.name(), options.task_queue);
            let name = format!("creating the {} worker on {:?}", domain.name(), options.task_queue);
            let (worker, evictor) = new_worker(telemetry, &client, options, idle_after).context(name)?;
            workers.push(worker);
            evictors.extend(evictor);
        }
    }
    let shutdowns: Vec<_> = workers.iter().map(|w| w.shutdown_handle()).collect();
    let run = futures::future::try_join_all(workers.iter_mut().map(|w| w.run()));
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => { result.context("worker stopped")?; }
        () = stop => {
            shutdowns.iter().for_each(|shutdown| shutdown());
            run.await.context("worker shutdown")?;
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        worker: WorkerArgs,
    }

    /// Each worker's cache size, provisioning's (the runs', then the workspace locks') first.
    fn caches(max_cached: &str) -> Vec<usize> {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().to_str().unwrap();
        let args =
            ["--domains", "provision", "--data-dir", dir, "--iac-root", dir, "--max-cached-workflows", max_cached];
        let cli = Cli::try_parse_from(std::iter::once("ordo").chain(args)).unwrap();
        let domains = cli.worker.domains().unwrap();
        let options = worker_options(domains[0].as_ref(), cli.worker.max_cached_workflows).unwrap();
        options.iter().map(|o| o.max_cached_workflows).collect()
    }

    /// The host's setting is a ceiling: the runs' worker takes it, the locks' worker keeps its
    /// own smaller cache, and a lower setting caps both.
    #[test]
    fn the_cache_setting_caps_every_worker_and_the_locks_keep_less() {
        assert_eq!(caches("1000"), [1000, ordo_provision::lock::LOCK_CACHE_SIZE]);
        assert_eq!(caches("10"), [10, 10]);
    }

    /// Idle eviction is on by default (1 s), off with 0, and bounded at a day.
    #[test]
    fn idle_eviction_defaults_to_a_second_and_refuses_more_than_a_day() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("ordo").chain(args.iter().copied()));
        assert_eq!(parse(&[]).unwrap().worker.evict_idle_after, 1);
        assert_eq!(parse(&["--evict-idle-after", "0"]).unwrap().worker.evict_idle_after, 0);
        let err = parse(&["--evict-idle-after", "86401"]).err().unwrap().to_string();
        assert!(err.contains("--evict-idle-after") && err.contains("86401"), "{err}");
    }
}
