//! Policy as code: Rego bundles evaluated with `regorus` on a plan, and the pure decision that
//! follows from their results.
//!
//! Conventions (conftest's): every `.rego` file in a bundle directory is loaded; each package may
//! define `deny` and `warn` rules producing messages (a set of strings, or a set of objects with a
//! `msg` field). The plan is `input.plan` (Terraform `show -json` format). A package declares its
//! enforcement level with `level := "advisory" | "soft-mandatory" | "hard-mandatory"`; without
//! it, `deny` messages are soft-mandatory and `warn` messages are always advisory.
//!
//! # Layout
//! - [`Level`], [`PolicyResult`]: what a policy said.
//! - [`PolicyBundle`]: a loaded, compiled-once set of policies; [`PolicyBundle::default_bundle`]
//!   carries seed 001's rule (an admin user on a namespace is a soft failure).
//! - [`decide`]: the pure verdict (pass / needs approval / hard fail), used by the workflow.
//!
//! # Details
//! - Policies are Rego v1 (OPA 1.x syntax: `if`, `contains`); `import rego.v1` is accepted.
//! - Packages are discovered: any package that declares `deny` or `warn` is evaluated, whatever
//!   its name (`main`, `ordo.admin_users`, ...). A bundle where no package does is rejected, so a
//!   misnamed rule cannot make every plan pass silently.
//! - A rule may produce a set or an array of strings or of objects with a string `msg` field, a
//!   single such string or object, or a boolean (`true` is one failure).
//! - `level` is read once, at load time, without input: it must be a constant.
//! - Loading also evaluates every rule once on an empty plan, so that errors only the evaluator
//!   sees (an unknown function, conflicting rules) are reported at load time, naming the file.
//! - Results are sorted by (policy, rule, message), without duplicates.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// How binding a policy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Recorded only.
    Advisory,
    /// A failure needs a human approval to proceed.
    SoftMandatory,
    /// A failure stops the run: nothing is applied.
    HardMandatory,
}

impl Level {
    /// The level's name as policies and metrics spell it (`soft-mandatory`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advisory => "advisory",
            Self::SoftMandatory => "soft-mandatory",
            Self::HardMandatory => "hard-mandatory",
        }
    }
}

/// One message from one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// The Rego package, e.g. `ordo.admin_users`.
    pub policy: String,
    /// `deny` or `warn`.
    pub rule: String,
    /// The rule's message.
    pub message: String,
    /// The enforcement level that applies to this result.
    pub level: Level,
}

/// What the workflow does after the policy check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No mandatory failure: apply.
    Pass,
    /// A soft-mandatory failure: wait for a human decision.
    NeedsApproval,
    /// A hard-mandatory failure (or a soft one with `hard_fail_policy`): apply nothing.
    HardFail,
}

/// Policy loading and evaluation errors.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The bundle directory is missing or has no `.rego` file.
    #[error("policy bundle {path}: {reason}")]
    Bundle {
        /// The directory given.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A policy file does not parse or compile.
    #[error("invalid policy {file}: {reason}")]
    Invalid {
        /// The file name.
        file: String,
        /// The parser's message.
        reason: String,
    },
    /// Evaluation failed at run time.
    #[error("policy evaluation failed: {0}")]
    Eval(String),
}

/// The verdict for a set of results. `hard_fail_policy` (seed 001's flag) turns soft failures hard.
pub fn decide(results: &[PolicyResult], hard_fail_policy: bool) -> Verdict {
    let worst = results.iter().filter(|r| r.level != Level::Advisory).map(|r| r.level).max();
    match worst {
        None => Verdict::Pass,
        Some(Level::HardMandatory) => Verdict::HardFail,
        Some(_) if hard_fail_policy => Verdict::HardFail,
        Some(_) => Verdict::NeedsApproval,
    }
}

/// The rule names a package may define, and the level their messages get by default.
const RULES: [(&str, Level); 2] = [("deny", Level::SoftMandatory), ("warn", Level::Advisory)];

/// The rule that sets a package's level for its `deny` messages.
const LEVEL_RULE: &str = "level";

/// The built-in bundle's only file: `(label, source)`.
const DEFAULT_POLICY: (&str, &str) =
    ("builtin:default/admin_users.rego", include_str!("../policies/default/admin_users.rego"));

/// A set of Rego policies, parsed once.
#[derive(Clone)]
pub struct PolicyBundle {
    /// `(file name, source)` pairs.
    files: Vec<(String, String)>,
    /// The engine with every file loaded and prepared, or why the files do not compile. Only the
    /// built-in bundle can hold an error (`default_bundle` cannot fail), and its tests make sure
    /// it does not; `load` returns the error instead.
    compiled: Result<Compiled, Broken>,
}

/// What compiling a bundle produces: evaluation clones `engine`, so nothing is parsed twice.
#[derive(Clone)]
struct Compiled {
    /// Every file added and the engine prepared (analysed and scheduled) by a first evaluation.
    engine: regorus::Engine,
    /// The rules to evaluate, in a fixed order (package, then `deny` before `warn`).
    rules: Vec<RuleRef>,
}

/// One `deny` or `warn` rule of one package.
#[derive(Debug, Clone)]
struct RuleRef {
    /// The dotted package name, e.g. `ordo.admin_users`.
    policy: String,
    /// `deny` or `warn`.
    rule: &'static str,
    /// The path to evaluate, e.g. `data.ordo.admin_users.deny`.
    path: String,
    /// The level its messages get.
    level: Level,
    /// The first file declaring the rule: who is to blame when an error names no file.
    file: String,
}

/// A compile error kept by a bundle that could not return it (the built-in one).
#[derive(Debug, Clone)]
struct Broken {
    file: String,
    reason: String,
}

impl fmt::Debug for PolicyBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The engine's own Debug prints whole syntax trees; file names and rules say enough.
        let files: Vec<&str> = self.files.iter().map(|(name, _)| name.as_str()).collect();
        let mut s = f.debug_struct("PolicyBundle");
        s.field("files", &files);
        match &self.compiled {
            Ok(compiled) => {
                let rules: Vec<String> =
                    compiled.rules.iter().map(|r| format!("{}.{} ({:?})", r.policy, r.rule, r.level)).collect();
                s.field("rules", &rules)
            }
            Err(broken) => s.field("error", broken),
        }
        .finish()
    }
}

impl PolicyBundle {
    /// The built-in bundle: seed 001's admin-user rule as a soft-mandatory `deny`.
    pub fn default_bundle() -> Self {
        let (name, source) = DEFAULT_POLICY;
        let files = vec![(name.to_string(), source.to_string())];
        let compiled = compile(&files, name).map_err(|e| match e {
            PolicyError::Invalid { file, reason } => Broken { file, reason },
            other => Broken { file: name.to_string(), reason: other.to_string() },
        });
        Self { files, compiled }
    }

    /// Loads and compiles every `.rego` file in `dir`; a file that does not compile is an error
    /// naming it.
    ///
    /// Subdirectories are included (bundles often keep helpers in `lib/`); files are read in
    /// path order so that a bundle always loads the same way.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let bundle_error = |reason: String| PolicyError::Bundle { path: dir.display().to_string(), reason };
        if !dir.is_dir() {
            return Err(bundle_error("not a directory".to_string()));
        }
        let mut paths = Vec::new();
        collect_rego_files(dir, &mut paths)?;
        if paths.is_empty() {
            return Err(bundle_error("no .rego file".to_string()));
        }
        paths.sort();
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|e| PolicyError::Bundle {
                path: path.display().to_string(),
                reason: format!("cannot read: {e}"),
            })?;
            files.push((path.display().to_string(), source));
        }
        let compiled = compile(&files, &dir.display().to_string())?;
        Ok(Self { files, compiled: Ok(compiled) })
    }

    /// Evaluates every package's `deny` / `warn` against `input.plan = plan`.
    pub fn evaluate(&self, plan: &serde_json::Value) -> Result<Vec<PolicyResult>, PolicyError> {
        let compiled = self
            .compiled
            .as_ref()
            .map_err(|broken| PolicyError::Invalid { file: broken.file.clone(), reason: broken.reason.clone() })?;
        let plan = regorus::Value::deserialize(plan)
            .map_err(|e| PolicyError::Eval(format!("plan is not usable as input: {e}")))?;
        // The clone shares the parsed modules and keeps the prepared state: no re-parse.
        let mut engine = compiled.engine.clone();
        engine.set_input(plan_input(plan));
        let mut results = Vec::new();
        for rule in &compiled.rules {
            let value = engine
                .eval_rule(rule.path.clone())
                .map_err(|e| PolicyError::Eval(format!("{}.{}: {}", rule.policy, rule.rule, error_text(&e))))?;
            let messages = messages(&value, rule)
                .map_err(|reason| PolicyError::Eval(format!("{}.{}: {reason}", rule.policy, rule.rule)))?;
            results.extend(messages.into_iter().map(|message| PolicyResult {
                policy: rule.policy.clone(),
                rule: rule.rule.to_string(),
                message,
                level: rule.level,
            }));
        }
        sort_results(&mut results);
        Ok(results)
    }
}

/// Sorts by (policy, rule, message) and drops exact duplicates (an array rule, or a set of
/// objects differing only outside `msg`, can repeat a message; the repeat says nothing new).
fn sort_results(results: &mut Vec<PolicyResult>) {
    results.sort_by(|a, b| (&a.policy, &a.rule, &a.message, a.level).cmp(&(&b.policy, &b.rule, &b.message, b.level)));
    results.dedup();
}

/// `{"plan": plan}`: rules read `input.plan`, which leaves room for more input beside the plan.
fn plan_input(plan: regorus::Value) -> regorus::Value {
    regorus::Value::from(BTreeMap::from([(regorus::Value::from("plan"), plan)]))
}

/// Adds every `.rego` file under `dir` to `out`. Symlinked directories are not followed, so a
/// link cycle cannot loop forever.
fn collect_rego_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), PolicyError> {
    let io_error = |e: std::io::Error| PolicyError::Bundle {
        path: dir.display().to_string(),
        reason: format!("cannot read: {e}"),
    };
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let path = entry.path();
        if entry.file_type().map_err(io_error)?.is_dir() {
            collect_rego_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rego") && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses `files`, finds the packages' rules and levels, and prepares the engine. `bundle` names
/// the bundle in errors that belong to no single file.
fn compile(files: &[(String, String)], bundle: &str) -> Result<Compiled, PolicyError> {
    let labels: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let mut engine = regorus::Engine::new();
    for (name, source) in files {
        engine.add_policy(name.clone(), source.clone()).map_err(|e| invalid(name, &e))?;
    }

    // Package -> the files declaring it, in load order (several files may share a package).
    let components = engine.get_policy_package_components().map_err(|e| invalid(bundle, &e))?;
    let mut packages: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for package in components {
        packages.entry(package.components).or_default().push(package.source_file);
    }

    // The dry run below needs an input; an empty plan is what every rule must cope with anyway.
    engine.set_input(plan_input(regorus::Value::new_object()));

    let mut rules = Vec::new();
    for (components, package_files) in &packages {
        let policy = components.join(".");
        let base = rule_path(components);
        let declaring = |rule: &str| -> Result<Option<String>, PolicyError> {
            for file in package_files {
                let declared = engine.has_declared_rule_rooted_at(file, rule).map_err(|e| invalid(file, &e))?;
                if declared {
                    return Ok(Some(file.clone()));
                }
            }
            Ok(None)
        };
        let level_file = declaring(LEVEL_RULE)?;
        let deny_file = declaring(RULES[0].0)?;
        let warn_file = declaring(RULES[1].0)?;

        let mut deny_level = RULES[0].1;
        if let Some(file) = level_file {
            let value = engine
                .eval_rule(format!("{base}.{LEVEL_RULE}"))
                .map_err(|e| invalid(attribute(&e, &labels).unwrap_or(&file), &e))?;
            if let Some(level) = parse_level(&value).map_err(|reason| PolicyError::Invalid {
                file: file.clone(),
                reason: format!("package {policy}: {reason}"),
            })? {
                deny_level = level;
            }
        }
        for ((rule, default_level), file) in RULES.into_iter().zip([deny_file, warn_file]) {
            let Some(file) = file else { continue };
            let level = if rule == "deny" { deny_level } else { default_level };
            rules.push(RuleRef { policy: policy.clone(), rule, path: format!("{base}.{rule}"), level, file });
        }
    }
    if rules.is_empty() {
        return Err(PolicyError::Bundle {
            path: bundle.to_string(),
            reason: "no package defines a deny or warn rule".to_string(),
        });
    }

    // Dry run: this prepares the engine once for every later clone, and surfaces what only the
    // evaluator notices (unsafe variables, unknown functions, rule conflicts, nested rules).
    for rule in &rules {
        let value = engine
            .eval_rule(rule.path.clone())
            .map_err(|e| invalid(attribute(&e, &labels).unwrap_or(&rule.file), &e))?;
        messages(&value, rule).map_err(|reason| PolicyError::Invalid {
            file: rule.file.clone(),
            reason: format!("{}.{}: {reason}", rule.policy, rule.rule),
        })?;
    }
    Ok(Compiled { engine, rules })
}

/// `PolicyError::Invalid` for `file` with regorus's message.
fn invalid(file: &str, error: &anyhow::Error) -> PolicyError {
    PolicyError::Invalid { file: file.to_string(), reason: error_text(error) }
}

/// Regorus's message (with its context chain), without the blank line it starts with.
fn error_text(error: &anyhow::Error) -> String {
    format!("{error:#}").trim().to_string()
}

/// The file a regorus error points at: its messages start with `--> <file>:<line>:<col>`.
fn attribute<'a>(error: &anyhow::Error, labels: &[&'a str]) -> Option<&'a str> {
    let text = format!("{error:#}");
    let (_, rest) = text.split_once("--> ")?;
    // The longest label that fits, so `a.rego` cannot claim an error in `a.rego.rego`.
    labels
        .iter()
        .filter(|label| rest.strip_prefix(**label).is_some_and(|after| after.starts_with(':')))
        .max_by_key(|label| label.len())
        .copied()
}

/// The `data.` path of a package, quoting components that are not plain identifiers
/// (`package x["a-b"]` is `data.x["a-b"]`).
fn rule_path(components: &[String]) -> String {
    let mut path = String::from("data");
    for component in components {
        let plain = component.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && component.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            path.push('.');
            path.push_str(component);
        } else {
            path.push('[');
            // A JSON string literal is a valid Rego string literal.
            path.push_str(&serde_json::Value::from(component.as_str()).to_string());
            path.push(']');
        }
    }
    path
}

/// A package's `level` value: `None` when undefined (the default applies).
fn parse_level(value: &regorus::Value) -> Result<Option<Level>, String> {
    match value {
        regorus::Value::Undefined => Ok(None),
        regorus::Value::String(s) => match s.as_ref() {
            "advisory" => Ok(Some(Level::Advisory)),
            "soft-mandatory" => Ok(Some(Level::SoftMandatory)),
            "hard-mandatory" => Ok(Some(Level::HardMandatory)),
            other => {
                Err(format!("unknown level {other:?}; expected \"advisory\", \"soft-mandatory\" or \"hard-mandatory\""))
            }
        },
        other => Err(format!("level must be a string, not {}", kind(other))),
    }
}

/// The messages a `deny` / `warn` value carries.
fn messages(value: &regorus::Value, rule: &RuleRef) -> Result<Vec<String>, String> {
    use regorus::Value;
    match value {
        Value::Undefined | Value::Bool(false) => Ok(Vec::new()),
        // A boolean rule (`deny if ...`) has no text of its own; say which rule fired.
        Value::Bool(true) => Ok(vec![format!("{}.{} is true", rule.policy, rule.rule)]),
        Value::Set(set) => set.iter().map(message).collect(),
        Value::Array(array) => array.iter().map(message).collect(),
        single @ (Value::String(_) | Value::Object(_)) => Ok(vec![message(single)?]),
        other => Err(format!("produced {}; expected a set of strings or of objects with a msg field", kind(other))),
    }
}

/// One message: a string, or an object's string `msg` field.
fn message(value: &regorus::Value) -> Result<String, String> {
    match value {
        regorus::Value::String(s) => Ok(s.to_string()),
        regorus::Value::Object(object) => match object.get(&regorus::Value::from("msg")) {
            Some(regorus::Value::String(s)) => Ok(s.to_string()),
            Some(other) => Err(format!("a message's msg field is {}, not a string", kind(other))),
            None => Err("a message object has no msg field".to_string()),
        },
        other => Err(format!("a message is {}; expected a string or an object with a msg field", kind(other))),
    }
}

/// A value's kind, for error messages.
fn kind(value: &regorus::Value) -> &'static str {
    use regorus::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Set(_) => "a set",
        Value::Object(_) => "an object",
        Value::Undefined => "undefined",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    /// The crate root, where `policies/` and `tests/fixtures/` live.
    fn crate_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn fixture(name: &str) -> serde_json::Value {
        let path = crate_dir().join("tests/fixtures/plans").join(name);
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        serde_json::from_str(&text).expect("fixture is JSON")
    }

    fn examples_bundle() -> PolicyBundle {
        PolicyBundle::load(&crate_dir().join("policies/examples")).expect("examples bundle loads")
    }

    /// A bundle directory holding `files` (`(name, source)`).
    fn bundle_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, source) in files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("subdir");
            }
            std::fs::write(path, source).expect("write policy");
        }
        dir
    }

    /// A plan whose only change is `resource_change`.
    fn plan_with(resource_changes: serde_json::Value) -> serde_json::Value {
        json!({
            "format_version": "0.2",
            "terraform_version": "1.0.3",
            "resource_changes": resource_changes,
        })
    }

    fn user_create(name: &str, permissions: &[&str]) -> serde_json::Value {
        let accesses: Vec<_> = permissions
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"namespace_id": format!("ns-{i}.a2dd6"), "permission": p}))
            .collect();
        json!({
            "address": format!("temporalcloud_user.{name}"),
            "mode": "managed",
            "type": "temporalcloud_user",
            "name": name,
            "change": {
                "actions": ["create"],
                "before": null,
                "after": {"email": format!("{name}@example.com"), "account_access": "developer", "namespace_accesses": accesses},
            },
        })
    }

    fn result(policy: &str, rule: &str, message: &str, level: Level) -> PolicyResult {
        PolicyResult { policy: policy.to_string(), rule: rule.to_string(), message: message.to_string(), level }
    }

    // --- the built-in bundle ---------------------------------------------------------------

    #[test]
    fn default_bundle_compiles() {
        let bundle = PolicyBundle::default_bundle();
        let compiled = bundle.compiled.as_ref().expect("built-in policy compiles");
        let rules: Vec<_> = compiled.rules.iter().map(|r| (r.path.as_str(), r.level)).collect();
        assert_eq!(rules, [("data.ordo.admin_users.deny", Level::SoftMandatory)]);
    }

    #[test]
    fn real_terraform_outputs_only_plan_passes() {
        // Produced by Terraform 1.0.3 (`show -json` of a saved plan); it has no
        // `resource_changes` key at all, which the rule must treat as nothing to check.
        let plan = fixture("terraform_1_0_3_outputs_only.json");
        assert_eq!(plan["terraform_version"], "1.0.3");
        assert!(plan.get("resource_changes").is_none());
        let results = PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates");
        assert_eq!(results, []);
        assert_eq!(decide(&results, false), Verdict::Pass);
        assert_eq!(decide(&results, true), Verdict::Pass);
    }

    #[test]
    fn namespace_create_passes() {
        let results = PolicyBundle::default_bundle().evaluate(&fixture("namespace_create.json")).expect("evaluates");
        assert_eq!(results, []);
        assert_eq!(decide(&results, true), Verdict::Pass);
    }

    #[test]
    fn admin_user_create_needs_approval_or_hard_fails() {
        let results = PolicyBundle::default_bundle().evaluate(&fixture("admin_user_create.json")).expect("evaluates");
        assert_eq!(
            results,
            [result(
                "ordo.admin_users",
                "deny",
                "temporalcloud_user.alice would be created with admin access to a namespace",
                Level::SoftMandatory,
            )]
        );
        assert_eq!(decide(&results, false), Verdict::NeedsApproval);
        assert_eq!(decide(&results, true), Verdict::HardFail);
    }

    #[test]
    fn admin_in_a_later_access_still_fails() {
        // The seed looked at `namespace_accesses[0]` only; write first, admin second.
        let plan = fixture("user_admin_second_access.json");
        assert_eq!(plan["resource_changes"][0]["change"]["after"]["namespace_accesses"][0]["permission"], "write");
        let results = PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates");
        assert_eq!(results.len(), 1);
        assert!(results[0].message.contains("temporalcloud_user.bob"), "{results:?}");
        assert_eq!(decide(&results, false), Verdict::NeedsApproval);
    }

    #[test]
    fn admin_permission_is_matched_in_any_case() {
        // The provider validates the permission case-insensitively.
        let plan = plan_with(json!([user_create("carol", &["read", "Admin"])]));
        let results = PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates");
        assert_eq!(results.len(), 1, "{results:?}");
    }

    #[test]
    fn non_admin_users_and_non_creates_pass() {
        let mut update = user_create("dave", &["admin"]);
        update["change"]["actions"] = json!(["update"]);
        let mut no_accesses = user_create("erin", &[]);
        no_accesses["change"]["after"]["namespace_accesses"] = serde_json::Value::Null;
        let plan = plan_with(json!([user_create("frank", &["read", "write"]), update, no_accesses]));
        let results = PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates");
        assert_eq!(results, []);
        // A `null` list of changes is nothing to check, not an error.
        let results = PolicyBundle::default_bundle().evaluate(&plan_with(serde_json::Value::Null)).expect("evaluates");
        assert_eq!(results, []);
    }

    #[test]
    fn one_message_per_user_sorted_by_message() {
        let plan = plan_with(json!([user_create("zed", &["admin", "admin"]), user_create("amy", &["admin"]),]));
        let results = PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates");
        let messages: Vec<_> = results.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "temporalcloud_user.amy would be created with admin access to a namespace",
                "temporalcloud_user.zed would be created with admin access to a namespace",
            ]
        );
    }

    #[test]
    fn shipped_default_directory_matches_the_built_in_bundle() {
        let loaded = PolicyBundle::load(&crate_dir().join("policies/default")).expect("loads");
        let plan = fixture("admin_user_create.json");
        assert_eq!(
            loaded.evaluate(&plan).expect("evaluates"),
            PolicyBundle::default_bundle().evaluate(&plan).expect("evaluates")
        );
    }

    // --- the examples bundle ---------------------------------------------------------------

    #[test]
    fn namespace_delete_hard_fails_with_examples_bundle() {
        let results = examples_bundle().evaluate(&fixture("namespace_delete.json")).expect("evaluates");
        assert_eq!(
            results,
            [result(
                "ordo.examples.protect_namespaces",
                "deny",
                "temporalcloud_namespace.legacy would be deleted; namespaces are protected",
                Level::HardMandatory,
            )]
        );
        assert_eq!(decide(&results, false), Verdict::HardFail);
        // The default bundle has nothing to say about deletions.
        let default = PolicyBundle::default_bundle().evaluate(&fixture("namespace_delete.json")).expect("evaluates");
        assert_eq!(default, []);
    }

    #[test]
    fn namespace_replace_counts_as_delete() {
        let mut plan = fixture("namespace_delete.json");
        plan["resource_changes"][0]["change"]["actions"] = json!(["delete", "create"]);
        let results = examples_bundle().evaluate(&plan).expect("evaluates");
        assert_eq!(decide(&results, false), Verdict::HardFail);
    }

    #[test]
    fn examples_bundle_passes_a_namespace_create() {
        let results = examples_bundle().evaluate(&fixture("namespace_create.json")).expect("evaluates");
        assert_eq!(results, []);
    }

    #[test]
    fn many_changes_warn_but_pass() {
        let mut changes: Vec<_> = (0..11).map(|i| user_create(&format!("u{i:02}"), &["read"])).collect();
        // No-ops do not count: 11 changes plus one no-op is reported as 11.
        let mut unchanged = user_create("same", &["read"]);
        unchanged["change"]["actions"] = json!(["no-op"]);
        changes.push(unchanged);
        let results = examples_bundle().evaluate(&plan_with(json!(changes))).expect("evaluates");
        assert_eq!(
            results,
            [result(
                "ordo.examples.change_volume",
                "warn",
                "11 resources change (more than 10); review the plan carefully",
                Level::Advisory,
            )]
        );
        assert_eq!(decide(&results, false), Verdict::Pass);
        assert_eq!(decide(&results, true), Verdict::Pass);

        let ten = plan_with(json!(changes[..10]));
        assert_eq!(examples_bundle().evaluate(&ten).expect("evaluates"), []);
    }

    // --- loading -------------------------------------------------------------------------

    #[test]
    fn missing_dir_is_a_bundle_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope");
        let err = PolicyBundle::load(&missing).expect_err("missing dir");
        assert!(matches!(&err, PolicyError::Bundle { path, .. } if path.ends_with("nope")), "{err}");
    }

    #[test]
    fn dir_without_rego_is_a_bundle_error() {
        let empty = bundle_dir(&[]);
        let err = PolicyBundle::load(empty.path()).expect_err("empty dir");
        assert!(matches!(err, PolicyError::Bundle { .. }), "{err}");

        let other_files = bundle_dir(&[("README.md", "# policies"), ("data.json", "{}")]);
        let err = PolicyBundle::load(other_files.path()).expect_err("no rego");
        assert!(matches!(&err, PolicyError::Bundle { reason, .. } if reason.contains(".rego")), "{err}");
    }

    #[test]
    fn syntax_error_names_the_file() {
        let dir = bundle_dir(&[
            ("good.rego", "package good\n\ndeny contains \"x\" if false\n"),
            ("broken.rego", "package broken\n\ndeny contains msg if {\n"),
        ]);
        let err = PolicyBundle::load(dir.path()).expect_err("invalid policy");
        match &err {
            PolicyError::Invalid { file, reason } => {
                assert!(file.ends_with("broken.rego"), "{file}");
                assert!(!reason.is_empty());
            }
            other => panic!("unexpected error: {other}"),
        }
        assert!(err.to_string().starts_with("invalid policy "), "{err}");
    }

    #[test]
    fn rego_v0_syntax_is_rejected_naming_the_file() {
        let dir = bundle_dir(&[("old.rego", "package main\n\ndeny[msg] {\n  msg := \"x\"\n}\n")]);
        let err = PolicyBundle::load(dir.path()).expect_err("v0 syntax");
        assert!(matches!(&err, PolicyError::Invalid { file, .. } if file.ends_with("old.rego")), "{err}");
    }

    #[test]
    fn compile_errors_name_the_file() {
        // Parses, but only the evaluator notices: an unsafe variable, an unknown function.
        for (name, source) in [
            ("unsafe.rego", "package u\n\ndeny contains \"x\" if { y == 1 }\n"),
            ("unknown_fn.rego", "package f\n\ndeny contains msg if { msg := no_such_function(1) }\n"),
        ] {
            let dir = bundle_dir(&[("fine.rego", "package fine\n\nwarn contains \"x\" if false\n"), (name, source)]);
            let err = PolicyBundle::load(dir.path()).expect_err("compile error");
            assert!(matches!(&err, PolicyError::Invalid { file, .. } if file.ends_with(name)), "{name}: {err}");
        }
    }

    #[test]
    fn unknown_level_names_the_file() {
        let dir = bundle_dir(&[
            ("rules.rego", "package p\n\ndeny contains \"x\" if false\n"),
            ("level.rego", "package p\n\nlevel := \"mandatory-ish\"\n"),
        ]);
        let err = PolicyBundle::load(dir.path()).expect_err("unknown level");
        match &err {
            PolicyError::Invalid { file, reason } => {
                assert!(file.ends_with("level.rego"), "{file}");
                assert!(reason.contains("mandatory-ish"), "{reason}");
            }
            other => panic!("unexpected error: {other}"),
        }
    }

    #[test]
    fn bundle_without_deny_or_warn_is_rejected() {
        // A misnamed rule (`violation`) would otherwise pass every plan without a word.
        let dir = bundle_dir(&[("p.rego", "package p\n\nviolation contains \"x\" if true\n")]);
        let err = PolicyBundle::load(dir.path()).expect_err("no rules");
        assert!(matches!(err, PolicyError::Bundle { .. }), "{err}");
    }

    #[test]
    fn conftest_conventions() {
        let dir = bundle_dir(&[
            // `package main`, objects with `msg`, no level: deny is soft-mandatory.
            (
                "main.rego",
                "package main\n\nimport rego.v1\n\ndeny contains {\"msg\": m, \"id\": 1} if {\n  some rc in input.plan.resource_changes\n  m := sprintf(\"main sees %s\", [rc.address])\n}\n\nwarn contains \"main warns\" if true\n",
            ),
            // Advisory deny, array of mixed messages, in a subdirectory.
            (
                "lib/advice.rego",
                "package ordo.advice\n\nlevel := \"advisory\"\n\ndeny := [\"b\", {\"msg\": \"a\"}, \"b\"]\n",
            ),
            // A boolean rule, and a package name that is not an identifier.
            ("flag.rego", "package flags[\"on-off\"]\n\nlevel := \"hard-mandatory\"\n\ndeny if count(input.plan.resource_changes) > 0\n"),
            // A helper package without rules is loaded but not evaluated.
            ("helpers.rego", "package ordo.lib\n\nanswer := 42\n"),
        ]);
        let bundle = PolicyBundle::load(dir.path()).expect("loads");
        let plan = plan_with(json!([{"address": "x.y", "type": "x", "name": "y", "change": {"actions": ["create"]}}]));
        let results = bundle.evaluate(&plan).expect("evaluates");
        assert_eq!(
            results,
            [
                result("flags.on-off", "deny", "flags.on-off.deny is true", Level::HardMandatory),
                result("main", "deny", "main sees x.y", Level::SoftMandatory),
                result("main", "warn", "main warns", Level::Advisory),
                result("ordo.advice", "deny", "a", Level::Advisory),
                result("ordo.advice", "deny", "b", Level::Advisory),
            ]
        );
        assert_eq!(decide(&results, false), Verdict::HardFail);

        // Evaluations do not leak into each other: the cached engine is cloned each time.
        let empty = bundle.evaluate(&plan_with(json!([]))).expect("evaluates");
        assert_eq!(empty.iter().map(|r| r.policy.as_str()).collect::<Vec<_>>(), ["main", "ordo.advice", "ordo.advice"]);
    }

    #[test]
    fn bad_message_shapes_are_evaluation_errors() {
        let dir = bundle_dir(&[("p.rego", "package p\n\ndeny contains {\"text\": \"no msg\"} if input.plan.bad\n")]);
        let bundle = PolicyBundle::load(dir.path()).expect("fine on an empty plan");
        let err = bundle.evaluate(&json!({"bad": true})).expect_err("no msg field");
        assert!(matches!(&err, PolicyError::Eval(reason) if reason.contains("msg")), "{err}");
    }

    #[test]
    fn bundle_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PolicyBundle>();
    }

    // --- decide ----------------------------------------------------------------------------

    #[test]
    fn decide_levels() {
        let advisory = result("p", "warn", "w", Level::Advisory);
        let soft = result("p", "deny", "s", Level::SoftMandatory);
        let hard = result("p", "deny", "h", Level::HardMandatory);
        assert_eq!(decide(&[], false), Verdict::Pass);
        assert_eq!(decide(std::slice::from_ref(&advisory), false), Verdict::Pass);
        assert_eq!(decide(std::slice::from_ref(&advisory), true), Verdict::Pass);
        assert_eq!(decide(&[advisory.clone(), soft.clone()], false), Verdict::NeedsApproval);
        assert_eq!(decide(&[advisory.clone(), soft.clone()], true), Verdict::HardFail);
        assert_eq!(decide(&[soft, hard, advisory], false), Verdict::HardFail);
    }
}
