//! The one place that decides which failures are retryable. Type names are wire contracts: the
//! workflow's retry policies list the non-retryable ones by name, and histories record them.

use temporalio_sdk::activities::ActivityError;
use temporalio_sdk::ApplicationFailure;

/// The order cannot be made as given (never retried: the order is rejected).
pub const INVALID_ORDER: &str = "InvalidOrder";
/// An ingredient is out (never retried: the order is rejected, naming it).
pub const MISSING_INGREDIENT: &str = "MissingIngredient";
/// Burnt (never retried: the workflow makes the pizza again).
pub const OVERCOOKED: &str = "Overcooked";
/// The wrong pizza arrived (never retried: the workflow makes the pizza again).
pub const WRONG_ORDER: &str = "WrongOrder";
/// The dough hit the floor (retried).
pub const DOUGH_DROPPED: &str = "DoughDropped";
/// Undercooked (retried).
pub const UNDERCOOKED: &str = "Undercooked";
/// The driver forgot the address (retried).
pub const ADDRESS_FORGOTTEN: &str = "AddressForgotten";
/// Chaos (retried).
pub const INJECTED: &str = "InjectedFailure";
/// Checkpoint 1a's deliberate bug (retried: fixed by restarting the worker without it).
pub const KITCHEN_BUG: &str = "KitchenBug";

/// Types no retry can fix.
pub const NON_RETRYABLE: &[&str] = &[INVALID_ORDER, MISSING_INGREDIENT, OVERCOOKED, WRONG_ORDER];

/// An application failure of the given type; retryable unless listed in [`NON_RETRYABLE`].
pub fn failure(type_name: &str, message: impl Into<String>) -> ActivityError {
    ApplicationFailure::builder(message.into())
        .type_name(type_name.to_owned())
        .non_retryable(NON_RETRYABLE.contains(&type_name))
        .build()
        .into()
}
