//! Wire compatibility with seed 001's Python codecs: payloads sealed by Python's `cryptography`
//! AESGCM (and compressed by `cramjam`) in the seed's format open in Ordo, and Ordo's open in
//! Python. The Python side is `tests/python/seed_codec.py`, run with the project virtualenv
//! (`make setup` installs `cryptography` and `cramjam` from `scripts/requirements.txt`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use ordo_codec::json::{parse_payloads, payloads_to_json};
use ordo_codec::keys::{Key, Keyring};
use ordo_codec::{Codec as _, EncryptionCodec, Payload, SnappyCodec};

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Runs the Python codec on `payloads` and returns its output payloads.
fn run_python(operation: &str, key: Option<(&str, &[u8; 32])>, payloads: &[Payload]) -> Vec<Payload> {
    let out = python_output(operation, key, payloads);
    assert!(
        out.status.success(),
        "seed_codec.py {operation} failed (run `make setup` for cryptography and cramjam): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_payloads(&out.stdout).expect("python prints Payloads JSON")
}

/// Runs the Python codec on `payloads`, however it ends.
fn python_output(operation: &str, key: Option<(&str, &[u8; 32])>, payloads: &[Payload]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/seed_codec.py");
    let mut request = payloads_to_json(payloads);
    if let Some((id, bytes)) = key {
        request["key_id"] = id.into();
        request["key"] = base64::engine::general_purpose::STANDARD.encode(bytes).into();
    }
    let mut child = Command::new(python())
        .arg(&script)
        .arg(operation)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn samples() -> Vec<Payload> {
    vec![
        Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
            data: br#"{"directory":"stacks/tcloud_namespace","env_vars":{"TF_VAR_prefix":"neil"}}"#.to_vec(),
            ..Default::default()
        },
        Payload {
            metadata: [("encoding".to_owned(), b"binary/null".to_vec())].into(),
            data: Vec::new(),
            ..Default::default()
        },
        Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec()), ("messageType".to_owned(), b"x.Y".to_vec())]
                .into(),
            data: "é \u{1F512} ".repeat(300).into_bytes(),
            ..Default::default()
        },
    ]
}

const KEY_ID: &str = "sa-rocks!sa-rocks!sa-rocks!yeah!";

/// A per-run random key: nothing secret lives in the source.
fn key() -> [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| {
        let text = Key::generate().to_base64();
        base64::engine::general_purpose::STANDARD.decode(text).unwrap().try_into().unwrap()
    })
}

fn ordo_codec() -> EncryptionCodec {
    EncryptionCodec::new(&Keyring::new([(KEY_ID.to_owned(), Key::new(key()))], None).unwrap())
}

/// A payload sealed by Python's AESGCM in the seed's format decrypts in Ordo, byte for byte.
#[test]
fn python_ciphertext_decrypts_in_ordo() {
    let sealed = run_python("encrypt", Some((KEY_ID, &key())), &samples());
    for p in &sealed {
        assert_eq!(p.metadata["encoding"], b"binary/encrypted");
        assert_eq!(p.metadata["encryption-key-id"], KEY_ID.as_bytes());
    }
    let codec = ordo_codec();
    let opened: Vec<Payload> = sealed.into_iter().map(|p| codec.decode(p).unwrap()).collect();
    assert_eq!(opened, samples());
}

/// Ordo's ciphertext decrypts in Python; Python refuses it under another key id.
#[test]
fn ordo_ciphertext_decrypts_in_python() {
    let codec = ordo_codec();
    let sealed: Vec<Payload> = samples().into_iter().map(|p| codec.encode(p).unwrap()).collect();
    assert_eq!(run_python("decrypt", Some((KEY_ID, &key())), &sealed), samples());
}

/// Under a key id the other side does not have, neither opens the other's ciphertext: Python
/// refuses Ordo's naming the id, and Ordo refuses Python's as an unknown key naming it (never a
/// decryption attempt with whatever key it has).
#[test]
fn a_wrong_key_id_is_refused_both_ways() {
    let codec = ordo_codec();
    let sealed: Vec<Payload> = samples().into_iter().map(|p| codec.encode(p).unwrap()).collect();
    let refused = python_output("decrypt", Some(("another-key", &key())), &sealed);
    assert!(!refused.status.success(), "python opened a payload sealed under {KEY_ID}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unrecognized key id") && stderr.contains(KEY_ID), "{stderr}");

    // The same key bytes under another id: refused for the id, not tried.
    let foreign = run_python("encrypt", Some(("another-key", &key())), &samples());
    for payload in foreign {
        match codec.decode(payload) {
            Err(ordo_codec::CodecError::UnknownKey { key_id, known }) => {
                assert_eq!((key_id.as_str(), known.as_str()), ("another-key", KEY_ID));
            }
            other => panic!("expected an unknown key id, got {other:?}"),
        }
    }
}

/// Snappy: cramjam's output decompresses in Ordo and Ordo's in cramjam (the framed format).
#[test]
fn snappy_is_compatible_with_cramjam_both_ways() {
    let packed = run_python("compress", None, &samples());
    assert!(packed.iter().all(|p| p.metadata["encoding"] == b"binary/snappy"));
    let opened: Vec<Payload> = packed.into_iter().map(|p| SnappyCodec.decode(p).unwrap()).collect();
    assert_eq!(opened, samples());
    let ours: Vec<Payload> = samples().into_iter().map(|p| SnappyCodec.encode(p).unwrap()).collect();
    assert_eq!(run_python("decompress", None, &ours), samples());
}
