//! The host list: which domains `ordo worker` and `ordo up` can run, and their settings. Adding a
//! domain is one variant here, one flattened `Args` and one arm in [`DomainArgs::build`].

use ordo_core::{Domain, HostSettings, SearchAttributeSpec};
use ordo_iac::settings::IacArgs;

/// A domain a worker can host (`--domains`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DomainName {
    /// Infrastructure provisioning (seed 001).
    Provision,
    /// Application requests with a human authorization (seed 000).
    Application,
    /// Pizza orders (seed 002, GopherPizza).
    Orders,
    /// Releases through DEV → TEST → QC → PROD (seed 003).
    Release,
    /// EMCO lifecycle hooks and their reference migration (seed 004).
    Hooks,
}

impl DomainName {
    /// Every domain: what a worker hosts by default.
    pub(crate) const ALL: &[DomainName] =
        &[DomainName::Provision, DomainName::Application, DomainName::Orders, DomainName::Release, DomainName::Hooks];

    /// The search attributes the domain writes (known without building it).
    pub(crate) fn search_attributes(self) -> &'static [SearchAttributeSpec] {
        match self {
            DomainName::Provision => ordo_provision::SEARCH_ATTRIBUTES,
            DomainName::Application => ordo_application::SEARCH_ATTRIBUTES,
            DomainName::Orders => ordo_orders::SEARCH_ATTRIBUTES,
            DomainName::Release => ordo_release::SEARCH_ATTRIBUTES,
            DomainName::Hooks => ordo_hooks::SEARCH_ATTRIBUTES,
        }
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum as _;
        f.write_str(self.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default().as_str())
    }
}

/// Every domain's worker settings, and the IaC settings the IaC domains share.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DomainArgs {
    #[command(flatten)]
    pub(crate) iac: IacArgs,
    #[command(flatten)]
    pub(crate) provision: ordo_provision::ProvisionArgs,
    #[command(flatten)]
    pub(crate) application: ordo_application::ApplicationArgs,
    #[command(flatten)]
    pub(crate) orders: ordo_orders::OrdersArgs,
    #[command(flatten)]
    pub(crate) release: ordo_release::ReleaseArgs,
    #[command(flatten)]
    pub(crate) hooks: ordo_hooks::HooksArgs,
}

impl DomainArgs {
    /// Builds the `selected` domains (each once, in the order given), checking their settings.
    pub(crate) fn build(&self, selected: &[DomainName], host: &HostSettings) -> anyhow::Result<Vec<Box<dyn Domain>>> {
        // Only the IaC domains need an IaC root: `--domains orders` runs without one.
        let iac = || self.iac.settings(&host.data_dir);
        let mut domains: Vec<Box<dyn Domain>> = Vec::new();
        let mut seen = Vec::new();
        for name in selected {
            if seen.contains(name) {
                continue;
            }
            seen.push(*name);
            domains.push(match name {
                DomainName::Provision => Box::new(self.provision.domain(host, &iac()?)?),
                DomainName::Application => Box::new(self.application.domain(host, &iac()?)?),
                DomainName::Orders => Box::new(self.orders.domain(host)),
                DomainName::Release => Box::new(self.release.domain(host)?),
                DomainName::Hooks => Box::new(self.hooks.domain(host)),
            });
        }
        Ok(domains)
    }
}
