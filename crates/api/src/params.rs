//! The checks of path and query parameters that several routes share, so the same parameter is
//! refused with the same field and reason wherever it appears.

use crate::error::ApiError;

/// The most rows a list route returns when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;
/// The most rows a list route returns at all.
const MAX_LIMIT: usize = 1000;

/// A workflow id as the API accepts it: short enough for Temporal's limits in any encoding.
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    check_text("id", id, 200)
}

/// 1 to `max` characters, none of them control characters (what the schemas' pattern says).
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::validation(field, format!("must be 1 to {max} characters, without control characters")));
    }
    Ok(())
}

/// A list route's `limit` query parameter: a whole number from 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`]
/// when absent.
pub(crate) fn list_limit(limit: Option<&str>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::validation("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))),
    }
}
