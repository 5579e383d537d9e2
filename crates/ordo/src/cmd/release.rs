//! `ordo release …`: seed 003's releases (`ReleaseWorkflow`). `--json` prints machine-readable
//! results on stdout; messages go to stderr.
//! Exit codes: 0 success (released, or the action was taken), 1 error, 3 the release ended
//! without success (rejected, halted, rolled back, aborted), 4 the release refused the action now
//! (nothing pending, already paused, over, already running).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ordo_release::catalogue::Catalogue;
use ordo_release::client::{ReleaseClient, ReleaseError, ReleaseView};
use ordo_release::model::{
    status, Approval, CellState, Control, DevDeployBehavior, GateDecision, PromotionGate, ReleaseInfo, ReleaseState,
    UnapprovedBehavior, UtcWindow, TASK_QUEUE,
};

use super::input;

/// Options every `release` command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ReleaseCommon {
    /// Task queue of the release workflows.
    #[arg(long, env = "ORDO_RELEASE_TASK_QUEUE", default_value = TASK_QUEUE, global = true)]
    release_task_queue: String,
    /// Release catalogue to check releases started without deploys against (the worker's; default:
    /// seed 003's six releases).
    #[arg(long, env = "ORDO_RELEASE_CATALOGUE", global = true)]
    release_catalogue: Option<PathBuf>,
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// A new release: a catalogue key, or the seed's `ReleaseInfo` JSON (flags override its fields).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StartArgs {
    /// The release key (from the catalogue when the release lists no deploys).
    key: Option<String>,
    /// The whole release as JSON (seed 003's ReleaseInfo, plus Ordo's options); `-` for stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// The release is not approved yet: it waits for `ordo release approve <key>`.
    #[arg(long)]
    unapproved: bool,
    /// What unapproved deploys do: release-approved (skip them), stop, or wait (for approval).
    #[arg(long, value_enum)]
    unapproved_deploys: Option<UnapprovedArg>,
    /// DEV plus other environments: allow, warn, or only-dev (reject).
    #[arg(long, value_enum)]
    dev_deploys: Option<DevArg>,
    /// Who may approve (repeat; default anyone named).
    #[arg(long = "approver")]
    approvers: Vec<String>,
    /// Seconds each approval may take (1..=2592000; default one day).
    #[arg(long)]
    approval_timeout: Option<u64>,
    /// Hold PROD until the gate is decided (`ordo release approve <key> --gate`).
    #[arg(long)]
    gate_approval: bool,
    /// Deploy to PROD only inside this UTC window, `HH:MM-HH:MM`.
    #[arg(long)]
    gate_window: Option<String>,
    /// Seed 003's error injection: percent of step attempts that fail (0..=90; 10, 30, 60 in the seed).
    #[arg(long)]
    error_rate: Option<u8>,
    /// First retry interval, ms (10..=60000).
    #[arg(long)]
    retry_initial_ms: Option<u64>,
    /// Wait for the release to end, showing the matrix live.
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum UnapprovedArg {
    ReleaseApproved,
    Stop,
    Wait,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DevArg {
    Allow,
    Warn,
    OnlyDev,
}

/// Who does something and why.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ByArgs {
    /// The release key.
    key: String,
    /// Who.
    #[arg(long = "as", env = "ORDO_USER")]
    by: String,
    /// Why (required).
    #[arg(long)]
    reason: String,
}

/// The release commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ReleaseCommand {
    /// Start a release: from the catalogue by key, or from `--input`.
    Start {
        #[command(flatten)]
        start: StartArgs,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Show a release and its deploys × environments matrix (`--watch`: live until it ends).
    Status {
        /// The release key.
        key: String,
        /// Redraw the matrix as it changes until the release ends.
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Approve (or `--refuse`) the release, a deploy (`--deploy`) or the gate before PROD (`--gate`).
    Approve {
        #[command(flatten)]
        by: ByArgs,
        /// The deploy key to approve (default: the release itself).
        #[arg(long, conflicts_with = "gate")]
        deploy: Option<String>,
        /// Decide the promotion gate before PROD.
        #[arg(long)]
        gate: bool,
        /// Refuse instead of approving.
        #[arg(long)]
        refuse: bool,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Hold the release before its next environment.
    Pause {
        #[command(flatten)]
        by: ByArgs,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Let a paused release go on.
    Resume {
        #[command(flatten)]
        by: ByArgs,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Abort: deploys in flight roll their environment back; nothing else starts.
    Abort {
        #[command(flatten)]
        by: ByArgs,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// List releases, newest first.
    List {
        /// At most this many (1..=1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        limit: u64,
        #[command(flatten)]
        common: ReleaseCommon,
    },
    /// Show the release catalogue (what a release started by key deploys).
    Catalogue {
        #[command(flatten)]
        common: ReleaseCommon,
    },
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: ReleaseCommand) -> anyhow::Result<ExitCode> {
    let result = match command {
        ReleaseCommand::Start { start, common } => {
            let release = build_release(&start)?;
            let catalogue = catalogue(&common)?;
            ordo_release::client::validate(&release, &catalogue)?;
            let client = connect(&temporal, &common).await?;
            match client.start(&release, &catalogue).await {
                Ok(id) => {
                    if common.json && !start.wait {
                        println!("{}", serde_json::json!({ "workflow_id": id, "release_key": release.release_key }));
                    } else {
                        println!("{id}");
                    }
                    if start.wait {
                        watch(&client, &release.release_key, common.json).await
                    } else {
                        Ok(ExitCode::SUCCESS)
                    }
                }
                Err(e) => Err(e),
            }
        }
        ReleaseCommand::Status { key, watch: live, common } => {
            let client = connect(&temporal, &common).await?;
            if live {
                watch(&client, &key, common.json).await
            } else {
                client.view(&key).await.map(|view| {
                    print_view(&view, common.json);
                    exit_code_for(&view.state)
                })
            }
        }
        ReleaseCommand::Approve { by, deploy, gate, refuse, common } => {
            let client = connect(&temporal, &common).await?;
            let record = if gate {
                let decision = GateDecision { approver: by.by, reason: by.reason, approved: !refuse };
                client.decide_gate(&by.key, decision).await
            } else {
                let target = deploy.unwrap_or_else(|| "release".to_owned());
                client
                    .approve(&by.key, Approval { target, approver: by.by, reason: by.reason, approved: !refuse })
                    .await
            };
            record.map(|r| {
                let verb = if r.approved { "approved" } else { "refused" };
                if common.json {
                    println!("{}", serde_json::to_string(&r).unwrap_or_default());
                }
                eprintln!("{}: {} {verb} by {}", by.key, r.target, r.approver);
                ExitCode::SUCCESS
            })
        }
        ReleaseCommand::Pause { by, common } => control(&temporal, &common, by, "paused").await?,
        ReleaseCommand::Resume { by, common } => control(&temporal, &common, by, "resumed").await?,
        ReleaseCommand::Abort { by, common } => control(&temporal, &common, by, "aborted").await?,
        ReleaseCommand::List { limit, common } => {
            let client = connect(&temporal, &common).await?;
            client.list(usize::try_from(limit).unwrap_or(1000)).await.map(|rows| {
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
                } else if rows.is_empty() {
                    eprintln!("no releases");
                } else {
                    println!("{:<48} {:<11} {:<6} STARTED", "RELEASE", "EXECUTION", "ENV");
                    for r in rows {
                        println!(
                            "{:<48} {:<11} {:<6} {}",
                            r.release_key.as_deref().unwrap_or(&r.workflow_id),
                            r.execution_status,
                            r.environment.as_deref().unwrap_or("-"),
                            r.started_at.as_deref().unwrap_or("-")
                        );
                    }
                }
                ExitCode::SUCCESS
            })
        }
        ReleaseCommand::Catalogue { common } => {
            let catalogue = catalogue(&common)?;
            if common.json {
                println!("{}", serde_json::to_string_pretty(&catalogue)?);
            } else {
                // Written without panicking when the reader goes away (`| head`).
                let mut out = std::io::stdout().lock();
                for release in &catalogue.releases {
                    let _ = writeln!(out, "{}  ({})", release.release_key, release.release_date);
                    for d in &release.deploys {
                        let (id, version, envs) = (&d.container_id, &d.container_version, d.envs.join(" → "));
                        let _ = writeln!(out, "  {:<40} {id}:{version}  {envs}", d.deploy_key);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => Ok(code),
        Err(ReleaseError::Rejected(why)) => {
            eprintln!("error: {why}");
            Ok(ExitCode::from(4))
        }
        Err(e @ ReleaseError::AlreadyRunning(_)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(4))
        }
        Err(other) => Err(other.into()),
    }
}

async fn control(
    temporal: &ordo_core::TemporalArgs,
    common: &ReleaseCommon,
    by: ByArgs,
    verb: &str,
) -> anyhow::Result<Result<ExitCode, ReleaseError>> {
    let client = connect(temporal, common).await?;
    let control = Control { by: by.by, reason: by.reason };
    let done = match verb {
        "paused" => client.pause(&by.key, control).await,
        "resumed" => client.resume(&by.key, control).await,
        _ => client.abort(&by.key, control).await,
    };
    Ok(done.map(|_| {
        eprintln!("{}: {verb}", by.key);
        ExitCode::SUCCESS
    }))
}

async fn connect(temporal: &ordo_core::TemporalArgs, common: &ReleaseCommon) -> anyhow::Result<ReleaseClient> {
    Ok(ReleaseClient::new(ordo_core::connect(temporal).await?, common.release_task_queue.clone()))
}

fn catalogue(common: &ReleaseCommon) -> anyhow::Result<Catalogue> {
    Ok(match &common.release_catalogue {
        Some(path) => Catalogue::load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Catalogue::built_in(),
    })
}

/// The release from `--input` (if any) with the flags on top.
fn build_release(args: &StartArgs) -> anyhow::Result<ReleaseInfo> {
    let object = input::read_object(args.input.as_deref())?;
    let mut release = if object.is_empty() {
        let key = args
            .key
            .clone()
            .ok_or_else(|| ordo_core::RequestError::new("key", "a release key or --input is required"))?;
        ReleaseInfo::from_catalogue(&key)
    } else {
        serde_json::from_value(serde_json::Value::Object(object)).map_err(ordo_core::RequestError::from_serde)?
    };
    if let Some(key) = &args.key {
        release.release_key.clone_from(key);
    }
    if args.unapproved {
        release.approved = false;
    }
    if let Some(u) = args.unapproved_deploys {
        release.unapproved_deploys_behavior = match u {
            UnapprovedArg::ReleaseApproved => UnapprovedBehavior::ReleaseApproved,
            UnapprovedArg::Stop => UnapprovedBehavior::Stop,
            UnapprovedArg::Wait => UnapprovedBehavior::Wait,
        };
    }
    if let Some(d) = args.dev_deploys {
        release.dev_deploy_behavior = match d {
            DevArg::Allow => DevDeployBehavior::Allow,
            DevArg::Warn => DevDeployBehavior::Warn,
            DevArg::OnlyDev => DevDeployBehavior::OnlyDev,
        };
    }
    if !args.approvers.is_empty() {
        release.approvers.clone_from(&args.approvers);
    }
    if let Some(t) = args.approval_timeout {
        release.approval_timeout_secs = Some(t);
    }
    if args.gate_approval || args.gate_window.is_some() {
        let window = match &args.gate_window {
            Some(text) => {
                let (from, to) = text.split_once('-').ok_or_else(|| {
                    ordo_core::RequestError::new("gate-window", format!("{text:?} is not HH:MM-HH:MM"))
                })?;
                Some(UtcWindow { from: from.trim().to_owned(), to: to.trim().to_owned() })
            }
            None => None,
        };
        release.promotion_gate = Some(PromotionGate { approval: args.gate_approval, window });
    }
    if args.error_rate.is_some() {
        release.knobs.error_rate = args.error_rate;
    }
    if args.retry_initial_ms.is_some() {
        release.knobs.retry_initial_ms = args.retry_initial_ms;
    }
    Ok(release)
}

/// Redraws the matrix whenever it changes, until the release ends.
async fn watch(client: &ReleaseClient, key: &str, json: bool) -> Result<ExitCode, ReleaseError> {
    let mut last = None;
    loop {
        let view = client.view(key).await?;
        let shown = serde_json::to_string(&view.state).unwrap_or_default();
        if last.as_deref() != Some(shown.as_str()) && !view.stale {
            if !json {
                print_view(&view, false);
                println!();
            }
            last = Some(shown);
        }
        if view.state.result.is_some() || !matches!(view.execution_status.as_str(), "Running") {
            if json {
                print_view(&view, true);
            }
            return Ok(exit_code_for(&view.state));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn exit_code_for(state: &ReleaseState) -> ExitCode {
    match state.status.as_str() {
        status::REJECTED | status::HALTED | status::ROLLED_BACK | status::ABORTED => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

fn cell_text(state: CellState) -> &'static str {
    match state {
        CellState::Pending => "pending",
        CellState::WaitingForApproval => "awaiting",
        CellState::Building => "building",
        CellState::Deploying => "deploying",
        CellState::Verifying => "verifying",
        CellState::Done => "done",
        CellState::Failed => "FAILED",
        CellState::RolledBack => "rolled back",
        CellState::Skipped => "skipped",
    }
}

fn print_view(view: &ReleaseView, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(view).unwrap_or_default());
        return;
    }
    let s = &view.state;
    let mut out = std::io::stdout().lock();
    let stale = if view.stale { "  (no worker answered: state may be stale)" } else { "" };
    let _ = writeln!(out, "release: {} ({}){stale}", view.workflow_id, view.execution_status);
    let env = s.current_env.map(|e| format!(" in {e}")).unwrap_or_default();
    let _ = writeln!(out, "status:  {}{env}{}", s.status, if s.paused { " (paused)" } else { "" });
    if !s.pending.is_empty() {
        let _ = writeln!(
            out,
            "pending: {} (until {})",
            s.pending.join(", "),
            s.approval_deadline.as_deref().unwrap_or("-")
        );
    }
    if !s.environments.is_empty() {
        let width = s.deploys.iter().map(|d| d.deploy_key.len()).max().unwrap_or(6).max(6);
        let _ = write!(out, "{:<width$}", "DEPLOY");
        for e in &s.environments {
            let _ = write!(out, "  {:<12}", e.as_str());
        }
        let _ = writeln!(out);
        for d in &s.deploys {
            let _ = write!(out, "{:<width$}", d.deploy_key);
            for e in &s.environments {
                let text = s.cell(&d.deploy_key, *e).map(|c| cell_text(c.state)).unwrap_or("");
                let _ = write!(out, "  {text:<12}");
            }
            let _ = writeln!(out);
        }
    }
    for a in &s.approvals {
        let verb = if a.approved { "approved" } else { "refused" };
        let _ = writeln!(
            out,
            "approval: {} {verb} by {} at {}: {}",
            a.target,
            a.approver,
            a.at.as_deref().unwrap_or("-"),
            a.reason
        );
    }
    for note in &s.notes {
        let _ = writeln!(out, "note:    {note}");
    }
    if let Some(result) = &s.result {
        let _ = writeln!(out, "result:  {result}");
    }
}
