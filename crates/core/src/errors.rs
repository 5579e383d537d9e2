//! Errors every domain shares: a bad request naming its field, and how "no such workflow" is told
//! apart from other failures of a Temporal call.

/// A bad request, naming the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct RequestError {
    /// The offending field (`input` when the JSON itself is malformed).
    pub field: String,
    /// Why it is rejected.
    pub reason: String,
}

impl RequestError {
    /// `field` is rejected because of `reason`.
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self { field: field.to_owned(), reason: reason.into() }
    }

    /// A serde error as a request error: the field an "unknown field" or "missing field" message names
    /// (between backticks), else `input`; the reason is serde's message.
    pub fn from_serde(err: serde_json::Error) -> Self {
        let text = err.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("unknown field") || text.starts_with("missing field"))
            .unwrap_or("input")
            .to_owned();
        Self { field, reason: text }
    }
}

/// Whether a Temporal client error's text says the workflow (or run) does not exist. The client's
/// typed errors wrap the server's `NotFound` status in several shapes; its text is the one place
/// they all agree.
pub fn is_not_found(message: &str) -> bool {
    message.contains("not found") || message.contains("NotFound")
}
