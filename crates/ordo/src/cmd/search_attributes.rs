//! `ordo search-attributes`: checks that the namespace has every search attribute the selected
//! domains write, and registers the missing ones unless `--check` (exit 1 naming them instead).

use std::process::ExitCode;

use ordo_core::search_attributes::{self, Registration};

use super::domains::DomainName;

/// `ordo search-attributes` settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SearchAttributesArgs {
    /// Only check: list what is missing and exit 1, change nothing.
    #[arg(long)]
    check: bool,
    /// The domains whose attributes to check, comma-separated.
    #[arg(long, env = "ORDO_DOMAINS", value_delimiter = ',', default_values_t = DomainName::ALL.to_vec())]
    domains: Vec<DomainName>,
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, args: SearchAttributesArgs) -> anyhow::Result<ExitCode> {
    let specs = ordo_core::domain::union(args.domains.iter().map(|d| d.search_attributes()));
    let client = ordo_core::connect(&temporal).await?;
    let namespace = &temporal.namespace;
    match search_attributes::ensure(&client, namespace, &specs, !args.check).await {
        Ok(report) => {
            for registration in report {
                match registration {
                    Registration::Created(name) => println!("{name}\tcreated"),
                    Registration::Present(name) => println!("{name}\tpresent"),
                    Registration::OtherType { name, existing } => println!("{name}\tpresent as {existing}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(missing) if args.check => {
            eprintln!("{missing}");
            Ok(ExitCode::FAILURE)
        }
        Err(missing) => Err(missing.into()),
    }
}
