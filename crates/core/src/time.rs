//! Time as Ordo shows it and as workflows measure it.

use std::time::{Duration, SystemTime};

use temporalio_sdk::WorkflowContext;

/// `t` as RFC 3339 in UTC, to the second (`2026-12-06T11:12:35Z`).
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Milliseconds since the Unix epoch as RFC 3339 (see [`rfc3339`]).
pub fn rfc3339_ms(ms: u64) -> String {
    rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

/// Milliseconds since the Unix epoch (zero before it).
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// Workflow time since `since` (zero when either is unknown): deterministic, unlike the clock.
pub fn elapsed_since<W>(ctx: &WorkflowContext<W>, since: Option<SystemTime>) -> Duration {
    since.zip(ctx.workflow_time()).and_then(|(from, now)| now.duration_since(from).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole seconds, UTC, `Z`: the one format every page, CLI line and history entry uses.
    #[test]
    fn times_are_rfc3339_utc_to_the_second() {
        assert_eq!(rfc3339_ms(1_765_019_555_999), "2025-12-06T11:12:35Z");
        assert_eq!(epoch_ms(SystemTime::UNIX_EPOCH + Duration::from_millis(42)), 42);
    }
}
