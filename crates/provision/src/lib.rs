//! Ordo's provisioning domain (seed 001): a request is initialised, planned, checked against policy,
//! approved by a human when a policy asks for it, applied from exactly the approved plan, and
//! optionally destroyed after a TTL — as the durable workflow `ProvisionInfraWorkflow`.
//!
//! # Layout
//! - [`model`]: everything that crosses the Temporal boundary (inputs, decisions, state, results).
//! - [`policy`]: Rego policies and the pure pass / approve / hard-fail decision.
//! - [`iac`]: the drivers (`terraform` / `tofu` CLI, `sim`).
//! - `activities`, `workflows`: the Temporal side.
//! - [`application`]: seed 000's request → authorize → provision flow (`ProvisionApplication`).

pub mod activities;
pub mod client;
pub mod error;
pub mod iac;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod policy;
pub mod scenarios;
pub mod workflows;
pub mod workspace;

/// Worker options for the provisioning task queue: both workflows and every activity.
pub fn worker_options(
    task_queue: &str,
    config: activities::WorkerConfig,
) -> Result<temporalio_sdk::WorkerOptions, temporalio_sdk::WorkflowRegistrationError> {
    Ok(temporalio_sdk::WorkerOptions::new(task_queue)
        // Heartbeats carry apply progress out and cancellation in: flush them every second
        // rather than at 80 % of the heartbeat timeout, so a cancel reaches the tool promptly.
        .max_heartbeat_throttle_interval(std::time::Duration::from_secs(1))
        .register_workflow::<workflows::ProvisionInfraWorkflow>()?
        .register_workflow::<workflows::DeprovisionInfraWorkflow>()?
        .register_workflow::<lock::WorkspaceLockWorkflow>()?
        .register_activities(activities::ProvisionActivities::new(config))
        .build())
}
pub mod application;
pub mod lock;

/// Worker options for seed 000's application flow on `task_queue` (`apps`): the
/// `ProvisionApplication` workflow and its team lookup.
pub fn application_worker_options(
    task_queue: &str,
    teams: application::TeamDirectory,
) -> Result<temporalio_sdk::WorkerOptions, temporalio_sdk::WorkflowRegistrationError> {
    Ok(temporalio_sdk::WorkerOptions::new(task_queue)
        .register_workflow::<application::ProvisionApplicationWorkflow>()?
        .register_activities(application::ApplicationActivities::new(teams))
        .build())
}

/// Worker options for the application flow's IaC task queue (`apps-iac`): the IaC step and its
/// compensation. Heartbeats are flushed every second so a cancellation reaches the tool promptly.
pub fn application_iac_worker_options(
    task_queue: &str,
    config: application::FoundationConfig,
) -> temporalio_sdk::WorkerOptions {
    temporalio_sdk::WorkerOptions::new(task_queue)
        .max_heartbeat_throttle_interval(std::time::Duration::from_secs(1))
        .register_activities(application::FoundationActivities::new(config))
        .build()
}
