//! Several codecs as one: encode runs them in order (compress, then encrypt), decode in reverse.

use std::sync::Arc;

use crate::error::CodecError;
use crate::{Codec, Payload};

/// Codecs applied in order on encode and in reverse on decode. An empty chain changes nothing.
#[derive(Clone, Default)]
pub struct Chain {
    codecs: Vec<Arc<dyn Codec>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("len", &self.codecs.len()).finish()
    }
}

impl Chain {
    /// A chain of `codecs`, first applied first on encode.
    pub fn new(codecs: Vec<Arc<dyn Codec>>) -> Self {
        Self { codecs }
    }

    /// Appends a codec (applied after the others on encode).
    #[must_use]
    pub fn then(mut self, codec: impl Codec) -> Self {
        self.codecs.push(Arc::new(codec));
        self
    }

    /// Whether the chain does nothing.
    pub fn is_empty(&self) -> bool {
        self.codecs.is_empty()
    }
}

impl Codec for Chain {
    fn encode(&self, payload: Payload) -> Result<Payload, CodecError> {
        self.codecs.iter().try_fold(payload, |p, codec| codec.encode(p))
    }

    fn decode(&self, payload: Payload) -> Result<Payload, CodecError> {
        self.codecs.iter().rev().try_fold(payload, |p, codec| codec.decode(p))
    }
}

crate::impl_payload_codec!(Chain);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Key, Keyring};
    use crate::{encoding_of, EncryptionCodec, SnappyCodec};

    fn encryption() -> EncryptionCodec {
        EncryptionCodec::new(&Keyring::new([("k".to_owned(), Key::new([4; 32]))], None).unwrap())
    }

    /// Compress-then-encrypt: the outer layer is encryption, and decode restores the original.
    /// Each layer alone opens only its own layer.
    #[test]
    fn compress_then_encrypt_round_trip() {
        let chain = Chain::default().then(SnappyCodec).then(encryption());
        let original = Payload {
            metadata: [("encoding".to_owned(), b"json/plain".to_vec())].into(),
            data: br#"{"directory":"stacks/tcloud_namespace"}"#.repeat(20),
            ..Default::default()
        };
        let sealed = chain.encode(original.clone()).unwrap();
        assert_eq!(encoding_of(&sealed), Some("binary/encrypted"));
        let inner = encryption().decode(sealed.clone()).unwrap();
        assert_eq!(encoding_of(&inner), Some("binary/snappy"));
        assert_eq!(chain.decode(sealed).unwrap(), original);
        // Plain payloads (written before the codec was on) still read through the chain.
        assert_eq!(chain.decode(original.clone()).unwrap(), original);
    }

    /// Through the SDK's `PayloadCodec` interface, an error keeps its message (the key id).
    #[tokio::test]
    async fn sdk_interface_reports_the_codec_error() {
        use temporalio_common::data_converters::{PayloadCodec, SerializationContextData};
        let sealed = Codec::encode(&encryption(), Payload::default()).unwrap();
        let other = EncryptionCodec::new(&Keyring::new([("other".to_owned(), Key::new([5; 32]))], None).unwrap());
        let chain = Chain::default().then(other);
        let err = PayloadCodec::decode(&chain, &SerializationContextData::None, vec![sealed]).await.unwrap_err();
        assert!(err.to_string().contains("unknown encryption key id \"k\""), "{err}");
    }
}
