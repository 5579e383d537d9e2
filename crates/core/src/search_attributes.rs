//! Registration of the custom search attributes the hosted domains declare
//! ([`crate::domain::Domain::search_attributes`]), so their upserts and visibility queries work.
//!
//! A workflow that upserts an attribute the namespace lacks fails its workflow task with
//! `BadSearchAttributes`, forever: a worker therefore checks before it polls, registers what is
//! missing when it may, and otherwise refuses to start with the command that registers them.

use std::collections::HashMap;

use temporalio_client::grpc::OperatorService;
use temporalio_client::tonic::{Code, Request};
use temporalio_client::Client;
use temporalio_common::protos::temporal::api::enums::v1::IndexedValueType;
use temporalio_common::protos::temporal::api::operatorservice::v1::{
    AddSearchAttributesRequest, ListSearchAttributesRequest,
};

use crate::domain::SearchAttributeSpec;

/// What registration found, attribute by attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Newly created with the declared type.
    Created(String),
    /// Already there with the declared type.
    Present(String),
    /// Already there with another type: reported, not fatal (seed 001 created its attributes as Text).
    OtherType {
        /// The attribute.
        name: String,
        /// Its existing type.
        existing: String,
    },
}

/// Attributes a namespace lacks and this process could not (or may not) create.
#[derive(Debug, thiserror::Error)]
#[error(
    "namespace {namespace:?} lacks the search attributes {names}{cause}; register them with `ordo search-attributes` \
     (as a namespace admin) or `{command}`",
    names = .missing.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
    cause = .cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(),
    command = temporal_command(.namespace, .missing)
)]
pub struct MissingAttributes {
    /// The namespace.
    pub namespace: String,
    /// What is missing.
    pub missing: Vec<SearchAttributeSpec>,
    /// Why registering failed, when it was tried.
    pub cause: Option<String>,
}

/// The `temporal operator search-attribute create` line that registers `missing`.
pub fn temporal_command(namespace: &str, missing: &[SearchAttributeSpec]) -> String {
    let mut line = format!("temporal operator search-attribute create --namespace {namespace}");
    for spec in missing {
        line.push_str(&format!(" --name {} --type {}", spec.name, type_name(spec.kind)));
    }
    line
}

/// The CLI's name of a type (`Keyword`, `Int`, …).
fn type_name(kind: IndexedValueType) -> &'static str {
    match kind {
        IndexedValueType::Text => "Text",
        IndexedValueType::Keyword => "Keyword",
        IndexedValueType::Int => "Int",
        IndexedValueType::Double => "Double",
        IndexedValueType::Bool => "Bool",
        IndexedValueType::Datetime => "Datetime",
        IndexedValueType::KeywordList => "KeywordList",
        IndexedValueType::Unspecified => "Unspecified",
    }
}

/// Compares `specs` with what `namespace` has: the report of what is there, and what is missing.
async fn survey(
    client: &Client,
    namespace: &str,
    specs: &[SearchAttributeSpec],
) -> anyhow::Result<(Vec<Registration>, Vec<SearchAttributeSpec>)> {
    let existing = client
        .clone()
        .list_search_attributes(Request::new(ListSearchAttributesRequest { namespace: namespace.to_owned() }))
        .await?
        .into_inner()
        .custom_attributes;
    let mut report = Vec::new();
    let mut missing = Vec::new();
    for spec in specs {
        match existing.get(spec.name).map(|t| IndexedValueType::try_from(*t)) {
            Some(Ok(kind)) if kind == spec.kind => report.push(Registration::Present(spec.name.to_owned())),
            Some(other) => report.push(Registration::OtherType {
                name: spec.name.to_owned(),
                existing: other.map(|t| type_name(t).to_owned()).unwrap_or_else(|_| "unknown".into()),
            }),
            None => missing.push(*spec),
        }
    }
    Ok((report, missing))
}

/// Creates each attribute of `specs` that `namespace` lacks.
pub async fn register(
    client: &Client,
    namespace: &str,
    specs: &[SearchAttributeSpec],
) -> Result<Vec<Registration>, MissingAttributes> {
    ensure(client, namespace, specs, true).await
}

/// Checks that `namespace` has every attribute of `specs`; creates the missing ones when `may_register`.
/// Fails naming what is missing (and the command that registers it) when they cannot be created.
pub async fn ensure(
    client: &Client,
    namespace: &str,
    specs: &[SearchAttributeSpec],
    may_register: bool,
) -> Result<Vec<Registration>, MissingAttributes> {
    let unreadable = |cause: String| MissingAttributes {
        namespace: namespace.to_owned(),
        missing: specs.to_vec(),
        cause: Some(format!("could not list them: {cause}")),
    };
    let (mut report, missing) = survey(client, namespace, specs).await.map_err(|e| unreadable(format!("{e:#}")))?;
    if missing.is_empty() {
        return Ok(report);
    }
    if !may_register {
        return Err(MissingAttributes { namespace: namespace.to_owned(), missing, cause: None });
    }
    let request = AddSearchAttributesRequest {
        search_attributes: missing.iter().map(|s| (s.name.to_owned(), s.kind as i32)).collect::<HashMap<_, _>>(),
        namespace: namespace.to_owned(),
    };
    match client.clone().add_search_attributes(Request::new(request)).await {
        Ok(_) => {}
        // Another worker registered them first.
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => {
            return Err(MissingAttributes {
                namespace: namespace.to_owned(),
                missing,
                cause: Some(format!("registering them failed: {}", status.message())),
            })
        }
    }
    report.extend(missing.iter().map(|s| Registration::Created(s.name.to_owned())));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal names every missing attribute and the exact CLI line that registers them.
    #[test]
    fn a_missing_attribute_error_names_them_and_the_command() {
        let err = MissingAttributes {
            namespace: "prod".into(),
            missing: vec![SearchAttributeSpec::keyword("provisionStatus"), SearchAttributeSpec::int("attempts")],
            cause: None,
        };
        let text = err.to_string();
        assert!(text.contains("provisionStatus, attempts"), "{text}");
        assert!(
            text.contains("temporal operator search-attribute create --namespace prod --name provisionStatus --type Keyword --name attempts --type Int"),
            "{text}"
        );
    }
}
