//! `ordo up`: the embedded platform on localhost.

use std::path::PathBuf;
use std::process::ExitCode;

use ordo_core::devserver::{find_temporal_binary, DevServer, DevServerOptions};

use super::codec_server::{self, CodecAccessArgs};
use ordo_application::ApplicationClient;
use ordo_orders::OrdersClient;
use ordo_provision::client::ProvisionClient;
use ordo_release::client::ReleaseClient;

use super::serve::HttpArgs;
use super::telemetry::Telemetry;
use super::worker::{ensure_search_attributes, histogram_buckets, run_worker, shutdown_signal, WorkerArgs};

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
    /// Where to serve the codec server (`off`: don't). The embedded Web UI's origin is always allowed,
    /// and the embedded UI decodes payloads through it (unless `--codec-token` is set).
    #[arg(long, env = "ORDO_CODEC_ADDR", default_value = "127.0.0.1:8081")]
    codec_addr: String,
    #[command(flatten)]
    codec: CodecAccessArgs,
    #[command(flatten)]
    http: HttpArgs,
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
                ui_codec_endpoint: ui_codec_endpoint(&args),
                namespace: temporal.namespace.clone(),
                log_file: Some(args.worker.data_dir.join("temporal.log")),
            })
            .await?;
            eprintln!("Temporal dev server on {} (database {})", server.address(), db.display());
            temporal.address = Some(server.address().to_owned());
            Some(server)
        }
    };
    let domains = args.worker.domains()?;
    let telemetry = Telemetry::start(args.worker.metrics_addr, histogram_buckets(&domains))?;
    let client = ordo_core::config::connect_with_metrics(&temporal, telemetry.client_meter()).await?;
    ensure_search_attributes(&client, &temporal.namespace, &domains, !args.worker.no_register_search_attributes)
        .await?;
    if let Some(server) = &server {
        if let Some(ui) = server.ui_address() {
            eprintln!("Temporal Web UI:  {ui}");
        }
    }
    let stop_codec = start_codec_server(&args, server.is_some()).await?;
    let hooks = args.worker.hosted.hooks.client(client.clone(), &args.worker.data_dir).await?;
    let hosted = &args.worker.hosted;
    let catalogue = super::serve::release_catalogue(hosted.release.release_catalogue.as_deref())?;
    let order_workers =
        super::order::worker_launcher(&temporal, &hosted.orders.orders_task_queue, Some(&args.worker.data_dir))?;
    let clients = |builder: ordo_api::AppStateBuilder| {
        Ok(builder
            .with(ProvisionClient::new(client.clone(), &hosted.provision.task_queue))
            .with(ApplicationClient::new(client.clone(), &hosted.application.apps_task_queue))
            .with(OrdersClient::new(client.clone(), &hosted.orders.orders_task_queue))
            .with(ReleaseClient::new(client.clone(), hosted.release.release_task_queue.clone()))
            .with(catalogue)
            .with(hooks)
            .with(order_workers))
    };
    let stop_http =
        super::serve::start_in_background(&args.http, client.clone(), &hosted.iac.iac_root, clients).await?;
    eprintln!("IaC root {}", args.worker.hosted.iac.iac_root.display());
    eprintln!("try:  ordo provision scenario happy_path --watch     (Ctrl-C here stops everything)");
    let result = run_worker(client, &telemetry, &args.worker, &domains, shutdown_signal()).await;
    eprintln!("stopping…");
    let _ = stop_codec.send(());
    let _ = stop_http.send(());
    if let Some(server) = server {
        server.stop().await?;
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// The codec endpoint the embedded Web UI decodes with: Ordo's codec server, unless it is off or
/// wants a bearer token (which the UI cannot send).
fn ui_codec_endpoint(args: &UpArgs) -> Option<String> {
    let mut addr: std::net::SocketAddr = args.codec_addr.parse().ok()?;
    if args.codec.token.as_deref().is_some_and(|t| !t.is_empty()) {
        return None;
    }
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Some(format!("http://{addr}/encryption_codec"))
}

/// Serves the codec server in the background (a busy port is a warning, not a failure); the
/// returned sender stops it.
async fn start_codec_server(args: &UpArgs, embedded_ui: bool) -> anyhow::Result<tokio::sync::oneshot::Sender<()>> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    if args.codec_addr == "off" {
        return Ok(stop);
    }
    let addr = args.codec_addr.parse().map_err(|e| anyhow::anyhow!("--codec-addr {:?}: {e}", args.codec_addr))?;
    let codecs = codec_server::codecs_from_env()?;
    let mut options = args.codec.options();
    if embedded_ui {
        let port = args.ui_port;
        options.allowed_origins.extend([format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}")]);
        options.allowed_origins.dedup();
    }
    match codec_server::bind(addr).await {
        Ok(listener) => {
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stopped.await;
                };
                if let Err(err) = codec_server::serve(listener, codecs, options, stopped).await {
                    eprintln!("warning: {err:#}");
                }
            });
        }
        Err(err) => eprintln!("warning: codec server not started: {err:#} (set --codec-addr, or `off`)"),
    }
    Ok(stop)
}
