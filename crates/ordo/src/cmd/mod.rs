//! One module per command.

pub(crate) mod provision;
pub(crate) mod up;
pub(crate) mod worker;
