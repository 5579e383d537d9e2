//! What can go wrong: encoding or decoding one payload ([`CodecError`]), loading keys
//! ([`KeyError`]), reading the codec settings ([`ConfigError`]).

use std::path::PathBuf;

/// Encoding or decoding one payload failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The payload names a key this process does not have.
    #[error("unknown encryption key id {key_id:?} (loaded key ids: {known}); add it to ORDO_CODEC_KEYS or ORDO_CODEC_KEY_FILE")]
    UnknownKey {
        /// The key id from the payload's `encryption-key-id` metadata.
        key_id: String,
        /// The ids this keyring holds, comma-separated.
        known: String,
    },
    /// The payload says it is encrypted but not with which key.
    #[error("encrypted payload has no `encryption-key-id` metadata")]
    MissingKeyId,
    /// Too short to hold a nonce and a tag.
    #[error("encrypted payload data is {len} bytes, shorter than a 12-byte nonce and a 16-byte tag")]
    Truncated {
        /// Length of the payload's data.
        len: usize,
    },
    /// Authentication failed: altered data, or another key under the same id.
    #[error("decrypting with key {key_id:?} failed: the data was altered or sealed with a different key")]
    Decrypt {
        /// The key that was tried.
        key_id: String,
    },
    /// AES-GCM refused to seal (only for absurdly large inputs).
    #[error("encrypting with key {key_id:?} failed")]
    Encrypt {
        /// The active key.
        key_id: String,
    },
    /// The compressed data is not valid snappy (framed format).
    #[error("snappy-compressed payload is corrupt")]
    Snappy(#[source] std::io::Error),
    /// The decompressed data would exceed the size limit.
    #[error("snappy-compressed payload expands beyond {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// What was decrypted or decompressed is not a serialized `Payload`.
    #[error("decoded bytes are not a serialized temporal.api.common.v1.Payload")]
    NotAPayload(#[source] prost::DecodeError),
}

/// Loading or choosing encryption keys failed. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An entry is not `id:base64key`.
    #[error("{origin}: entry {position} is not `id:base64key`")]
    Malformed {
        /// Where the entry came from (`ORDO_CODEC_KEYS`, or the key file's path).
        origin: String,
        /// 1-based entry (or line) number.
        position: usize,
    },
    /// A key id is empty or contains whitespace or a comma.
    #[error("{origin}: entry {position} has an invalid key id {key_id:?} (non-empty, no whitespace or commas)")]
    InvalidId {
        /// Where the entry came from.
        origin: String,
        /// 1-based entry (or line) number.
        position: usize,
        /// The id.
        key_id: String,
    },
    /// The key is not base64.
    #[error("{origin}: key {key_id:?} is not valid base64")]
    Base64 {
        /// Where the entry came from.
        origin: String,
        /// The key's id.
        key_id: String,
    },
    /// The key is not 32 bytes.
    #[error("{origin}: key {key_id:?} is {len} bytes; AES-256 needs exactly 32")]
    Length {
        /// Where the entry came from.
        origin: String,
        /// The key's id.
        key_id: String,
        /// Decoded length.
        len: usize,
    },
    /// The same id maps to two different keys.
    #[error("key id {key_id:?} is defined twice with different keys")]
    Duplicate {
        /// The id.
        key_id: String,
    },
    /// No key at all.
    #[error("no encryption keys: set ORDO_CODEC_KEYS=\"id:base64key,…\" or ORDO_CODEC_KEY_FILE")]
    NoKeys,
    /// Several keys and none chosen for encoding.
    #[error("{count} keys are loaded ({known}); set ORDO_CODEC_ACTIVE_KEY to the one that encrypts")]
    NoActive {
        /// How many keys.
        count: usize,
        /// Their ids.
        known: String,
    },
    /// The chosen active key is not loaded.
    #[error("ORDO_CODEC_ACTIVE_KEY {key_id:?} is not among the loaded keys ({known})")]
    UnknownActive {
        /// The id asked for.
        key_id: String,
        /// The loaded ids.
        known: String,
    },
    /// The key file cannot be read.
    #[error("reading the key file {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The codec settings in the environment are wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A switch is neither on nor off.
    #[error("{variable}={value:?} is not a boolean; use true/1/t or false/0/f")]
    NotABoolean {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// The keys are missing (with encryption on) or malformed.
    #[error("the payload encryption keys are unusable")]
    Keys(#[source] KeyError),
}
