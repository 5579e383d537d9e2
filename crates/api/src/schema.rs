//! OpenAPI schemas of `ordo-iac` types that several domains return as they are. The domains'
//! own types are described in their modules (`provision/schema.rs`, `application/schema.rs`).
#![allow(dead_code)]

use utoipa::ToSchema;

/// An output value (`terraform output -json` shape).
#[derive(ToSchema)]
#[schema(as = OutputValue)]
pub(crate) struct OutputValueDoc {
    sensitive: bool,
    /// Terraform type expression.
    #[schema(rename = "type")]
    ty: serde_json::Value,
    /// The value, or `"<sensitive>"`.
    value: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ordo_iac::OutputValue;
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    use utoipa::PartialSchema;

    use super::*;

    /// Every field an output value serialises is described, and nothing else.
    #[test]
    fn documented_output_value_matches_the_serialised_type() {
        let RefOr::T(Schema::Object(object)) = OutputValueDoc::schema() else { panic!("an object schema") };
        let documented: BTreeSet<String> = object.properties.keys().cloned().collect();
        let output = OutputValue { sensitive: false, ty: "string".into(), value: "b".into() };
        let json = serde_json::to_value(&output).unwrap();
        let serialised: BTreeSet<String> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(documented, serialised);
    }
}
