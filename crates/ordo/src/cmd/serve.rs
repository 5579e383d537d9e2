//! `ordo serve`: the HTTP API and the web UI (any number of replicas, beside any number of
//! workers). `ordo up` runs the same server in the background.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use ordo_api::auth::{self, DEMO_CREDENTIALS};
use ordo_api::{AppConfig, AppState, AppStateBuilder, OpenInvoke, SessionKey, Users};
use ordo_application::ApplicationClient;
use ordo_orders::OrdersClient;
use ordo_provision::client::ProvisionClient;
use ordo_release::catalogue::Catalogue;
use ordo_release::client::ReleaseClient;

use super::worker::shutdown_signal;

/// HTTP settings shared by `ordo serve` and `ordo up`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HttpArgs {
    /// Address of the HTTP API and web UI (`host:port`; port 0 picks a free one; `off` with
    /// `ordo up` serves nothing).
    #[arg(long, env = "ORDO_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) http_addr: String,
    /// Users and roles (TOML; see config/users.example.toml). Unset: the built-in demo users,
    /// whose passwords and tokens are printed at start — only on a loopback address (or with
    /// `--demo-users`).
    #[arg(long, env = "ORDO_USERS_FILE")]
    pub(crate) users_file: Option<PathBuf>,
    /// Serve the demo users (published passwords and tokens, an admin among them) on a
    /// non-loopback address too. Only for a throwaway demo on a trusted network.
    #[arg(long, env = "ORDO_DEMO_USERS")]
    pub(crate) demo_users: bool,
    /// Secret of at least 32 bytes that signs session cookies. Unset: a random one per process
    /// (sessions end on restart; replicas behind one address need the same value).
    #[arg(long, env = "ORDO_SESSION_KEY", hide_env_values = true)]
    pub(crate) session_key: Option<String>,
    /// Mark session cookies `Secure` (when served over HTTPS).
    #[arg(long, env = "ORDO_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// Base URL of the Temporal Web UI, for links to runs.
    #[arg(long, env = "ORDO_TEMPORAL_UI_URL", default_value = "http://localhost:8233")]
    pub(crate) temporal_ui_url: String,
    /// Open `POST /invoke/{client}` (seed 004's workflow client) to callers without a token, as
    /// EMCO's TAC calls it. Only on a trusted network: whoever reaches the address can start any
    /// workflow. Off by default; on an address that is not loopback a warning is printed at start.
    #[arg(long, env = "ORDO_HOOKS_OPEN_INVOKE")]
    pub(crate) hooks_open_invoke: bool,
}

/// `ordo serve` settings.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Task queue of the provisioning workers.
    #[arg(long, env = "TEMPORAL_TASK_QUEUE", default_value = ordo_provision::model::DEFAULT_TASK_QUEUE)]
    task_queue: String,
    /// Task queue application requests (seed 000) are started on: the one the workers serve the
    /// application flow on.
    #[arg(long, env = "ORDO_APPS_TASK_QUEUE", default_value = ordo_application::model::DEFAULT_TASK_QUEUE)]
    apps_task_queue: String,
    /// Task queue pizza orders (seed 002) are placed on: the one the workers serve orders on.
    #[arg(long, env = "ORDO_ORDERS_TASK_QUEUE", default_value = ordo_orders::model::DEFAULT_TASK_QUEUE)]
    orders_task_queue: String,
    /// Task queue releases (seed 003) are started on: the one the workers serve releases on.
    #[arg(long, env = "ORDO_RELEASE_TASK_QUEUE", default_value = ordo_release::TASK_QUEUE)]
    release_task_queue: String,
    /// The release catalogue starts by key are checked against (the workers' file; default: seed
    /// 003's six releases).
    #[arg(long, env = "ORDO_RELEASE_CATALOGUE")]
    release_catalogue: Option<PathBuf>,
    /// IaC root for checking directories before a start (skipped when it does not exist here;
    /// the worker checks again).
    #[arg(long, env = "ORDO_IAC_ROOT", default_value = "examples")]
    iac_root: PathBuf,
    /// Ordo's data directory (the hooks' SQLite store is `hooks.db` in it unless DATABASE_URL is set).
    #[arg(long, env = "ORDO_DATA_DIR", default_value = ".ordo")]
    data_dir: PathBuf,
    #[command(flatten)]
    hooks: ordo_hooks::HooksArgs,
    /// Read a password on stdin, print its Argon2 hash for a users file, and exit.
    #[arg(long)]
    hash_password: bool,
    /// Print a new API token and its sha256 for a users file, and exit.
    #[arg(long)]
    new_token: bool,
}

impl HttpArgs {
    /// The API settings for serving on `addr`, validated: users file, session key, IaC root.
    fn config(&self, addr: SocketAddr, iac_root: &Path) -> anyhow::Result<AppConfig> {
        let users = match &self.users_file {
            Some(path) => Users::load(path).with_context(|| format!("loading users from {}", path.display()))?,
            None if addr.ip().is_loopback() || self.demo_users => Users::demo(),
            None => anyhow::bail!(
                "refusing to serve the demo users (published passwords and an admin token) on {addr}: set \
                 ORDO_USERS_FILE (see config/users.example.toml), serve on 127.0.0.1, or pass --demo-users"
            ),
        };
        let mut config = AppConfig::new(users);
        if let Some(secret) = &self.session_key {
            config.session_key =
                SessionKey::from_secret(secret).map_err(|e| anyhow::anyhow!("ORDO_SESSION_KEY: {e}"))?;
        }
        config.secure_cookies = self.secure_cookies;
        config.temporal_ui_url = self.temporal_ui_url.clone();
        config.iac_root = iac_root.canonicalize().ok();
        Ok(config)
    }

    /// `builder`, with `/invoke` opened when `--hooks-open-invoke` says so (loudly when `addr` is
    /// reachable from other hosts).
    fn open_invoke(&self, builder: AppStateBuilder, addr: SocketAddr) -> AppStateBuilder {
        if !self.hooks_open_invoke {
            return builder;
        }
        if addr.ip().is_loopback() {
            eprintln!("POST /invoke/{{client}} is open: no token needed (--hooks-open-invoke)");
        } else {
            eprintln!(
                "WARNING: POST /invoke/{{client}} is open to anyone who reaches {addr} (--hooks-open-invoke): they can \
                 start any workflow in this namespace without a token. Use it only on a trusted network."
            );
        }
        builder.with(OpenInvoke)
    }

    fn addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.http_addr == "off" {
            return Ok(None);
        }
        self.http_addr.parse().map(Some).with_context(|| format!("--http-addr {:?} is not host:port", self.http_addr))
    }
}

/// The release catalogue the API checks starts by key against: the workers' file, or seed 003's.
pub(crate) fn release_catalogue(path: Option<&Path>) -> anyhow::Result<Catalogue> {
    match path {
        Some(path) => Catalogue::load(path).map_err(|e| anyhow::anyhow!("--release-catalogue {}: {e}", path.display())),
        None => Ok(Catalogue::built_in()),
    }
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.hash_password {
        let mut password = String::new();
        std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
        let password = password.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!password.is_empty(), "the password on stdin is empty");
        println!("{}", auth::hash_password(password));
        return Ok(ExitCode::SUCCESS);
    }
    if args.new_token {
        let (token, digest) = auth::new_token();
        println!("token:        {token}");
        println!("token_sha256: {digest}");
        return Ok(ExitCode::SUCCESS);
    }
    let addr = args.http.addr()?.context("`ordo serve --http-addr off` would serve nothing")?;
    let config = args.http.config(addr, &args.iac_root)?;
    let client = ordo_core::connect(&temporal).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
    announce(&listener, &config.users)?;
    let catalogue = release_catalogue(args.release_catalogue.as_deref())?;
    let hooks = args.hooks.client(client.clone(), &args.data_dir).await.context("opening the hooks store")?;
    let order_workers = super::order::worker_launcher(&temporal, &args.orders_task_queue, Some(&args.data_dir))?;
    let builder = args.http.open_invoke(AppState::builder(&client, config), addr);
    let state = builder
        .with(ProvisionClient::new(client.clone(), args.task_queue))
        .with(ApplicationClient::new(client.clone(), args.apps_task_queue))
        .with(OrdersClient::new(client.clone(), args.orders_task_queue))
        .with(ReleaseClient::new(client, args.release_task_queue))
        .with(catalogue)
        .with(hooks)
        .with(order_workers)
        .build();
    ordo_api::serve(listener, state, shutdown_signal()).await.context("serving HTTP")?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the API and UI in the background for `ordo up` (a busy port is a warning, not a
/// failure); `domains` registers the hosted domains' clients. The returned sender stops it.
pub(crate) async fn start_in_background(
    http: &HttpArgs,
    client: temporalio_client::Client,
    iac_root: &Path,
    domains: impl FnOnce(ordo_api::AppStateBuilder) -> anyhow::Result<ordo_api::AppStateBuilder>,
) -> anyhow::Result<tokio::sync::oneshot::Sender<()>> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let Some(addr) = http.addr()? else {
        return Ok(stop);
    };
    let config = http.config(addr, iac_root)?;
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            announce(&listener, &config.users)?;
            let state = domains(http.open_invoke(AppState::builder(&client, config), addr))?.build();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stopped.await;
                };
                if let Err(err) = ordo_api::serve(listener, state, stopped).await {
                    eprintln!("warning: the HTTP server stopped: {err}");
                }
            });
        }
        Err(err) => {
            eprintln!("warning: web UI and API not started: cannot listen on {addr}: {err} (set --http-addr, or `off`)")
        }
    }
    Ok(stop)
}

/// Prints where the UI is and, with the demo users, how to sign in.
fn announce(listener: &tokio::net::TcpListener, users: &Users) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    eprintln!("Ordo web UI and API on http://{addr}  (OpenAPI: http://{addr}/api/openapi.json)");
    if users.is_demo() {
        eprintln!("demo users (set ORDO_USERS_FILE for real ones; see config/users.example.toml):");
        for demo in DEMO_CREDENTIALS {
            eprintln!("  {:<6} {:<10} password {:<11} API token {}", demo.name, demo.role, demo.password, demo.token);
        }
    }
    Ok(())
}
