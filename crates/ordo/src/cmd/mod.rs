//! One module per command.

pub(crate) mod app;
pub(crate) mod codec_server;
pub(crate) mod domains;
pub(crate) mod hook;
pub(crate) mod input;
pub(crate) mod provision;
pub(crate) mod serve;
pub(crate) mod telemetry;
pub(crate) mod up;
pub(crate) mod worker;
