//! Everything of seed 000's flow that crosses the Temporal boundary. Names and casing are wire
//! contracts shared with seed 000's Go and TypeScript code and with the Python worker:
//! - the request, the signal and the IaC activities' payloads are camelCase (the seed's JSON tags);
//! - the workflow state (query `GetState` and the result) has the seed's Go field names
//!   (`AuthorizationTimedOut`, `Authorization`, `Resources`), as Go serialises a struct without tags;
//!   Ordo's additions follow the same PascalCase;
//! - the team lookup speaks the seed's Go names too (`RequesterID`, `TeamID`, `TeamName`, …).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ordo_core::RequestError;
use ordo_iac::{DriverKind, OutputValue};

/// Workflow type (the seed's).
pub const WORKFLOW_TYPE: &str = "ProvisionApplication";
/// Default task queue of the workflow and the team lookup (the seed's).
pub const DEFAULT_TASK_QUEUE: &str = "apps";
/// The authorizer's signal.
pub const AUTHORIZATION_SIGNAL: &str = "AuthorizationReceivedResponse";
/// The state query.
pub const STATE_QUERY: &str = "GetState";
/// The pre-flight team lookup activity.
pub const GET_TEAM_ACTIVITY: &str = "GetTeamInformation";
/// The IaC activity (the seed's TypeScript activity name).
/// The search attribute the flow publishes its status in: `provisionStatus`, shared with
/// provisioning runs so one visibility filter finds both.
pub const PROVISION_STATUS: temporalio_common::search_attributes::SearchAttributeKey<String> =
    temporalio_common::search_attributes::SearchAttributeKey::keyword(PROVISION_STATUS_ATTRIBUTE);
/// The name of [`PROVISION_STATUS`].
pub const PROVISION_STATUS_ATTRIBUTE: &str = "provisionStatus";
pub const PROVISION_ACTIVITY: &str = "provisionFoundationResources";
/// The compensation of [`PROVISION_ACTIVITY`].
pub const DESTROY_ACTIVITY: &str = "destroyFoundationResources";
/// Deadline for the authorizer when the request gives none (the seed's two minutes).
pub const DEFAULT_AUTHORIZATION_TIMEOUT_SECS: u64 = 120;
/// The IaC directory (inside the worker's IaC root) when the request names none.
pub const DEFAULT_STACK: &str = "stacks/application";

/// The task queue of the IaC activities for a workflow task queue: `<queue>-iac` (`apps-iac`).
pub fn default_iac_task_queue(task_queue: &str) -> String {
    format!("{task_queue}-iac")
}

/// Seed 000's application request, with Ordo's optional additions. Unknown fields are rejected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationRequest {
    /// What the team calls the application.
    pub application_name: String,
    /// The requesting team (looked up before anything else).
    pub team_id: String,
    /// Who must authorize the request.
    pub authorizer_id: String,
    /// How long the authorizer has, in seconds.
    #[serde(default = "default_timeout")]
    pub authorization_timeout_seconds: u64,
    /// Who asked (seed field; informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// The application's id; the workflow id when absent (the seed sets it to the workflow id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// IaC driver: `sim` (default) or `pulumi`.
    #[serde(default = "default_driver")]
    pub driver: DriverKind,
    /// IaC directory inside the IaC worker's root: a sim stack, or a Pulumi project.
    #[serde(default = "default_stack")]
    pub stack: String,
    /// Task queue of the IaC activities; `<workflow task queue>-iac` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iac_task_queue: Option<String>,
    /// Simulated latency per resource for the sim driver (overrides the stack's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_latency_ms: Option<u64>,
}

fn default_timeout() -> u64 {
    DEFAULT_AUTHORIZATION_TIMEOUT_SECS
}

fn default_driver() -> DriverKind {
    DriverKind::Sim
}

fn default_stack() -> String {
    DEFAULT_STACK.to_owned()
}

fn bad(field: &str, reason: impl Into<String>) -> RequestError {
    RequestError { field: field.to_owned(), reason: reason.into() }
}

/// Printable text of at most `max` characters, not blank.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), RequestError> {
    if value.trim().is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(bad(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(())
}

/// An identifier: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
fn check_id(field: &str, value: &str, max: usize) -> Result<(), RequestError> {
    if value.is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    let ok = value.len() <= max
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(bad(
            field,
            format!(
                "{value:?} must be at most {max} letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        ))
    }
}

impl ApplicationRequest {
    /// A request with every optional field at its default.
    pub fn new(application_name: &str, team_id: &str, authorizer_id: &str) -> Self {
        Self {
            application_name: application_name.to_owned(),
            team_id: team_id.to_owned(),
            authorizer_id: authorizer_id.to_owned(),
            authorization_timeout_seconds: DEFAULT_AUTHORIZATION_TIMEOUT_SECS,
            requester_id: None,
            application_id: None,
            driver: DriverKind::Sim,
            stack: DEFAULT_STACK.to_owned(),
            iac_task_queue: None,
            sim_latency_ms: None,
        }
    }

    /// Parses and checks a request, naming the offending field.
    pub fn parse(value: serde_json::Value) -> Result<Self, RequestError> {
        if !value.is_object() {
            return Err(bad("input", "must be a JSON object"));
        }
        let request: Self = serde_json::from_value(value).map_err(RequestError::from_serde)?;
        request.check()?;
        Ok(request)
    }

    /// Field checks serde cannot express.
    pub fn check(&self) -> Result<(), RequestError> {
        check_text("applicationName", &self.application_name, 100)?;
        check_id("teamId", &self.team_id, 64)?;
        check_text("authorizerId", &self.authorizer_id, 100)?;
        if self.authorization_timeout_seconds == 0 {
            return Err(bad("authorizationTimeoutSeconds", "must be at least 1"));
        }
        if self.authorization_timeout_seconds > 365 * 24 * 3600 {
            return Err(bad("authorizationTimeoutSeconds", "must be at most one year"));
        }
        if let Some(requester) = &self.requester_id {
            check_text("requesterId", requester, 100)?;
        }
        if let Some(id) = &self.application_id {
            check_id("applicationId", id, 100)?;
        }
        if !matches!(self.driver, DriverKind::Sim | DriverKind::Pulumi) {
            return Err(bad(
                "driver",
                format!("applications are provisioned with sim or pulumi, not {}", self.driver.as_str()),
            ));
        }
        check_text("stack", &self.stack, 200)?;
        if self.stack.split('/').any(|part| part == "..") {
            return Err(bad("stack", "must not contain '..'"));
        }
        if let Some(queue) = &self.iac_task_queue {
            check_text("iacTaskQueue", queue, 200)?;
        }
        Ok(())
    }
}

/// The authorizer's decision (signal `AuthorizationReceivedResponse`). Every field is optional on
/// the wire so that any object is accepted and judged by the workflow; a missing `isApproved` is a
/// rejection, as Go's zero value is in the seed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizationReceivedResponse {
    /// The application (seed field; informational).
    pub application_id: String,
    /// Region to provision in (required to approve).
    pub region: String,
    /// Cloud profile to provision with (required to approve).
    pub profile: String,
    /// The team (seed field; informational).
    pub team_id: String,
    /// Approve (`true`) or reject.
    pub is_approved: bool,
    /// Who decided (Ordo); when given it must be the request's `authorizerId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<String>,
    /// Why (Ordo; optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuthorizationReceivedResponse {
    /// An approval for `region` with `profile`.
    pub fn approve(region: &str, profile: &str) -> Self {
        Self { region: region.to_owned(), profile: profile.to_owned(), is_approved: true, ..Self::default() }
    }

    /// A rejection.
    pub fn reject() -> Self {
        Self::default()
    }

    /// Checks a decision: an approval needs a region and a profile of sane shape (they reach the
    /// IaC tool as variables).
    pub fn check(&self) -> Result<(), RequestError> {
        if let Some(who) = &self.authorizer_id {
            check_text("authorizerId", who, 100)?;
        }
        if let Some(reason) = &self.reason {
            if reason.chars().count() > 1000 {
                return Err(bad("reason", "must be at most 1000 characters"));
            }
        }
        if !self.is_approved {
            return Ok(());
        }
        check_id("region", &self.region, 64).map_err(|e| required_to_approve(e, &self.region))?;
        check_id("profile", &self.profile, 64).map_err(|e| required_to_approve(e, &self.profile))?;
        Ok(())
    }
}

fn required_to_approve(err: RequestError, value: &str) -> RequestError {
    if value.is_empty() {
        bad(&err.field, "is required to approve")
    } else {
        err
    }
}

/// Input of `GetTeamInformation` (the seed's Go names).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct GetTeamInformationRequest {
    /// Who asked.
    #[serde(rename = "RequesterID")]
    pub requester_id: String,
    /// The team to look up.
    #[serde(rename = "TeamID")]
    pub team_id: String,
}

/// A team (the seed's Go names).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TeamInformation {
    /// Display name.
    #[serde(rename = "TeamName")]
    pub team_name: String,
    /// Contact address.
    #[serde(rename = "TeamEmail")]
    pub team_email: String,
    /// DNS subdomain of the team's applications.
    #[serde(rename = "Subdomain")]
    pub subdomain: String,
    /// The team's id.
    #[serde(rename = "TeamID")]
    pub team_id: String,
}

/// Input of the IaC activities: the seed's `ProvisionFoundationResourcesRequest` plus Ordo's
/// driver settings. Served in Rust (`ordo worker`) and in Python (`examples/python-iac-worker`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionFoundationResourcesRequest {
    /// The application's id (names its IaC stack).
    pub application_id: String,
    /// Region chosen by the authorizer.
    pub region: String,
    /// Profile chosen by the authorizer.
    pub profile: String,
    /// The team.
    pub team_id: String,
    /// The application's name.
    pub application_name: String,
    /// The bucket to create (`app-<name>-<team>-<id>`, see [`bucket_name`]).
    pub bucket_name: String,
    /// IaC driver (`sim` or `pulumi`).
    #[serde(default = "default_driver")]
    pub driver: DriverKind,
    /// IaC directory inside the worker's IaC root.
    #[serde(default = "default_stack")]
    pub stack: String,
    /// Simulated latency per resource (sim only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_latency_ms: Option<u64>,
}

/// Result of `provisionFoundationResources`: the seed's fields plus what Ordo shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ProvisionFoundationResourcesResponse {
    /// The application's id.
    pub application_id: String,
    /// Human-readable lines about what was done.
    pub summary: Vec<String>,
    /// When the IaC step finished (RFC 3339, UTC).
    pub completion_date_time: String,
    /// The region provisioned in.
    pub region: String,
    /// The stack's outputs; sensitive values are masked before they reach history.
    pub outputs: BTreeMap<String, OutputValue>,
    /// The driver that ran.
    pub driver: String,
    /// Which worker implementation ran it (`rust`, `python`).
    pub worker: String,
}

/// Result of `destroyFoundationResources`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct DestroyFoundationResourcesResponse {
    /// The application's id.
    pub application_id: String,
    /// Human-readable lines about what was destroyed.
    pub summary: Vec<String>,
    /// When the destroy finished (RFC 3339, UTC).
    pub completion_date_time: String,
    /// The driver that ran.
    pub driver: String,
    /// Which worker implementation ran it.
    pub worker: String,
}

/// Everything the workflow knows (query `GetState`, and the workflow's result). The first three
/// fields are the seed's `ProvisionApplicationState`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ProvisionApplicationState {
    /// The authorizer did not answer before the deadline (the seed meant this; it never set it).
    pub authorization_timed_out: bool,
    /// The decision acted upon.
    pub authorization: Option<AuthorizationReceivedResponse>,
    /// What the IaC step provisioned.
    pub resources: Option<ProvisionFoundationResourcesResponse>,
    /// Where the request is (see [`status`]).
    pub status: String,
    /// The application's id.
    pub application_id: String,
    /// The request as started.
    pub request: Option<ApplicationRequest>,
    /// The team, once looked up.
    pub team: Option<TeamInformation>,
    /// The bucket name the IaC step creates.
    pub bucket_name: String,
    /// The authorization deadline (RFC 3339) while one is awaited.
    pub authorization_deadline: Option<String>,
    /// When the decision arrived (workflow time, RFC 3339).
    pub authorized_at: Option<String>,
    /// What the compensation destroyed after a cancellation.
    pub destroyed: Option<DestroyFoundationResourcesResponse>,
    /// The error that ended the request, if one did.
    pub error: Option<String>,
    /// Signals that were ignored, and why (most recent last, at most [`MAX_NOTES`]).
    pub notes: Vec<String>,
}

/// How many notes the state keeps.
pub const MAX_NOTES: usize = 20;

/// The statuses of an application request (also its `provisionStatus` search attribute).
pub mod status {
    /// Started.
    pub const REQUESTED: &str = "requested";
    /// The team lookup runs.
    pub const CHECKING_TEAM: &str = "checking_team";
    /// Waiting for the authorizer.
    pub const AWAITING_AUTHORIZATION: &str = "awaiting_authorization";
    /// The IaC step runs.
    pub const PROVISIONING: &str = "provisioning";
    /// Provisioned; the workflow holds the application until it is cancelled (decommissioned).
    pub const PROVISIONED: &str = "provisioned";
    /// The authorizer rejected the request (final).
    pub const REJECTED: &str = "rejected";
    /// Nobody decided before the deadline (final).
    pub const AUTHORIZATION_EXPIRED: &str = "authorization_expired";
    /// Cancelled: the compensation destroys what was provisioned.
    pub const DESTROYING: &str = "destroying";
    /// Cancelled and destroyed (final).
    pub const DESTROYED: &str = "destroyed";
    /// Cancelled before anything was provisioned (final).
    pub const CANCELLED: &str = "cancelled";
    /// Failed (final; the workflow fails too).
    pub const FAILED: &str = "failed";

    /// Whether the request can no longer change.
    pub fn is_final(status: &str) -> bool {
        matches!(status, REJECTED | AUTHORIZATION_EXPIRED | DESTROYED | CANCELLED | FAILED)
    }
}

/// Lower-case ASCII letters and digits of `text`, at most `max` of them.
fn alnum(text: &str, max: usize) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).take(max).collect()
}

/// The seed's bucket name, `app-<name>-<team>-<id>` with each part lower-case alphanumeric, kept
/// within S3's 63 characters: the name and team are shortened, the id keeps its last (random)
/// characters.
pub fn bucket_name(application_name: &str, team_id: &str, application_id: &str) -> String {
    let id = alnum(application_id, usize::MAX);
    let id_tail = &id[id.len().saturating_sub(12)..];
    let parts: Vec<String> = [alnum(application_name, 24), alnum(team_id, 16), id_tail.to_owned()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    format!("app-{}", parts.join("-"))
}

/// A workflow id for an application: the name's letters and digits (the seed's
/// `lower(alnum(applicationName))`) and a random suffix; `application` when the name has none.
pub fn new_application_id(application_name: &str) -> String {
    let mut stem = alnum(application_name, 40);
    if stem.is_empty() {
        stem = "application".to_owned();
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{stem}-{}", &suffix[..10])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The seed's JSON request is accepted; the timeout defaults to two minutes, the driver to sim.
    #[test]
    fn a_seed_request_parses_with_defaults() {
        let r = ApplicationRequest::parse(json!({
            "applicationName": "Checkout", "teamId": "marketing", "authorizerId": "alice",
            "requesterId": "bob", "applicationId": "checkout-1"
        }))
        .unwrap();
        assert_eq!(r.authorization_timeout_seconds, 120);
        assert_eq!(r.driver, DriverKind::Sim);
        assert_eq!(r.stack, DEFAULT_STACK);
        assert_eq!(serde_json::to_value(&r).unwrap()["authorizationTimeoutSeconds"], 120);
    }

    /// Missing, empty and malformed fields are refused with the field's wire name.
    #[test]
    fn bad_requests_name_the_field() {
        let base = json!({"applicationName": "Checkout", "teamId": "marketing", "authorizerId": "alice"});
        let cases = [
            ("applicationName", json!({"teamId": "marketing", "authorizerId": "alice"})),
            ("authorizerId", json!({"applicationName": "x", "teamId": "marketing"})),
            ("applicationName", json!({"applicationName": "  ", "teamId": "marketing", "authorizerId": "a"})),
            ("teamId", json!({"applicationName": "x", "teamId": "", "authorizerId": "a"})),
            ("teamId", json!({"applicationName": "x", "teamId": "--all", "authorizerId": "a"})),
            ("authorizationTimeoutSeconds", {
                let mut v = base.clone();
                v["authorizationTimeoutSeconds"] = json!(0);
                v
            }),
            ("driver", {
                let mut v = base.clone();
                v["driver"] = json!("terraform");
                v
            }),
            ("stack", {
                let mut v = base.clone();
                v["stack"] = json!("../../etc");
                v
            }),
            ("bogus", {
                let mut v = base.clone();
                v["bogus"] = json!(1);
                v
            }),
            ("input", json!([1, 2])),
        ];
        for (field, input) in cases {
            let err = ApplicationRequest::parse(input.clone()).unwrap_err();
            assert_eq!(err.field, field, "{input}: {err}");
        }
        assert!(ApplicationRequest::parse(base).is_ok());
    }

    /// An approval needs a region and a profile; a rejection needs nothing.
    #[test]
    fn approvals_need_region_and_profile() {
        assert!(AuthorizationReceivedResponse::reject().check().is_ok());
        assert!(AuthorizationReceivedResponse::approve("us-east-1", "iac").check().is_ok());
        let err = AuthorizationReceivedResponse::approve("", "iac").check().unwrap_err();
        assert_eq!((err.field.as_str(), err.reason.as_str()), ("region", "is required to approve"));
        let err = AuthorizationReceivedResponse::approve("us-east-1", "-p x").check().unwrap_err();
        assert_eq!(err.field, "profile");
    }

    /// The signal and the state use the seed's casing.
    #[test]
    fn wire_casing_is_the_seeds() {
        let signal: AuthorizationReceivedResponse = serde_json::from_value(json!({
            "applicationId": "a", "region": "us-east-1", "profile": "iac", "teamId": "t", "isApproved": true
        }))
        .unwrap();
        assert!(signal.is_approved);
        let state = ProvisionApplicationState { authorization: Some(signal), ..Default::default() };
        let value = serde_json::to_value(&state).unwrap();
        for key in ["AuthorizationTimedOut", "Authorization", "Resources", "Status"] {
            assert!(value.get(key).is_some(), "{key} in {value}");
        }
        assert_eq!(value["Authorization"]["isApproved"], true);
        let team = serde_json::to_value(TeamInformation::default()).unwrap();
        assert!(team.get("TeamName").is_some() && team.get("TeamID").is_some(), "{team}");
    }

    /// Bucket names follow the seed's shape, stay within 63 characters and keep the id's tail.
    #[test]
    fn bucket_names_are_short_and_unique_per_application() {
        assert_eq!(bucket_name("My App!", "Team_1", "myapp-0123456789"), "app-myapp-team1-pp0123456789");
        let long = bucket_name(&"x".repeat(200), &"y".repeat(200), "zzzzzzzz-abcdef123456");
        assert!(long.len() <= 63, "{long}");
        assert!(long.ends_with("abcdef123456"), "{long}");
        let id = new_application_id("Check Out!");
        assert!(id.starts_with("checkout-") && id.len() == "checkout-".len() + 10, "{id}");
        assert!(new_application_id("!!!").starts_with("application-"));
    }
}
