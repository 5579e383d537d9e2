//! Seed 004 on Ordo: EMCO's lifecycle hooks. A deployment intent group (DIG) carries TAC intents
//! ("at `pre-install`, start this workflow"); instantiating, updating or terminating the DIG runs a
//! lifecycle workflow that starts the matching hooks' workflows, waits for the blocking ones, applies
//! the action, then runs the post hooks. `POST /invoke/{client}`'s workflow client is the in-process
//! [`starter`]. No HTTP here: the API and CLI call into this crate.
//!
//! # Layout
//! - [`spec`]: the seed's `WfTemporalSpec`, parsed case-insensitively into bounded, typed options.
//! - [`intent`]: TAC intents, hook types and the seed's schema rules (pure).
//! - [`starter`]: starts a spec's workflow through the shared Temporal client.
//! - [`workers`]: TAC's worker intents and their readiness (live pollers on a task queue).
//! - [`store`]: intents, worker intents and DIG states in SQLite (default) or PostgreSQL, through `sqlx`.
//! - [`model`]: what crosses the Temporal boundary; [`activities`], [`workflows`]: the lifecycle.
//! - [`migrate`]: the reference migration workflow (clusters as local directories).
//! - [`client`]: run / read / list lifecycle actions; [`control`]: TAC's cancel and status calls.
//! - [`domain`]: what a host needs ([`HooksArgs`]); [`gauges`]: the seed's `emco_tac_intent`.

pub mod activities;
pub mod client;
pub mod control;
pub mod domain;
pub mod gauges;
pub mod intent;
pub mod migrate;
pub mod model;
pub mod spec;
pub mod starter;
pub mod store;
pub mod workers;
pub mod workflows;

pub use domain::{HooksArgs, HooksDomain, SEARCH_ATTRIBUTES};
pub use model::{MIGRATE_TASK_QUEUE, TASK_QUEUE};
