//! Ordo's payload codecs: what turns workflow inputs, results, signals and failure messages into
//! ciphertext before they reach Temporal, and back again in workers, clients, replayers and the
//! codec server that the Temporal Web UI and `temporal … --codec-endpoint` call.
//!
//! The wire formats are seed 001's, so histories written by its Python demo and by Ordo decrypt
//! with either:
//! - encryption: the whole `temporal.api.common.v1.Payload` is serialized (protobuf), sealed with
//!   AES-256-GCM (no associated data) and stored as `nonce (12 bytes) || ciphertext || tag`, with
//!   metadata `encoding = binary/encrypted` and `encryption-key-id = <id>`;
//! - compression: the serialized payload in the snappy *framed* format (what Python's
//!   `cramjam.snappy.compress` writes), with `encoding = binary/snappy`.
//!
//! Search attributes are not payloads the codec sees: they stay readable for visibility queries.
//!
//! # Layout
//! - [`keys`]: the keyring: several keys for decoding, one active for encoding, loaded from
//!   `ORDO_CODEC_KEYS` / `ORDO_CODEC_KEY_FILE` (never from source code).
//! - [`encryption`]: AES-256-GCM, [`EncryptionCodec`].
//! - [`compression`]: snappy, [`SnappyCodec`].
//! - [`chain`]: [`Chain`], codecs applied in order on encode and in reverse on decode.
//! - [`config`]: [`CodecConfig`], read from `ENCRYPT_PAYLOADS` and friends, and the SDK
//!   [`DataConverter`](temporalio_common::data_converters::DataConverter) built from it.
//! - [`json`]: the proto3-JSON `Payloads` body codec servers exchange.
//! - [`error`]: the error types.
//! - `server` (feature `server`): the codec server's axum [`router`].

pub mod chain;
pub mod compression;
pub mod config;
pub mod encryption;
pub mod error;
pub mod json;
pub mod keys;
#[cfg(feature = "server")]
pub mod server;

pub use chain::Chain;
pub use compression::SnappyCodec;
pub use config::{data_converter_from_env, CodecConfig};
pub use encryption::EncryptionCodec;
pub use error::{CodecError, ConfigError, KeyError};
pub use keys::Keyring;
#[cfg(feature = "server")]
pub use server::{router, ServerOptions};

pub use temporalio_common::protos::temporal::api::common::v1::Payload;

use futures::future::BoxFuture;
use temporalio_common::data_converters::PayloadConversionError;

/// The metadata key every Temporal payload carries its encoding under.
pub const ENCODING_KEY: &str = "encoding";

/// A transformation of single payloads, reversible by [`Codec::decode`].
///
/// `decode` must pass through, unchanged, payloads whose encoding is not its own, so codecs can be
/// chained and histories that mix encodings (for example written before encryption was switched
/// on) still read.
pub trait Codec: Send + Sync + 'static {
    /// Encodes one payload (before it is sent to Temporal).
    fn encode(&self, payload: Payload) -> Result<Payload, CodecError>;
    /// Decodes one payload (after it is read from Temporal); foreign encodings pass through.
    fn decode(&self, payload: Payload) -> Result<Payload, CodecError>;
}

/// Encodes every payload, or says which one (by index) failed and why.
pub fn encode_all(codec: &dyn Codec, payloads: Vec<Payload>) -> Result<Vec<Payload>, (usize, CodecError)> {
    payloads.into_iter().enumerate().map(|(i, p)| codec.encode(p).map_err(|e| (i, e))).collect()
}

/// Decodes every payload, or says which one (by index) failed and why.
pub fn decode_all(codec: &dyn Codec, payloads: Vec<Payload>) -> Result<Vec<Payload>, (usize, CodecError)> {
    payloads.into_iter().enumerate().map(|(i, p)| codec.decode(p).map_err(|e| (i, e))).collect()
}

/// The payload's `encoding` metadata, when it is there and UTF-8.
pub fn encoding_of(payload: &Payload) -> Option<&str> {
    payload.metadata.get(ENCODING_KEY).and_then(|v| std::str::from_utf8(v).ok())
}

/// What the SDK's `PayloadCodec` returns for a batch of payloads.
pub(crate) type PayloadsFuture = BoxFuture<'static, Result<Vec<Payload>, PayloadConversionError>>;

/// [`encode_all`]'s or [`decode_all`]'s result as the SDK's `PayloadCodec` returns it: a ready
/// future, a failure as an encoding error.
pub(crate) fn ready_payloads(result: Result<Vec<Payload>, (usize, CodecError)>) -> PayloadsFuture {
    Box::pin(futures::future::ready(result.map_err(|(_, e)| PayloadConversionError::EncodingError(Box::new(e)))))
}

/// Implements the SDK's `PayloadCodec` for one of our [`Codec`]s. The work is synchronous and
/// cheap (AES-GCM, snappy), so it runs inside a ready future.
macro_rules! impl_payload_codec {
    ($ty:ty) => {
        impl temporalio_common::data_converters::PayloadCodec for $ty {
            fn encode(
                &self,
                _context: &temporalio_common::data_converters::SerializationContextData,
                payloads: Vec<$crate::Payload>,
            ) -> $crate::PayloadsFuture {
                $crate::ready_payloads($crate::encode_all(self, payloads))
            }

            fn decode(
                &self,
                _context: &temporalio_common::data_converters::SerializationContextData,
                payloads: Vec<$crate::Payload>,
            ) -> $crate::PayloadsFuture {
                $crate::ready_payloads($crate::decode_all(self, payloads))
            }
        }
    };
}
pub(crate) use impl_payload_codec;
