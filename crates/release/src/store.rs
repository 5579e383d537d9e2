//! The world the steps act on, as files under `<data dir>/release/` (the seed's `environments/`
//! tree, made idempotent by validation):
//!
//! - `artifacts/<container>/<version>/artifact` and `artifact.sha256`: the artifact store;
//! - `envs/<ENV>/<container>/artifact`, `deployed.json`, `config.json`: what each environment runs;
//! - `audit/<artifactory|ENV>.log`: one JSON line per effect, append-only.
//!
//! Every operation first checks whether its effect already holds and then does nothing (and logs
//! nothing), so a retried or re-run step leaves exactly one audit line per effect. Files are
//! written to a temporary name and renamed, so a worker killed mid-write leaves the old file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::model::{Environment, StepInput, StepOutcome};

/// The audit log of the artifact store.
pub const ARTIFACTORY: &str = "artifactory";

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The artifact to deploy was never built.
    #[error("artifact {container}:{version} is not in the artifact store")]
    NotBuilt {
        /// Container.
        container: String,
        /// Version.
        version: String,
    },
    /// A step was asked for without its environment.
    #[error("the step needs an environment")]
    NoEnvironment,
}

/// What an environment runs of one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployed {
    /// Version.
    pub version: String,
    /// SHA-256 of the artifact.
    pub checksum: String,
    /// The deploy that put it there.
    pub deploy_key: String,
    /// Verified after it was deployed.
    #[serde(default)]
    pub verified: bool,
    /// What ran before (one level: what a rollback restores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Deployed>>,
}

/// One effect, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339, wall clock of the worker).
    pub at: String,
    /// `build`, `deploy`, `config`, `verify` or `rollback`.
    pub step: String,
    /// The release.
    pub release_key: String,
    /// The deploy.
    pub deploy_key: String,
    /// The container.
    pub container_id: String,
    /// The version acted on (for a rollback: the version restored, or `none`).
    pub version: String,
    /// `artifactory` or the environment.
    pub log: String,
    /// Artifact checksum.
    pub checksum: String,
}

/// The files of releases under one data directory.
#[derive(Debug, Clone)]
pub struct ReleaseStore {
    root: PathBuf,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io { what, path: path.display().to_string(), source }
}

/// SHA-256 of a file, hex; `None` when it does not exist.
fn sha256_file(path: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(hex::encode(Sha256::digest(&bytes)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading", path)(e)),
    }
}

fn read_opt(path: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("reading", path)(e)),
    }
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().expect("store paths have parents");
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, bytes).map_err(io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("renaming into", path))
}

impl ReleaseStore {
    /// The store under `data_dir/release`.
    pub fn new(data_dir: &Path) -> Self {
        Self { root: data_dir.join("release") }
    }

    /// Its root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn artifact_dir(&self, container: &str, version: &str) -> PathBuf {
        self.root.join("artifacts").join(container).join(version)
    }

    fn env_dir(&self, env: Environment, container: &str) -> PathBuf {
        self.root.join("envs").join(env.as_str()).join(container)
    }

    fn audit_path(&self, log: &str) -> PathBuf {
        self.root.join("audit").join(format!("{log}.log"))
    }

    /// The checksum of a built artifact, when it is in the store intact.
    pub fn built_checksum(&self, container: &str, version: &str) -> Result<Option<String>, StoreError> {
        let dir = self.artifact_dir(container, version);
        let recorded = read_opt(&dir.join("artifact.sha256"))?;
        let actual = sha256_file(&dir.join("artifact"))?;
        Ok(match (recorded, actual) {
            (Some(recorded), Some(actual)) if recorded.trim() == actual => Some(actual),
            _ => None,
        })
    }

    /// What `env` runs of `container`.
    pub fn deployed(&self, env: Environment, container: &str) -> Result<Option<Deployed>, StoreError> {
        let path = self.env_dir(env, container).join("deployed.json");
        let Some(text) = read_opt(&path)? else { return Ok(None) };
        // A record that does not parse is treated as absent: the next deploy rewrites it.
        Ok(serde_json::from_str(&text).ok())
    }

    /// The audit log `log` (`artifactory` or an environment), oldest first.
    pub fn audit(&self, log: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let path = self.audit_path(log);
        let Some(text) = read_opt(&path)? else { return Ok(Vec::new()) };
        Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
    }

    /// Appends the entry unless the log already has this step of this deploy at this version: an
    /// attempt killed after its effect but before its log line gets the line from the retry that
    /// finds the effect in place, and never a second one.
    fn append_audit(
        &self,
        log: &str,
        step: &str,
        input: &StepInput,
        version: &str,
        checksum: &str,
    ) -> Result<(), StoreError> {
        let logged =
            self.audit(log)?.iter().any(|e| e.step == step && e.deploy_key == input.deploy_key && e.version == version);
        if logged {
            return Ok(());
        }
        let entry = AuditEntry {
            at: ordo_core::time::rfc3339(std::time::SystemTime::now()),
            step: step.to_owned(),
            release_key: input.release_key.clone(),
            deploy_key: input.deploy_key.clone(),
            container_id: input.container_id.clone(),
            version: version.to_owned(),
            log: log.to_owned(),
            checksum: checksum.to_owned(),
        };
        let path = self.audit_path(log);
        let dir = path.parent().expect("audit dir");
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        let mut line = serde_json::to_string(&entry).expect("audit entries serialize");
        line.push('\n');
        // One write of one line with O_APPEND: parallel deploys never interleave within a line.
        let mut file =
            std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io("opening", &path))?;
        file.write_all(line.as_bytes()).map_err(io("appending to", &path))
    }

    /// Builds the artifact into the store, unless it is there with the right checksum.
    pub fn build(&self, input: &StepInput) -> Result<StepOutcome, StoreError> {
        let dir = self.artifact_dir(&input.container_id, &input.container_version);
        if let Some(checksum) = self.built_checksum(&input.container_id, &input.container_version)? {
            if read_opt(&dir.join("built_by"))?.as_deref() == Some(input.deploy_key.as_str()) {
                self.append_audit(ARTIFACTORY, "build", input, &input.container_version, &checksum)?;
            }
            return Ok(StepOutcome { acted: false, checksum, previous_version: None });
        }
        // A deterministic "build": the same source gives the same artifact.
        let content =
            format!("artifact {}:{}\nsource {}\n", input.container_id, input.container_version, input.git_url);
        let checksum = hex::encode(Sha256::digest(content.as_bytes()));
        write_atomic(&dir.join("artifact"), content.as_bytes())?;
        write_atomic(&dir.join("built_by"), input.deploy_key.as_bytes())?;
        // The checksum goes last: until it is there, the artifact does not count as built.
        write_atomic(&dir.join("artifact.sha256"), checksum.as_bytes())?;
        self.append_audit(ARTIFACTORY, "build", input, &input.container_version, &checksum)?;
        Ok(StepOutcome { acted: true, checksum, previous_version: None })
    }

    /// Deploys the artifact into the environment, unless it already runs it with the right checksum.
    pub fn deploy(&self, input: &StepInput) -> Result<StepOutcome, StoreError> {
        let env = input.env.ok_or(StoreError::NoEnvironment)?;
        let (container, version) = (&input.container_id, &input.container_version);
        let checksum = self
            .built_checksum(container, version)?
            .ok_or_else(|| StoreError::NotBuilt { container: container.clone(), version: version.clone() })?;
        let dir = self.env_dir(env, container);
        let current = self.deployed(env, container)?;
        let running = sha256_file(&dir.join("artifact"))?;
        if let Some(current) = &current {
            if &current.version == version && running.as_deref() == Some(checksum.as_str()) {
                if current.deploy_key == input.deploy_key {
                    self.append_audit(env.as_str(), "deploy", input, version, &checksum)?;
                }
                let previous_version = current.previous.as_ref().map(|p| p.version.clone());
                return Ok(StepOutcome { acted: false, checksum, previous_version });
            }
        }
        // What this deploy replaces: what runs now, unless that is a half-done deploy of this
        // very version, whose record still names the real predecessor.
        let previous = match current {
            Some(c) if &c.version == version => c.previous,
            Some(c) => Some(Box::new(Deployed { previous: None, ..c })),
            None => None,
        };
        let bytes = std::fs::read(self.artifact_dir(container, version).join("artifact"))
            .map_err(io("reading", &self.artifact_dir(container, version)))?;
        write_atomic(&dir.join("artifact"), &bytes)?;
        let record = Deployed {
            version: version.clone(),
            checksum: checksum.clone(),
            deploy_key: input.deploy_key.clone(),
            verified: false,
            previous: previous.clone(),
        };
        write_atomic(&dir.join("deployed.json"), &serde_json::to_vec_pretty(&record).expect("serializes"))?;
        self.append_audit(env.as_str(), "deploy", input, version, &checksum)?;
        Ok(StepOutcome { acted: true, checksum, previous_version: previous.map(|p| p.version) })
    }

    fn config_bytes(input: &StepInput, env: Environment, version: &str) -> Vec<u8> {
        serde_json::to_vec_pretty(&serde_json::json!({
            "deploy_key": input.deploy_key,
            "container_id": input.container_id,
            "container_version": version,
            "environment": env.as_str(),
            "git_url": input.git_url,
        }))
        .expect("serializes")
    }

    /// Writes the environment's config for the deployed version, unless it is already that.
    pub fn configure(&self, input: &StepInput) -> Result<StepOutcome, StoreError> {
        let env = input.env.ok_or(StoreError::NoEnvironment)?;
        let path = self.env_dir(env, &input.container_id).join("config.json");
        let wanted = Self::config_bytes(input, env, &input.container_version);
        let checksum = hex::encode(Sha256::digest(&wanted));
        if std::fs::read(&path).ok().as_deref() == Some(wanted.as_slice()) {
            self.append_audit(env.as_str(), "config", input, &input.container_version, &checksum)?;
            return Ok(StepOutcome { acted: false, checksum, previous_version: None });
        }
        write_atomic(&path, &wanted)?;
        self.append_audit(env.as_str(), "config", input, &input.container_version, &checksum)?;
        Ok(StepOutcome { acted: true, checksum, previous_version: None })
    }

    /// Whether the environment runs the expected artifact intact: `Err(why)` when it does not.
    pub fn check_running(&self, input: &StepInput) -> Result<Result<String, String>, StoreError> {
        let env = input.env.ok_or(StoreError::NoEnvironment)?;
        let Some(deployed) = self.deployed(env, &input.container_id)? else {
            return Ok(Err(format!("{env} runs no {}", input.container_id)));
        };
        if deployed.version != input.container_version {
            return Ok(Err(format!(
                "{env} runs {} {}, not {}",
                input.container_id, deployed.version, input.container_version
            )));
        }
        let running = sha256_file(&self.env_dir(env, &input.container_id).join("artifact"))?;
        if running.as_deref() != Some(deployed.checksum.as_str()) {
            return Ok(Err(format!(
                "{env}'s {} artifact does not match checksum {}",
                input.container_id, deployed.checksum
            )));
        }
        Ok(Ok(deployed.checksum))
    }

    /// Records a passed verification, unless it is recorded already.
    pub fn mark_verified(&self, input: &StepInput) -> Result<StepOutcome, StoreError> {
        let env = input.env.ok_or(StoreError::NoEnvironment)?;
        let path = self.env_dir(env, &input.container_id).join("deployed.json");
        let Some(mut deployed) = self.deployed(env, &input.container_id)? else {
            return Err(StoreError::NotBuilt {
                container: input.container_id.clone(),
                version: input.container_version.clone(),
            });
        };
        let checksum = deployed.checksum.clone();
        if deployed.verified {
            if deployed.deploy_key == input.deploy_key {
                self.append_audit(env.as_str(), "verify", input, &input.container_version, &checksum)?;
            }
            return Ok(StepOutcome { acted: false, checksum, previous_version: None });
        }
        deployed.verified = true;
        write_atomic(&path, &serde_json::to_vec_pretty(&deployed).expect("serializes"))?;
        self.append_audit(env.as_str(), "verify", input, &input.container_version, &checksum)?;
        Ok(StepOutcome { acted: true, checksum, previous_version: None })
    }

    /// Puts the environment back to what ran before `input`'s version, unless it does not run
    /// that version (never deployed, or already rolled back). Without a predecessor, the
    /// container is removed from the environment.
    pub fn rollback(&self, input: &StepInput) -> Result<StepOutcome, StoreError> {
        let env = input.env.ok_or(StoreError::NoEnvironment)?;
        let dir = self.env_dir(env, &input.container_id);
        let current = self.deployed(env, &input.container_id)?;
        let Some(current) = current.filter(|c| c.version == input.container_version) else {
            let now = self.deployed(env, &input.container_id)?;
            return Ok(StepOutcome {
                acted: false,
                checksum: now.as_ref().map(|d| d.checksum.clone()).unwrap_or_default(),
                previous_version: now.map(|d| d.version),
            });
        };
        match current.previous {
            Some(previous) => {
                let source = self.artifact_dir(&input.container_id, &previous.version).join("artifact");
                let bytes = std::fs::read(&source).map_err(io("reading", &source))?;
                write_atomic(&dir.join("artifact"), &bytes)?;
                write_atomic(&dir.join("config.json"), &Self::config_bytes(input, env, &previous.version))?;
                let restored = Deployed { previous: None, ..*previous };
                write_atomic(&dir.join("deployed.json"), &serde_json::to_vec_pretty(&restored).expect("serializes"))?;
                self.append_audit(env.as_str(), "rollback", input, &restored.version, &restored.checksum)?;
                Ok(StepOutcome { acted: true, checksum: restored.checksum, previous_version: Some(restored.version) })
            }
            None => {
                // deployed.json goes last: until it is gone, a retry still sees what to undo.
                for file in ["artifact", "config.json", "deployed.json"] {
                    match std::fs::remove_file(dir.join(file)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io("removing", &dir.join(file))(e)),
                    }
                }
                self.append_audit(env.as_str(), "rollback", input, "none", "")?;
                Ok(StepOutcome { acted: true, checksum: String::new(), previous_version: None })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(version: &str, env: Option<Environment>) -> StepInput {
        StepInput {
            release_key: "R".into(),
            deploy_key: "R:app".into(),
            container_id: "app".into(),
            container_version: version.into(),
            git_url: "https://example.com/app.git".into(),
            env,
            error_rate: None,
        }
    }

    /// Each step acts once; repeating it finds the effect in place and logs nothing.
    #[test]
    fn steps_are_idempotent_by_validation() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReleaseStore::new(dir.path());
        let dev = Some(Environment::Dev);
        assert!(store.build(&step("1.0", None)).unwrap().acted);
        assert!(!store.build(&step("1.0", None)).unwrap().acted);
        assert!(store.deploy(&step("1.0", dev)).unwrap().acted);
        assert!(!store.deploy(&step("1.0", dev)).unwrap().acted);
        assert!(store.configure(&step("1.0", dev)).unwrap().acted);
        assert!(!store.configure(&step("1.0", dev)).unwrap().acted);
        assert!(store.check_running(&step("1.0", dev)).unwrap().is_ok());
        assert!(store.mark_verified(&step("1.0", dev)).unwrap().acted);
        assert!(!store.mark_verified(&step("1.0", dev)).unwrap().acted);
        let steps: Vec<_> = store.audit("DEV").unwrap().into_iter().map(|e| e.step).collect();
        assert_eq!(steps, ["deploy", "config", "verify"]);
        assert_eq!(store.audit(ARTIFACTORY).unwrap().len(), 1);
    }

    /// An effect whose log line was lost (worker killed in between) gets exactly one line from
    /// the retry.
    #[test]
    fn a_lost_audit_line_is_written_once_by_the_retry() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReleaseStore::new(dir.path());
        let dev = Some(Environment::Dev);
        store.build(&step("1.0", None)).unwrap();
        store.deploy(&step("1.0", dev)).unwrap();
        std::fs::write(dir.path().join("release/audit/DEV.log"), b"").unwrap();
        assert!(!store.deploy(&step("1.0", dev)).unwrap().acted);
        assert!(!store.deploy(&step("1.0", dev)).unwrap().acted);
        assert_eq!(store.audit("DEV").unwrap().len(), 1);
    }

    /// A deploy over an older version remembers it; a rollback restores it exactly once.
    #[test]
    fn rollback_restores_the_previous_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReleaseStore::new(dir.path());
        let qc = Some(Environment::Qc);
        for v in ["1.0", "1.1"] {
            store.build(&step(v, None)).unwrap();
            let outcome = store.deploy(&step(v, qc)).unwrap();
            if v == "1.1" {
                assert_eq!(outcome.previous_version.as_deref(), Some("1.0"));
            }
        }
        let back = store.rollback(&step("1.1", qc)).unwrap();
        assert_eq!((back.acted, back.previous_version.as_deref()), (true, Some("1.0")));
        assert!(!store.rollback(&step("1.1", qc)).unwrap().acted);
        assert_eq!(store.deployed(Environment::Qc, "app").unwrap().unwrap().version, "1.0");
        assert!(store.check_running(&step("1.0", qc)).unwrap().is_ok());
        // Without a predecessor, rolling back removes the container.
        store.deploy(&step("1.1", Some(Environment::Prod))).unwrap();
        assert!(store.rollback(&step("1.1", Some(Environment::Prod))).unwrap().acted);
        assert!(store.deployed(Environment::Prod, "app").unwrap().is_none());
    }

    /// A tampered artifact is not "already there": the deploy rewrites it.
    #[test]
    fn a_wrong_checksum_is_redeployed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReleaseStore::new(dir.path());
        let test = Some(Environment::Test);
        store.build(&step("2.0", None)).unwrap();
        store.deploy(&step("2.0", test)).unwrap();
        std::fs::write(dir.path().join("release/envs/TEST/app/artifact"), b"tampered").unwrap();
        assert!(store.check_running(&step("2.0", test)).unwrap().is_err());
        assert!(store.deploy(&step("2.0", test)).unwrap().acted);
        assert!(store.check_running(&step("2.0", test)).unwrap().is_ok());
    }

    /// Deploying what was never built is an error, not an empty environment.
    #[test]
    fn deploying_an_unbuilt_artifact_fails() {
        let dir = tempfile::tempdir().unwrap();
        let store = ReleaseStore::new(dir.path());
        assert!(matches!(store.deploy(&step("9.9", Some(Environment::Dev))), Err(StoreError::NotBuilt { .. })));
    }
}
