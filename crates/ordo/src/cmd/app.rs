//! `ordo app …`: seed 000's application requests (`ProvisionApplication`). `--json` prints
//! machine-readable results on stdout; messages go to stderr.
//! Exit codes: 0 success (provisioned, destroyed, or the action was sent), 1 error or failed
//! request, 3 the request ended without provisioning (rejected, authorization expired, cancelled
//! before provisioning), 4 the request cannot take the action now (already decided, over).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use ordo_application::model::{status, DEFAULT_TASK_QUEUE};
use ordo_application::{
    ApplicationClient, ApplicationEnd, ApplicationError, ApplicationRequest, ApplicationView,
    AuthorizationReceivedResponse,
};
use ordo_iac::DriverKind;

use super::input;

/// Options every `app` command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AppCommon {
    /// Task queue of the application workflow.
    #[arg(long, env = "ORDO_APPS_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE, global = true)]
    task_queue: String,
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// A new request: flags, or the seed's JSON request (flags override its fields).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RequestArgs {
    /// The application's name.
    #[arg(long = "name")]
    application_name: Option<String>,
    /// The requesting team.
    #[arg(long = "team")]
    team_id: Option<String>,
    /// Who must authorize the request.
    #[arg(long = "authorizer")]
    authorizer_id: Option<String>,
    /// Seconds the authorizer has (default 120).
    #[arg(long = "timeout")]
    authorization_timeout_seconds: Option<u64>,
    /// Who asks.
    #[arg(long = "requester", env = "ORDO_USER")]
    requester_id: Option<String>,
    /// IaC driver: sim (default) or pulumi.
    #[arg(long)]
    driver: Option<String>,
    /// IaC directory inside the IaC worker's root (default stacks/application).
    #[arg(long)]
    stack: Option<String>,
    /// The whole request as JSON (seed 000's ProvisionApplicationRequest fields); `-` for stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Wait until the request is provisioned or over, then show it.
    #[arg(long)]
    wait: bool,
}

/// The authorizer's decision.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AuthorizeArgs {
    /// The request's id.
    id: String,
    /// Region to provision in (required to approve).
    #[arg(long, conflicts_with = "reject")]
    region: Option<String>,
    /// Cloud profile to provision with (required to approve; the seed's AWS profile).
    #[arg(long = "cloud-profile", conflicts_with = "reject")]
    cloud_profile: Option<String>,
    /// Reject the request instead of approving it.
    #[arg(long)]
    reject: bool,
    /// Who decides (must be the request's authorizer).
    #[arg(long = "as", env = "ORDO_USER")]
    authorizer_id: Option<String>,
    /// Why (optional).
    #[arg(long)]
    reason: Option<String>,
}

/// The application commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AppCommand {
    /// Request an application: team check, then the authorizer decides, then it is provisioned.
    Request {
        #[command(flatten)]
        request: RequestArgs,
        #[command(flatten)]
        common: AppCommon,
    },
    /// Approve a request (--region and --cloud-profile) or reject it (--reject): the seed's signal
    /// AuthorizationReceivedResponse.
    Authorize {
        #[command(flatten)]
        authorize: AuthorizeArgs,
        #[command(flatten)]
        common: AppCommon,
    },
    /// Show a request's state (query GetState).
    Show {
        /// The request's id.
        id: String,
        #[command(flatten)]
        common: AppCommon,
    },
    /// List requests, newest first; or an authorizer's pending ones.
    List {
        /// Only requests with this status (e.g. awaiting_authorization, provisioned).
        #[arg(long)]
        status: Option<String>,
        /// Only the requests waiting for this authorizer's decision.
        #[arg(long = "pending-for")]
        pending_for: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        common: AppCommon,
    },
    /// Cancel a request; a provisioned (or provisioning) one is destroyed first.
    Cancel {
        /// The request's id.
        id: String,
        /// Why.
        #[arg(long, default_value = "cancelled with ordo app cancel")]
        reason: String,
        /// Wait until the cancellation (and the destroy) is done.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        common: AppCommon,
    },
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: AppCommand) -> anyhow::Result<ExitCode> {
    let result = match command {
        AppCommand::Request { request, common } => {
            let parsed = build_request(&request)?;
            let client = connect(&temporal, &common).await?;
            request_app(&client, &parsed, request.wait, common.json).await
        }
        AppCommand::Authorize { authorize, common } => {
            let decision = AuthorizationReceivedResponse {
                region: authorize.region.unwrap_or_default(),
                profile: authorize.cloud_profile.unwrap_or_default(),
                is_approved: !authorize.reject,
                authorizer_id: authorize.authorizer_id,
                reason: authorize.reason,
                ..Default::default()
            };
            decision.check()?;
            let client = connect(&temporal, &common).await?;
            client.authorize(&authorize.id, &decision).await.map(|()| {
                let verb = if decision.is_approved { "approved" } else { "rejected" };
                eprintln!("{}: {verb}", authorize.id);
                ExitCode::SUCCESS
            })
        }
        AppCommand::Show { id, common } => {
            let client = connect(&temporal, &common).await?;
            client.view(&id).await.map(|view| {
                print_view(&view, common.json);
                exit_code_for(&view.state.status)
            })
        }
        AppCommand::List { status, pending_for, limit, common } => {
            let client = connect(&temporal, &common).await?;
            list(&client, status.as_deref(), pending_for.as_deref(), limit, common.json).await
        }
        AppCommand::Cancel { id, reason, wait, common } => {
            let client = connect(&temporal, &common).await?;
            cancel(&client, &id, &reason, wait, common.json).await
        }
    };
    match result {
        Ok(code) => Ok(code),
        Err(ApplicationError::Conflict(why)) => {
            eprintln!("error: {why}");
            Ok(ExitCode::from(4))
        }
        Err(other) => Err(other.into()),
    }
}

async fn connect(temporal: &ordo_core::TemporalArgs, common: &AppCommon) -> anyhow::Result<ApplicationClient> {
    Ok(ApplicationClient::new(ordo_core::connect(temporal).await?, common.task_queue.clone()))
}

/// The request from `--input` (if any) with the flags on top, checked like any other.
fn build_request(args: &RequestArgs) -> anyhow::Result<ApplicationRequest> {
    let mut object = input::read_object(args.input.as_deref())?;
    let text_flags = [
        ("applicationName", &args.application_name),
        ("teamId", &args.team_id),
        ("authorizerId", &args.authorizer_id),
        ("requesterId", &args.requester_id),
        ("driver", &args.driver),
        ("stack", &args.stack),
    ];
    for (field, flag) in text_flags {
        if let Some(v) = flag {
            object.insert(field.into(), v.clone().into());
        }
    }
    if let Some(t) = args.authorization_timeout_seconds {
        object.insert("authorizationTimeoutSeconds".into(), t.into());
    }
    Ok(ApplicationRequest::parse(serde_json::Value::Object(object))?)
}

async fn request_app(
    client: &ApplicationClient,
    request: &ApplicationRequest,
    wait: bool,
    json: bool,
) -> Result<ExitCode, ApplicationError> {
    let id = client.request(request).await?;
    if !wait {
        if json {
            println!("{}", serde_json::json!({ "workflow_id": id, "applicationId": id }));
        } else {
            println!("{id}");
            eprintln!("awaiting authorization by {:?}: ordo app authorize {id} --region us-east-1 --cloud-profile iac   (or --reject)", request.authorizer_id);
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{id}");
    let mut last = String::new();
    loop {
        let view = client.view(&id).await?;
        if view.state.status != last {
            eprintln!("status: {}", view.state.status);
            if view.state.status == status::AWAITING_AUTHORIZATION {
                eprintln!("  ordo app authorize {id} --region us-east-1 --cloud-profile iac   (or --reject)");
            }
            last = view.state.status.clone();
        }
        if view.state.status == status::PROVISIONED || status::is_final(&view.state.status) {
            print_view(&view, json);
            return Ok(exit_code_for(&view.state.status));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn list(
    client: &ApplicationClient,
    status_filter: Option<&str>,
    pending_for: Option<&str>,
    limit: usize,
    json: bool,
) -> Result<ExitCode, ApplicationError> {
    if let Some(authorizer) = pending_for {
        let views = client.pending_authorizations(Some(authorizer)).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&views).map_err(anyhow::Error::from)?);
        } else if views.is_empty() {
            eprintln!("nothing waits for {authorizer:?}");
        } else {
            for view in views {
                let request = view.state.request.as_ref();
                println!(
                    "{:<40} {:<24} team {:<12} until {}",
                    view.workflow_id,
                    request.map(|r| r.application_name.as_str()).unwrap_or("-"),
                    request.map(|r| r.team_id.as_str()).unwrap_or("-"),
                    view.state.authorization_deadline.as_deref().unwrap_or("-")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows = client.list(status_filter, limit).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(anyhow::Error::from)?);
    } else if rows.is_empty() {
        eprintln!("no application requests match");
    } else {
        println!("{:<40} {:<11} {:<24} STARTED", "ID", "EXECUTION", "STATUS");
        for r in rows {
            println!(
                "{:<40} {:<11} {:<24} {}",
                r.workflow_id,
                r.execution_status,
                r.status.as_deref().unwrap_or("-"),
                r.started_at.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn cancel(
    client: &ApplicationClient,
    id: &str,
    reason: &str,
    wait: bool,
    json: bool,
) -> Result<ExitCode, ApplicationError> {
    client.cancel(id, reason).await?;
    eprintln!("{id}: cancellation requested");
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    let state = match client.wait(id).await? {
        ApplicationEnd::Cancelled(state) | ApplicationEnd::Completed(state) => state,
        ApplicationEnd::Failed(message) => {
            eprintln!("error: {id} failed: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let view = client.view(id).await.unwrap_or(ApplicationView {
        workflow_id: id.to_owned(),
        execution_status: "Canceled".into(),
        state,
        stale: false,
    });
    print_view(&view, json);
    Ok(exit_code_for(&view.state.status))
}

fn exit_code_for(state_status: &str) -> ExitCode {
    match state_status {
        status::REJECTED | status::AUTHORIZATION_EXPIRED | status::CANCELLED => ExitCode::from(3),
        status::FAILED => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

fn print_view(view: &ApplicationView, json: bool) {
    if json {
        match serde_json::to_string_pretty(view) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: {e}"),
        }
        return;
    }
    let s = &view.state;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "application: {} ({}){}",
        view.workflow_id,
        view.execution_status,
        if view.stale { "  (no worker answered: state may be stale)" } else { "" }
    );
    let _ = writeln!(out, "status:      {}", s.status);
    if let Some(r) = &s.request {
        let _ = writeln!(
            out,
            "request:     {:?} for team {}, authorizer {}, driver {}{}, stack {}",
            r.application_name,
            r.team_id,
            r.authorizer_id,
            r.driver.as_str(),
            if r.driver == DriverKind::Sim { " (simulation)" } else { "" },
            r.stack
        );
    }
    if let Some(t) = &s.team {
        let _ = writeln!(out, "team:        {} <{}> ({})", t.team_name, t.team_email, t.subdomain);
    }
    if !s.bucket_name.is_empty() {
        let _ = writeln!(out, "bucket:      {}", s.bucket_name);
    }
    if let Some(deadline) = &s.authorization_deadline {
        let _ = writeln!(out, "deadline:    authorization due by {deadline}");
    }
    if s.authorization_timed_out {
        let _ = writeln!(out, "decision:    none before the deadline");
    }
    if let Some(a) = &s.authorization {
        let who = a.authorizer_id.as_deref().unwrap_or("the authorizer");
        let at = s.authorized_at.as_deref().unwrap_or("-");
        if a.is_approved {
            let _ = writeln!(out, "decision:    approved by {who} at {at}: region {}, profile {}", a.region, a.profile);
        } else {
            let _ = writeln!(
                out,
                "decision:    rejected by {who} at {at}{}",
                a.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            );
        }
    }
    if let Some(r) = &s.resources {
        let _ = writeln!(out, "provisioned: by the {} worker ({}) at {}", r.worker, r.driver, r.completion_date_time);
        for line in &r.summary {
            let _ = writeln!(out, "             {line}");
        }
        for (name, output) in &r.outputs {
            let _ = writeln!(out, "output:      {name} = {}", output.value);
        }
    }
    if let Some(d) = &s.destroyed {
        let _ = writeln!(out, "destroyed:   by the {} worker at {}", d.worker, d.completion_date_time);
        for line in &d.summary {
            let _ = writeln!(out, "             {line}");
        }
    }
    if let Some(e) = &s.error {
        let _ = writeln!(out, "error:       {e}");
    }
    for note in &s.notes {
        let _ = writeln!(out, "note:        {note}");
    }
}
