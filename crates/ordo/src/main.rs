//! `ordo`: one binary for the embedded platform (`up`), workers (`worker`) and the provisioning
//! CLI (`provision …`). Data goes to stdout, messages to stderr.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Ordo runs infrastructure provisioning as durable workflows on Temporal.
#[derive(Debug, Parser)]
#[command(name = "ordo", version, about)]
struct Cli {
    #[command(flatten)]
    temporal: ordo_core::TemporalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start everything locally: the Temporal dev server (unless TEMPORAL_ADDRESS is set), search
    /// attributes, and a worker. Ctrl-C stops it all.
    Up(Box<cmd::up::UpArgs>),
    /// Run a worker alone (any number of them, on any machines).
    Worker(cmd::worker::WorkerArgs),
    /// Serve the HTTP API and web UI alone (any number of replicas).
    Serve(cmd::serve::ServeArgs),
    /// Serve seed 001's codec server (`/encryption_codec`, `/compression_codec`) for the Temporal
    /// Web UI and `temporal … --codec-endpoint`.
    CodecServer(cmd::codec_server::CodecServerArgs),
    /// Provisioning runs: start, scenario, list, show, watch, approve, reject, replan, extend, destroy.
    #[command(subcommand)]
    Provision(cmd::provision::ProvisionCommand),
    /// Application requests (seed 000): request, authorize, show, list, cancel.
    #[command(subcommand)]
    App(cmd::app::AppCommand),
    /// Lifecycle hooks (seed 004): intents, instantiate, update, terminate, history, actions, invoke.
    #[command(subcommand)]
    Hook(cmd::hook::HookCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORDO_LOG")
                .unwrap_or_else(|_| "warn,ordo=info,ordo_provision=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => cmd::up::run(cli.temporal, *args).await,
        Command::Worker(args) => cmd::worker::run(cli.temporal, args).await,
        Command::Serve(args) => cmd::serve::run(cli.temporal, args).await,
        Command::CodecServer(args) => cmd::codec_server::run(args).await,
        Command::Provision(command) => cmd::provision::run(cli.temporal, command).await,
        Command::App(command) => cmd::app::run(cli.temporal, command).await,
        Command::Hook(command) => cmd::hook::run(cli.temporal, command).await,
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
