//! Seed 000's flow as its own workflow: a team asks for an application, an authorizer approves it
//! with a region and a profile (or rejects it, or lets the deadline pass), and the application's
//! foundation resources are provisioned through an IaC driver, by whichever worker serves the IaC
//! task queue: `ordo worker` (Rust; sim or pulumi) or the Python example worker
//! (`examples/python-iac-worker`). Cancelling a provisioned request destroys what it created.
//!
//! # Wire contract
//! | what | name |
//! |---|---|
//! | workflow type | `ProvisionApplication`, task queue `apps` |
//! | input | `{applicationName, teamId, authorizerId, authorizationTimeoutSeconds?, requesterId?, applicationId?, driver?, stack?, iacTaskQueue?, simLatencyMs?}` |
//! | signal | `AuthorizationReceivedResponse` `{isApproved, region, profile, applicationId?, teamId?, authorizerId?, reason?}` |
//! | query | `GetState` → `{AuthorizationTimedOut, Authorization, Resources, Status, …}` |
//! | activities | `GetTeamInformation` (`apps`); `provisionFoundationResources`, `destroyFoundationResources` (`apps-iac`) |
//! | search attribute | `provisionStatus` = the request's status |
//!
//! # Layout
//! - [`model`]: payloads, state, statuses, names.
//! - [`teams`]: the team directory (file or built-in demo table).
//! - [`activities`]: the team lookup and the IaC step with its compensation.
//! - [`workflows`]: the `ProvisionApplication` workflow.
//! - [`domain`]: what a host needs to run it ([`ApplicationArgs`] → [`ordo_core::Domain`]).
//! - [`client`]: start, authorize, view, list, cancel, wait.

pub mod activities;
pub mod client;
pub mod domain;
pub mod model;
pub mod teams;
pub mod workflows;

pub use activities::{sim_workspace_dir, ApplicationActivities, FoundationActivities, FoundationConfig};
pub use client::{ApplicationClient, ApplicationEnd, ApplicationError, ApplicationView};
pub use domain::{ApplicationArgs, ApplicationDomain, SEARCH_ATTRIBUTES};
pub use model::{ApplicationRequest, AuthorizationReceivedResponse, ProvisionApplicationState};
pub use teams::TeamDirectory;
pub use workflows::ProvisionApplicationWorkflow;
