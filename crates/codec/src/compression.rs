//! Snappy compression of whole payloads, in seed 001's wire format: the snappy *framed* format
//! (stream identifier `sNaPpY`), which is what Python's `cramjam.snappy.compress` writes.

use std::io::{Read as _, Write as _};

use prost::Message as _;

use crate::error::CodecError;
use crate::{encoding_of, Codec, Payload, ENCODING_KEY};

/// `encoding` of a compressed payload.
pub const SNAPPY_ENCODING: &str = "binary/snappy";

/// Decompressed payloads larger than this are refused (a guard against decompression bombs sent
/// to the codec server; Temporal's own payload limit is far lower).
pub const MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// Compresses each payload with snappy.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnappyCodec;

impl Codec for SnappyCodec {
    fn encode(&self, payload: Payload) -> Result<Payload, CodecError> {
        let mut encoder = snap::write::FrameEncoder::new(Vec::new());
        encoder.write_all(&payload.encode_to_vec()).map_err(CodecError::Snappy)?;
        let data = encoder.into_inner().map_err(|e| CodecError::Snappy(e.into_error()))?;
        let metadata = [(ENCODING_KEY.to_owned(), SNAPPY_ENCODING.as_bytes().to_vec())].into();
        Ok(Payload { metadata, data, ..Default::default() })
    }

    fn decode(&self, payload: Payload) -> Result<Payload, CodecError> {
        if encoding_of(&payload) != Some(SNAPPY_ENCODING) {
            return Ok(payload);
        }
        let mut plain = Vec::new();
        let limit = MAX_DECOMPRESSED_BYTES as u64 + 1;
        snap::read::FrameDecoder::new(payload.data.as_slice())
            .take(limit)
            .read_to_end(&mut plain)
            .map_err(CodecError::Snappy)?;
        if plain.len() > MAX_DECOMPRESSED_BYTES {
            return Err(CodecError::TooLarge { limit: MAX_DECOMPRESSED_BYTES });
        }
        Payload::decode(plain.as_slice()).map_err(CodecError::NotAPayload)
    }
}

crate::impl_payload_codec!(SnappyCodec);

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(data: &[u8]) -> Payload {
        Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
            data: data.to_vec(),
            ..Default::default()
        }
    }

    /// Compress then decompress gives back the payload; repetitive data shrinks; the data is in
    /// the framed format (it starts with the stream identifier chunk).
    #[test]
    fn round_trip_framed() {
        let original = payload(&b"terraform plan ".repeat(500));
        let packed = SnappyCodec.encode(original.clone()).unwrap();
        assert_eq!(encoding_of(&packed), Some(SNAPPY_ENCODING));
        assert!(packed.data.starts_with(b"\xff\x06\x00\x00sNaPpY"));
        assert!(packed.data.len() < original.data.len() / 5);
        assert_eq!(SnappyCodec.decode(packed).unwrap(), original);
    }

    /// Garbage that claims to be snappy is an error, other encodings pass through.
    #[test]
    fn corrupt_data_is_an_error_and_others_pass() {
        let mut bad = SnappyCodec.encode(payload(b"x")).unwrap();
        bad.data = b"not snappy at all".to_vec();
        assert!(matches!(SnappyCodec.decode(bad), Err(CodecError::Snappy(_))));
        let plain = payload(b"plain");
        assert_eq!(SnappyCodec.decode(plain.clone()).unwrap(), plain);
    }
}
