//! Where IaC directories may live: every requested directory must resolve inside the worker's
//! configured root, after following symlinks, so a request cannot reach the rest of the disk.

use std::path::{Component, Path, PathBuf};

use crate::IacError;

/// Resolves `requested` (relative to `root`, or absolute) to a canonical directory inside `root`.
pub fn resolve(root: &Path, requested: &str) -> Result<PathBuf, IacError> {
    let root = root
        .canonicalize()
        .map_err(|e| IacError::Invalid(format!("IaC root {} is not usable: {e}", root.display())))?;
    let requested_path = Path::new(requested);
    if requested_path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(IacError::Invalid(format!("directory {requested:?} must not contain '..'")));
    }
    let joined = if requested_path.is_absolute() { requested_path.to_path_buf() } else { root.join(requested_path) };
    let dir = joined
        .canonicalize()
        .map_err(|_| IacError::Invalid(format!("directory {requested:?} does not exist under {}", root.display())))?;
    if !dir.starts_with(&root) {
        return Err(IacError::Invalid(format!("directory {requested:?} is outside the IaC root {}", root.display())));
    }
    if !dir.is_dir() {
        return Err(IacError::Invalid(format!("directory {requested:?} is not a directory")));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A relative directory inside the root resolves; `..`, absolute escapes and symlinks out are refused.
    #[test]
    fn directories_must_stay_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("stack")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();

        let ok = resolve(root.path(), "stack").unwrap();
        assert!(ok.ends_with("stack"));
        let outside_dir = outside.path().to_str().unwrap();
        // Each refusal for its own reason: a check that stopped holding would show another one.
        for (bad, why) in [
            ("../x", "must not contain '..'"),
            ("missing", "does not exist"),
            ("escape", "is outside the IaC root"),
            (outside_dir, "is outside the IaC root"),
        ] {
            let err = resolve(root.path(), bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: expected {why:?}, got {err}");
        }
        std::fs::write(root.path().join("file"), "").unwrap();
        let err = resolve(root.path(), "file").unwrap_err().to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }
}
