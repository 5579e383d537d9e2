//! The team directory the pre-flight check looks teams up in: a JSON file given to the worker
//! (`ordo worker --teams-file`), or a built-in demo table.
//!
//! ```json
//! {"teams": [{"id": "marketing", "name": "Marketing", "email": "marketing@example.com",
//!             "subdomain": "apps_marketing"}]}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::TeamInformation;

/// Why a teams file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TeamsError {
    /// The file cannot be read.
    #[error("cannot read the teams file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not the expected JSON.
    #[error("the teams file {path} is not valid")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The file parses but a team is unusable.
    #[error("the teams file {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamsFile {
    teams: Vec<TeamEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamEntry {
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    subdomain: Option<String>,
}

/// Teams by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDirectory {
    teams: BTreeMap<String, TeamInformation>,
    source: String,
}

impl TeamDirectory {
    /// The built-in demo table: `marketing` (the seed's subdomain), `payments`, `platform`, `data`.
    pub fn demo() -> Self {
        let teams = [("marketing", "Marketing"), ("payments", "Payments"), ("platform", "Platform"), ("data", "Data")]
            .into_iter()
            .map(|(id, name)| (id.to_owned(), team(id, name, None, None)))
            .collect();
        Self { teams, source: "the built-in demo teams".to_owned() }
    }

    /// Loads a teams file.
    pub fn load(path: &Path) -> Result<Self, TeamsError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| TeamsError::Read { path: path.to_path_buf(), source })?;
        let file: TeamsFile =
            serde_json::from_str(&text).map_err(|source| TeamsError::Parse { path: path.to_path_buf(), source })?;
        let invalid = |reason: String| TeamsError::Invalid { path: path.to_path_buf(), reason };
        let mut teams = BTreeMap::new();
        for entry in file.teams {
            let id_ok = !entry.id.is_empty()
                && entry.id.len() <= 64
                && entry.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !id_ok {
                return Err(invalid(format!("bad team id {:?}", entry.id)));
            }
            if entry.name.trim().is_empty() {
                return Err(invalid(format!("team {:?} has no name", entry.id)));
            }
            let info = team(&entry.id, &entry.name, entry.email, entry.subdomain);
            if teams.insert(entry.id.clone(), info).is_some() {
                return Err(invalid(format!("team {:?} is listed twice", entry.id)));
            }
        }
        if teams.is_empty() {
            return Err(invalid("lists no teams".to_owned()));
        }
        Ok(Self { teams, source: path.display().to_string() })
    }

    /// The team with this id.
    pub fn lookup(&self, team_id: &str) -> Option<TeamInformation> {
        self.teams.get(team_id).cloned()
    }

    /// The ids of every team, sorted.
    pub fn ids(&self) -> Vec<&str> {
        self.teams.keys().map(String::as_str).collect()
    }

    /// Where the teams come from (a path or "the built-in demo teams").
    pub fn source(&self) -> &str {
        &self.source
    }
}

fn team(id: &str, name: &str, email: Option<String>, subdomain: Option<String>) -> TeamInformation {
    TeamInformation {
        team_name: name.to_owned(),
        team_email: email.unwrap_or_else(|| format!("team-{id}@example.com")),
        subdomain: subdomain.unwrap_or_else(|| format!("apps_{}", id.replace(['-', '.'], "_"))),
        team_id: id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo table has the seed's marketing team with its subdomain.
    #[test]
    fn the_demo_table_has_the_seeds_team() {
        let demo = TeamDirectory::demo();
        let marketing = demo.lookup("marketing").unwrap();
        assert_eq!(marketing.subdomain, "apps_marketing");
        assert_eq!(marketing.team_email, "team-marketing@example.com");
        assert!(demo.lookup("nobody").is_none());
    }

    /// A file replaces the demo table; duplicates, bad ids and unknown fields are refused.
    #[test]
    fn a_teams_file_is_loaded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("teams.json");
        std::fs::write(&path, r#"{"teams": [{"id": "shop", "name": "Shop", "email": "shop@corp.example"}]}"#).unwrap();
        let teams = TeamDirectory::load(&path).unwrap();
        assert_eq!(teams.ids(), ["shop"]);
        assert_eq!(teams.lookup("shop").unwrap().team_email, "shop@corp.example");
        assert!(teams.lookup("marketing").is_none());

        for bad in [
            r#"{"teams": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}"#,
            r#"{"teams": [{"id": "a b", "name": "A"}]}"#,
            r#"{"teams": [{"id": "a", "name": "A", "colour": "red"}]}"#,
            r#"{"teams": []}"#,
            "not json",
        ] {
            std::fs::write(&path, bad).unwrap();
            assert!(TeamDirectory::load(&path).is_err(), "{bad}");
        }
    }
}
