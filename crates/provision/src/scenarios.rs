//! Seed 001's scenarios, by key, as requests against the shipped example stacks.

use serde::Serialize;

use crate::model::ProvisionRequest;
use ordo_iac::DriverKind;

/// One runnable scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Key (also the `scenario` search attribute).
    pub key: &'static str,
    /// Title, as seed 001 names it.
    pub title: &'static str,
    /// What happens.
    pub description: &'static str,
    /// Stack directory, relative to the IaC root.
    pub directory: &'static str,
    /// Whether it runs the destroy workflow instead of the provisioning one.
    pub destroy: bool,
}

/// Every scenario, in seed 001's order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario { key: "happy_path", title: "Happy Path", description: "Creates a namespace; the policy passes; no custom search attributes.", directory: "stacks/tcloud_namespace", destroy: false },
    Scenario { key: "advanced_visibility", title: "Advanced Visibility", description: "The happy path, publishing provisionStatus at every step.", directory: "stacks/tcloud_namespace", destroy: false },
    Scenario { key: "human_in_the_loop_signal", title: "Human in the Loop (Signal)", description: "Creates an admin user: a soft policy failure waits for an approval signal.", directory: "stacks/tcloud_admin_user", destroy: false },
    Scenario { key: "human_in_the_loop_update", title: "Human in the Loop (Update w/ Validation)", description: "Creates an admin user: a soft policy failure waits for an approval update; an empty reason is rejected.", directory: "stacks/tcloud_admin_user", destroy: false },
    Scenario { key: "recoverable_failure", title: "Recoverable Failure (Bug in Code)", description: "Run with a worker started with --inject-plan-bug: the plan retries until the worker is restarted without it.", directory: "stacks/tcloud_namespace", destroy: false },
    Scenario { key: "non_recoverable_failure", title: "Non-Recoverable Failure (Hard Policy Failure)", description: "Creates an admin user with hard_fail_policy: the run ends as policy_hard_failed and applies nothing.", directory: "stacks/tcloud_admin_user", destroy: false },
    Scenario { key: "api_failure", title: "API Failure (recover on 5th attempt)", description: "Apply fails on attempts 1-4 and succeeds on the 5th.", directory: "stacks/tcloud_namespace", destroy: false },
    Scenario { key: "ephemeral", title: "Ephemeral (Destroy After TTL)", description: "The happy path, then a durable timer of ephemeral_ttl seconds, then destroy.", directory: "stacks/tcloud_namespace", destroy: false },
    Scenario { key: "destroy", title: "Destroy", description: "Runs DeprovisionInfraWorkflow on the happy path's stack.", directory: "stacks/tcloud_namespace", destroy: true },
];

/// The scenario with this key.
pub fn find(key: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.key == key)
}

/// Every key, for error messages.
pub fn keys() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.key).collect()
}

impl Scenario {
    /// The request this scenario starts (sim driver unless another is given).
    pub fn request(&self, driver: DriverKind, ephemeral_ttl: Option<u64>) -> ProvisionRequest {
        let mut request = ProvisionRequest::for_directory(self.directory);
        request.driver = driver;
        request.scenario = Some(self.key.to_owned());
        request.id = self.key.to_owned();
        match self.key {
            "happy_path" => request.include_custom_search_attrs = false,
            "non_recoverable_failure" => request.hard_fail_policy = true,
            "api_failure" => request.simulate_api_failure = true,
            "ephemeral" => {
                request.ephemeral = true;
                if let Some(ttl) = ephemeral_ttl {
                    request.ephemeral_ttl = ttl;
                }
            }
            _ => {}
        }
        request
    }
}
