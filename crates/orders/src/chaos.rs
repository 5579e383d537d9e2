//! Checkpoint 2: the chaos controller. It keeps N worker processes running, SIGKILLs a random one
//! at a configured pace and starts a replacement; the activity failure rate is handed to the
//! workers it starts. It knows nothing of how a worker is launched: the host passes a launcher
//! (`ordo worker --domains orders --orders-failure-rate …`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Child;

/// Most workers the controller runs.
pub const MAX_WORKERS: usize = 16;

/// What the controller does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosOptions {
    /// How many workers it keeps running (1..=16).
    pub workers: usize,
    /// Mean time between kills (each pause is 0.5–1.5× this); `None`: never kill.
    pub kill_every: Option<Duration>,
    /// How long a killed worker stays down before its replacement starts.
    pub restart_after: Duration,
    /// Probability that any kitchen step fails retryably (handed to the workers).
    pub failure_rate: f64,
}

impl ChaosOptions {
    /// Checks the bounds, naming the field.
    pub fn check(&self) -> Result<(), ordo_core::RequestError> {
        if !(1..=MAX_WORKERS).contains(&self.workers) {
            return Err(ordo_core::RequestError::new("workers", format!("1..={MAX_WORKERS}")));
        }
        if self.kill_every.is_some_and(|d| d < Duration::from_millis(100) || d > Duration::from_secs(3_600)) {
            return Err(ordo_core::RequestError::new("killEvery", "100 ms ..= 1 h"));
        }
        if self.restart_after > Duration::from_secs(600) {
            return Err(ordo_core::RequestError::new("restartAfter", "at most 10 min"));
        }
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Err(ordo_core::RequestError::new("failureRate", "a rate in 0..=1"));
        }
        Ok(())
    }
}

/// What the controller did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChaosReport {
    /// Workers started, replacements included.
    pub started: u64,
    /// Workers SIGKILLed.
    pub kills: u64,
}

/// Runs the workers until `stop` resolves, killing and replacing them as `options` say; then
/// kills every worker it started and waits for each.
pub async fn run(
    options: &ChaosOptions,
    mut launch: impl FnMut(f64) -> std::io::Result<Child>,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ChaosReport> {
    options.check()?;
    let mut report = ChaosReport::default();
    let mut workers: Vec<Child> = Vec::new();
    let outcome = async {
        for _ in 0..options.workers {
            workers.push(launch(options.failure_rate)?);
            report.started += 1;
        }
        tokio::pin!(stop);
        loop {
            let pause = match options.kill_every {
                Some(every) => every.mul_f64(0.5 + fastrand::f64()),
                None => Duration::from_secs(3_600),
            };
            tokio::select! {
                () = &mut stop => return anyhow::Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
            if options.kill_every.is_none() {
                continue;
            }
            let victim = fastrand::usize(..workers.len());
            // SIGKILL: no chance to finish or hand anything back, as in a crash.
            workers[victim].kill().await?;
            report.kills += 1;
            tokio::select! {
                () = &mut stop => return anyhow::Ok(()),
                () = tokio::time::sleep(options.restart_after) => {}
            }
            workers[victim] = launch(options.failure_rate)?;
            report.started += 1;
        }
    }
    .await;
    for worker in &mut workers {
        let _ = worker.kill().await;
    }
    outcome.map(|()| report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting a user sends has a bound.
    #[test]
    fn chaos_options_are_bounded() {
        let ok = ChaosOptions {
            workers: 3,
            kill_every: Some(Duration::from_secs(2)),
            restart_after: Duration::ZERO,
            failure_rate: 0.3,
        };
        assert!(ok.check().is_ok());
        assert_eq!(ChaosOptions { workers: 0, ..ok.clone() }.check().unwrap_err().field, "workers");
        assert_eq!(ChaosOptions { workers: 17, ..ok.clone() }.check().unwrap_err().field, "workers");
        assert_eq!(ChaosOptions { failure_rate: 2.0, ..ok.clone() }.check().unwrap_err().field, "failureRate");
        assert_eq!(
            ChaosOptions { kill_every: Some(Duration::from_millis(1)), ..ok }.check().unwrap_err().field,
            "killEvery"
        );
    }
}
