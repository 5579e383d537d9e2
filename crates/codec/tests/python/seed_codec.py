"""Seed 001's payload codecs, re-done independently in Python for Ordo's cross-compatibility test.

Usage: seed_codec.py encrypt|decrypt|compress|decompress < request.json > payloads.json

The request is {"key_id": str, "key": base64 (encrypt/decrypt only), "payloads": [payload]} and a
payload is proto3 JSON: {"metadata": {name: base64}, "data": base64}. Like the seed, encryption
seals the whole serialized temporal.api.common.v1.Payload with AES-256-GCM (cryptography's AESGCM,
12-byte random nonce prepended, no associated data) and compression is cramjam's snappy (framed).
The Payload message is (de)serialized by hand, so no protobuf package is needed.
"""

import base64
import json
import os
import sys

import cramjam
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(value)) + value


def serialize(payload: dict) -> bytes:
    """temporal.api.common.v1.Payload: map<string, bytes> metadata = 1; bytes data = 2."""
    out = b""
    for name in sorted(payload.get("metadata", {})):
        value = base64.b64decode(payload["metadata"][name])
        out += field(1, field(1, name.encode()) + field(2, value))
    data = base64.b64decode(payload.get("data", ""))
    if data:
        out += field(2, data)
    return out


def read_fields(buf: bytes):
    """Yields (field number, bytes) for the length-delimited fields of a message."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        if key & 7 != 2:
            raise ValueError(f"unexpected wire type {key & 7}")
        length, i = read_varint(buf, i)
        yield key >> 3, buf[i : i + length]
        i += length


def read_varint(buf: bytes, i: int):
    shift = result = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def parse(buf: bytes) -> dict:
    metadata, data = {}, b""
    for number, value in read_fields(buf):
        if number == 1:
            entry = dict(read_fields(value))
            metadata[entry.get(1, b"").decode()] = base64.b64encode(entry.get(2, b"")).decode()
        elif number == 2:
            data = value
    return {"metadata": metadata, "data": base64.b64encode(data).decode()}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def main() -> None:
    operation = sys.argv[1]
    request = json.load(sys.stdin)
    out = []
    if operation in ("encrypt", "decrypt"):
        aes = AESGCM(base64.b64decode(request["key"]))
        key_id = request["key_id"]
    for payload in request["payloads"]:
        if operation == "encrypt":
            nonce = os.urandom(12)
            sealed = nonce + aes.encrypt(nonce, serialize(payload), None)
            meta = {"encoding": b64(b"binary/encrypted"), "encryption-key-id": b64(key_id.encode())}
            out.append({"metadata": meta, "data": b64(sealed)})
        elif operation == "decrypt":
            meta = {k: base64.b64decode(v) for k, v in payload["metadata"].items()}
            if meta.get("encoding") != b"binary/encrypted":
                out.append(payload)
                continue
            if meta.get("encryption-key-id", b"").decode() != key_id:
                raise SystemExit(f"unrecognized key id {meta.get('encryption-key-id')!r}")
            data = base64.b64decode(payload["data"])
            out.append(parse(aes.decrypt(data[:12], data[12:], None)))
        elif operation == "compress":
            packed = bytes(cramjam.snappy.compress(serialize(payload)))
            out.append({"metadata": {"encoding": b64(b"binary/snappy")}, "data": b64(packed)})
        elif operation == "decompress":
            data = base64.b64decode(payload["data"])
            out.append(parse(bytes(cramjam.snappy.decompress(data))))
        else:
            raise SystemExit(f"unknown operation {operation}")
    json.dump({"payloads": out}, sys.stdout)


if __name__ == "__main__":
    main()
