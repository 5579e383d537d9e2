//! The chaos and crash suite at small sizes (`ordo bench chaos` runs the large ones): real
//! `ordo worker` processes SIGKILLed at random, a real dev server stopped and restarted on its
//! SQLite file, and the sim driver's effects journal (an append-only log each resource operation
//! writes before it acts, apart from the state it changes) as the witness that nothing was
//! applied twice.
//! Nothing here asserts a time; the deadlines only bound a hung run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ordo_bench::chaos::{self, ChaosConfig, ChaosReport, KillPolicy};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().to_path_buf()
}

fn config(runs: usize, workers: usize) -> ChaosConfig {
    ChaosConfig {
        ordo_bin: PathBuf::from(env!("CARGO_BIN_EXE_ordo")),
        temporal_bin: ordo_core::devserver::find_temporal_binary(),
        examples: repository().join("examples"),
        runs,
        workers,
        kill_every: None,
        kill_policy: KillPolicy::Random,
        max_kills: None,
        restart_server_after: None,
        failure_rate: 0.3,
        latency_ms: 100,
        seed: 20_251_123,
        // A killed worker's step is retried after its heartbeat timeout (10 s) or, for the quick
        // steps, its 30 s start-to-close; the bound only catches a hung run.
        deadline: Duration::from_secs(420),
    }
}

fn explain(report: &ChaosReport) -> String {
    ordo_bench::report::chaos_markdown(report)
}

/// Every second (four times) a worker that is in the middle of an apply is SIGKILLed, while runs
/// apply with 30 % of sim operations failing: every run ends `applied`, none fails, and every resource
/// of every run was applied exactly once. (Kills are aimed at applies, the step that could apply
/// twice; `ordo bench chaos` kills at random.)
#[tokio::test]
async fn every_run_applies_exactly_once_while_applying_workers_are_sigkilled() {
    let mut config = config(8, 3);
    config.kill_every = Some(Duration::from_secs(1));
    config.kill_policy = KillPolicy::WhileApplying;
    // Each kill costs its run a heartbeat timeout (10 s); bounded so the tail run is not hunted.
    config.max_kills = Some(4);
    // Slow enough (1 s per resource: a 2-s plan, a 2-s apply) that applies are in flight at the ticks.
    config.latency_ms = 1000;
    let report = chaos::run(config).await.expect("chaos setup");
    assert!(report.kills >= 1, "no worker was killed:\n{}", explain(&report));
    assert_eq!(report.completed, report.runs, "{}", explain(&report));
    assert_eq!(report.failed, 0, "{}", explain(&report));
    assert_eq!(report.duplicates, 0, "{}", explain(&report));
    assert_eq!(report.resources_applied, report.resources_expected, "{}", explain(&report));
}

/// The dev server stopped and restarted on the same SQLite file and port while runs are in
/// flight: every run completes, once.
#[tokio::test]
async fn every_run_completes_across_a_dev_server_restart() {
    let mut config = config(6, 2);
    config.latency_ms = 300;
    config.restart_server_after = Some(Duration::from_secs(1));
    let report = chaos::run(config).await.expect("chaos setup");
    assert_eq!(report.server_restarts, 1, "{}", explain(&report));
    assert!(
        report.ended_before_restart.is_some_and(|ended| ended < report.runs),
        "the restart must happen mid-flight:\n{}",
        explain(&report)
    );
    assert_eq!(report.completed, report.runs, "{}", explain(&report));
    assert_eq!(report.failed, 0, "{}", explain(&report));
    assert_eq!(report.duplicates, 0, "{}", explain(&report));
}
