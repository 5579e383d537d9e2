//! Notifications: when a run starts waiting for a decision, when a reminder is due, when the gate
//! closes (decided or expired), and before an ephemeral run is destroyed, the workflow asks the
//! `notify_webhook` activity to
//! POST a JSON message to the worker's webhook (`ORDO_NOTIFY_WEBHOOK`). The body carries a `text`
//! line, so a Slack or Mattermost incoming webhook shows it as it is, and the whole event under
//! `ordo` for anything else.
//!
//! The webhook comes from the worker's configuration, never from a request, so a run cannot make
//! the worker call an address of its choosing. A webhook that keeps failing never fails the run:
//! the workflow records the error in its state and carries on.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use temporalio_sdk::activities::ActivityError;

use crate::error::failure;
use crate::model::Approval;
use ordo_iac::PlanSummary;

/// A webhook answered in a way no retry can fix (4xx other than 408 and 429).
pub const WEBHOOK_REFUSED: &str = "WebhookRefused";
/// The webhook could not be reached or failed (retryable).
pub const WEBHOOK_FAILED: &str = "WebhookFailed";

/// What happened at the approval gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// The run waits for a decision.
    ApprovalRequested,
    /// The run still waits; the reminder time has come.
    ApprovalReminder,
    /// Someone approved or rejected.
    ApprovalDecided,
    /// The deadline passed without a decision.
    ApprovalExpired,
    /// An ephemeral run is about to be destroyed (its `deadline`); extending it keeps it.
    DestroyUpcoming,
}

/// One notification, as built by the workflow (deterministically, from its state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// What happened.
    pub event: NotificationEvent,
    /// The run.
    pub workflow_id: String,
    /// The run's IaC directory.
    pub directory: String,
    /// Who may decide (empty: anyone).
    pub approvers: Vec<String>,
    /// The decision deadline (for `destroy_upcoming`: the destroy time), RFC 3339.
    pub deadline: Option<String>,
    /// What the plan changes.
    pub plan_summary: Option<PlanSummary>,
    /// The policy messages that asked for a human.
    pub policy_messages: Vec<String>,
    /// The decision, once made.
    pub decision: Option<Approval>,
}

impl Notification {
    /// One line for people, e.g. for a chat channel.
    pub fn text(&self, link: Option<&str>) -> String {
        let run = match link {
            Some(link) => format!("<{link}|{}>", self.workflow_id),
            None => self.workflow_id.clone(),
        };
        let changes = self
            .plan_summary
            .as_ref()
            .map(|p| format!(" (+{} ~{} -{})", p.create, p.update, p.delete))
            .unwrap_or_default();
        let who = if self.approvers.is_empty() { "any approver".to_owned() } else { self.approvers.join(", ") };
        let deadline = self.deadline.as_deref().map(|d| format!(" before {d}")).unwrap_or_default();
        match self.event {
            NotificationEvent::ApprovalRequested => {
                format!("Approval needed for {run} on {}{changes}: {who}, decide{deadline}.", self.directory)
            }
            NotificationEvent::ApprovalReminder => {
                format!("Reminder: {run} on {}{changes} still waits for {who}{deadline}.", self.directory)
            }
            NotificationEvent::ApprovalDecided => {
                let decision = self.decision.as_ref();
                let verb = if decision.is_some_and(|d| d.is_approved) { "approved" } else { "rejected" };
                let by = decision.and_then(|d| d.approver.as_deref()).unwrap_or("someone");
                let reason = decision.map(|d| d.reason.as_str()).filter(|r| !r.is_empty());
                let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
                format!("{run} on {} was {verb} by {by}{reason}.", self.directory)
            }
            NotificationEvent::ApprovalExpired => {
                format!("{run} on {} expired without a decision; nothing was applied.", self.directory)
            }
            NotificationEvent::DestroyUpcoming => {
                let at = self.deadline.as_deref().map(|d| format!(" at {d}")).unwrap_or_default();
                format!("{run} on {} will be destroyed{at}; extend it to keep it.", self.directory)
            }
        }
    }
}

/// Where notifications go (worker configuration).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The webhook every notification is POSTed to.
    pub webhook: reqwest::Url,
    /// Base URL of Ordo's web UI, for links to runs (`{base}/runs/{id}`); none: no links.
    pub ui_url: Option<String>,
    client: reqwest::Client,
}

impl NotifyConfig {
    /// Notifications to `webhook`, linking to runs under `ui_url`. Only `http` and `https`
    /// webhooks are accepted.
    pub fn new(webhook: &str, ui_url: Option<String>) -> Result<Self, String> {
        let webhook = reqwest::Url::parse(webhook).map_err(|e| format!("{webhook:?} is not a URL: {e}"))?;
        if !matches!(webhook.scheme(), "http" | "https") {
            return Err(format!("{webhook} must be an http or https URL"));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("ordo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("creating the HTTP client: {e}"))?;
        let ui_url = ui_url.map(|u| u.trim_end_matches('/').to_owned()).filter(|u| !u.is_empty());
        Ok(Self { webhook, ui_url, client })
    }

    /// The webhook without its path and query, which often carry a secret (Slack's do): errors
    /// end up in the run's history and state.
    fn redacted(&self) -> String {
        let mut shown = self.webhook.clone();
        shown.set_path("/…");
        shown.set_query(None);
        let _ = shown.set_password(None);
        shown.to_string()
    }

    /// POSTs `notification`; a 2xx answer is success.
    pub async fn send(&self, notification: &Notification) -> Result<(), ActivityError> {
        let link = self.ui_url.as_ref().and_then(|base| {
            let mut url = reqwest::Url::parse(base).ok()?;
            url.path_segments_mut().ok()?.pop_if_empty().extend(["runs", notification.workflow_id.as_str()]);
            Some(url.to_string())
        });
        let body = serde_json::json!({
            "text": notification.text(link.as_deref()),
            "ordo": { "link": link, "notification": notification },
        });
        let response = self
            .client
            .post(self.webhook.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| failure(WEBHOOK_FAILED, format!("POST {}: {}", self.redacted(), e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer: String = response.text().await.unwrap_or_default().chars().take(200).collect();
        let message = format!("POST {} answered {status}: {answer}", self.redacted());
        let permanent = status.is_client_error() && !matches!(status.as_u16(), 408 | 429);
        Err(if permanent {
            temporalio_sdk::ApplicationFailure::builder(message)
                .type_name(WEBHOOK_REFUSED.to_owned())
                .non_retryable(true)
                .build()
                .into()
        } else {
            failure(WEBHOOK_FAILED, message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(event: NotificationEvent) -> Notification {
        Notification {
            event,
            workflow_id: "provision-infra-1".into(),
            directory: "stacks/tcloud_admin_user".into(),
            approvers: vec!["alice".into(), "carol".into()],
            deadline: Some("2026-11-24T10:00:00Z".into()),
            plan_summary: Some(PlanSummary { create: 2, update: 0, delete: 1, ..Default::default() }),
            policy_messages: vec!["admin access".into()],
            decision: None,
        }
    }

    #[test]
    fn texts_say_what_happened_who_decides_and_link_the_run() {
        let requested = notification(NotificationEvent::ApprovalRequested).text(Some("http://ordo/runs/x"));
        assert_eq!(
            requested,
            "Approval needed for <http://ordo/runs/x|provision-infra-1> on stacks/tcloud_admin_user (+2 ~0 -1): \
             alice, carol, decide before 2026-11-24T10:00:00Z."
        );
        let mut decided = notification(NotificationEvent::ApprovalDecided);
        decided.decision = Some(Approval {
            is_approved: false,
            reason: "too broad".into(),
            approver: Some("carol".into()),
            decided_at: None,
            plan_hash: String::new(),
            via: "update".into(),
        });
        assert_eq!(
            decided.text(None),
            "provision-infra-1 on stacks/tcloud_admin_user was rejected by carol: too broad."
        );
        assert!(notification(NotificationEvent::ApprovalExpired).text(None).contains("expired without a decision"));
        assert_eq!(
            notification(NotificationEvent::DestroyUpcoming).text(None),
            "provision-infra-1 on stacks/tcloud_admin_user will be destroyed at 2026-11-24T10:00:00Z; extend it to keep it."
        );
    }

    #[test]
    fn errors_never_show_the_webhook_secret() {
        let config =
            NotifyConfig::new("https://user:pw@hooks.example:8443/services/T0/B0/s3cr3t?token=x", None).unwrap();
        let shown = config.redacted();
        assert!(shown.starts_with("https://user@hooks.example:8443/"), "{shown}");
        for secret in ["s3cr3t", "token", "pw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn only_http_webhooks_are_accepted() {
        assert!(NotifyConfig::new("https://hooks.example/T0/B0", None).is_ok());
        assert!(NotifyConfig::new("file:///etc/passwd", None).unwrap_err().contains("http or https"));
        assert!(NotifyConfig::new("not a url", None).unwrap_err().contains("not a URL"));
    }
}
