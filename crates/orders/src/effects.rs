//! The kitchen's effects, applied once. Each successful step of each make of an order leaves one
//! marker file, `<dir>/<order>/<step>-<make>`, created exclusively: an attempt that finds its
//! marker (an earlier attempt did the work, then its worker died before reporting it) does not
//! apply the effect again. The markers are the evidence a chaos run is checked against: one per
//! step per make, whatever was killed; each holds the process id of the worker that applied it.
//! Injected failures (chaos) are counted in the same directory, one byte each in `.injected`, and
//! attempts that found their step's effect already applied (and so did not apply it again) in
//! `.repeated` (no order's directory can be named so: see `file_name`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where the effects are recorded (shared by every worker on the machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    dir: PathBuf,
}

/// Whether a step's effect was applied now or had been before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Applied by this attempt.
    Now,
    /// An earlier attempt applied it; nothing was done again.
    Already,
}

impl Ledger {
    /// A ledger in `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The marker of `step` of make `make` of `order`.
    pub fn marker(&self, order: &str, step: &str, make: u32) -> PathBuf {
        self.dir.join(file_name(order)).join(format!("{step}-{make}"))
    }

    /// Applies the effect once: creates the marker unless it exists.
    pub fn apply(&self, order: &str, step: &str, make: u32) -> std::io::Result<Applied> {
        let marker = self.marker(order, step, make);
        if let Some(parent) = marker.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&marker) {
            Ok(mut file) => {
                writeln!(file, "{}", std::process::id())?;
                Ok(Applied::Now)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Applied::Already),
            Err(e) => Err(e),
        }
    }

    /// Counts one injected failure (chaos): one byte appended to `.injected`, which every worker
    /// on the machine shares (appends of one byte do not interleave).
    pub fn note_injected(&self) -> std::io::Result<()> {
        self.note(INJECTED)
    }

    /// Injected failures counted so far (0 when none was).
    pub fn injected(&self) -> u64 {
        self.count(INJECTED)
    }

    /// Counts one attempt that found its effect applied by an earlier one (and did nothing).
    pub fn note_repeated(&self) -> std::io::Result<()> {
        self.note(REPEATED)
    }

    /// Attempts so far that found their effect already applied.
    pub fn repeated(&self) -> u64 {
        self.count(REPEATED)
    }

    fn note(&self, counter: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(self.dir.join(counter))?;
        file.write_all(b".")
    }

    fn count(&self, counter: &str) -> u64 {
        std::fs::metadata(self.dir.join(counter)).map_or(0, |m| m.len())
    }

    /// The process ids that applied `order`'s effects (one per marker, in no particular order).
    pub fn appliers(&self, order: &str) -> std::io::Result<Vec<u32>> {
        let mut pids = Vec::new();
        for (step, make) in self.applied(order)? {
            let text = std::fs::read_to_string(self.marker(order, &step, make))?;
            pids.extend(text.trim().parse::<u32>().ok());
        }
        Ok(pids)
    }

    /// The markers of `order`: `(step, make)` pairs, sorted.
    pub fn applied(&self, order: &str) -> std::io::Result<Vec<(String, u32)>> {
        let dir = self.dir.join(file_name(order));
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some((step, make)) = name.rsplit_once('-') {
                if let Ok(make) = make.parse() {
                    found.push((step.to_owned(), make));
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

/// The file injected failures are counted in.
const INJECTED: &str = ".injected";
/// The file repeated applications (found applied, skipped) are counted in.
const REPEATED: &str = ".repeated";

/// An order id as one file name: letters, digits, `-`, `_`, `.` kept, anything else `_`.
fn file_name(order: &str) -> String {
    let name: String =
        order.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if name.starts_with('.') {
        format!("_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The second application of a step finds the first and does nothing; ids never escape the
    /// ledger's directory.
    #[test]
    fn an_effect_is_applied_once() {
        let dir = std::env::temp_dir().join(format!("ordo-ledger-{}", uuid::Uuid::new_v4()));
        let ledger = Ledger::new(&dir);
        assert_eq!(ledger.apply("a--1", "bake", 0).unwrap(), Applied::Now);
        assert_eq!(ledger.apply("a--1", "bake", 0).unwrap(), Applied::Already);
        assert_eq!(ledger.appliers("a--1").unwrap(), vec![std::process::id()]);
        assert_eq!(ledger.apply("a--1", "bake", 1).unwrap(), Applied::Now);
        assert_eq!(ledger.applied("a--1").unwrap(), vec![("bake".into(), 0), ("bake".into(), 1)]);
        assert!(ledger.marker("../x/..", "prepare", 0).starts_with(&dir));
        assert_eq!(file_name(".."), "_..");
        assert_eq!(file_name(INJECTED), "_.injected", "no order's directory is the failure count");
        assert_eq!(ledger.injected(), 0);
        ledger.note_injected().unwrap();
        ledger.note_injected().unwrap();
        assert_eq!(ledger.injected(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
