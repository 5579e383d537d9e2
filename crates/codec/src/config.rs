//! Which codecs a process uses, from its environment, and the SDK data converter built from them.
//! Every Ordo client, worker and replayer goes through [`CodecConfig::data_converter`], so what one
//! writes the others read.
//!
//! | variable | meaning |
//! |---|---|
//! | `ENCRYPT_PAYLOADS` | `true`/`1`/`t` (any case) encrypts every payload (seed 001's switch) |
//! | `ORDO_COMPRESS_PAYLOADS` | `true`/`1`/`t` compresses with snappy (before encrypting) |
//! | `ORDO_ENCRYPT_FAILURES` | `true` also encrypts failure messages and stack traces (see below) |
//! | `ORDO_CODEC_KEYS` | `id:base64key[,id:base64key…]` |
//! | `ORDO_CODEC_KEY_FILE` | a file of `id:base64key` lines |
//! | `ORDO_CODEC_ACTIVE_KEY` | the id that encrypts (optional with one key) |
//!
//! Failure messages stay readable by default. Seed 001 encrypts them too (its
//! `DefaultFailureConverterWithEncodedAttributes`); `ORDO_ENCRYPT_FAILURES=true` does the same, at
//! a cost: the SDK (1.1.1) does not decode the failure of a rejected update, so callers then read
//! `Encoded failure` instead of the validator's reason. Histories written either way read back.

use temporalio_common::data_converters::{DataConverter, DefaultFailureConverter, PayloadConverter};

use crate::error::{ConfigError, KeyError};
use crate::keys::Keyring;
use crate::{Chain, EncryptionCodec, SnappyCodec};

/// Seed 001's switch for payload encryption.
pub const ENCRYPT_ENV: &str = "ENCRYPT_PAYLOADS";
/// Ordo's switch for payload compression.
pub const COMPRESS_ENV: &str = "ORDO_COMPRESS_PAYLOADS";
/// Ordo's switch for encrypting failure messages as well.
pub const ENCRYPT_FAILURES_ENV: &str = "ORDO_ENCRYPT_FAILURES";

/// The codec settings of one process.
#[derive(Debug, Clone, Default)]
pub struct CodecConfig {
    /// Encrypt payloads (requires a keyring).
    pub encrypt: bool,
    /// Compress payloads with snappy, before encrypting.
    pub compress: bool,
    /// Move failure messages and stack traces into an encoded attribute, so they are encrypted
    /// too (only with `encrypt`).
    pub encrypt_failures: bool,
    /// The keys, when any are configured (also used by the codec server when `encrypt` is off).
    pub keyring: Option<Keyring>,
}

impl CodecConfig {
    /// Reads the settings from the environment (see the module docs). Encryption without usable
    /// keys is an error, as is a switch that is not a boolean.
    pub fn from_env() -> Result<Self, ConfigError> {
        let encrypt = env_flag(ENCRYPT_ENV)?;
        let compress = env_flag(COMPRESS_ENV)?;
        let encrypt_failures = env_flag(ENCRYPT_FAILURES_ENV)?;
        let keyring = Keyring::from_env().map_err(ConfigError::Keys)?;
        if encrypt && keyring.is_none() {
            return Err(ConfigError::Keys(KeyError::NoKeys));
        }
        Ok(Self { encrypt, compress, encrypt_failures, keyring })
    }

    /// The codec chain these settings describe: snappy if compressing, then AES-GCM if
    /// encrypting. Empty when neither is on.
    pub fn chain(&self) -> Chain {
        let mut chain = Chain::default();
        if self.compress {
            chain = chain.then(SnappyCodec);
        }
        if let (true, Some(keyring)) = (self.encrypt, &self.keyring) {
            chain = chain.then(EncryptionCodec::new(keyring));
        }
        chain
    }

    /// The data converter for clients, workers and replayers: the SDK's JSON payload converter,
    /// [`Self::chain`] as the codec and, with `encrypt_failures`, failure messages and stack traces
    /// moved into an encoded (so encrypted) attribute, as seed 001 does.
    pub fn data_converter(&self) -> DataConverter {
        let chain = self.chain();
        if chain.is_empty() {
            return DataConverter::default();
        }
        DataConverter::new(
            PayloadConverter::default(),
            DefaultFailureConverter::new(self.encrypt && self.encrypt_failures),
            chain,
        )
    }
}

/// [`CodecConfig::from_env`] then [`CodecConfig::data_converter`].
pub fn data_converter_from_env() -> Result<DataConverter, ConfigError> {
    Ok(CodecConfig::from_env()?.data_converter())
}

/// Parses a boolean the way seed 001 does (`true`, `1`, `t`, any case), also accepting the
/// explicit negatives; anything else is an error rather than a silent "off".
pub fn parse_flag(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" | "on" => Ok(true),
        "false" | "0" | "f" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::NotABoolean { variable, value: value.to_owned() }),
    }
}

fn env_flag(variable: &'static str) -> Result<bool, ConfigError> {
    match std::env::var(variable) {
        Ok(value) => parse_flag(variable, &value),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;
    use crate::Codec as _;

    /// Seed 001's spellings switch encryption on; typos are errors, not "off".
    #[test]
    fn flags_follow_the_seed() {
        for on in ["true", "TRUE", "1", "t", "T"] {
            assert!(parse_flag(ENCRYPT_ENV, on).unwrap(), "{on}");
        }
        for off in ["false", "0", "f", ""] {
            assert!(!parse_flag(ENCRYPT_ENV, off).unwrap(), "{off}");
        }
        let err = parse_flag(ENCRYPT_ENV, "ture").unwrap_err();
        assert!(err.to_string().contains("ENCRYPT_PAYLOADS=\"ture\""), "{err}");
    }

    /// The chain follows the switches: nothing, compression, encryption, or both in that order.
    #[test]
    fn chain_follows_the_switches() {
        let keyring = Some(Keyring::new([("k".to_owned(), Key::new([1; 32]))], None).unwrap());
        assert!(CodecConfig::default().chain().is_empty());
        let both = CodecConfig { encrypt: true, compress: true, keyring: keyring.clone(), ..Default::default() };
        let sealed = both.chain().encode(crate::Payload::default()).unwrap();
        assert_eq!(crate::encoding_of(&sealed), Some("binary/encrypted"));
        let keys_only = CodecConfig { keyring, ..Default::default() };
        assert!(keys_only.chain().is_empty(), "keys alone do not switch encryption on");
    }
}
