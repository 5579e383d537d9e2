//! Ordo's provisioning domain (seed 001): a request is initialised, planned, checked against policy,
//! approved by a human when a policy asks for it, applied from exactly the approved plan, and
//! optionally destroyed after a TTL — as the durable workflow `ProvisionInfraWorkflow`.
//!
//! # Layout
//! - [`model`]: everything that crosses the Temporal boundary (inputs, decisions, state, results).
//! - [`policy`]: Rego policies and the pure pass / approve / hard-fail decision.
//! - [`activities`], [`workflows`]: the Temporal side; [`lock`]: one run at a time per workspace.
//! - [`notify`], [`metrics`]: approval notifications and domain series.
//! - [`client`]: typed start / view / decide / list for the CLI and API; [`scenarios`]: seed 001's.
//! - [`domain`]: what a host needs to run this domain ([`ProvisionArgs`] → [`ordo_core::Domain`]).
//!
//! The IaC drivers live in `ordo-iac`; this crate is seed 001 on top of them.

pub mod activities;
pub mod client;
pub mod domain;
pub mod error;
mod gauges;
pub mod lock;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod policy;
pub mod scenarios;
pub mod workflows;

pub use domain::{ProvisionArgs, ProvisionDomain, SEARCH_ATTRIBUTES};
