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
//! - [`store`]: intents and DIG states in SQLite (default) or PostgreSQL, through `sqlx`.

pub mod intent;
pub mod spec;
pub mod starter;
pub mod store;
