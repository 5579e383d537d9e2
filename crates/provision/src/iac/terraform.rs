//! Placeholder: filled in by the driver work.

use std::path::PathBuf;

use super::{ChangeSummary, IacError, Outputs, PlanArtifact, Progress, Workspace};
#[allow(unused_imports)]
use super::SimKnobs;

/// Driver.
#[derive(Debug, Clone)]
pub struct CliDriver {}

#[allow(unused_variables)]
impl CliDriver {
    /// Creates the driver.
    pub fn new(tool: &'static str, binary: PathBuf) -> Self {
        Self {}
    }
    /// init
    pub async fn init(&self, ws: &Workspace) -> Result<(), IacError> { unimplemented!() }
    /// plan
    pub async fn plan(&self, ws: &Workspace) -> Result<PlanArtifact, IacError> { unimplemented!() }
    /// apply
    pub async fn apply(&self, ws: &Workspace, plan_file: &[u8], progress: Progress) -> Result<ChangeSummary, IacError> { unimplemented!() }
    /// destroy
    pub async fn destroy(&self, ws: &Workspace, progress: Progress) -> Result<ChangeSummary, IacError> { unimplemented!() }
    /// output
    pub async fn output(&self, ws: &Workspace) -> Result<Outputs, IacError> { unimplemented!() }
}
