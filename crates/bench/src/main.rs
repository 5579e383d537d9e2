//! `ordo-bench …`: Ordo measured against its references (`provision`), the chaos suite at large
//! sizes (`chaos`), seed 004's `/invoke` against a process per request (`hooks`), and the
//! reference workers those runs spawn as separate processes (`worker`, hidden). Reports go to `bench/results/` as JSON and Markdown; progress goes to stderr.
//! `ordo-bench …`: Ordo measured against its references (`provision`, `orders`), the chaos suite
//! at large sizes (`chaos`, and `orders`' chaos run), and the reference workers those runs spawn as separate processes (`worker`,
//! hidden). Reports go to `bench/results/` as JSON and Markdown; progress goes to stderr.
//!
//! A binary of its own, not a command of `ordo`: the product ships what users run. It drives the
//! `ordo` binary found next to it (`--ordo-bin` overrides).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use ordo_bench::chaos::ChaosConfig;
use ordo_bench::provision::ProvisionBenchConfig;
use ordo_bench::reference::ReferenceKind;
use temporalio_sdk::{Runtime, Worker};

/// Ordo's benchmarks and chaos suite.
#[derive(Debug, clap::Parser)]
#[command(name = "ordo-bench", version, about)]
struct Cli {
    #[command(flatten)]
    temporal: ordo_core::TemporalArgs,
    #[command(subcommand)]
    command: BenchCommand,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ORDO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = <Cli as clap::Parser>::parse();
    // A reference worker runs on the runtime `ordo worker` picks, so the two compare like for like;
    // the load generator keeps a thread per CPU.
    let runtime = match &cli.command {
        BenchCommand::Worker(args) => args.runtime_threads.build(),
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.temporal, cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The benchmark commands.
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Provisioning runs (sim driver, no latency) against the skeleton, trivial and Python
    /// references on one dev server: runs/s, p50/p99, worker CPU and RSS, ratios.
    Provision(ProvisionArgs),
    /// Workers SIGKILLed at random (and optionally the dev server restarted) while runs execute
    /// with failing sim operations: every run completes, nothing is applied twice.
    Chaos(ChaosArgs),
    /// One release of seed 003 (deploys × environments, injected errors) against a no-op skeleton
    /// of the same shape: wall time, worker CPU, steps done twice (from the audit logs).
    Release(ReleaseArgs),
    /// Seed 004's `POST /invoke/{client}` served in-process by Ordo's API against the seed's
    /// process per request (temp file + `temporal workflow start`): requests/s, p50/p99, ratio.
    Hooks(HooksBenchArgs),
    /// Pizza orders against a no-op skeleton of the same shape (orders/s, worker CPU per order),
    /// then checkpoint 2's chaos run: workers SIGKILLed, kitchen steps failing, 0 failed orders.
    Orders(OrdersArgs),
    /// Run a reference worker (spawned by `ordo bench provision`, one process per subject).
    #[command(hide = true)]
    Worker(ReferenceWorkerArgs),
}

/// Where things are; every path is relative to the repository root by default.
#[derive(Debug, Clone, clap::Args)]
struct Paths {
    /// Directory for the JSON and Markdown reports.
    #[arg(long, env = "ORDO_BENCH_RESULTS", default_value = "bench/results")]
    results_dir: PathBuf,
    /// The shipped stacks are copied from here.
    #[arg(long, default_value = "examples")]
    examples: PathBuf,
    /// The Temporal CLI (default: the project virtualenv's, then PATH).
    #[arg(long, env = "ORDO_TEMPORAL_BIN")]
    temporal_bin: Option<PathBuf>,
    /// The `ordo` binary whose worker is measured (default: the one next to this binary).
    #[arg(long, env = "ORDO_BIN")]
    ordo_bin: Option<PathBuf>,
}

/// The `ordo` binary: `--ordo-bin`, else `ordo` next to this executable.
fn ordo_bin(paths: &Paths) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &paths.ordo_bin {
        return Ok(bin.clone());
    }
    let me = std::env::current_exe().context("locating ordo-bench")?;
    let sibling = me.with_file_name("ordo");
    anyhow::ensure!(sibling.is_file(), "no ordo binary next to {} (build it, or pass --ordo-bin)", me.display());
    Ok(sibling)
}

/// `ordo bench provision` settings.
#[derive(Debug, Clone, clap::Args)]
struct ProvisionArgs {
    /// Measured runs per subject.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// Runs in flight.
    #[arg(long, default_value_t = 20)]
    concurrency: usize,
    /// Split the runs into this many rounds, interleaving the subjects (fairer under background load).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Also measure with the dev server on CPU 0 and the worker on CPU 1 (`taskset`).
    #[arg(long)]
    pin: bool,
    /// Also park this many runs at the approval gate and report worker RSS (Ordo and Python).
    #[arg(long)]
    parked: Option<usize>,
    /// Seconds to hold the parked runs before the second RSS sample.
    #[arg(long, default_value_t = 35)]
    parked_hold_secs: u64,
    /// Python interpreter with `temporalio` (the peer is skipped when it cannot import it).
    #[arg(long, env = "ORDO_BENCH_PYTHON", default_value = ".venv/bin/python")]
    python: PathBuf,
    /// Skip the Python peer.
    #[arg(long)]
    no_python: bool,
    /// The Python peer's directory.
    #[arg(long, default_value = "bench/peers/python")]
    peer_dir: PathBuf,
    /// Upper bound on one run's end-to-end time, in seconds.
    #[arg(long, default_value_t = 120)]
    run_timeout_secs: u64,
    /// Measure only these subjects (comma-separated: ordo, ordo-encrypted, skeleton,
    /// skeleton-unlocked, skeleton-shared-lock, trivial, python; a skeleton brings Ordo along, it
    /// needs Ordo's history for its shape). `skeleton-unlocked` is the skeleton without the
    /// workspace lock; `skeleton-shared-lock` keeps its lock in a few long-lived shard workflows.
    /// `ordo-encrypted` is Ordo with every payload encrypted, the driver's client too.
    #[arg(long, value_delimiter = ',', value_parser = parse_subject)]
    only: Vec<ordo_bench::provision::Subject>,
    /// Record each worker with `perf record -g` during its batch into this directory.
    #[arg(long)]
    perf_dir: Option<PathBuf>,
    /// Another `ordo` binary (say, the build before a change) measured as subject
    /// `ordo-baseline` in the same rounds as Ordo, and reported as Ordo / baseline: a change
    /// judged in one run, not across runs on a machine whose speed drifts.
    #[arg(long)]
    baseline_bin: Option<PathBuf>,
    #[command(flatten)]
    paths: Paths,
}

/// `ordo bench chaos` settings.
#[derive(Debug, Clone, clap::Args)]
struct ChaosArgs {
    /// Provisioning runs, each on its own copy of the namespace stack.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// `ordo worker` processes.
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// SIGKILL a random worker this often (0: never).
    #[arg(long, default_value_t = 3.0)]
    kill_every_secs: f64,
    /// Kill only workers that are running a `terraform_apply` attempt (default: any worker).
    #[arg(long)]
    kill_while_applying: bool,
    /// Stop and restart the dev server (same SQLite file and port) this many seconds after the starts.
    #[arg(long)]
    restart_server_after_secs: Option<f64>,
    /// Share of sim resource operations that fail retryably.
    #[arg(long, default_value_t = 0.3)]
    failure_rate: f64,
    /// Simulated latency per resource operation, in milliseconds.
    #[arg(long, default_value_t = 100)]
    latency_ms: u64,
    /// Seed of the kill order (default: from the clock; printed in the report).
    #[arg(long)]
    seed: Option<u64>,
    /// Give up waiting for the runs after this many seconds.
    #[arg(long, default_value_t = 900)]
    deadline_secs: u64,
    #[command(flatten)]
    paths: Paths,
}

/// `ordo bench release` settings.
#[derive(Debug, Clone, clap::Args)]
struct ReleaseArgs {
    /// Deploys in the release (each goes through DEV, TEST, QC and PROD).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
    deploys: u32,
    /// Chance, in percent, that each step attempt fails (the seed's knobs are 10, 30, 60).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u8).range(0..=90))]
    error_rate: u8,
    /// First retry interval of a failed step, in milliseconds (backs off to 5×).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    retry_initial_ms: u64,
    /// Rounds, each with fresh workers for both subjects; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    rounds: u64,
    /// Upper bound on one release's end-to-end time, in seconds.
    #[arg(long, default_value_t = 600)]
    release_timeout_secs: u64,
    #[command(flatten)]
    paths: Paths,
}

/// `ordo bench hooks` settings.
#[derive(Debug, Clone, clap::Args)]
struct HooksBenchArgs {
    /// Requests sent to Ordo's `/invoke` at `--rate` (and as many starts through the Temporal
    /// client alone at the same rate: `/invoke`'s floor).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate_requests: u32,
    /// Requests per second of the fixed-rate phase.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Requests to Ordo's `/invoke` in the throughput phase.
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    requests: u32,
    /// Requests of the process-per-request design in the throughput phase.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    process_requests: u32,
    /// Requests in flight in the throughput phase (both designs).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    #[command(flatten)]
    paths: Paths,
}

/// `ordo bench orders` settings.
#[derive(Debug, Clone, clap::Args)]
struct OrdersArgs {
    /// Measured orders per subject (Ordo, skeleton).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    orders: u64,
    /// Orders in flight.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    concurrency: u64,
    /// Split the orders into this many rounds, interleaving the subjects.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    rounds: u64,
    /// Upper bound on one order's end-to-end time, in seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    order_timeout_secs: u64,
    /// Orders streamed through the chaos run (0: no chaos run).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    chaos_orders: u64,
    /// Orders placed per second in the chaos run.
    #[arg(long, default_value_t = 20.0)]
    chaos_rate: f64,
    /// Worker processes in the chaos run.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
    chaos_workers: u64,
    /// Mean seconds between SIGKILLs of a random worker (0: never).
    #[arg(long, default_value_t = 5.0)]
    kill_every_secs: f64,
    /// Share of kitchen steps that fail retryably, on any attempt.
    #[arg(long, default_value_t = 0.3)]
    failure_rate: f64,
    /// Every kitchen step of the chaos orders takes this many milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=120_000))]
    step_ms: u64,
    /// Give up waiting for the chaos orders after this many seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    chaos_deadline_secs: u64,
    #[command(flatten)]
    paths: Paths,
}

/// `ordo bench worker <kind>` settings.
#[derive(Debug, Clone, clap::Args)]
struct ReferenceWorkerArgs {
    /// `skeleton`, `trivial` or `release-skeleton`.
    #[arg(value_parser = parse_kind)]
    kind: ReferenceKind,
    /// Task queue to poll.
    #[arg(long, env = "TEMPORAL_TASK_QUEUE")]
    task_queue: String,
    /// Threads running the worker's async tasks, as `ordo worker --runtime-threads`.
    #[arg(long, env = "ORDO_RUNTIME_THREADS", default_value = "auto")]
    runtime_threads: ordo_core::runtime::RuntimeThreads,
}

fn parse_subject(s: &str) -> Result<ordo_bench::provision::Subject, String> {
    use ordo_bench::provision::Subject;
    match s {
        "ordo" => Ok(Subject::Ordo),
        "ordo-encrypted" => Ok(Subject::OrdoEncrypted),
        "ordo-baseline" => Ok(Subject::OrdoBaseline),
        "skeleton" => Ok(Subject::Skeleton),
        "skeleton-unlocked" => Ok(Subject::SkeletonUnlocked),
        "skeleton-shared-lock" => Ok(Subject::SkeletonSharedLock),
        "trivial" => Ok(Subject::Trivial),
        "python" => Ok(Subject::Python),
        other => {
            Err(format!("unknown subject {other:?} (ordo, ordo-encrypted, ordo-baseline, skeleton, skeleton-unlocked, skeleton-shared-lock, trivial, python)"))
        }
    }
}

fn parse_kind(s: &str) -> Result<ReferenceKind, String> {
    match s {
        "skeleton" => Ok(ReferenceKind::Skeleton),
        "trivial" => Ok(ReferenceKind::Trivial),
        "release-skeleton" => Ok(ReferenceKind::ReleaseSkeleton),
        other => Err(format!("unknown reference {other:?} (skeleton, trivial, release-skeleton)")),
    }
}

async fn run(temporal: ordo_core::TemporalArgs, command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Provision(args) => provision(args).await,
        BenchCommand::Chaos(args) => chaos(args).await,
        BenchCommand::Release(args) => release(args).await,
        BenchCommand::Hooks(args) => hooks(args).await,
        BenchCommand::Orders(args) => orders(args).await,
        BenchCommand::Worker(args) => reference_worker(temporal, args).await,
    }
}

/// The benchmark compares plain payloads; a codec would change every subject differently.
fn refuse_codecs() -> anyhow::Result<()> {
    for var in ["ENCRYPT_PAYLOADS", "ORDO_COMPRESS_PAYLOADS"] {
        if std::env::var(var).is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1") {
            anyhow::bail!("unset {var}: the benchmarks measure plain payloads (the Python peer has no codec)");
        }
    }
    Ok(())
}

fn temporal_bin(paths: &Paths) -> PathBuf {
    paths.temporal_bin.clone().unwrap_or_else(ordo_core::devserver::find_temporal_binary)
}

fn absolute(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

async fn provision(args: ProvisionArgs) -> anyhow::Result<ExitCode> {
    refuse_codecs()?;
    let config = ProvisionBenchConfig {
        ordo_bin: ordo_bin(&args.paths)?,
        bench_bin: std::env::current_exe().context("locating ordo-bench")?,
        temporal_bin: temporal_bin(&args.paths),
        examples: absolute(&args.paths.examples)?,
        python: (!args.no_python).then(|| absolute(&args.python)).transpose()?,
        peer_dir: absolute(&args.peer_dir)?,
        runs: args.runs,
        concurrency: args.concurrency,
        pin: args.pin,
        parked: args.parked,
        parked_hold: Duration::from_secs(args.parked_hold_secs),
        run_timeout: Duration::from_secs(args.run_timeout_secs),
        rounds: args.rounds,
        only: args.only,
        perf_dir: args.perf_dir.as_deref().map(absolute).transpose()?,
        baseline_bin: args.baseline_bin.as_deref().map(absolute).transpose()?,
    };
    let report = ordo_bench::provision::run(config).await?;
    let markdown = ordo_bench::report::provision_markdown(&report);
    let (json, md) = ordo_bench::report::write(&args.paths.results_dir, "provision", &report, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    let failed: usize = report.modes.iter().flat_map(|m| &m.subjects).map(|s| s.failed).sum();
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn chaos(args: ChaosArgs) -> anyhow::Result<ExitCode> {
    refuse_codecs()?;
    anyhow::ensure!(
        (0.0..1.0).contains(&args.failure_rate),
        "--failure-rate must be in [0, 1): at 1 nothing could ever apply"
    );
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    let config = ChaosConfig {
        ordo_bin: ordo_bin(&args.paths)?,
        temporal_bin: temporal_bin(&args.paths),
        examples: absolute(&args.paths.examples)?,
        runs: args.runs,
        workers: args.workers,
        kill_every: (args.kill_every_secs > 0.0).then(|| Duration::from_secs_f64(args.kill_every_secs)),
        kill_policy: if args.kill_while_applying {
            ordo_bench::chaos::KillPolicy::WhileApplying
        } else {
            ordo_bench::chaos::KillPolicy::Random
        },
        max_kills: None,
        restart_server_after: args.restart_server_after_secs.map(Duration::from_secs_f64),
        failure_rate: args.failure_rate,
        latency_ms: args.latency_ms,
        seed,
        deadline: Duration::from_secs(args.deadline_secs),
    };
    eprintln!(
        "chaos: {} runs, {} workers, kill every {} s, seed {seed} …",
        args.runs, args.workers, args.kill_every_secs
    );
    let report = ordo_bench::chaos::run(config).await?;
    let markdown = ordo_bench::report::chaos_markdown(&report);
    let (json, md) = ordo_bench::report::write(&args.paths.results_dir, "chaos", &report, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    Ok(if report.all_good() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn release(args: ReleaseArgs) -> anyhow::Result<ExitCode> {
    refuse_codecs()?;
    let config = ordo_bench::release::ReleaseBenchConfig {
        ordo_bin: ordo_bin(&args.paths)?,
        bench_bin: std::env::current_exe().context("locating ordo-bench")?,
        temporal_bin: temporal_bin(&args.paths),
        deploys: args.deploys,
        error_rate: args.error_rate,
        retry_initial_ms: args.retry_initial_ms,
        rounds: args.rounds as usize,
        release_timeout: Duration::from_secs(args.release_timeout_secs),
    };
    let report = ordo_bench::release::run(config).await?;
    let markdown = ordo_bench::release::markdown(&report);
    let (json, md) = ordo_bench::report::write(&args.paths.results_dir, "release", &report, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    Ok(if report.steps_done_twice == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn hooks(args: HooksBenchArgs) -> anyhow::Result<ExitCode> {
    refuse_codecs()?;
    let config = ordo_bench::hooks::HooksBenchConfig {
        temporal_bin: temporal_bin(&args.paths),
        rate_requests: args.rate_requests as usize,
        rate: args.rate,
        requests: args.requests as usize,
        process_requests: args.process_requests as usize,
        concurrency: args.concurrency as usize,
    };
    let report = ordo_bench::hooks::run(config).await?;
    let markdown = ordo_bench::report::hooks_markdown(&report);
    let (json, md) = ordo_bench::report::write(&args.paths.results_dir, "hooks", &report, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    let failed: usize = report.results.iter().map(|p| p.failed).sum();
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn orders(args: OrdersArgs) -> anyhow::Result<ExitCode> {
    refuse_codecs()?;
    anyhow::ensure!((0.0..1.0).contains(&args.failure_rate), "--failure-rate must be in [0, 1)");
    anyhow::ensure!(args.chaos_rate > 0.0 && args.chaos_rate <= 1_000.0, "--chaos-rate must be in (0, 1000]");
    anyhow::ensure!(
        args.kill_every_secs == 0.0 || (0.1..=3_600.0).contains(&args.kill_every_secs),
        "--kill-every-secs must be 0 or in [0.1, 3600]"
    );
    let chaos = (args.chaos_orders > 0).then_some(ordo_bench::orders::OrdersChaosConfig {
        orders: args.chaos_orders,
        rate: args.chaos_rate,
        workers: args.chaos_workers as usize,
        kill_every_secs: args.kill_every_secs,
        failure_rate: args.failure_rate,
        step_ms: args.step_ms,
        deadline_secs: args.chaos_deadline_secs,
    });
    let config = ordo_bench::orders::OrdersBenchConfig {
        ordo_bin: ordo_bin(&args.paths)?,
        bench_bin: std::env::current_exe().context("locating ordo-bench")?,
        temporal_bin: temporal_bin(&args.paths),
        orders: args.orders as usize,
        concurrency: args.concurrency as usize,
        rounds: args.rounds as usize,
        order_timeout: Duration::from_secs(args.order_timeout_secs),
        chaos,
    };
    let report = ordo_bench::orders::run(config).await?;
    let markdown = ordo_bench::report::orders_markdown(&report);
    let (json, md) = ordo_bench::report::write(&args.paths.results_dir, "orders", &report, &markdown)?;
    println!("{markdown}");
    eprintln!("wrote {} and {}", json.display(), md.display());
    let failed: usize = report.subjects.iter().map(|s| s.failed).sum();
    let chaos_ok = report.chaos.as_ref().is_none_or(ordo_bench::orders::OrdersChaosResult::all_good);
    Ok(if failed == 0 && chaos_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn reference_worker(temporal: ordo_core::TemporalArgs, args: ReferenceWorkerArgs) -> anyhow::Result<ExitCode> {
    // `ORDO_GRPC_COMPRESSION` applies as to Ordo's own worker.
    let client = ordo_core::connect(&temporal).await?;
    let runtime = Runtime::from_current_tokio(Default::default()).context("starting the Temporal runtime")?;
    // The parked-runs memory experiment: the same cache setting as Ordo's own worker.
    let cache = std::env::var("ORDO_MAX_CACHED_WORKFLOWS")
        .ok()
        .map(|v| v.parse::<usize>())
        .transpose()
        .context("ORDO_MAX_CACHED_WORKFLOWS must be a number")?;
    let options = ordo_bench::reference::worker_options(args.kind, &args.task_queue, cache)?;
    let mut worker = Worker::new(&runtime, client.clone(), options).context("creating the worker")?;
    // The skeleton's locks taken by update have a worker of their own, as Ordo's do.
    let mut locks = match args.kind {
        ordo_bench::reference::ReferenceKind::Skeleton => {
            let options = ordo_bench::reference::lock_worker_options(&args.task_queue, cache)?;
            Some(Worker::new(&runtime, client, options).context("creating the lock worker")?)
        }
        _ => None,
    };
    let shutdowns: Vec<_> =
        std::iter::once(worker.shutdown_handle()).chain(locks.as_ref().map(Worker::shutdown_handle)).collect();
    let run = async {
        match locks.as_mut() {
            Some(locks) => tokio::try_join!(worker.run(), locks.run()).map(|_| ()),
            None => worker.run().await,
        }
    };
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => result.context("worker stopped")?,
        () = shutdown_signal() => {
            shutdowns.iter().for_each(|shutdown| shutdown());
            run.await.context("worker shutdown")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM (how the benchmark stops the reference workers it spawned).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
