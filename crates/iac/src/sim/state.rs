//! Simulated state: per workspace, a `state.json` replaced atomically after every resource, and a
//! `flock`ed lock file the OS releases when the process dies.

use super::*;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct SimState {
    pub(super) serial: u64,
    #[serde(default)]
    pub(super) resources: BTreeMap<String, ResourceState>,
    #[serde(default)]
    pub(super) outputs: Outputs,
    #[serde(default)]
    pub(super) total_applies: u64,
    #[serde(default)]
    pub(super) total_destroys: u64,
    /// Plans applied (fully or partly), by plan hash.
    #[serde(default)]
    pub(super) applied_plans: BTreeMap<String, AppliedPlan>,
    /// Increases with every new applied-plan record; orders them for pruning.
    #[serde(default)]
    pub(super) plan_seq: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct ResourceState {
    #[serde(rename = "type")]
    pub(super) ty: String,
    pub(super) name: String,
    /// Attribute values as applied, references resolved, including the generated `id`.
    pub(super) values: Map<String, Value>,
    /// Addresses this resource referenced when last applied (destroy goes in reverse order).
    #[serde(default)]
    pub(super) depends_on: Vec<String>,
    #[serde(default)]
    pub(super) sensitive_attributes: Vec<String>,
    /// How many times an apply created or updated this resource.
    pub(super) apply_count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct AppliedPlan {
    /// Addresses this plan has applied, in order.
    pub(super) done: Vec<String>,
    /// Whether every change (and the outputs) of the plan is applied.
    pub(super) complete: bool,
    /// The state serial this plan's last write produced: a retry may only continue from there.
    pub(super) at_serial: u64,
    pub(super) seq: u64,
}

pub(super) fn dir_key(dir: &Path) -> String {
    sha256_hex(dir.to_string_lossy().as_bytes())[..16].to_owned()
}

pub(super) fn parse_state(path: &Path, bytes: &[u8]) -> Result<SimState, IacError> {
    serde_json::from_slice(bytes)
        .map_err(|e| IacError::Invalid(format!("simulated state {} is corrupt: {e}", path.display())))
}

/// One workspace's state files.
pub(super) struct StateFiles {
    pub(super) dir: PathBuf,
    pub(super) key: String,
}

impl StateFiles {
    pub(super) fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub(super) async fn load(&self) -> Result<SimState, IacError> {
        let path = self.state_path();
        match tokio::fs::read(&path).await {
            Ok(bytes) => parse_state(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SimState::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves `state` with the next serial. `plan` (a plan hash) records that this write is that
    /// plan's latest progress, which is what lets a retry of the same plan continue from here.
    pub(super) async fn save(&self, state: &mut SimState, plan: Option<&str>) -> Result<(), IacError> {
        state.serial += 1;
        let serial = state.serial;
        if let Some(record) = plan.and_then(|h| state.applied_plans.get_mut(h)) {
            record.at_serial = serial;
        }
        tokio::fs::create_dir_all(&self.dir).await?;
        let bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| IacError::Io(std::io::Error::other(format!("cannot encode simulated state: {e}"))))?;
        write_atomic(&self.state_path(), &bytes).await
    }

    /// The append-only journal of effects, next to the state.
    pub(super) fn effects_path(&self) -> PathBuf {
        self.dir.join("effects.log")
    }

    /// Appends one line to the effects journal *before* the effect is made: kept outside the
    /// state (which an apply rewrites and a retry resumes from), so a resource applied twice shows
    /// as two lines whatever the state says. One `O_APPEND` write per line.
    pub(super) fn record_effect(&self, action: &str, address: &str, plan: &str) -> Result<(), IacError> {
        std::fs::create_dir_all(&self.dir)?;
        let line = serde_json::json!({"action": action, "address": address, "plan": plan}).to_string() + "\n";
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(self.effects_path())?;
        file.write_all(line.as_bytes())?;
        Ok(())
    }

    /// The addresses plan `plan` already has lines for in the effects journal: a change of that
    /// plan whose effect was made but whose state was not saved (the worker died in between).
    pub(super) fn effects_of(&self, plan: &str) -> Result<BTreeSet<String>, IacError> {
        let text = match std::fs::read_to_string(self.effects_path()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(e) => return Err(e.into()),
        };
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str::<SimEffect>(line).ok())
            .filter(|effect| effect.plan == plan)
            .map(|effect| effect.address)
            .collect())
    }

    /// Takes the workspace's exclusive lock for a mutating operation, or reports who holds it.
    pub(super) fn lock(&self, owner: &str) -> Result<StateLock, IacError> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join("lock");
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                // Who holds it, for the other side's error message only; the flock is the lock.
                file.set_len(0)?;
                file.write_all(owner.as_bytes())?;
                Ok(StateLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = if holder.trim().is_empty() { "another operation" } else { holder.trim() };
                Err(IacError::Locked(format!("simulated workspace {} is in use by {holder}", self.key)))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

/// Held while applying or destroying; dropping the file releases the `flock`.
pub(super) struct StateLock {
    pub(super) _file: std::fs::File,
}

// ---------------------------------------------------------------------------------------------
// Plan file
