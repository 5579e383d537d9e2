//! Connection settings. Temporal's own configuration (environment variables and `temporal.toml`
//! profiles) is loaded by the SDK's `envconfig`; on top of it Ordo honours seed 001's variables.

use std::path::PathBuf;

use anyhow::Context as _;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use temporalio_common::envconfig::LoadClientConfigProfileOptions;

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
}

impl TemporalArgs {
    /// The address to use, falling back to the local default.
    pub fn address_or_default(&self) -> String {
        self.address.clone().unwrap_or_else(|| "localhost:7233".to_owned())
    }
}

/// Connects to Temporal: `temporal.toml` profile and `TEMPORAL_*` variables first, then the
/// explicit address/namespace, then seed 001's mTLS and Cloud API key variables.
pub async fn connect(args: &TemporalArgs) -> anyhow::Result<Client> {
    let address = args.address_or_default();
    let mut load = LoadClientConfigProfileOptions::default();
    load.config_file_profile = args.profile.clone();
    let (mut conn, _) = ClientOptions::load_from_config(load)
        .map_err(|e| anyhow::anyhow!("loading Temporal client configuration: {e}"))?;
    conn.target = parse_target(&address)?;
    apply_seed_variables(&mut conn)?;
    let connection = Connection::connect(conn)
        .await
        .with_context(|| format!("connecting to Temporal at {address}"))?;
    let client = Client::new(connection, ClientOptions::new(args.namespace.clone()).build())
        .context("creating the Temporal client")?;
    Ok(client)
}

fn parse_target(address: &str) -> anyhow::Result<url::Url> {
    let with_scheme = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
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
