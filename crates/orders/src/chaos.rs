//! Checkpoint 2: the chaos controller. It keeps N worker processes running, SIGKILLs a random one
//! at a configured pace and starts a replacement; the activity failure rate is handed to the
//! workers it starts. It knows nothing of how a worker is launched: the host passes a launcher
//! (`ordo worker --domains orders --orders-failure-rate …`), as a [`Launcher`].

use std::sync::Arc;
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
    /// Workers running now (0 once the controller stopped).
    #[serde(default)]
    pub alive: u64,
}

/// How a host starts one orders worker process with a given activity failure rate (the closure),
/// and where its workers count injected failures (their effects ledger, when they keep one).
#[derive(Clone)]
pub struct Launcher {
    launch: Arc<dyn Fn(f64) -> std::io::Result<Child> + Send + Sync>,
    ledger: Option<crate::effects::Ledger>,
}

impl Launcher {
    /// A launcher running `launch(failure_rate)`; its workers record effects in `ledger`.
    pub fn new(
        launch: impl Fn(f64) -> std::io::Result<Child> + Send + Sync + 'static,
        ledger: Option<crate::effects::Ledger>,
    ) -> Self {
        Self { launch: Arc::new(launch), ledger }
    }

    /// Starts one worker.
    pub fn launch(&self, failure_rate: f64) -> std::io::Result<Child> {
        (self.launch)(failure_rate)
    }

    /// Injected failures its workers counted so far (0 without a ledger).
    pub fn injected(&self) -> u64 {
        self.ledger.as_ref().map_or(0, crate::effects::Ledger::injected)
    }
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher").field("ledger", &self.ledger).finish_non_exhaustive()
    }
}

/// Runs the workers until `stop` resolves, killing and replacing them as `options` say; then
/// kills every worker it started and waits for each. `progress` sees the report after every
/// change (a start, a kill, the end).
pub async fn run(
    options: &ChaosOptions,
    mut launch: impl FnMut(f64) -> std::io::Result<Child>,
    mut progress: impl FnMut(&ChaosReport),
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<ChaosReport> {
    options.check()?;
    let mut report = ChaosReport::default();
    let mut workers: Vec<Child> = Vec::new();
    let outcome = async {
        for _ in 0..options.workers {
            workers.push(launch(options.failure_rate)?);
            report.started += 1;
            report.alive += 1;
            progress(&report);
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
            report.alive -= 1;
            progress(&report);
            tokio::select! {
                () = &mut stop => return anyhow::Ok(()),
                () = tokio::time::sleep(options.restart_after) => {}
            }
            workers[victim] = launch(options.failure_rate)?;
            report.started += 1;
            report.alive += 1;
            progress(&report);
        }
    }
    .await;
    for worker in &mut workers {
        let _ = worker.kill().await;
    }
    report.alive = 0;
    progress(&report);
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
