//! Connection settings. Temporal's own configuration (environment variables and `temporal.toml`
//! profiles) is loaded by the SDK's `envconfig`; on top of it Ordo honours seed 001's variables,
//! including `ENCRYPT_PAYLOADS` (see [`data_converter`]).

use std::path::PathBuf;

use anyhow::Context as _;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, GrpcCompression};
use temporalio_common::data_converters::DataConverter;
use temporalio_common::envconfig::LoadClientConfigProfileOptions;
use temporalio_common::telemetry::metrics::TemporalMeter;

/// Where Temporal is and how to reach it. Every flag has an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct TemporalArgs {
    /// Temporal frontend address (`host:port`). When unset, `ordo up` starts the embedded dev server.
    #[arg(long, env = "TEMPORAL_ADDRESS", global = true)]
    pub address: Option<String>,
    /// Temporal namespace.
    #[arg(long, env = "TEMPORAL_NAMESPACE", default_value = "default", global = true)]
    pub namespace: String,
    /// Profile to use from `temporal.toml` (see `TEMPORAL_CONFIG_FILE`).
    #[arg(long, env = "TEMPORAL_PROFILE", global = true)]
    pub profile: Option<String>,
    /// gRPC message compression. `auto`: none to a loopback address (gzip there only costs CPU),
    /// gzip otherwise.
    #[arg(long, env = "ORDO_GRPC_COMPRESSION", value_enum, default_value_t, global = true)]
    pub grpc_compression: Compression,
}

/// gRPC message compression between Ordo and Temporal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    /// None to a loopback address, gzip otherwise.
    #[default]
    Auto,
    /// Always gzip (the SDK's default).
    Gzip,
    /// Never compress.
    None,
}

impl Compression {
    fn for_target(self, target: &url::Url) -> GrpcCompression {
        let loopback = match target.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match self {
            Self::Gzip => GrpcCompression::Gzip,
            Self::None => GrpcCompression::None,
            Self::Auto if loopback => GrpcCompression::None,
            Self::Auto => GrpcCompression::Gzip,
        }
    }
}

impl TemporalArgs {
    /// The server at `address`, namespace `default`, everything else from the environment's
    /// defaults (no profile, automatic compression).
    pub fn at(address: impl Into<String>) -> Self {
        Self {
            address: Some(address.into()),
            namespace: "default".into(),
            profile: None,
            grpc_compression: Compression::Auto,
        }
    }

    /// The address to use, falling back to the local default.
    pub fn address_or_default(&self) -> String {
        self.address.clone().unwrap_or_else(|| "localhost:7233".to_owned())
    }
}

/// Connects to Temporal: `temporal.toml` profile and `TEMPORAL_*` variables first, then the
/// explicit address/namespace, then seed 001's mTLS and Cloud API key variables. The client (and
/// every worker built on it) uses [`data_converter`].
pub async fn connect(args: &TemporalArgs) -> anyhow::Result<Client> {
    connect_with_metrics(args, None).await
}

/// [`connect`], recording the client's RPC metrics (`temporal_request`, …) with `meter`.
pub async fn connect_with_metrics(args: &TemporalArgs, meter: Option<TemporalMeter>) -> anyhow::Result<Client> {
    let data_converter = data_converter()?;
    let address = args.address_or_default();
    let mut load = LoadClientConfigProfileOptions::default();
    load.config_file_profile = args.profile.clone();
    let (mut conn, _) = ClientOptions::load_from_config(load)
        .map_err(|e| anyhow::anyhow!("loading Temporal client configuration: {e}"))?;
    conn.target = parse_target(&address)?;
    apply_seed_variables(&mut conn)?;
    conn.grpc_compression = args.grpc_compression.for_target(&conn.target);
    conn.metrics_meter = meter;
    let tls = conn.tls_options.as_ref().map(|t| t.client_tls_options.is_some());
    let connection = Connection::connect(conn).await.map_err(|e| {
        let hint = tls.and_then(|has_cert| tls_refusal_hint(&e.to_string(), has_cert));
        let e = anyhow::Error::new(e).context(format!("connecting to Temporal at {address}"));
        match hint {
            Some(hint) => e.context(hint),
            None => e,
        }
    })?;
    let client =
        Client::new(connection, ClientOptions::new(args.namespace.clone()).data_converter(data_converter).build())
            .context("creating the Temporal client")?;
    Ok(client)
}

/// The data converter of every Ordo client, worker and replayer, from the environment:
/// `ENCRYPT_PAYLOADS=true` (seed 001's switch) encrypts payloads with AES-256-GCM under
/// `ORDO_CODEC_KEYS` / `ORDO_CODEC_KEY_FILE` / `ORDO_CODEC_ACTIVE_KEY`, and
/// `ORDO_COMPRESS_PAYLOADS=true` compresses them first (see `ordo_codec::config`). Replayers of
/// encrypted histories must use it too.
pub fn data_converter() -> anyhow::Result<DataConverter> {
    ordo_codec::data_converter_from_env().context(
        "payload codec settings (ENCRYPT_PAYLOADS, ORDO_CODEC_KEYS, ORDO_CODEC_KEY_FILE, ORDO_CODEC_ACTIVE_KEY)",
    )
}

/// Explains a TLS connection that an mTLS endpoint refused: gRPC proxies answer a missing or
/// untrusted client certificate with a plain HTTP 400, servers with a TLS alert; neither says it.
fn tls_refusal_hint(error: &str, has_client_cert: bool) -> Option<&'static str> {
    let lowered = error.to_ascii_lowercase();
    let refused = [
        "400 bad request",
        "certificaterequired",
        "certificate required",
        "badcertificate",
        "bad certificate",
        "unknownca",
        "unknown ca",
    ]
    .iter()
    .any(|marker| lowered.contains(marker));
    match (refused, has_client_cert) {
        (false, _) => None,
        (true, false) => Some(
            "the server requires a TLS client certificate and none was sent: set TEMPORAL_CERT_PATH and TEMPORAL_KEY_PATH (or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)",
        ),
        (true, true) => Some(
            "the server refused the TLS client certificate (TEMPORAL_CERT_PATH): is it signed by a CA the server trusts, for client authentication, and unexpired?",
        ),
    }
}

fn parse_target(address: &str) -> anyhow::Result<url::Url> {
    let with_scheme = if address.contains("://") { address.to_owned() } else { format!("http://{address}") };
    url::Url::parse(&with_scheme).with_context(|| format!("invalid Temporal address {address:?}"))
}

/// Seed 001's `TEMPORAL_CERT_PATH` / `TEMPORAL_KEY_PATH` (mTLS) and `TEMPORAL_CLOUD_API_KEY`.
fn apply_seed_variables(conn: &mut ConnectionOptions) -> anyhow::Result<()> {
    let cert = std::env::var_os("TEMPORAL_CERT_PATH").map(PathBuf::from);
    let key = std::env::var_os("TEMPORAL_KEY_PATH").map(PathBuf::from);
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let mut tls = conn.tls_options.clone().unwrap_or_default();
            tls.client_tls_options = Some(
                temporalio_client::ClientTlsOptions::builder()
                    .client_cert(
                        std::fs::read(&cert)
                            .with_context(|| format!("reading TEMPORAL_CERT_PATH {}", cert.display()))?,
                    )
                    .client_private_key(
                        std::fs::read(&key).with_context(|| format!("reading TEMPORAL_KEY_PATH {}", key.display()))?,
                    )
                    .build(),
            );
            conn.tls_options = Some(tls);
        }
        (Some(_), None) => anyhow::bail!("TEMPORAL_CERT_PATH is set but TEMPORAL_KEY_PATH is not"),
        (None, Some(_)) => anyhow::bail!("TEMPORAL_KEY_PATH is set but TEMPORAL_CERT_PATH is not"),
        (None, None) => {}
    }
    if conn.api_key.is_none() {
        if let Ok(api_key) = std::env::var("TEMPORAL_CLOUD_API_KEY") {
            if !api_key.is_empty() {
                conn.api_key = Some(api_key);
                // Temporal Cloud only accepts API keys over TLS.
                conn.tls_options.get_or_insert_with(Default::default);
            }
        }
    }
    if conn.tls_options.is_some() && conn.target.scheme() == "http" {
        let _ = conn.target.set_scheme("https");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_compression_is_off_on_loopback_only() {
        let target = |address: &str| parse_target(address).unwrap();
        for local in ["localhost:7233", "127.0.0.1:7233", "127.0.0.2:7233", "[::1]:7233", "http://LOCALHOST:7233"] {
            assert_eq!(Compression::Auto.for_target(&target(local)), GrpcCompression::None, "{local}");
            assert_eq!(Compression::Gzip.for_target(&target(local)), GrpcCompression::Gzip, "{local}");
        }
        for remote in
            ["temporal.internal:7233", "10.0.0.5:7233", "ns.acct.tmprl.cloud:7233", "https://[2001:db8::1]:7233"]
        {
            assert_eq!(Compression::Auto.for_target(&target(remote)), GrpcCompression::Gzip, "{remote}");
            assert_eq!(Compression::None.for_target(&target(remote)), GrpcCompression::None, "{remote}");
        }
    }
}
