//! Everything that crosses the Temporal boundary, in the seed's protobuf vocabulary
//! (`package gopherpizza.pizza.api.v1`), and the payload encodings the seed's clients put on the
//! wire (SEEDS_IN_CODE § SEED 002 § 10):
//!
//! - the order arrives as `json/plain` (the seed's Express API; enums as names **or numbers**),
//!   `json/protobuf` (the Go SDK) or `binary/protobuf`: [`parse_order_payload`] reads all three and
//!   names the field it refuses;
//! - `getOrderStatus` is answered as `json/protobuf` with `messageType
//!   gopherpizza.pizza.api.v1.PizzaOrderStatus`, `status` always present
//!   ([`PizzaOrderStatus::to_payload`]); a `json/plain` answer crashes the seed's API.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use temporalio_common::data_converters::RawValue;
use temporalio_common::protos::temporal::api::common::v1::Payload;

use ordo_core::RequestError;

/// Workflow type (the seed's Go function name).
pub const WORKFLOW_TYPE: &str = "PizzaWorkflow";
/// The seed's task queue.
pub const DEFAULT_TASK_QUEUE: &str = "gopherpizza";
/// The seed's query.
pub const STATUS_QUERY: &str = "getOrderStatus";
/// Search attribute holding the order's status name (Ordo's addition).
pub const ORDER_STATUS_ATTRIBUTE: &str = "orderStatus";
/// The typed key of [`ORDER_STATUS_ATTRIBUTE`].
pub const ORDER_STATUS: temporalio_common::search_attributes::SearchAttributeKey<String> =
    temporalio_common::search_attributes::SearchAttributeKey::keyword(ORDER_STATUS_ATTRIBUTE);

/// Protobuf message names (the `messageType` metadata of `json/protobuf` payloads).
pub mod message_type {
    /// The order.
    pub const ORDER_INFO: &str = "gopherpizza.pizza.api.v1.PizzaOrderInfo";
    /// The query answer.
    pub const ORDER_STATUS: &str = "gopherpizza.pizza.api.v1.PizzaOrderStatus";
}

/// Longest order id accepted (the seed's ids are `<id>--<uuid>`, about 50 characters).
pub const MAX_ID_LEN: usize = 200;
/// Most toppings on one pizza.
pub const MAX_TOPPINGS: usize = 20;
/// Longest topping name.
pub const MAX_TOPPING_LEN: usize = 60;

macro_rules! proto_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            #[default]
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in wire-number order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The protobuf enum name (`CRUST_GARLIC`).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The protobuf enum number.
            pub fn number(self) -> i32 {
                Self::ALL.iter().position(|v| *v == self).map_or(0, |i| i32::try_from(i).unwrap_or(0))
            }

            /// The value of a protobuf number.
            pub fn from_number(n: i64) -> Option<Self> {
                usize::try_from(n).ok().and_then(|i| Self::ALL.get(i).copied())
            }

            /// The value of a protobuf name (exact, as proto3-JSON requires).
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }

            /// Reads a proto3-JSON value: a name, a number, or absent/null (the default).
            pub fn from_json(value: Option<&Value>) -> Result<Self, RequestError> {
                let bad = |what: String| RequestError::new($field, what);
                match value {
                    None | Some(Value::Null) => Ok(Self::default()),
                    Some(Value::String(s)) => Self::from_name(s)
                        .ok_or_else(|| bad(format!("unknown value {s:?}; one of {}", Self::names()))),
                    Some(Value::Number(n)) => n
                        .as_i64()
                        .and_then(Self::from_number)
                        .ok_or_else(|| bad(format!("unknown value {n}; 0..={}", Self::ALL.len() - 1))),
                    Some(other) => Err(bad(format!("must be a name or a number, not {other}"))),
                }
            }

            fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(d)?;
                Self::from_json(Some(&value)).map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = RequestError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let value = match s.parse::<i64>() { Ok(n) => Value::from(n), Err(_) => Value::from(s) };
                Self::from_json(Some(&value))
            }
        }
    };
}

proto_enum!(
    /// The seed's `Crust`.
    Crust, "crust" {
        /// `CRUST_NORMAL` (0).
        Normal = "CRUST_NORMAL",
        /// `CRUST_THIN`.
        Thin = "CRUST_THIN",
        /// `CRUST_GARLIC`.
        Garlic = "CRUST_GARLIC",
        /// `CRUST_STUFFED`.
        Stuffed = "CRUST_STUFFED",
        /// `CRUST_GLUTEN_FREE`.
        GlutenFree = "CRUST_GLUTEN_FREE",
        /// `CRUST_PRETZEL`.
        Pretzel = "CRUST_PRETZEL",
    }
);

proto_enum!(
    /// The seed's `Cheese`.
    Cheese, "cheese" {
        /// `CHEESE_MOZZARELLA` (0).
        Mozzarella = "CHEESE_MOZZARELLA",
        /// `CHEESE_CHEDDAR`.
        Cheddar = "CHEESE_CHEDDAR",
        /// `CHEESE_NONE`.
        None = "CHEESE_NONE",
        /// `CHEESE_ALL`.
        All = "CHEESE_ALL",
    }
);

proto_enum!(
    /// The seed's `OrderStatus`, plus Ordo's `ORDER_REJECTED` (7): an order that cannot be made,
    /// a business outcome with a reason.
    OrderStatus, "status" {
        /// `ORDER_RECEIVED` (0).
        Received = "ORDER_RECEIVED",
        /// `ORDER_PREPARING`.
        Preparing = "ORDER_PREPARING",
        /// `ORDER_BAKING`.
        Baking = "ORDER_BAKING",
        /// `ORDER_PENDING_PICKUP`: baked, waiting for a driver (observable, unlike in the seed).
        PendingPickup = "ORDER_PENDING_PICKUP",
        /// `ORDER_OUT_FOR_DELIVERY`.
        OutForDelivery = "ORDER_OUT_FOR_DELIVERY",
        /// `ORDER_DELIVERED`.
        Delivered = "ORDER_DELIVERED",
        /// `ORDER_UNKNOWN` (6): what the seed's API says when it cannot tell; Ordo's never says it of
        /// an order that exists.
        Unknown = "ORDER_UNKNOWN",
        /// `ORDER_REJECTED` (7, Ordo's): the order cannot be made (bad input, missing ingredient).
        Rejected = "ORDER_REJECTED",
    }
);

impl OrderStatus {
    /// The order is over (delivered or rejected).
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Rejected)
    }
}

/// The seed's `PizzaOrderInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PizzaOrderInfo {
    /// Order id; the seed's API rewrites it to the workflow id (`<id>--<uuid>`).
    pub id: String,
    /// The crust.
    pub crust: Crust,
    /// The cheese.
    pub cheese: Cheese,
    /// Toppings, by name (the seed's UI offers about 170).
    pub toppings: Vec<String>,
}

impl PizzaOrderInfo {
    /// An order known only by its id (what visibility knows of it).
    pub fn with_id(id: &str) -> Self {
        Self { id: id.to_owned(), ..Default::default() }
    }

    /// Reads proto3-JSON (`id`, `crust`, `cheese`, `toppings`; enums as names or numbers; absent
    /// fields take their defaults), naming the field it refuses. Other fields are ignored, as the
    /// seed's clients may send more than the message holds.
    pub fn from_json(value: &Value) -> Result<Self, RequestError> {
        let Value::Object(map) = value else {
            return Err(RequestError::new("order", format!("must be a JSON object, not {}", kind(value))));
        };
        let id = match map.get("id") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(RequestError::new("id", format!("must be a string, not {}", kind(other)))),
        };
        let toppings = match map.get("toppings") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > MAX_TOPPINGS {
                    return Err(RequestError::new(
                        "toppings",
                        format!("at most {MAX_TOPPINGS} toppings, not {}", items.len()),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match t {
                        Value::String(s) => Ok(s.clone()),
                        other => Err(RequestError::new(
                            &format!("toppings[{i}]"),
                            format!("must be a string, not {}", kind(other)),
                        )),
                    })
                    .collect::<Result<_, _>>()?
            }
            Some(other) => {
                return Err(RequestError::new("toppings", format!("must be an array of strings, not {}", kind(other))))
            }
        };
        Ok(Self {
            id,
            crust: Crust::from_json(map.get("crust"))?,
            cheese: Cheese::from_json(map.get("cheese"))?,
            toppings,
        })
    }
}

/// The name of a JSON value's type, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The seed's `PizzaOrderStatus`, the answer of `getOrderStatus`, plus Ordo's `reason` (only
/// present on a rejected order, so every answer the seed's clients can understand has exactly the
/// seed's fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PizzaOrderStatus {
    /// Where the order is (always present on the wire, unlike proto3's default omission).
    pub status: OrderStatus,
    /// The order.
    #[serde(default)]
    pub order: PizzaOrderInfo,
    /// The run answering.
    #[serde(default)]
    pub run_id: String,
    /// Why an order was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PizzaOrderStatus {
    /// The answer as the seed's Go worker gave it: `json/protobuf`, `messageType
    /// gopherpizza.pizza.api.v1.PizzaOrderStatus`, enums as names.
    pub fn to_payload(&self) -> RawValue {
        RawValue::new(vec![json_protobuf(self, message_type::ORDER_STATUS)])
    }

    /// Reads an answer in any JSON encoding (`json/protobuf` from Ordo or the seed's Go worker,
    /// `json/plain` otherwise).
    pub fn from_payload(payload: &Payload) -> Result<Self, RequestError> {
        match encoding(payload) {
            Some("json/plain" | "json/protobuf") => {
                serde_json::from_slice(&payload.data).map_err(RequestError::from_serde)
            }
            other => Err(RequestError::new("status", format!("cannot read a {other:?} payload"))),
        }
    }
}

/// Ordo's extension of the order input (field `kitchen`): how long each step takes and how often
/// each failure mode strikes, so tests pass milliseconds and demos seconds. Every field is
/// optional; rates are probabilities in `0..=1`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Kitchen {
    /// Time to prepare, ms (default 2,000).
    pub prepare_ms: Option<u64>,
    /// Time to bake, ms (default 3,000).
    pub bake_ms: Option<u64>,
    /// Time the pizza waits for a driver (`ORDER_PENDING_PICKUP`), ms (default 1,000).
    pub pickup_ms: Option<u64>,
    /// Time to deliver, ms (default 3,000).
    pub deliver_ms: Option<u64>,
    /// First retry interval of every step, ms (default 1,000, the seed's).
    pub retry_ms: Option<u64>,
    /// Heartbeat timeout of the delivery, ms (default 2,000): how soon a driver who quit is noticed.
    pub heartbeat_ms: Option<u64>,
    /// Failure-mode rates.
    pub faults: Faults,
}

impl Kitchen {
    /// Every step `ms` long and retries after `ms` (at least 10): what tests and quick demos use.
    pub fn quick(ms: u64) -> Self {
        Self {
            prepare_ms: Some(ms),
            bake_ms: Some(ms),
            pickup_ms: Some(ms),
            deliver_ms: Some(ms),
            retry_ms: Some(ms.clamp(10, 60_000)),
            heartbeat_ms: None,
            faults: Faults::default(),
        }
    }
}

/// How often each of the seed's failure modes strikes (each `0..=1`, default 0). Retryable modes
/// strike only on a step's first attempt and compensating modes only on the first make, so any
/// rate ends in a delivered or rejected order; [`Faults::failure`] (chaos) strikes on any attempt.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Prepare: an ingredient is out (non-retryable: the order is rejected, naming it).
    pub missing_ingredient: Option<f64>,
    /// Prepare: the dough hit the floor (retryable).
    pub dough_dropped: Option<f64>,
    /// Bake: undercooked (retried once).
    pub undercooked: Option<f64>,
    /// Bake: overcooked (compensation: back to prepare).
    pub overcooked: Option<f64>,
    /// Deliver: the driver forgot the address (retryable).
    pub address_forgotten: Option<f64>,
    /// Deliver: the driver got lost (slow, heartbeating, arrives).
    pub driver_lost: Option<f64>,
    /// Deliver: the driver quit (stops heartbeating: heartbeat timeout, another driver).
    pub driver_quit: Option<f64>,
    /// Deliver: the wrong pizza was delivered (compensation: back to prepare).
    pub wrong_order: Option<f64>,
    /// Any step: an injected retryable failure (chaos), on any attempt.
    pub failure: Option<f64>,
}

/// The workflow's input as read from the payload: the order and Ordo's kitchen knobs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OrderRequest {
    /// The seed's order.
    #[serde(flatten)]
    pub order: PizzaOrderInfo,
    /// Ordo's knobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kitchen: Option<Kitchen>,
}

impl OrderRequest {
    /// A `json/plain` payload of this request (what Ordo's client starts orders with; enums as
    /// names).
    pub fn to_payload(&self) -> RawValue {
        let data = serde_json::to_vec(self).unwrap_or_default();
        RawValue::new(vec![Payload {
            metadata: HashMap::from([("encoding".to_owned(), b"json/plain".to_vec())]),
            data,
            external_payloads: vec![],
        }])
    }
}

/// The value of a payload's `encoding` metadata.
pub fn encoding(payload: &Payload) -> Option<&str> {
    payload.metadata.get("encoding").and_then(|v| std::str::from_utf8(v).ok())
}

/// A `json/protobuf` payload of `value` with `messageType`.
fn json_protobuf(value: &impl Serialize, message: &str) -> Payload {
    Payload {
        metadata: HashMap::from([
            ("encoding".to_owned(), b"json/protobuf".to_vec()),
            ("messageType".to_owned(), message.as_bytes().to_vec()),
        ]),
        data: serde_json::to_vec(value).unwrap_or_default(),
        external_payloads: vec![],
    }
}

/// `PizzaOrderInfo` as protobuf, for `binary/protobuf` inputs.
#[derive(Clone, PartialEq, prost::Message)]
struct PizzaOrderInfoProto {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(int32, tag = "2")]
    crust: i32,
    #[prost(int32, tag = "3")]
    cheese: i32,
    #[prost(string, repeated, tag = "4")]
    toppings: Vec<String>,
}

/// Reads the workflow input from whatever encoding a client used (`json/plain`, `json/protobuf`,
/// `binary/protobuf`), naming the field it refuses; the `kitchen` knobs only from JSON.
pub fn parse_order_payload(payloads: &[Payload]) -> Result<OrderRequest, RequestError> {
    let [payload] = payloads else {
        return Err(RequestError::new("input", format!("expected one argument, got {}", payloads.len())));
    };
    match encoding(payload) {
        Some("json/plain" | "json/protobuf") => {
            let value: Value = serde_json::from_slice(&payload.data)
                .map_err(|e| RequestError::new("input", format!("not JSON: {e}")))?;
            parse_order_json(&value)
        }
        Some("binary/protobuf") => {
            let proto = <PizzaOrderInfoProto as prost::Message>::decode(payload.data.as_slice())
                .map_err(|e| RequestError::new("input", format!("not a PizzaOrderInfo: {e}")))?;
            let order = PizzaOrderInfo {
                id: proto.id,
                crust: Crust::from_json(Some(&Value::from(proto.crust)))?,
                cheese: Cheese::from_json(Some(&Value::from(proto.cheese)))?,
                toppings: proto.toppings,
            };
            if order.toppings.len() > MAX_TOPPINGS {
                return Err(RequestError::new("toppings", format!("at most {MAX_TOPPINGS} toppings")));
            }
            Ok(OrderRequest { order, kitchen: None })
        }
        other => Err(RequestError::new("input", format!("unsupported payload encoding {other:?}"))),
    }
}

/// Reads the order and the optional `kitchen` knobs from proto3-JSON.
pub fn parse_order_json(value: &Value) -> Result<OrderRequest, RequestError> {
    let order = PizzaOrderInfo::from_json(value)?;
    let kitchen = match value.get("kitchen") {
        None | Some(Value::Null) => None,
        Some(k) => Some(serde_json::from_value::<Kitchen>(k.clone()).map_err(|e| {
            let inner = RequestError::from_serde(e);
            let field = if inner.field == "input" { "kitchen".to_owned() } else { format!("kitchen.{}", inner.field) };
            RequestError { field, reason: inner.reason }
        })?),
    };
    Ok(OrderRequest { order, kitchen })
}

/// Input of every kitchen activity: the order, the knobs, and which make this is (0 = first;
/// each compensation back to prepare makes it again).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KitchenStep {
    /// The order.
    pub order: PizzaOrderInfo,
    /// The knobs in force.
    pub kitchen: Kitchen,
    /// Which make of the pizza (0 = the first).
    pub make: u32,
}

/// What the workflow returns: the final status (the seed returned nothing; its clients never read
/// the result).
pub type OrderOutcome = PizzaOrderStatus;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Enums are read as the seed's clients send them: names or numbers (the Express API sends
    /// `"crust": 2`); anything else names the field.
    #[test]
    fn enums_are_read_by_name_or_number() {
        let order = PizzaOrderInfo::from_json(&json!({"id": "a", "crust": 2, "cheese": "CHEESE_ALL"})).unwrap();
        assert_eq!(order.crust, Crust::Garlic);
        assert_eq!(order.cheese, Cheese::All);
        let defaults = PizzaOrderInfo::from_json(&json!({"id": "b"})).unwrap();
        assert_eq!((defaults.crust, defaults.cheese), (Crust::Normal, Cheese::Mozzarella));
        assert_eq!(PizzaOrderInfo::from_json(&json!({"crust": "CRUST_DEEP"})).unwrap_err().field, "crust");
        assert_eq!(PizzaOrderInfo::from_json(&json!({"cheese": 9})).unwrap_err().field, "cheese");
        assert_eq!(PizzaOrderInfo::from_json(&json!({"crust": true})).unwrap_err().field, "crust");
        assert_eq!(OrderStatus::Rejected.number(), 7);
        assert_eq!(OrderStatus::from_number(6), Some(OrderStatus::Unknown));
    }

    /// Wrong types and too many toppings name the field; the check happens before anything
    /// else reads the list.
    #[test]
    fn bad_fields_are_named() {
        let many: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
        assert_eq!(PizzaOrderInfo::from_json(&json!({"toppings": many})).unwrap_err().field, "toppings");
        assert_eq!(PizzaOrderInfo::from_json(&json!({"toppings": ["a", 3]})).unwrap_err().field, "toppings[1]");
        assert_eq!(PizzaOrderInfo::from_json(&json!({"id": 5})).unwrap_err().field, "id");
        assert_eq!(PizzaOrderInfo::from_json(&json!([1])).unwrap_err().field, "order");
        let err = parse_order_json(&json!({"id": "a", "kitchen": {"bakeMs": "x"}})).unwrap_err();
        assert!(err.field.starts_with("kitchen"), "{err}");
        let err = parse_order_json(&json!({"id": "a", "kitchen": {"faults": {"nope": 1}}})).unwrap_err();
        assert!(err.field.contains("nope"), "{err}");
    }

    /// The query answer is `json/protobuf` with the seed's message type and always has `status`.
    #[test]
    fn the_status_answer_is_json_protobuf_with_the_message_type() {
        let answer = PizzaOrderStatus { run_id: "r".into(), ..Default::default() }.to_payload();
        let payload = &answer.payloads[0];
        assert_eq!(encoding(payload), Some("json/protobuf"));
        assert_eq!(payload.metadata["messageType"], message_type::ORDER_STATUS.as_bytes());
        let json: Value = serde_json::from_slice(&payload.data).unwrap();
        assert_eq!(
            json,
            json!({"status": "ORDER_RECEIVED", "order": {"id": "", "crust": "CRUST_NORMAL", "cheese": "CHEESE_MOZZARELLA", "toppings": []}, "runId": "r"})
        );
        assert_eq!(PizzaOrderStatus::from_payload(payload).unwrap().run_id, "r");
    }

    /// All three input encodings are read: `json/plain` (seed API), `json/protobuf` (Go SDK),
    /// `binary/protobuf`.
    #[test]
    fn every_input_encoding_is_read() {
        let json = br#"{"id":"x--1","crust":"CRUST_PRETZEL","cheese":1,"toppings":["olives"]}"#.to_vec();
        for enc in ["json/plain", "json/protobuf"] {
            let p = Payload {
                metadata: HashMap::from([("encoding".to_owned(), enc.as_bytes().to_vec())]),
                data: json.clone(),
                external_payloads: vec![],
            };
            let request = parse_order_payload(&[p]).unwrap();
            assert_eq!(request.order.crust, Crust::Pretzel);
            assert_eq!(request.order.cheese, Cheese::Cheddar);
        }
        let proto = PizzaOrderInfoProto { id: "p".into(), crust: 3, cheese: 2, toppings: vec!["ham".into()] };
        let p = Payload {
            metadata: HashMap::from([("encoding".to_owned(), b"binary/protobuf".to_vec())]),
            data: prost::Message::encode_to_vec(&proto),
            external_payloads: vec![],
        };
        let request = parse_order_payload(&[p]).unwrap();
        assert_eq!((request.order.crust, request.order.cheese), (Crust::Stuffed, Cheese::None));
        let garbage = Payload { metadata: HashMap::new(), data: vec![1], external_payloads: vec![] };
        assert_eq!(parse_order_payload(&[garbage]).unwrap_err().field, "input");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;

    /// A random JSON value of bounded depth, biased towards the order's own field names.
    fn value(depth: u32) -> Value {
        let keys = ["id", "crust", "cheese", "toppings", "kitchen", "faults", "bakeMs", "retryMs", "failure", "x"];
        match fastrand::u8(..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(fastrand::bool()),
            2 => Value::from(fastrand::i64(-3..12)),
            3 => Value::from(fastrand::f64() * 1e12 - 5e11),
            4 => Value::from(["CRUST_THIN", "CHEESE_ALL", "", "ÿ", "\u{0}"][fastrand::usize(..5)]),
            5 => Value::Array((0..fastrand::usize(..30)).map(|_| value(depth - 1)).collect()),
            _ => Value::Object(
                (0..fastrand::usize(..6))
                    .map(|_| (keys[fastrand::usize(..keys.len())].to_owned(), value(depth - 1)))
                    .collect(),
            ),
        }
    }

    /// Whatever JSON arrives, reading and checking it returns a value or an error naming a field;
    /// it never panics (the workflow reads its input with these).
    #[test]
    fn arbitrary_json_never_panics_the_reader() {
        fastrand::seed(2);
        for _ in 0..20_000 {
            let input = value(3);
            if let Ok(request) = parse_order_json(&input) {
                let _ = crate::policy::check_order(&request.order);
                if let Some(kitchen) = &request.kitchen {
                    if crate::policy::check_kitchen(kitchen).is_ok() {
                        let _ = crate::policy::Timings::of(kitchen);
                    }
                }
            } else if let Err(e) = parse_order_json(&input) {
                assert!(!e.field.is_empty(), "{e}");
            }
        }
    }
}
