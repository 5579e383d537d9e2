//! `ordo provision …`: the provisioning CLI. `--json` prints machine-readable results on stdout.
//! Exit codes: 0 applied/destroyed (or the action succeeded), 1 error or failed run,
//! 3 the run ended without applying (rejected, policy_hard_failed, approval_expired).

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ordo_iac::DriverKind;
use ordo_provision::client::{self, ListFilter, ProvisionClient, RunView};
use ordo_provision::model::{status, ApplyDecision, ProvisionRequest};
use ordo_provision::scenarios;

use super::input;

/// Options every provisioning command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Common {
    /// Task queue of the provisioning workers.
    #[arg(long, env = "TEMPORAL_TASK_QUEUE", default_value = ordo_provision::model::DEFAULT_TASK_QUEUE, global = true)]
    task_queue: String,
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// Checking and following a run as it starts: what every command that starts one takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LaunchArgs {
    #[command(flatten)]
    common: Common,
    /// IaC root for the pre-start checks (the worker checks again).
    #[arg(long, env = "ORDO_IAC_ROOT", default_value = "examples")]
    iac_root: PathBuf,
    /// Watch the run until it ends.
    #[arg(long)]
    watch: bool,
}

/// Starting a run: everything but the directory has a default.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StartArgs {
    /// IaC directory, relative to the IaC root.
    #[arg(long = "dir", required_unless_present = "input")]
    directory: Option<String>,
    /// Full request as a JSON file (seed 001's TerraformRunDetails plus Ordo's fields); `-` for stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// IaC driver: terraform, tofu, pulumi or sim.
    #[arg(long, value_parser = parse_driver)]
    driver: Option<DriverKind>,
    /// Module variable, `name=value` (repeatable).
    #[arg(long = "var", value_parser = parse_kv)]
    vars: Vec<(String, String)>,
    /// Policy bundle directory (relative to the IaC root).
    #[arg(long)]
    policy: Option<String>,
    /// Who may approve (repeatable; none = anyone).
    #[arg(long = "approver")]
    approvers: Vec<String>,
    /// Seconds to wait for a human decision.
    #[arg(long)]
    approval_timeout: Option<u64>,
    /// Seconds before an ephemeral run's destroy to notify (through the worker's webhook).
    #[arg(long)]
    destroy_reminder: Option<u64>,
    /// Distinct approvals the plan needs before it is applied (at most the number of approvers).
    #[arg(long)]
    approvals_required: Option<u32>,
    /// Seconds after the approval gate opens to remind the approvers (through the worker's
    /// notification webhook) if nobody has decided.
    #[arg(long)]
    approval_reminder: Option<u64>,
    /// Destroy after a TTL.
    #[arg(long)]
    ephemeral: bool,
    /// TTL in seconds for --ephemeral.
    #[arg(long)]
    ttl: Option<u64>,
    /// Soft policy failures become hard.
    #[arg(long)]
    hard_fail_policy: bool,
}

/// The provisioning commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ProvisionCommand {
    /// Start a run from flags or a JSON request.
    Start {
        #[command(flatten)]
        start: StartArgs,
        #[command(flatten)]
        launch: LaunchArgs,
    },
    /// Run one of seed 001's scenarios by key (`ordo provision scenarios` lists them).
    Scenario {
        /// Scenario key.
        key: String,
        /// Driver (the shipped stacks are for `sim`).
        #[arg(long, value_parser = parse_driver, default_value = "sim")]
        driver: DriverKind,
        /// TTL in seconds for the `ephemeral` scenario.
        #[arg(long)]
        ttl: Option<u64>,
        #[command(flatten)]
        launch: LaunchArgs,
    },
    /// List the scenarios.
    Scenarios {
        #[command(flatten)]
        common: Common,
    },
    /// List runs from Temporal visibility.
    List {
        /// Only runs whose provisionStatus is this (e.g. awaiting_approval, applied).
        #[arg(long)]
        status: Option<String>,
        /// Only runs of this scenario.
        #[arg(long)]
        scenario: Option<String>,
        /// Only runs on this directory.
        #[arg(long = "dir")]
        directory: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Show a run's full state.
    Show {
        /// Workflow id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Follow a run with a progress bar until it ends.
    Watch {
        /// Workflow id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Approve the pending plan (update `update_apply_decision`; --signal for the seed's signal).
    Approve(DecisionArgs),
    /// Reject the pending plan.
    Reject(DecisionArgs),
    /// Get a new plan (signal `request_continue_as_new`).
    Replan {
        /// Workflow id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Push an ephemeral run's destroy out (update `extend_ttl`).
    Extend {
        /// Workflow id.
        id: String,
        /// Seconds to add.
        #[arg(long)]
        seconds: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Destroy what a directory manages (DeprovisionInfraWorkflow).
    Destroy {
        #[command(flatten)]
        start: StartArgs,
        #[command(flatten)]
        launch: LaunchArgs,
    },
}

/// Approve / reject.
#[derive(Debug, clap::Args)]
pub(crate) struct DecisionArgs {
    /// Workflow id.
    id: String,
    /// Why (required by the update).
    #[arg(long, default_value = "")]
    reason: String,
    /// Who decides (must be one of the run's approvers when it lists any).
    #[arg(long, env = "ORDO_USER")]
    approver: Option<String>,
    /// Send seed 001's signal `signal_apply_decision` instead of the validated update.
    #[arg(long)]
    signal: bool,
    /// The plan you reviewed (its SHA-256, as `show` prints it in full with `--json`); default: the
    /// plan waiting now, printed before the decision is sent. Refused if the plan changed since.
    #[arg(long)]
    plan_hash: Option<String>,
    #[command(flatten)]
    common: Common,
}

fn parse_driver(value: &str) -> Result<DriverKind, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| format!("unknown driver {value:?}; expected terraform, tofu, pulumi or sim"))
}

fn parse_kv(value: &str) -> Result<(String, String), String> {
    value
        .split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected name=value, got {value:?}"))
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: ProvisionCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProvisionCommand::Scenarios { common } => {
            if common.json {
                println!("{}", serde_json::to_string_pretty(scenarios::SCENARIOS)?);
            } else {
                for s in scenarios::SCENARIOS {
                    println!("{:<26} {:<48} {}", s.key, s.title, s.directory);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Start { start, launch } => start_run(&temporal, &launch, build_request(&start)?, false).await,
        ProvisionCommand::Destroy { start, launch } => {
            start_run(&temporal, &launch, build_request(&start)?, true).await
        }
        ProvisionCommand::Scenario { key, driver, ttl, launch } => {
            let scenario = scenarios::find(&key).ok_or_else(|| {
                anyhow::anyhow!("unknown scenario {key:?}; expected one of: {}", scenarios::keys().join(", "))
            })?;
            if ttl.is_some() && key != "ephemeral" {
                anyhow::bail!("--ttl only applies to the ephemeral scenario");
            }
            start_run(&temporal, &launch, scenario.request(driver, ttl), scenario.destroy).await
        }
        ProvisionCommand::List { status, scenario, directory, limit, common } => {
            let client = connect(&temporal, &common).await?;
            let rows = client.list(&ListFilter { status, scenario, directory, limit: Some(limit) }).await?;
            if common.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                eprintln!("no runs match");
            } else {
                println!("{:<52} {:<11} {:<22} {:<26} DIRECTORY", "WORKFLOW ID", "EXECUTION", "STATUS", "SCENARIO");
                for r in rows {
                    println!(
                        "{:<52} {:<11} {:<22} {:<26} {}",
                        r.workflow_id,
                        r.execution_status,
                        r.provision_status.as_deref().unwrap_or("-"),
                        r.scenario.as_deref().unwrap_or("-"),
                        r.directory.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Show { id, common } => {
            let client = connect(&temporal, &common).await?;
            let view = client.view(&id).await?;
            if common.json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_view(&view);
            }
            Ok(exit_code_for(&view))
        }
        ProvisionCommand::Watch { id, common } => {
            let client = connect(&temporal, &common).await?;
            watch(&client, &id, common.json).await
        }
        ProvisionCommand::Approve(args) => decide(&temporal, args, true).await,
        ProvisionCommand::Reject(args) => decide(&temporal, args, false).await,
        ProvisionCommand::Replan { id, common } => {
            let client = connect(&temporal, &common).await?;
            client.replan(&id).await?;
            eprintln!("re-plan requested for {id}");
            Ok(ExitCode::SUCCESS)
        }
        ProvisionCommand::Extend { id, seconds, common } => {
            let client = connect(&temporal, &common).await?;
            let deadline = client.extend_ttl(&id, seconds).await?;
            if common.json {
                println!("{}", serde_json::json!({ "workflow_id": id, "destroy_at": deadline }));
            } else {
                println!("{id}: destroy now at {deadline}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn build_request(start: &StartArgs) -> anyhow::Result<ProvisionRequest> {
    let mut object = input::read_object(start.input.as_deref())?;
    if let Some(dir) = &start.directory {
        object.insert("directory".into(), dir.clone().into());
    }
    if let Some(driver) = start.driver {
        object.insert("driver".into(), driver.as_str().into());
    }
    if !start.vars.is_empty() {
        let vars: BTreeMap<_, _> = start.vars.iter().cloned().collect();
        object.insert("vars".into(), serde_json::to_value(vars)?);
    }
    if let Some(policy) = &start.policy {
        object.insert("policy".into(), policy.clone().into());
    }
    if !start.approvers.is_empty() {
        object.insert("approvers".into(), start.approvers.clone().into());
    }
    if let Some(t) = start.approval_timeout {
        object.insert("approval_timeout_secs".into(), t.into());
    }
    if let Some(t) = start.destroy_reminder {
        object.insert("destroy_reminder_secs".into(), t.into());
    }
    if let Some(n) = start.approvals_required {
        object.insert("approvals_required".into(), n.into());
    }
    if let Some(t) = start.approval_reminder {
        object.insert("approval_reminder_secs".into(), t.into());
    }
    if start.ephemeral {
        object.insert("ephemeral".into(), true.into());
    }
    if let Some(ttl) = start.ttl {
        object.insert("ephemeral_ttl".into(), ttl.into());
    }
    if start.hard_fail_policy {
        object.insert("hard_fail_policy".into(), true.into());
    }
    Ok(ProvisionRequest::parse(serde_json::Value::Object(object))?)
}

async fn connect(temporal: &ordo_core::TemporalArgs, common: &Common) -> anyhow::Result<ProvisionClient> {
    Ok(ProvisionClient::new(ordo_core::connect(temporal).await?, common.task_queue.clone()))
}

async fn start_run(
    temporal: &ordo_core::TemporalArgs,
    launch: &LaunchArgs,
    request: ProvisionRequest,
    destroy: bool,
) -> anyhow::Result<ExitCode> {
    client::validate(&request, &launch.iac_root)?;
    let client = connect(temporal, &launch.common).await?;
    let id = client.start(&request, destroy).await?;
    if launch.common.json && !launch.watch {
        println!("{}", serde_json::json!({ "workflow_id": id }));
    } else {
        println!("{id}");
    }
    if launch.watch {
        return watch(&client, &id, launch.common.json).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn decide(temporal: &ordo_core::TemporalArgs, args: DecisionArgs, approve: bool) -> anyhow::Result<ExitCode> {
    let client = connect(temporal, &args.common).await?;
    let plan_hash = match args.plan_hash {
        Some(hash) => hash,
        None => {
            let view = client.view(&args.id).await?;
            let hash = anyhow::Context::context(view.state.plan_hash, "the run has no plan waiting for a decision")?;
            eprintln!("{}: deciding on plan {hash}", args.id);
            hash
        }
    };
    let decision = ApplyDecision {
        is_approved: approve,
        reason: (!args.reason.is_empty()).then_some(args.reason),
        approver: args.approver,
        plan_hash: Some(plan_hash),
        ..Default::default()
    };
    match client.decide(&args.id, decision, args.signal).await {
        Ok(()) => {
            eprintln!("{}: {}", args.id, if approve { "approved" } else { "rejected" });
            Ok(ExitCode::SUCCESS)
        }
        Err(client::RunError::Refused(refusal)) => {
            eprintln!("error: the run refused the decision: {}", refusal.message);
            Ok(ExitCode::from(4))
        }
        Err(other) => Err(other.into()),
    }
}

fn is_final(view: &RunView) -> bool {
    view.execution_status != "Running"
}

fn exit_code_for(view: &RunView) -> ExitCode {
    match (view.execution_status.as_str(), view.state.status.as_str()) {
        ("Running", _) => ExitCode::SUCCESS,
        ("Completed", status::APPLIED | status::DESTROYED) => ExitCode::SUCCESS,
        ("Completed", _) => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    }
}

async fn watch(client: &ProvisionClient, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let tty = std::io::stderr().is_terminal();
    let mut last = String::new();
    loop {
        let view = client.view(id).await?;
        let line = format!("{} {:>3}% {}", bar(view.state.progress), view.state.progress, view.state.status);
        if line != last {
            if tty {
                eprint!("\r\x1b[2K{line}");
            } else {
                eprintln!("{line}");
            }
            let _ = std::io::stderr().flush();
            if view.state.approval_pending && !last.contains("awaiting") {
                let hint = format!("awaiting approval: ordo provision approve {id} --reason \"…\"");
                if tty {
                    eprint!("\n{hint}\n")
                } else {
                    eprintln!("{hint}")
                }
            }
            last = line;
        }
        if is_final(&view) {
            if tty {
                eprintln!();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print_view(&view);
            }
            return Ok(exit_code_for(&view));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn bar(progress: i32) -> String {
    let filled = (progress.clamp(0, 100) / 5) as usize;
    format!("[{}{}]", "#".repeat(filled), "-".repeat(20 - filled))
}

fn print_view(view: &RunView) {
    let s = &view.state;
    println!("run:        {} ({})", view.workflow_id, view.workflow_type);
    println!(
        "execution:  {}{}",
        view.execution_status,
        if view.stale { "  (no worker answered: state may be stale)" } else { "" }
    );
    println!("status:     {} ({}%)", s.status, s.progress);
    println!(
        "directory:  {}   driver: {}{}",
        s.directory,
        s.driver,
        if s.driver == "sim" { " (simulation)" } else { "" }
    );
    if let Some(scenario) = &s.scenario {
        println!("scenario:   {scenario}");
    }
    if let Some(summary) = &s.plan_summary {
        println!(
            "plan:       {} to add, {} to change, {} to destroy (hash {})",
            summary.create,
            summary.update,
            summary.delete,
            s.plan_hash.as_deref().map(|h| &h[..12.min(h.len())]).unwrap_or("-")
        );
        for change in &s.resource_changes {
            println!("            {:<8} {}", change.actions.join(","), change.address);
        }
    }
    for result in &s.policy_results {
        println!("policy:     [{:?}] {} {}: {}", result.level, result.policy, result.rule, result.message);
    }
    if s.approval_pending {
        println!("approval:   pending until {}", s.approval_deadline.as_deref().unwrap_or("-"));
    }
    if s.approvals_required > 1 {
        let names: Vec<&str> = s.approvals.iter().map(|a| a.approver.as_deref().unwrap_or("anonymous")).collect();
        println!("approvals:  {} of {} ({})", s.approvals.len(), s.approvals_required, names.join(", "));
    }
    if let Some(error) = &s.notification_error {
        println!("notify:     {error}");
    }
    if let Some(a) = &s.approval {
        println!(
            "decision:   {} by {} via {} at {}: {}",
            if a.is_approved { "approved" } else { "rejected" },
            a.approver.as_deref().unwrap_or("anonymous"),
            a.via,
            a.decided_at.as_deref().unwrap_or("-"),
            a.reason
        );
    }
    if let Some(at) = &s.destroy_at {
        println!("destroy at: {at}");
    }
    for (name, out) in &s.outputs {
        println!("output:     {name} = {}", out.value);
    }
    if let Some(err) = &s.error {
        println!("note:       {err}");
    }
}
