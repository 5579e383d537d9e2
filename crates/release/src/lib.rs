//! Ordo's release domain (seed 003): a release of many deploys goes through DEV → TEST → QC → PROD
//! as the durable workflow `ReleaseWorkflow`, each deploy in each environment a child
//! `DeployWorkflow`, with approvals, a promotion gate, idempotence by validation, rollback and an
//! append-only audit log per environment.
//!
//! # Layout
//! - [`model`]: everything that crosses the Temporal boundary (the seed's `ReleaseInfo` and
//!   `DeployInfo`, the matrix, approvals, step inputs and outcomes).
//! - [`rules`]: the pure release rules (no environments, PROD without QC, DEV-only, bounds) and
//!   the gate's UTC window.
//! - [`catalogue`]: releases by key (the seed's six are built in).
//! - [`store`]: the artifact store, environments and audit logs, each step validated before it acts.
//! - [`activities`], [`workflows`]: the Temporal side; [`error`]: retryable or not.
//! - [`client`]: typed start / view / approve / control / list for the CLI and API.
//! - [`domain`]: what a host needs to run this domain ([`ReleaseArgs`] → [`ordo_core::Domain`]).

pub mod activities;
pub mod catalogue;
pub mod client;
pub mod domain;
pub mod error;
pub mod model;
pub mod rules;
pub mod store;
pub mod workflows;

pub use domain::{ReleaseArgs, ReleaseDomain, SEARCH_ATTRIBUTES};
pub use model::TASK_QUEUE;
