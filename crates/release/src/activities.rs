//! Thin adapters from the workflows to the world: the catalogue, the artifact store and the
//! environments ([`ReleaseStore`]) and the environments' health probes. Each step validates before
//! it acts (see [`crate::store`]); the seed's random errors are injected here, half of them *after*
//! the effect, so retries prove the validation.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use crate::catalogue::Catalogue;
use crate::error::{self, from_store};
use crate::model::{CollectInput, Collected, Environment, StepInput, StepOutcome, Verification};
use crate::store::ReleaseStore;

/// How long a health probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// An environment's health probe: a shell command (exit 0 = healthy) or an HTTP URL (2xx =
/// healthy). Commands see `RELEASE_ENV`, `RELEASE_KEY`, `DEPLOY_KEY`, `CONTAINER_ID` and
/// `CONTAINER_VERSION`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Shell command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_command: Option<String>,
    /// HTTP(S) URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
}

/// Every environment's config (absent: the checksum check only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentsConfig(pub BTreeMap<Environment, EnvironmentConfig>);

impl EnvironmentsConfig {
    /// Loads a JSON file `{"PROD": {"health_url": "…"}, …}`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// What the release activities need.
#[derive(Debug, Clone)]
pub struct ReleaseConfig {
    /// The artifact store, environments and audit logs.
    pub store: ReleaseStore,
    /// Where `collect_deploys` looks.
    pub catalogue: Catalogue,
    /// Health probes.
    pub environments: EnvironmentsConfig,
    /// Error rate (percent) when a release does not set one.
    pub default_error_rate: u8,
}

/// The release activities.
#[derive(Debug)]
pub struct ReleaseActivities {
    config: ReleaseConfig,
}

impl ReleaseActivities {
    /// Activities over `config`.
    pub fn new(config: ReleaseConfig) -> Self {
        Self { config }
    }

    fn rate(&self, asked: Option<u8>) -> u8 {
        asked.unwrap_or(self.config.default_error_rate)
    }
}

/// Where an injected error strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    Before,
    After,
    Never,
}

/// Rolls the dice for one attempt: with `rate` % chance a failure, half before and half after
/// the effect.
fn roll(rate: u8) -> Strike {
    let r = (uuid::Uuid::new_v4().as_u128() % 200) as u32;
    let rate = u32::from(rate) * 2;
    if r >= rate {
        Strike::Never
    } else if r.is_multiple_of(2) {
        Strike::Before
    } else {
        Strike::After
    }
}

fn injected(step: &str, input: &StepInput, when: &str) -> ActivityError {
    let env = input.env.map(|e| format!(" in {e}")).unwrap_or_default();
    error::failure(error::INJECTED, format!("{step} of {}{env} failed ({when} its effect; injected)", input.deploy_key))
}

/// Runs a store step with injected errors around it.
fn step(
    name: &str,
    rate: u8,
    input: &StepInput,
    effect: impl FnOnce() -> Result<StepOutcome, crate::store::StoreError>,
) -> Result<StepOutcome, ActivityError> {
    let strike = roll(rate);
    if strike == Strike::Before {
        return Err(injected(name, input, "before"));
    }
    let outcome = effect().map_err(from_store)?;
    if strike == Strike::After {
        return Err(injected(name, input, "after"));
    }
    Ok(outcome)
}

#[activities]
impl ReleaseActivities {
    /// The seed's `collect_deploys`: the release's deploys from the catalogue (`None`: unknown key).
    #[activity(name = "collect_deploys")]
    pub async fn collect_deploys(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: CollectInput,
    ) -> Result<Collected, ActivityError> {
        if roll(self.rate(input.error_rate)) != Strike::Never {
            return Err(error::failure(
                error::INJECTED,
                format!("collecting the deploys of {} failed (injected)", input.release_key),
            ));
        }
        Ok(Collected { deploys: self.config.catalogue.deploys(&input.release_key) })
    }

    /// Builds the artifact into the artifact store (skipped when it is there, checksum intact).
    #[activity(name = "build_artifact")]
    pub async fn build_artifact(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: StepInput,
    ) -> Result<StepOutcome, ActivityError> {
        step("build", self.rate(input.error_rate), &input, || self.config.store.build(&input))
    }

    /// Deploys the artifact into the environment (skipped when it runs it, checksum intact).
    #[activity(name = "deploy_artifact")]
    pub async fn deploy_artifact(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: StepInput,
    ) -> Result<StepOutcome, ActivityError> {
        step("deploy", self.rate(input.error_rate), &input, || self.config.store.deploy(&input))
    }

    /// Writes the environment's config (skipped when it is already the wanted one).
    #[activity(name = "update_config")]
    pub async fn update_config(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: StepInput,
    ) -> Result<StepOutcome, ActivityError> {
        step("config", self.rate(input.error_rate), &input, || self.config.store.configure(&input))
    }

    /// Verifies: the environment runs the artifact with the right checksum, and its health probe
    /// passes. Unhealthy is an answer (the workflow rolls back), not an error.
    #[activity(name = "verify_deploy")]
    pub async fn verify_deploy(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: StepInput,
    ) -> Result<Verification, ActivityError> {
        let strike = roll(self.rate(input.error_rate));
        if strike == Strike::Before {
            return Err(injected("verify", &input, "before"));
        }
        let checksum = match self.config.store.check_running(&input).map_err(from_store)? {
            Ok(checksum) => checksum,
            Err(why) => return Ok(Verification { healthy: false, detail: why }),
        };
        let env = input.env.ok_or_else(|| error::failure(error::INVALID_STEP, "verify needs an environment"))?;
        let probe = self.config.environments.0.get(&env).cloned().unwrap_or_default();
        if let Err(why) = probe_health(&probe, &input, env).await {
            return Ok(Verification { healthy: false, detail: why });
        }
        self.config.store.mark_verified(&input).map_err(from_store)?;
        if strike == Strike::After {
            return Err(injected("verify", &input, "after"));
        }
        let probed = match (&probe.health_command, &probe.health_url) {
            (Some(_), _) => "checksum and health command",
            (None, Some(_)) => "checksum and health URL",
            (None, None) => "checksum",
        };
        Ok(Verification { healthy: true, detail: format!("{probed} ok ({})", &checksum[..12.min(checksum.len())]) })
    }

    /// Puts the environment back to the version before this deploy's (skipped when it does not
    /// run this deploy's version).
    #[activity(name = "rollback_deploy")]
    pub async fn rollback_deploy(
        self: Arc<Self>,
        _ctx: ActivityContext,
        input: StepInput,
    ) -> Result<StepOutcome, ActivityError> {
        step("rollback", self.rate(input.error_rate), &input, || self.config.store.rollback(&input))
    }
}

/// Runs the environment's probe: `Err(why)` when unhealthy.
async fn probe_health(probe: &EnvironmentConfig, input: &StepInput, env: Environment) -> Result<(), String> {
    if let Some(command) = &probe.health_command {
        let run = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("RELEASE_ENV", env.as_str())
            .env("RELEASE_KEY", &input.release_key)
            .env("DEPLOY_KEY", &input.deploy_key)
            .env("CONTAINER_ID", &input.container_id)
            .env("CONTAINER_VERSION", &input.container_version)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(PROBE_TIMEOUT, run)
            .await
            .map_err(|_| format!("{env} health command timed out after {PROBE_TIMEOUT:?}"))?
            .map_err(|e| format!("{env} health command did not run: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("{env} health command failed ({}): {}", output.status, stderr.trim()));
        }
    }
    if let Some(url) = &probe.health_url {
        let client = reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().map_err(|e| e.to_string())?;
        let response = client.get(url).send().await.map_err(|e| format!("{env} health URL {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{env} health URL {url} answered {}", response.status()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// About `rate` % of attempts fail, about half of them after the effect.
    #[test]
    fn injected_errors_follow_the_rate() {
        let strikes: Vec<Strike> = (0..4000).map(|_| roll(60)).collect();
        let failed = strikes.iter().filter(|s| **s != Strike::Never).count();
        let after = strikes.iter().filter(|s| **s == Strike::After).count();
        assert!((2100..2700).contains(&failed), "{failed}");
        assert!((800..1600).contains(&after), "{after}");
        assert!((0..100).all(|_| roll(0) == Strike::Never));
    }
}
