//! The command tree, one module per command; each domain's CLI is one variant here.

pub(crate) mod app;
pub(crate) mod codec_server;
pub(crate) mod domains;
pub(crate) mod hook;
pub(crate) mod hook_workers;
pub(crate) mod hook_workflows;
pub(crate) mod idle;
pub(crate) mod input;
pub(crate) mod order;
pub(crate) mod provision;
pub(crate) mod release;
pub(crate) mod search_attributes;
pub(crate) mod serve;
pub(crate) mod telemetry;
pub(crate) mod up;
pub(crate) mod worker;

use std::process::ExitCode;

/// Ordo runs real-world processes (infrastructure provisioning, application requests, …) as
/// durable workflows on Temporal.
#[derive(Debug, clap::Parser)]
#[command(name = "ordo", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    temporal: ordo_core::TemporalArgs,
    /// Threads running Ordo's async tasks: `auto` (one on a machine with up to 2 CPUs, where
    /// handing work between threads costs more than it saves; else one per CPU) or 1–1024.
    #[arg(long, global = true, env = "ORDO_RUNTIME_THREADS", default_value = "auto")]
    runtime_threads: ordo_core::runtime::RuntimeThreads,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Start everything locally: the Temporal dev server (unless TEMPORAL_ADDRESS is set), search
    /// attributes, workers for every domain, the API and web UI. Ctrl-C stops it all.
    Up(Box<up::UpArgs>),
    /// Run a worker alone (any number of them, on any machines), hosting the selected domains.
    Worker(Box<worker::WorkerArgs>),
    /// Serve the HTTP API and web UI alone (any number of replicas).
    Serve(serve::ServeArgs),
    /// Serve seed 001's codec server (`/encryption_codec`, `/compression_codec`) for the Temporal
    /// Web UI and `temporal … --codec-endpoint`.
    CodecServer(codec_server::CodecServerArgs),
    /// Check or register the search attributes the domains write, in the namespace (an admin's
    /// one-time step where workers may not change the schema).
    SearchAttributes(search_attributes::SearchAttributesArgs),
    /// Provisioning runs: start, scenario, list, show, watch, approve, reject, replan, extend, destroy.
    #[command(subcommand)]
    Provision(provision::ProvisionCommand),
    /// Application requests (seed 000): request, authorize, show, list, cancel.
    #[command(subcommand)]
    App(app::AppCommand),
    /// Pizza orders (seed 002): place, status, list, stats, wait, stream, chaos.
    #[command(subcommand)]
    Order(order::OrderCommand),
    /// Releases (seed 003): start, status, approve, pause, resume, abort, list, catalogue.
    #[command(subcommand)]
    Release(release::ReleaseCommand),
    /// Lifecycle hooks (seed 004): intents, workers, workflow intents, instantiate, update, terminate,
    /// history, actions, invoke.
    #[command(subcommand)]
    Hook(hook::HookCommand),
}

impl Cli {
    /// The async runtime the command runs on.
    pub(crate) fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        self.runtime_threads.build()
    }

    /// Runs the command; the exit code says how it went.
    pub(crate) async fn run(self) -> anyhow::Result<ExitCode> {
        let temporal = self.temporal;
        match self.command {
            Command::Up(args) => up::run(temporal, *args).await,
            Command::Worker(args) => worker::run(temporal, *args).await,
            Command::Serve(args) => serve::run(temporal, args).await,
            Command::CodecServer(args) => codec_server::run(args).await,
            Command::SearchAttributes(args) => search_attributes::run(temporal, args).await,
            Command::Provision(command) => provision::run(temporal, command).await,
            Command::App(command) => app::run(temporal, command).await,
            Command::Order(command) => order::run(temporal, command).await,
            Command::Release(command) => release::run(temporal, command).await,
            Command::Hook(command) => hook::run(temporal, command).await,
        }
    }
}
