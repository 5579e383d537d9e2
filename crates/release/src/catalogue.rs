//! The release catalogue: what `collect_deploys` finds for a release key when a release is started
//! without deploys (the seed's `gather_deployments`). The built-in one is seed 003's six releases
//! (`examples/releases/catalogue.json`); a worker can load another file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{DeployInfo, ReleaseInfo};
use crate::rules;

/// The built-in catalogue file.
pub const BUILT_IN: &str = include_str!("../../../examples/releases/catalogue.json");

/// A catalogue of releases by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// The releases.
    pub releases: Vec<ReleaseInfo>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file cannot be read.
    #[error("reading {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The JSON does not parse.
    #[error("parsing the catalogue")]
    Json(#[source] serde_json::Error),
    /// A release breaks a rule.
    #[error("release {key}: {rejection}")]
    Invalid {
        /// The release key.
        key: String,
        /// The rule.
        rejection: crate::model::Rejection,
    },
}

impl Catalogue {
    /// Seed 003's six releases.
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN).expect("the built-in catalogue is valid")
    }

    /// Loads and checks a catalogue file.
    pub fn load(path: &Path) -> Result<Self, CatalogueError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogueError::Io { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Parses and checks catalogue JSON: every release passes the rules.
    pub fn parse(text: &str) -> Result<Self, CatalogueError> {
        let catalogue: Self = serde_json::from_str(text).map_err(CatalogueError::Json)?;
        for release in &catalogue.releases {
            rules::check_release(release)
                .map_err(|rejection| CatalogueError::Invalid { key: release.release_key.clone(), rejection })?;
        }
        Ok(catalogue)
    }

    /// The deploys of `release_key`, if it is in the catalogue.
    pub fn deploys(&self, release_key: &str) -> Option<Vec<DeployInfo>> {
        self.find(release_key).map(|r| r.deploys.clone())
    }

    /// The release `release_key`.
    pub fn find(&self, release_key: &str) -> Option<&ReleaseInfo> {
        self.releases.iter().find(|r| r.release_key == release_key)
    }

    /// The keys, in file order.
    pub fn keys(&self) -> Vec<&str> {
        self.releases.iter().map(|r| r.release_key.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in catalogue is the seed's six releases, each valid.
    #[test]
    fn built_in_has_the_seeds_six_releases() {
        let catalogue = Catalogue::built_in();
        assert_eq!(
            catalogue.keys(),
            [
                "RELEASE-NOV-23-INITIAL",
                "RELEASE-NOV-23-HOTFIX-STAGE",
                "RELEASE-DEC-2023-BUGFIXES-PROD",
                "RELEASE-JAN-24-ALPHA-DEV",
                "RELEASE-JAN-24-ALPHA-QC",
                "RELEASE-JAN-24-ALPHA-PROD",
            ]
        );
        let initial = catalogue.deploys("RELEASE-NOV-23-INITIAL").unwrap();
        assert_eq!(initial[0].deploy_key, "RELEASE-NOV-23-INITIAL:frontend");
        assert!(catalogue.deploys("RELEASE-JAN-24-ALPHA").is_none());
    }
}
