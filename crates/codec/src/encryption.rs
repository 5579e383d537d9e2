//! AES-256-GCM encryption of whole payloads, in seed 001's wire format.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead as _, AeadCore as _, KeyInit as _, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use prost::Message as _;

use crate::error::CodecError;
use crate::keys::Keyring;
use crate::{encoding_of, Codec, Payload, ENCODING_KEY};

/// `encoding` of an encrypted payload.
pub const ENCRYPTED_ENCODING: &str = "binary/encrypted";
/// Metadata key naming the key a payload is sealed with.
pub const KEY_ID_KEY: &str = "encryption-key-id";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals each payload with the keyring's active key; opens payloads sealed with any loaded key.
#[derive(Clone)]
pub struct EncryptionCodec {
    ciphers: BTreeMap<String, Aes256Gcm>,
    active: String,
}

impl std::fmt::Debug for EncryptionCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionCodec")
            .field("key_ids", &self.ciphers.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

impl EncryptionCodec {
    /// A codec over every key of `keyring`.
    pub fn new(keyring: &Keyring) -> Self {
        let ciphers = keyring.iter().map(|(id, key)| (id.to_owned(), Aes256Gcm::new(key.bytes().into()))).collect();
        Self { ciphers, active: keyring.active_id().to_owned() }
    }

    /// The id new payloads are sealed with.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    fn known(&self) -> String {
        self.ciphers.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

impl Codec for EncryptionCodec {
    fn encode(&self, payload: Payload) -> Result<Payload, CodecError> {
        let cipher = &self.ciphers[&self.active];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(&nonce, payload.encode_to_vec().as_slice())
            .map_err(|_| CodecError::Encrypt { key_id: self.active.clone() })?;
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        let metadata = [
            (ENCODING_KEY.to_owned(), ENCRYPTED_ENCODING.as_bytes().to_vec()),
            (KEY_ID_KEY.to_owned(), self.active.as_bytes().to_vec()),
        ]
        .into();
        Ok(Payload { metadata, data, ..Default::default() })
    }

    fn decode(&self, payload: Payload) -> Result<Payload, CodecError> {
        if encoding_of(&payload) != Some(ENCRYPTED_ENCODING) {
            return Ok(payload);
        }
        let key_id = payload
            .metadata
            .get(KEY_ID_KEY)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .ok_or(CodecError::MissingKeyId)?;
        let cipher = self
            .ciphers
            .get(&key_id)
            .ok_or_else(|| CodecError::UnknownKey { key_id: key_id.clone(), known: self.known() })?;
        if payload.data.len() < NONCE_LEN + TAG_LEN {
            return Err(CodecError::Truncated { len: payload.data.len() });
        }
        let (nonce, sealed) = payload.data.split_at(NONCE_LEN);
        let plain = cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| CodecError::Decrypt { key_id })?;
        Payload::decode(plain.as_slice()).map_err(CodecError::NotAPayload)
    }
}

crate::impl_payload_codec!(EncryptionCodec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;

    fn ring(keys: &[(&str, u8)], active: &str) -> Keyring {
        Keyring::new(keys.iter().map(|(id, b)| ((*id).to_owned(), Key::new([*b; 32]))), Some(active)).unwrap()
    }

    fn json_payload(text: &str) -> Payload {
        Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
            data: format!("{text:?}").into_bytes(),
            ..Default::default()
        }
    }

    /// Encrypt then decrypt gives back the exact payload; the ciphertext has the seed's shape.
    #[test]
    fn round_trip_in_the_seed_format() {
        let codec = EncryptionCodec::new(&ring(&[("k1", 1)], "k1"));
        let original = json_payload("top secret plan");
        let sealed = codec.encode(original.clone()).unwrap();
        assert_eq!(encoding_of(&sealed), Some("binary/encrypted"));
        assert_eq!(sealed.metadata[KEY_ID_KEY], b"k1");
        assert_eq!(sealed.metadata.len(), 2);
        assert_eq!(sealed.data.len(), NONCE_LEN + original.encode_to_vec().len() + TAG_LEN);
        assert!(!String::from_utf8_lossy(&sealed.data).contains("top secret"));
        assert_eq!(codec.decode(sealed).unwrap(), original);
    }

    /// Two encryptions of the same payload differ (a fresh random nonce each time).
    #[test]
    fn nonces_are_fresh() {
        let codec = EncryptionCodec::new(&ring(&[("k1", 1)], "k1"));
        let a = codec.encode(json_payload("x")).unwrap();
        let b = codec.encode(json_payload("x")).unwrap();
        assert_ne!(a.data[..NONCE_LEN], b.data[..NONCE_LEN]);
    }

    /// After rotation, old payloads still open with the old key and new ones use the new key.
    #[test]
    fn rotation_keeps_old_payloads_readable() {
        let before = EncryptionCodec::new(&ring(&[("2024", 1)], "2024"));
        let old = before.encode(json_payload("old")).unwrap();
        let after = EncryptionCodec::new(&ring(&[("2024", 1), ("2025", 2)], "2025"));
        let new = after.encode(json_payload("new")).unwrap();
        assert_eq!(new.metadata[KEY_ID_KEY], b"2025");
        assert_eq!(after.decode(old).unwrap(), json_payload("old"));
        assert_eq!(after.decode(new.clone()).unwrap(), json_payload("new"));
        // The process that only knows the old key cannot read the new payload, and says why.
        let err = before.decode(new).unwrap_err();
        assert!(matches!(&err, CodecError::UnknownKey { key_id, .. } if key_id == "2025"), "{err}");
        assert!(err.to_string().contains("\"2025\"") && err.to_string().contains("2024"), "{err}");
    }

    /// Same id, different key bytes: authentication fails, it does not return garbage.
    #[test]
    fn wrong_key_under_the_same_id_fails_authentication() {
        let sealed = EncryptionCodec::new(&ring(&[("k", 1)], "k")).encode(json_payload("x")).unwrap();
        let err = EncryptionCodec::new(&ring(&[("k", 2)], "k")).decode(sealed).unwrap_err();
        assert!(matches!(err, CodecError::Decrypt { .. }), "{err}");
    }

    /// A flipped bit, a cut payload and a missing key id are each reported.
    #[test]
    fn tampering_is_detected() {
        let codec = EncryptionCodec::new(&ring(&[("k", 1)], "k"));
        let mut flipped = codec.encode(json_payload("x")).unwrap();
        let last = flipped.data.len() - 1;
        flipped.data[last] ^= 1;
        assert!(matches!(codec.decode(flipped), Err(CodecError::Decrypt { .. })));
        let mut cut = codec.encode(json_payload("x")).unwrap();
        cut.data.truncate(20);
        assert!(matches!(codec.decode(cut), Err(CodecError::Truncated { len: 20 })));
        let mut anonymous = codec.encode(json_payload("x")).unwrap();
        anonymous.metadata.remove(KEY_ID_KEY);
        assert!(matches!(codec.decode(anonymous), Err(CodecError::MissingKeyId)));
    }

    /// Payloads in other encodings pass through decode untouched.
    #[test]
    fn other_encodings_pass_through() {
        let codec = EncryptionCodec::new(&ring(&[("k", 1)], "k"));
        let plain = json_payload("not encrypted");
        assert_eq!(codec.decode(plain.clone()).unwrap(), plain);
        let bare = Payload::default();
        assert_eq!(codec.decode(bare.clone()).unwrap(), bare);
    }
}
