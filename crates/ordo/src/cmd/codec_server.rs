//! `ordo codec-server`: seed 001's codec server (`/encryption_codec`, `/compression_codec`) for
//! the Temporal Web UI and `temporal … --codec-endpoint`. `ordo up` serves the same thing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use ordo_codec::server::DEFAULT_ORIGIN;
use ordo_codec::{Codec, CodecConfig, ServerOptions, SnappyCodec};

use super::worker::shutdown_signal;

/// `ordo codec-server` settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CodecServerArgs {
    /// Address to listen on.
    #[arg(long, env = "ORDO_CODEC_ADDR", default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    #[command(flatten)]
    access: CodecAccessArgs,
}

/// Who may call the codec server (shared by `ordo codec-server` and `ordo up`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CodecAccessArgs {
    /// Browser origin allowed to call (CORS), e.g. the Temporal Web UI; repeatable or comma-separated.
    #[arg(long = "web", env = "ORDO_CODEC_WEB", value_delimiter = ',', default_value = DEFAULT_ORIGIN)]
    pub(crate) web: Vec<String>,
    /// Namespaces served (checked against the `X-Namespace` header); none serves any.
    #[arg(long = "codec-namespace", env = "ORDO_CODEC_NAMESPACES", value_delimiter = ',')]
    pub(crate) namespaces: Vec<String>,
    /// Require `Authorization: Bearer <token>` (for `temporal … --codec-auth "Bearer <token>"`).
    #[arg(long = "codec-token", env = "ORDO_CODEC_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
}

impl CodecAccessArgs {
    pub(crate) fn options(&self) -> ServerOptions {
        ServerOptions {
            allowed_origins: self.web.clone(),
            namespaces: self.namespaces.clone(),
            bearer_token: self.token.clone().filter(|t| !t.is_empty()),
            ..ServerOptions::default()
        }
    }
}

/// Seed 001's two routes, from this process's codec settings: `encryption_codec` when keys are
/// configured (compressing too when `ORDO_COMPRESS_PAYLOADS` is on, exactly as the workers do),
/// and `compression_codec` always.
pub(crate) fn codecs_from_env() -> anyhow::Result<BTreeMap<String, Arc<dyn Codec>>> {
    let mut config = CodecConfig::from_env().context(
        "payload codec settings (ENCRYPT_PAYLOADS, ORDO_CODEC_KEYS, ORDO_CODEC_KEY_FILE, ORDO_CODEC_ACTIVE_KEY)",
    )?;
    let mut codecs: BTreeMap<String, Arc<dyn Codec>> = BTreeMap::new();
    codecs.insert("compression_codec".into(), Arc::new(SnappyCodec));
    if config.keyring.is_some() {
        // The server decodes for people whatever the workers' switch says.
        config.encrypt = true;
        codecs.insert("encryption_codec".into(), Arc::new(config.chain()));
    }
    Ok(codecs)
}

pub(crate) async fn run(args: CodecServerArgs) -> anyhow::Result<ExitCode> {
    let codecs = codecs_from_env()?;
    if !codecs.contains_key("encryption_codec") {
        eprintln!("warning: no keys (ORDO_CODEC_KEYS / ORDO_CODEC_KEY_FILE): only /compression_codec is served");
    }
    let listener = bind(args.addr).await?;
    serve(listener, codecs, args.access.options(), shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Binds the codec server's address.
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding the codec server to {addr}"))
}

/// Serves the codec routes on `listener` until `stop` resolves.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    codecs: BTreeMap<String, Arc<dyn Codec>>,
    options: ServerOptions,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    // The codec server decrypts whatever it is sent: off loopback, only for callers with the token.
    anyhow::ensure!(
        local.ip().is_loopback() || options.bearer_token.is_some(),
        "the codec server decrypts payloads for whoever reaches it: on {local} (not loopback) it needs \
         --codec-token / ORDO_CODEC_TOKEN"
    );
    let routes: Vec<String> = codecs.keys().map(|name| format!("http://{local}/{name}")).collect();
    let access = if options.bearer_token.is_some() { "bearer token required" } else { "no token: loopback only" };
    eprintln!(
        "codec server: {} ({access}; browser origins: {})",
        routes.join(", "),
        options.allowed_origins.join(", ")
    );
    axum::serve(listener, ordo_codec::router(codecs, options))
        .with_graceful_shutdown(stop)
        .await
        .context("codec server")
}
