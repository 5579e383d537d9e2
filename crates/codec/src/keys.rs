//! The keyring: every key this process may decrypt with, and the one it encrypts with.
//!
//! Keys are AES-256 keys (32 bytes, written in base64) named by an id that is stored in each
//! encrypted payload's `encryption-key-id`. Rotation: add the new key, make it active, keep the
//! old ones for as long as histories sealed with them must stay readable.
//!
//! Text format, in `ORDO_CODEC_KEYS` (comma- or newline-separated) and in `ORDO_CODEC_KEY_FILE`
//! (one per line, `#` comments and blank lines ignored): `id:base64key`.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;

use crate::error::KeyError;

/// Environment variable holding keys inline.
pub const KEYS_ENV: &str = "ORDO_CODEC_KEYS";
/// Environment variable naming a key file.
pub const KEY_FILE_ENV: &str = "ORDO_CODEC_KEY_FILE";
/// Environment variable naming the key that encrypts.
pub const ACTIVE_KEY_ENV: &str = "ORDO_CODEC_ACTIVE_KEY";

/// A 32-byte AES-256 key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl Key {
    /// Wraps raw key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        use aes_gcm::aead::{KeyInit as _, OsRng};
        Self(aes_gcm::Aes256Gcm::generate_key(OsRng).into())
    }

    /// The key in base64, as `ORDO_CODEC_KEYS` and key files hold it.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

/// Keys by id, and the id of the one that encrypts.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: BTreeMap<String, Key>,
    active: String,
}

impl Keyring {
    /// A keyring from `(id, key)` entries. `active` may be omitted when there is one key.
    pub fn new(entries: impl IntoIterator<Item = (String, Key)>, active: Option<&str>) -> Result<Self, KeyError> {
        let mut keys = BTreeMap::new();
        for (id, key) in entries {
            match keys.get(&id) {
                Some(existing) if *existing != key => return Err(KeyError::Duplicate { key_id: id }),
                _ => {
                    keys.insert(id, key);
                }
            }
        }
        if keys.is_empty() {
            return Err(KeyError::NoKeys);
        }
        let known = keys.keys().cloned().collect::<Vec<_>>().join(", ");
        let active = match active {
            Some(id) if keys.contains_key(id) => id.to_owned(),
            Some(id) => return Err(KeyError::UnknownActive { key_id: id.to_owned(), known }),
            None if keys.len() == 1 => keys.keys().next().cloned().unwrap_or_default(),
            None => return Err(KeyError::NoActive { count: keys.len(), known }),
        };
        Ok(Self { keys, active })
    }

    /// Reads `ORDO_CODEC_KEYS`, `ORDO_CODEC_KEY_FILE` and `ORDO_CODEC_ACTIVE_KEY`. `Ok(None)` when
    /// neither keys variable is set.
    pub fn from_env() -> Result<Option<Self>, KeyError> {
        let inline = std::env::var(KEYS_ENV).ok().filter(|v| !v.trim().is_empty());
        let file = std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty());
        if inline.is_none() && file.is_none() {
            return Ok(None);
        }
        let active = std::env::var(ACTIVE_KEY_ENV).ok().filter(|v| !v.trim().is_empty());
        Self::from_sources(inline.as_deref(), file.as_deref().map(Path::new), active.as_deref().map(str::trim))
            .map(Some)
    }

    /// Loads keys from inline text and/or a key file (both may be given; an id defined in both
    /// must name the same key).
    pub fn from_sources(inline: Option<&str>, file: Option<&Path>, active: Option<&str>) -> Result<Self, KeyError> {
        let mut entries = Vec::new();
        if let Some(text) = inline {
            entries.extend(parse_entries(text, KEYS_ENV)?);
        }
        if let Some(path) = file {
            let text =
                std::fs::read_to_string(path).map_err(|source| KeyError::File { path: path.to_owned(), source })?;
            entries.extend(parse_entries(&text, &path.display().to_string())?);
        }
        Self::new(entries, active)
    }

    /// The id new payloads are sealed with.
    pub fn active_id(&self) -> &str {
        &self.active
    }

    /// Every loaded id, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Key)> {
        self.keys.iter().map(|(id, key)| (id.as_str(), key))
    }
}

/// Parses `id:base64key` entries separated by commas or newlines; `#` starts a comment line.
/// `origin` names the source in errors.
pub fn parse_entries(text: &str, origin: &str) -> Result<Vec<(String, Key)>, KeyError> {
    let mut entries = Vec::new();
    let items = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty());
    for (index, item) in items.enumerate() {
        let position = index + 1;
        // Base64 has no ':', so the last one separates the id from the key.
        let (id, encoded) =
            item.rsplit_once(':').ok_or_else(|| KeyError::Malformed { origin: origin.to_owned(), position })?;
        let id = id.trim();
        if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c == ',') {
            return Err(KeyError::InvalidId { origin: origin.to_owned(), position, key_id: id.to_owned() });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(encoded.trim()))
            .map_err(|_| KeyError::Base64 { origin: origin.to_owned(), key_id: id.to_owned() })?;
        let len = bytes.len();
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| KeyError::Length { origin: origin.to_owned(), key_id: id.to_owned(), len })?;
        entries.push((id.to_owned(), Key(key)));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Inline entries separated by commas and newlines, with comments, all load.
    #[test]
    fn parses_commas_newlines_and_comments() {
        let text = format!("# old\nk1:{}, k2:{}\n\nk3:{}", b64(&[1; 32]), b64(&[2; 32]), b64(&[3; 32]));
        let ring = Keyring::from_sources(Some(&text), None, Some("k2")).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["k1", "k2", "k3"]);
        assert_eq!(ring.active_id(), "k2");
    }

    /// One key needs no active id; several do, and a wrong one is named.
    #[test]
    fn active_key_rules() {
        let one = format!("only:{}", b64(&[9; 32]));
        assert_eq!(Keyring::from_sources(Some(&one), None, None).unwrap().active_id(), "only");
        let two = format!("a:{},b:{}", b64(&[1; 32]), b64(&[2; 32]));
        assert!(matches!(Keyring::from_sources(Some(&two), None, None), Err(KeyError::NoActive { count: 2, .. })));
        let err = Keyring::from_sources(Some(&two), None, Some("c")).unwrap_err();
        assert!(err.to_string().contains("\"c\"") && err.to_string().contains("a, b"), "{err}");
    }

    /// Short keys, bad base64 and missing separators are refused without echoing the key.
    #[test]
    fn bad_entries_are_refused_without_leaking_key_material() {
        let short = format!("k:{}", b64(&[7; 16]));
        let err = Keyring::from_sources(Some(&short), None, None).unwrap_err();
        assert!(matches!(err, KeyError::Length { len: 16, .. }), "{err}");
        assert!(!err.to_string().contains(&b64(&[7; 16])));
        assert!(matches!(Keyring::from_sources(Some("k:not base64!"), None, None), Err(KeyError::Base64 { .. })));
        let secret = b64(&[5; 32]);
        let err = Keyring::from_sources(Some(&secret), None, None).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { position: 1, .. }));
        assert!(!err.to_string().contains(&secret));
        assert!(matches!(
            Keyring::from_sources(Some(&format!("bad id:{secret}")), None, None),
            Err(KeyError::InvalidId { .. })
        ));
    }

    /// A key file and inline keys merge; one id with two different keys is an error.
    #[test]
    fn key_file_merges_with_inline_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("# rotated 2025-01\nold:{}\nnew:{}\n", b64(&[1; 32]), b64(&[2; 32]))).unwrap();
        let ring = Keyring::from_sources(Some(&format!("new:{}", b64(&[2; 32]))), Some(&path), Some("new")).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["new", "old"]);
        let clash = format!("old:{}", b64(&[3; 32]));
        assert!(matches!(
            Keyring::from_sources(Some(&clash), Some(&path), Some("old")),
            Err(KeyError::Duplicate { .. })
        ));
        let missing = dir.path().join("nope");
        assert!(matches!(Keyring::from_sources(None, Some(&missing), None), Err(KeyError::File { .. })));
    }

    /// Generated keys are random and survive the text format.
    #[test]
    fn generated_keys_round_trip_through_text() {
        let (a, b) = (Key::generate(), Key::generate());
        assert_ne!(a, b);
        let parsed = parse_entries(&format!("g:{}", a.to_base64()), "test").unwrap();
        assert_eq!(parsed, vec![("g".to_owned(), a)]);
    }

    /// `Debug` of a keyring shows ids, never key bytes.
    #[test]
    fn debug_redacts_keys() {
        let ring = Keyring::new([("k".to_owned(), Key::new([0xAB; 32]))], None).unwrap();
        let shown = format!("{ring:?}");
        assert!(shown.contains("redacted") && !shown.contains("171"), "{shown}");
    }
}
