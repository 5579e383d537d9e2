//! Seed 002's client errors as HTTP responses.

use ordo_orders::OrdersError;

use crate::error::ApiError;

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::Invalid(e) => e.into(),
            OrdersError::NotFound(id) => Self::NotFound(format!("no order with id {id:?}")),
            OrdersError::Conflict(why) => Self::Conflict(why),
            OrdersError::Other(e) => Self::Internal(e),
        }
    }
}
