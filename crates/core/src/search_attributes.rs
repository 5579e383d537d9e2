//! Ordo's custom search attributes, registered on start-up so visibility queries work.

use temporalio_client::grpc::OperatorService;
use temporalio_client::tonic::Request;
use temporalio_client::Client;
use temporalio_common::protos::temporal::api::enums::v1::IndexedValueType;
use temporalio_common::protos::temporal::api::operatorservice::v1::{
    AddSearchAttributesRequest, ListSearchAttributesRequest,
};

/// The search attributes Ordo writes (all Keyword: exact-match filters in visibility queries).
pub const ORDO_SEARCH_ATTRIBUTES: &[&str] = &["provisionStatus", "tfDirectory", "scenario"];

/// What registration found, attribute by attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Newly created as Keyword.
    Created(String),
    /// Already there as Keyword.
    Present(String),
    /// Already there with another type: reported, not fatal (seed 001 created them as Text).
    OtherType {
        /// The attribute.
        name: String,
        /// Its existing type.
        existing: String,
    },
}

/// Creates each missing attribute as Keyword in `namespace`.
pub async fn register(client: &Client, namespace: &str) -> anyhow::Result<Vec<Registration>> {
    let mut service = client.clone();
    let existing = service
        .list_search_attributes(Request::new(ListSearchAttributesRequest { namespace: namespace.to_owned() }))
        .await?
        .into_inner()
        .custom_attributes;
    let mut report = Vec::new();
    let mut missing = std::collections::HashMap::new();
    for name in ORDO_SEARCH_ATTRIBUTES {
        match existing.get(*name).map(|t| IndexedValueType::try_from(*t)) {
            Some(Ok(IndexedValueType::Keyword)) => report.push(Registration::Present((*name).to_owned())),
            Some(other) => report.push(Registration::OtherType {
                name: (*name).to_owned(),
                existing: other.map(|t| t.as_str_name().to_owned()).unwrap_or_else(|_| "unknown".into()),
            }),
            None => {
                missing.insert((*name).to_owned(), IndexedValueType::Keyword as i32);
            }
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.keys().cloned().collect();
        service
            .add_search_attributes(Request::new(AddSearchAttributesRequest {
                search_attributes: missing,
                namespace: namespace.to_owned(),
            }))
            .await?;
        report.extend(names.into_iter().map(Registration::Created));
    }
    Ok(report)
}
