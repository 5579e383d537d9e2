//! Temporary IaC roots with one copy of a shipped stack per run.
//!
//! Ordo runs one run at a time per directory (the workspace lock), so concurrent runs need
//! distinct directories; and a run on a fresh directory always has the same work to do (create
//! every resource), which is also what makes a double apply visible in the sim state.

use std::path::{Path, PathBuf};

use crate::BenchError;

/// The namespace stack: policy passes, two resources.
pub const NAMESPACE_STACK: &str = "stacks/tcloud_namespace";
/// The admin-user stack: a soft policy failure, the run waits for approval.
pub const ADMIN_STACK: &str = "stacks/tcloud_admin_user";

/// An IaC root in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct IacRoot {
    dir: tempfile::TempDir,
    examples: PathBuf,
}

impl IacRoot {
    /// A new, empty root; stacks are copied from `examples` (the repository's `examples/`).
    pub fn new(examples: &Path) -> Result<Self, BenchError> {
        let stack = examples.join(NAMESPACE_STACK).join("stack.json");
        if !stack.is_file() {
            return Err(BenchError::Setup(format!(
                "{} not found: run from the repository root or pass --examples",
                stack.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("ordo-bench-iac-")
            .tempdir()
            .map_err(|e| BenchError::io("creating a temporary IaC root", e))?;
        Ok(Self { dir, examples: examples.to_path_buf() })
    }

    /// The root's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies `stack` (e.g. [`NAMESPACE_STACK`]) to `<prefix>/r00000` … for `count` runs; returns
    /// the directories relative to the root.
    pub fn copies(&self, stack: &str, prefix: &str, count: usize) -> Result<Vec<String>, BenchError> {
        let source = self.examples.join(stack).join("stack.json");
        let bytes = std::fs::read(&source).map_err(|e| BenchError::io(format!("reading {}", source.display()), e))?;
        (0..count)
            .map(|i| {
                let relative = format!("{prefix}/r{i:05}");
                let dir = self.dir.path().join(&relative);
                std::fs::create_dir_all(&dir)
                    .and_then(|()| std::fs::write(dir.join("stack.json"), &bytes))
                    .map_err(|e| BenchError::io(format!("writing {}", dir.display()), e))?;
                Ok(relative)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
    }

    /// Each copy is its own directory with the stack file in it.
    #[test]
    fn copies_are_distinct_directories() {
        let root = IacRoot::new(&examples()).unwrap();
        let dirs = root.copies(NAMESPACE_STACK, "t", 3).unwrap();
        assert_eq!(dirs, vec!["t/r00000", "t/r00001", "t/r00002"]);
        for d in &dirs {
            assert!(root.path().join(d).join("stack.json").is_file());
        }
    }

    /// A missing examples directory is a setup error that says where to run from.
    #[test]
    fn missing_examples_is_a_setup_error() {
        let err = IacRoot::new(Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("repository root"), "{err}");
    }
}
