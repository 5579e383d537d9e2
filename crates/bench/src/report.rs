//! Results on disk: each report as JSON (everything) and as a Markdown table (what people read),
//! named `<kind>-<UTC timestamp>` under `bench/results/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::chaos::ChaosReport;
use crate::hooks::HooksReport;
use crate::orders::OrdersReport;
use crate::provision::{ModeResult, ProvisionReport, Ratios, Subject};
use crate::BenchError;

/// Writes `<dir>/<kind>-<stamp>.json` and `.md`; returns both paths.
pub fn write(
    dir: &Path,
    kind: &str,
    json: &impl serde::Serialize,
    markdown: &str,
) -> Result<(PathBuf, PathBuf), BenchError> {
    std::fs::create_dir_all(dir).map_err(|e| BenchError::io(format!("creating {}", dir.display()), e))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let json_path = dir.join(format!("{kind}-{stamp}.json"));
    let md_path = dir.join(format!("{kind}-{stamp}.md"));
    let text =
        serde_json::to_string_pretty(json).map_err(|e| BenchError::Setup(format!("encoding the report: {e}")))?;
    std::fs::write(&json_path, text + "\n")
        .map_err(|e| BenchError::io(format!("writing {}", json_path.display()), e))?;
    std::fs::write(&md_path, markdown).map_err(|e| BenchError::io(format!("writing {}", md_path.display()), e))?;
    Ok((json_path, md_path))
}

fn f1(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "–".into()
    }
}

fn f2(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "–".into()
    }
}

/// The provisioning benchmark as Markdown.
pub fn provision_markdown(r: &ProvisionReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# `ordo bench provision` — {}\n", r.started_at);
    let _ = writeln!(md, "Machine: {}; load average at start {}\n", r.machine.one_line(), r.load_average);
    let _ = writeln!(
        md,
        "{} measured runs per subject at {} in flight, in {} rounds with the subjects interleaved (each round a fresh \
         worker process and a warm-up); sim driver, `sim.latency_ms = 0`, policy passes, \
         no approval, `include_custom_search_attrs = true`; one in-memory dev server for everything.\n",
        r.runs, r.concurrency, r.rounds
    );
    if let Some(h) = &r.ordo_history {
        let _ = writeln!(
            md,
            "One Ordo run, counted from its history: `ProvisionInfraWorkflow` {} events, {} bytes ({} workflow tasks, {} activities, \
             {} upserts, {} timers, {} signals in, {} out) + `WorkspaceLockWorkflow` {} events, {} bytes ({} workflow tasks, {} timers, \
             {} signals in, {} out). The skeleton replays exactly this shape with no-op activities.\n",
            h.run.events, h.run.bytes, h.run.workflow_tasks, h.run.activities, h.run.upserts, h.run.timers, h.run.signals_received,
            h.run.signals_sent, h.lock.events, h.lock.bytes, h.lock.workflow_tasks, h.lock.timers, h.lock.signals_received,
            h.lock.signals_sent
        );
    }
    if let Some(h) = &r.skeleton_history {
        let _ = writeln!(
            md,
            "One skeleton run, counted the same way: {} events, {} bytes ({} workflow tasks, {} activities, {} upserts, {} timers, \
             {} signals in, {} out) + its lock {} events ({} workflow tasks, {} timers).\n",
            h.run.events, h.run.bytes, h.run.workflow_tasks, h.run.activities, h.run.upserts, h.run.timers, h.run.signals_received,
            h.run.signals_sent, h.lock.events, h.lock.workflow_tasks, h.lock.timers
        );
    }
    if let Some(h) = &r.python_history {
        let _ = writeln!(
            md,
            "One Python peer run: {} events, {} bytes ({} workflow tasks, {} activities, {} upserts), one workflow (seed 001 has no \
             workspace lock).\n",
            h.events, h.bytes, h.workflow_tasks, h.activities, h.upserts
        );
    }
    for mode in &r.modes {
        mode_table(&mut md, mode);
    }
    if !r.parked.is_empty() {
        let _ = writeln!(md, "## Parked at the approval gate\n");
        let _ = writeln!(md, "| subject | parked runs | time to park | worker RSS when all parked | RSS after hold | peak RSS | worker CPU total |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
        for p in &r.parked {
            let _ = writeln!(
                md,
                "| {} | {} | {} s | {} MiB | {} MiB ({} s later) | {} MiB | {} s |",
                p.subject.as_str(),
                p.parked,
                f1(p.seconds_to_park),
                f1(p.rss_mib),
                f1(p.rss_after_hold_mib),
                f1(p.hold_seconds),
                f1(p.peak_rss_mib),
                f1(p.worker_cpu_seconds)
            );
        }
        let ordo = r.parked.iter().find(|p| p.subject == Subject::Ordo);
        let python = r.parked.iter().find(|p| p.subject == Subject::Python);
        let skeleton = r.parked.iter().find(|p| p.subject == Subject::Skeleton);
        if let (Some(o), Some(s)) = (ordo, skeleton) {
            let _ = writeln!(
                md,
                "\nOrdo / skeleton worker RSS with {} parked runs: **{}** (after hold: {}).",
                o.parked,
                f2(o.rss_mib / s.rss_mib),
                f2(o.rss_after_hold_mib / s.rss_after_hold_mib)
            );
        }
        if let (Some(o), Some(p)) = (ordo, python) {
            let _ = writeln!(
                md,
                "\nOrdo / Python worker RSS with {} parked runs: **{}** (after hold: {}).",
                o.parked,
                f2(o.rss_mib / p.rss_mib),
                f2(o.rss_after_hold_mib / p.rss_after_hold_mib)
            );
        }
        md.push('\n');
    }
    if !r.notes.is_empty() {
        let _ = writeln!(md, "Notes:");
        for n in &r.notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

fn mode_table(md: &mut String, mode: &ModeResult) {
    let title = match mode.mode {
        crate::provision::Mode::Shared => "Shared cores (server, worker and driver unpinned)",
        crate::provision::Mode::Pinned => "Pinned (server + driver on CPU 0, worker on CPU 1, `taskset`)",
    };
    let _ = writeln!(md, "## {title}\n");
    let _ = writeln!(
        md,
        "| subject | runs/s | p50 ms | p99 ms | worker CPU s | worker CPU ms/run | worker peak RSS MiB | server CPU ms/run | failed |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in &mode.subjects {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.subject.as_str(),
            f1(s.runs_per_second),
            f1(s.latency.p50_ms),
            f1(s.latency.p99_ms),
            f2(s.worker_cpu_seconds),
            f2(s.worker_cpu_ms_per_run),
            f1(s.worker_peak_rss_mib),
            f2(s.server_cpu_ms_per_run),
            s.failed
        );
    }
    md.push('\n');
    let _ = writeln!(md, "| ratio | runs/s | worker CPU per run | worker peak RSS |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    for (name, ratios) in [
        ("Ordo / skeleton", mode.ordo_vs_skeleton),
        ("Ordo / skeleton without the lock", mode.ordo_vs_skeleton_unlocked),
        ("Ordo / skeleton with a shared lock", mode.ordo_vs_skeleton_shared_lock),
        ("Ordo / trivial", mode.ordo_vs_trivial),
        ("Ordo / Python peer", mode.ordo_vs_python),
        ("Ordo encrypted / Ordo", mode.encrypted_vs_ordo),
        ("Ordo / baseline build", mode.ordo_vs_baseline),
    ] {
        if let Some(Ratios { runs_per_second, worker_cpu_per_run, worker_peak_rss }) = ratios {
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} |",
                f2(runs_per_second),
                f2(worker_cpu_per_run),
                f2(worker_peak_rss)
            );
        }
    }
    md.push('\n');
}

/// A chaos report as Markdown.
pub fn chaos_markdown(r: &ChaosReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# `ordo bench chaos` — {}\n", r.started_at);
    let _ = writeln!(md, "Machine: {}\n", r.machine.one_line());
    let _ = writeln!(
        md,
        "{} runs (one stack copy each), {} `ordo worker` processes, a {} worker SIGKILLed {}, dev server restart {}, \
         sim `failure_rate = {}`, `latency_ms = {}`, seed {}.\n",
        r.runs,
        r.workers,
        match r.kill_policy {
            crate::chaos::KillPolicy::Random => "random",
            crate::chaos::KillPolicy::WhileApplying => "mid-apply",
        },
        r.kill_every_secs.map_or("never".into(), |s| format!("every {s} s")),
        r.restart_server_after_secs
            .map_or("none".into(), |s| format!("{s} s after the starts (same SQLite file and port)")),
        r.failure_rate,
        r.latency_ms,
        r.seed
    );
    let _ = writeln!(
        md,
        "| runs | kills | server restarts | injected failures | completed | failed | unfinished | duplicates |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {}–{} | {} | {} | {} | {} |\n",
        r.runs,
        r.kills,
        r.server_restarts,
        r.injected_failures_min,
        r.injected_failures_max,
        r.completed,
        r.failed,
        r.unfinished,
        r.duplicates
    );
    let _ = writeln!(
        md,
        "Resource applies recorded by the sim: {} (expected {}). `terraform_apply` attempts beyond the first: {} \
         (injected failures plus attempts lost to kills; Temporal keeps only the last attempt, hence the range above). \
         Other activities' extra attempts: {}. Workers that exited on their own: {}. Wall time {} s; slowest run {} s.\n",
        r.resources_applied,
        r.resources_expected,
        r.apply_attempts_failed,
        r.other_attempts_failed,
        r.worker_exits,
        f1(r.wall_seconds),
        f1(r.slowest_run_seconds)
    );
    if let Some(ended) = r.ended_before_restart {
        let _ = writeln!(md, "Runs already ended when the server was stopped: {ended} of {}.\n", r.runs);
    }
    let _ = writeln!(
        md,
        "Verdict: **{}**\n",
        if r.all_good() { "every run applied exactly once" } else { "problems found" }
    );
    if !r.problems.is_empty() {
        let _ = writeln!(md, "Problems:");
        for p in &r.problems {
            let _ = writeln!(md, "- {p}");
        }
    }
    md
}

/// The `/invoke` benchmark as Markdown.
pub fn hooks_markdown(r: &HooksReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# `ordo-bench hooks` — {}\n", r.started_at);
    let _ = writeln!(md, "> Invocation: `{}`\n", r.invocation);
    let _ = writeln!(md, "Machine: {}; load average at start {}\n", r.machine.one_line(), r.load_average);
    let _ = writeln!(
        md,
        "Seed 004's `POST /invoke/{{client}}` on one in-memory dev server: **ordo-invoke** is Ordo's API in the \
         benchmark's process (HTTP on loopback, bearer token, the spec parsed and started through the shared \
         Temporal client); **process-per-request** is the seed's design: the spec written to a read-only temp file \
         and one process exec'd per request to start it (the Temporal CLI's `workflow start --input-file`, standing \
         in for the seed's Go `workflowclient`); **temporal-client-alone** is the same starts through the Temporal \
         client without HTTP: at the fixed rate the floor of `/invoke`'s latency (the dev server's own start \
         latency; the two run interleaved in halves, Ordo, floor, floor, Ordo), in the throughput phase the \
         ceiling the dev server sets on this machine. Workflows are counted back from visibility; nobody polls \
         their task queues (the seed's client only starts them).\n"
    );
    let _ = writeln!(
        md,
        "| subject | phase | load | requests | requests/s | p50 ms | p99 ms | max ms | failed | workflows started |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for p in &r.results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.subject,
            p.phase,
            p.load,
            p.requests,
            f1(p.requests_per_sec),
            f2(p.latency.p50_ms),
            f2(p.latency.p99_ms),
            f2(p.latency.max_ms),
            p.failed,
            p.workflows_started
        );
    }
    let _ = writeln!(md);
    let f = &r.floor;
    let _ = writeln!(
        md,
        "At the fixed rate, `/invoke` against its floor (the Temporal client alone, same rate and count):\n"
    );
    let _ = writeln!(md, "| | /invoke | floor | /invoke − floor | /invoke ÷ floor |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for (name, invoke, floor) in
        [("p50 ms", f.invoke_p50_ms, f.floor_p50_ms), ("p99 ms", f.invoke_p99_ms, f.floor_p99_ms)]
    {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} |",
            f2(invoke),
            f2(floor),
            f2(invoke - floor),
            f2(invoke / floor)
        );
    }
    let halves = |subject: &str| {
        let p = r.results.iter().find(|p| p.subject == subject && p.phase == "fixed-rate");
        p.map(|p| p.parts_p99_ms.iter().map(|&x| f2(x)).collect::<Vec<_>>().join(", ")).unwrap_or_default()
    };
    let _ = writeln!(
        md,
        "\np99 ms of each half, as they ran: /invoke {} (first, last); floor {} (second, third).",
        halves("ordo-invoke"),
        halves("temporal-client-alone")
    );
    let _ = writeln!(
        md,
        "\nThe floor is {} % of `/invoke`'s p99; the floor's own p99 is {} the 20 ms goal.\n",
        f1(f.floor_share_of_p99 * 100.0),
        if f.floor_within_p99_goal { "within" } else { "over" }
    );
    let _ = writeln!(md, "| goal | measured | met |");
    let _ = writeln!(md, "|---|---:|---|");
    let _ = writeln!(
        md,
        "| p99 ≤ 20 ms at the fixed rate | {} ms | {} |",
        f2(f.invoke_p99_ms),
        if r.p99_goal_met { "yes" } else { "no" }
    );
    let _ = writeln!(
        md,
        "| throughput ≥ 50 × the per-process design (same concurrency) | {} × | {} |",
        f1(r.throughput_ratio),
        if r.ratio_goal_met { "yes" } else { "no" }
    );
    md
}

/// The orders benchmark as Markdown.
pub fn orders_markdown(r: &OrdersReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# `ordo bench orders` — {}\n", r.started_at);
    let _ = writeln!(md, "Machine: {}; load average at start {}\n", r.machine.one_line(), r.load_average);
    let h = &r.ordo_history;
    let _ = writeln!(
        md,
        "## Throughput\n\n{} measured orders per subject at {} in flight, in {} rounds with the subjects interleaved \
         (each round a fresh worker process and a warm-up); every kitchen step 0 ms, no failures; one in-memory dev \
         server. An order's history: {} events, {} activities, {} upserts, {} timers, {} workflow tasks; the skeleton \
         runs the same upserts and activities as no-ops.\n",
        r.orders, r.concurrency, r.rounds, h.events, h.activities, h.upserts, h.timers, h.workflow_tasks
    );
    let _ = writeln!(
        md,
        "| subject | orders | failed | orders/s | p50 ms | p99 ms | worker CPU ms/order | server CPU ms/order |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in &r.subjects {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.subject.as_str(),
            s.runs,
            s.failed,
            f1(s.runs_per_second),
            f1(s.latency.p50_ms),
            f1(s.latency.p99_ms),
            f2(s.worker_cpu_ms_per_run),
            f2(s.server_cpu_ms_per_run)
        );
    }
    let ratio = &r.ordo_vs_skeleton;
    let _ = writeln!(
        md,
        "\nOrdo / skeleton: orders/s **{}×** (goal ≥ 0.9×), worker CPU per order {}×.\n",
        f2(ratio.runs_per_second),
        f2(ratio.worker_cpu_per_run)
    );
    if let Some(c) = &r.chaos {
        let k = &c.config;
        let _ = writeln!(
            md,
            "## Chaos\n\n{} orders streamed at {}/s through {} `ordo worker --domains orders` processes, a random one \
             SIGKILLed every {} s on average (0.5–1.5×) and restarted 0.5 s later, {} % of kitchen steps failing \
             retryably on any attempt, every step {} ms.\n",
            k.orders,
            k.rate,
            k.workers,
            k.kill_every_secs,
            k.failure_rate * 100.0,
            k.step_ms
        );
        let _ = writeln!(
            md,
            "| placed | delivered | rejected | failed | unfinished | kills | workers started | injected failures | effects missing | effects applied twice | repeats skipped | orders moved between workers | orders/s | p50 ms | p99 ms |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let ms = |v: Option<u64>| v.map_or("–".into(), |v| v.to_string());
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.placed,
            c.delivered,
            c.rejected,
            c.failed,
            c.unfinished,
            c.controller.kills,
            c.controller.started,
            c.injected_failures,
            c.effects_missing,
            c.effects_applied_twice,
            c.repeats_skipped,
            c.orders_moved_between_workers,
            f1(c.orders_per_second),
            ms(c.p50_ms),
            ms(c.p99_ms)
        );
        let _ = writeln!(
            md,
            "Wall time {} s (first placement until every order was over); order times come from visibility's \
             start and close times, which have 1-s resolution. Each step's effect is a marker file created \
             exclusively per order, step and make, holding the pid of the worker that applied it: an attempt that \
             finds its marker applies nothing (\"repeats skipped\"), and the markers are the evidence for \"effects \
             missing\" and \"applied twice\".\n",
            f1(c.wall_seconds)
        );
        let _ = writeln!(
            md,
            "Verdict: **{}**\n",
            if c.all_good() {
                "every order delivered or rejected, none failed, every effect applied once"
            } else {
                "problems found"
            }
        );
    }
    for note in &r.notes {
        let _ = writeln!(md, "- {note}");
    }
    md
}
