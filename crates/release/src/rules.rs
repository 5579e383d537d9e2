//! Pure release rules: no I/O, no clock. A release that breaks one is *rejected*, naming the rule
//! and the field, before anything is deployed (the seed raised a plain exception in workflow code,
//! which failed the workflow task forever). The same checks run in the CLI and API before a start,
//! so bad input gets a 4xx and nothing starts.

use std::collections::HashSet;

use crate::model::{
    DeployInfo, DevDeployBehavior, Environment, PromotionGate, Rejection, ReleaseInfo, StepKnobs, UtcWindow,
};

/// At most this many deploys in one release.
pub const MAX_DEPLOYS: usize = 100;
/// Keys (release, deploy, container, version) are at most this long.
pub const MAX_KEY_LEN: usize = 128;
/// The longest approval wait, in seconds (30 days).
pub const MAX_APPROVAL_TIMEOUT_SECS: u64 = 30 * 24 * 3600;
/// Default approval wait (one day).
pub const DEFAULT_APPROVAL_TIMEOUT_SECS: u64 = 24 * 3600;
/// The highest injectable error rate, percent.
pub const MAX_ERROR_RATE: u8 = 90;
/// Default first retry interval.
pub const DEFAULT_RETRY_INITIAL_MS: u64 = 1000;
/// Default step timeout.
pub const DEFAULT_STEP_TIMEOUT_SECS: u64 = 30;

/// Rule names (wire contract: the API and the board show them).
pub mod rule {
    /// A deploy lists no environment.
    pub const NO_ENVIRONMENTS: &str = "no-environments";
    /// PROD with other environments but not QC.
    pub const PROD_WITHOUT_QC: &str = "prod-without-qc";
    /// DEV with other environments while DEV deploys must be DEV-only.
    pub const DEV_ONLY: &str = "dev-only";
    /// An environment that is not DEV, TEST, QC or PROD.
    pub const UNKNOWN_ENVIRONMENT: &str = "unknown-environment";
    /// An environment listed twice in one deploy.
    pub const DUPLICATE_ENVIRONMENT: &str = "duplicate-environment";
    /// Two deploys with one key.
    pub const DUPLICATE_DEPLOY_KEY: &str = "duplicate-deploy-key";
    /// Two deploys of one container (they would overwrite each other's environment).
    pub const DUPLICATE_CONTAINER: &str = "duplicate-container";
    /// A release with nothing to deploy.
    pub const NO_DEPLOYS: &str = "no-deploys";
    /// The release key is not in the catalogue (and no deploys were given).
    pub const UNKNOWN_RELEASE: &str = "unknown-release";
    /// A malformed or out-of-bounds field.
    pub const INVALID_FIELD: &str = "invalid-field";
}

fn reject(rule: &str, field: impl Into<String>, message: impl Into<String>) -> Rejection {
    Rejection { rule: rule.to_owned(), field: field.into(), message: message.into() }
}

/// Checks a key: non-empty, bounded, printable without spaces or slashes.
pub fn check_key(field: &str, value: &str) -> Result<(), Rejection> {
    if value.trim().is_empty() {
        return Err(reject(rule::INVALID_FIELD, field, "must not be empty"));
    }
    if value.len() > MAX_KEY_LEN {
        return Err(reject(rule::INVALID_FIELD, field, format!("at most {MAX_KEY_LEN} characters")));
    }
    if let Some(c) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:@+".contains(*c))) {
        return Err(reject(rule::INVALID_FIELD, field, format!("{c:?} is not allowed (letters, digits, - _ . : @ +)")));
    }
    Ok(())
}

/// Checks the step knobs' bounds.
pub fn check_knobs(prefix: &str, knobs: &StepKnobs) -> Result<(), Rejection> {
    if let Some(rate) = knobs.error_rate.filter(|r| *r > MAX_ERROR_RATE) {
        return Err(reject(rule::INVALID_FIELD, format!("{prefix}error_rate"), format!("{rate} > {MAX_ERROR_RATE}")));
    }
    if let Some(ms) = knobs.retry_initial_ms.filter(|ms| !(10..=60_000).contains(ms)) {
        return Err(reject(
            rule::INVALID_FIELD,
            format!("{prefix}retry_initial_ms"),
            format!("{ms} is not in 10..=60000"),
        ));
    }
    if let Some(secs) = knobs.step_timeout_secs.filter(|s| !(1..=3600).contains(s)) {
        return Err(reject(
            rule::INVALID_FIELD,
            format!("{prefix}step_timeout_secs"),
            format!("{secs} is not in 1..=3600"),
        ));
    }
    Ok(())
}

/// The environments of one deploy, in promotion order, and a warning if the DEV rule warns.
pub fn check_deploy(
    prefix: &str,
    deploy: &DeployInfo,
    dev: DevDeployBehavior,
) -> Result<(Vec<Environment>, Option<String>), Rejection> {
    check_key(&format!("{prefix}deploy_key"), &deploy.deploy_key)?;
    check_key(&format!("{prefix}container_id"), &deploy.container_id)?;
    check_key(&format!("{prefix}container_version"), &deploy.container_version)?;
    check_knobs(prefix, &deploy.knobs)?;
    let field = format!("{prefix}envs");
    if deploy.envs.is_empty() {
        return Err(reject(
            rule::NO_ENVIRONMENTS,
            field,
            format!("deploy {} has no environments to deploy to", deploy.deploy_key),
        ));
    }
    let mut envs = Vec::new();
    for (i, name) in deploy.envs.iter().enumerate() {
        let env = Environment::parse(name).ok_or_else(|| {
            reject(
                rule::UNKNOWN_ENVIRONMENT,
                format!("{field}[{i}]"),
                format!("{name:?} is not one of DEV, TEST, QC, PROD"),
            )
        })?;
        if envs.contains(&env) {
            return Err(reject(
                rule::DUPLICATE_ENVIRONMENT,
                format!("{field}[{i}]"),
                format!("{name} is listed twice"),
            ));
        }
        envs.push(env);
    }
    envs.sort();
    let has = |e| envs.contains(&e);
    if has(Environment::Prod) && envs.len() > 1 && !has(Environment::Qc) {
        return Err(reject(
            rule::PROD_WITHOUT_QC,
            field,
            format!("deploy {} goes to PROD with other environments but not through QC", deploy.deploy_key),
        ));
    }
    let mut warning = None;
    if has(Environment::Dev) && envs.len() > 1 {
        match dev {
            DevDeployBehavior::Allow => {}
            DevDeployBehavior::Warn => {
                warning = Some(format!("deploy {} goes to DEV and to other environments", deploy.deploy_key))
            }
            DevDeployBehavior::OnlyDev => {
                return Err(reject(
                    rule::DEV_ONLY,
                    field,
                    format!(
                        "deploy {} goes to DEV and to other environments; DEV deploys must be DEV-only",
                        deploy.deploy_key
                    ),
                ))
            }
        }
    }
    Ok((envs, warning))
}

/// Checks a release's own fields (not its deploys).
pub fn check_release_fields(release: &ReleaseInfo) -> Result<(), Rejection> {
    check_key("release_key", &release.release_key)?;
    check_knobs("", &release.knobs)?;
    if let Some(secs) = release.approval_timeout_secs.filter(|s| !(1..=MAX_APPROVAL_TIMEOUT_SECS).contains(s)) {
        return Err(reject(
            rule::INVALID_FIELD,
            "approval_timeout_secs",
            format!("{secs} is not in 1..={MAX_APPROVAL_TIMEOUT_SECS}"),
        ));
    }
    for (i, who) in release.approvers.iter().enumerate() {
        if who.trim().is_empty() || who.len() > MAX_KEY_LEN {
            return Err(reject(rule::INVALID_FIELD, format!("approvers[{i}]"), "must be 1..=128 characters"));
        }
    }
    if let Some(PromotionGate { window: Some(window), .. }) = &release.promotion_gate {
        parse_window(window)?;
    }
    if release.deploys.len() > MAX_DEPLOYS {
        return Err(reject(rule::INVALID_FIELD, "deploys", format!("at most {MAX_DEPLOYS} deploys")));
    }
    Ok(())
}

/// Checks a release whose deploys are known; returns the warnings to note.
pub fn check_release(release: &ReleaseInfo) -> Result<Vec<String>, Rejection> {
    check_release_fields(release)?;
    if release.deploys.is_empty() {
        return Err(reject(rule::NO_DEPLOYS, "deploys", "the release has nothing to deploy"));
    }
    let mut keys = HashSet::new();
    let mut containers = HashSet::new();
    let mut warnings = Vec::new();
    for (i, deploy) in release.deploys.iter().enumerate() {
        let prefix = format!("deploys[{i}].");
        let (_, warning) = check_deploy(&prefix, deploy, release.dev_deploy_behavior)?;
        warnings.extend(warning);
        if !keys.insert(deploy.deploy_key.as_str()) {
            return Err(reject(
                rule::DUPLICATE_DEPLOY_KEY,
                format!("{prefix}deploy_key"),
                format!("{} is used by another deploy", deploy.deploy_key),
            ));
        }
        if !containers.insert(deploy.container_id.as_str()) {
            return Err(reject(
                rule::DUPLICATE_CONTAINER,
                format!("{prefix}container_id"),
                format!("{} is deployed by another deploy of this release", deploy.container_id),
            ));
        }
    }
    Ok(warnings)
}

/// The environments a release touches, in promotion order.
pub fn environments(deploys: &[DeployInfo]) -> Vec<Environment> {
    Environment::ALL.into_iter().filter(|e| deploys.iter().any(|d| d.envs.iter().any(|n| n == e.as_str()))).collect()
}

/// Whether `deploy` goes to `env`.
pub fn targets(deploy: &DeployInfo, env: Environment) -> bool {
    deploy.envs.iter().any(|n| n == env.as_str())
}

/// `HH:MM` → minutes since midnight.
pub fn parse_hhmm(field: &str, value: &str) -> Result<u32, Rejection> {
    let bad = || reject(rule::INVALID_FIELD, field, format!("{value:?} is not HH:MM (00:00..=23:59)"));
    let (h, m) = value.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// A window as (from, to) minutes since midnight; `from == to` is rejected (empty or always?).
pub fn parse_window(window: &UtcWindow) -> Result<(u32, u32), Rejection> {
    let from = parse_hhmm("promotion_gate.window.from", &window.from)?;
    let to = parse_hhmm("promotion_gate.window.to", &window.to)?;
    if from == to {
        return Err(reject(rule::INVALID_FIELD, "promotion_gate.window", "from and to are equal: the window is empty"));
    }
    Ok((from, to))
}

/// Seconds from `now_secs` (seconds since the epoch, UTC) until the window is open; 0 when open.
pub fn secs_until_open(now_secs: u64, (from, to): (u32, u32)) -> u64 {
    let day = 24 * 3600;
    let now = now_secs % day;
    let (from, to) = (u64::from(from) * 60, u64::from(to) * 60);
    let open = if from < to { now >= from && now < to } else { now >= from || now < to };
    if open {
        0
    } else if now < from {
        from - now
    } else {
        day - now + from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(key: &str, envs: &[&str]) -> DeployInfo {
        DeployInfo {
            deploy_key: key.into(),
            container_id: key.replace(':', "-"),
            container_version: "1.0".into(),
            git_url: String::new(),
            approved: true,
            approved_by: String::new(),
            envs: envs.iter().map(|e| (*e).to_owned()).collect(),
            release_key: "R".into(),
            knobs: StepKnobs::default(),
        }
    }

    fn release(deploys: Vec<DeployInfo>) -> ReleaseInfo {
        ReleaseInfo { deploys, ..ReleaseInfo::from_catalogue("R") }
    }

    fn rule_of(r: Result<Vec<String>, Rejection>) -> String {
        r.unwrap_err().rule
    }

    /// A deploy with no environments is rejected by `no-environments`, naming the field.
    #[test]
    fn no_environments_is_rejected() {
        let err = check_release(&release(vec![deploy("R:a", &[])])).unwrap_err();
        assert_eq!((err.rule.as_str(), err.field.as_str()), (rule::NO_ENVIRONMENTS, "deploys[0].envs"));
    }

    /// PROD with other environments but without QC is `prod-without-qc`; PROD alone is fine.
    #[test]
    fn prod_without_qc_is_rejected_but_prod_alone_is_not() {
        assert_eq!(rule_of(check_release(&release(vec![deploy("R:a", &["TEST", "PROD"])]))), rule::PROD_WITHOUT_QC);
        assert!(check_release(&release(vec![deploy("R:a", &["PROD"])])).is_ok());
        assert!(check_release(&release(vec![deploy("R:a", &["DEV", "TEST", "QC", "PROD"])])).is_ok());
    }

    /// DEV plus others: allowed by default, a warning with `warn`, rejected with `only_dev`.
    #[test]
    fn dev_rule_follows_the_setting() {
        let mut r = release(vec![deploy("R:a", &["DEV", "TEST"])]);
        assert_eq!(check_release(&r).unwrap(), Vec::<String>::new());
        r.dev_deploy_behavior = DevDeployBehavior::Warn;
        assert_eq!(check_release(&r).unwrap().len(), 1);
        r.dev_deploy_behavior = DevDeployBehavior::OnlyDev;
        assert_eq!(rule_of(check_release(&r)), rule::DEV_ONLY);
        r.deploys = vec![deploy("R:a", &["DEV"])];
        assert!(check_release(&r).is_ok());
    }

    /// Unknown and repeated environments, duplicate keys and containers are each named.
    #[test]
    fn malformed_deploys_are_rejected_by_name() {
        let err = check_release(&release(vec![deploy("R:a", &["DEV", "STAGING"])])).unwrap_err();
        assert_eq!((err.rule.as_str(), err.field.as_str()), (rule::UNKNOWN_ENVIRONMENT, "deploys[0].envs[1]"));
        assert_eq!(rule_of(check_release(&release(vec![deploy("R:a", &["QC", "QC"])]))), rule::DUPLICATE_ENVIRONMENT);
        let err = check_release(&release(vec![deploy("R:a", &["DEV"]), deploy("R:a", &["DEV"])])).unwrap_err();
        assert_eq!((err.rule.as_str(), err.field.as_str()), (rule::DUPLICATE_DEPLOY_KEY, "deploys[1].deploy_key"));
        let mut b = deploy("R:b", &["DEV"]);
        b.container_id = "R-a".into();
        assert_eq!(rule_of(check_release(&release(vec![deploy("R:a", &["DEV"]), b]))), rule::DUPLICATE_CONTAINER);
        assert_eq!(rule_of(check_release(&release(vec![]))), rule::NO_DEPLOYS);
    }

    /// Every number has a bound.
    #[test]
    fn knobs_and_timeouts_are_bounded() {
        let mut r = release(vec![deploy("R:a", &["DEV"])]);
        r.knobs.error_rate = Some(91);
        assert_eq!(check_release(&r).unwrap_err().field, "error_rate");
        r.knobs.error_rate = Some(60);
        r.knobs.retry_initial_ms = Some(5);
        assert_eq!(check_release(&r).unwrap_err().field, "retry_initial_ms");
        r.knobs.retry_initial_ms = None;
        r.approval_timeout_secs = Some(0);
        assert_eq!(check_release(&r).unwrap_err().field, "approval_timeout_secs");
        r.approval_timeout_secs = None;
        r.deploys[0].knobs.step_timeout_secs = Some(0);
        assert_eq!(check_release(&r).unwrap_err().field, "deploys[0].step_timeout_secs");
        let long = "x".repeat(MAX_KEY_LEN + 1);
        assert_eq!(check_key("release_key", &long).unwrap_err().rule, rule::INVALID_FIELD);
        assert!(check_key("release_key", "a b").is_err());
    }

    /// Environments come out in promotion order whatever order they are listed in.
    #[test]
    fn environments_are_in_promotion_order() {
        let deploys = vec![deploy("R:a", &["PROD", "QC"]), deploy("R:b", &["DEV"])];
        assert_eq!(environments(&deploys), vec![Environment::Dev, Environment::Qc, Environment::Prod]);
    }

    /// Windows: open inside, the wait until `from` outside, and windows across midnight.
    #[test]
    fn utc_windows() {
        let w = parse_window(&UtcWindow { from: "09:00".into(), to: "17:00".into() }).unwrap();
        let day = 86_400 * 20_000;
        assert_eq!(secs_until_open(day + 10 * 3600, w), 0);
        assert_eq!(secs_until_open(day + 8 * 3600, w), 3600);
        assert_eq!(secs_until_open(day + 17 * 3600, w), 16 * 3600);
        let night = parse_window(&UtcWindow { from: "22:00".into(), to: "02:00".into() }).unwrap();
        assert_eq!(secs_until_open(day + 23 * 3600, night), 0);
        assert_eq!(secs_until_open(day + 3600, night), 0);
        assert_eq!(secs_until_open(day + 12 * 3600, night), 10 * 3600);
        assert!(parse_hhmm("f", "24:00").is_err());
        assert!(parse_hhmm("f", "9:00").is_err());
        assert!(parse_window(&UtcWindow { from: "10:00".into(), to: "10:00".into() }).is_err());
    }
}
