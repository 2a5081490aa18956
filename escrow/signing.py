"""Ed25519 signatures of the platform: deposit certificates and transparency-log tree heads.

Keys are exchanged as standard base64 of the raw 32-byte keys; a key's id is the hex SHA-256 of its raw
public key. Decoding is strict (canonical base64 only), so a signature or key has exactly one textual
form and flipping any character of it is detected. No Django here: the offline verifier imports it.
"""

import base64
import binascii
import hashlib
import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from escrow.canonical import canonical_json

TREE_HEAD_FORMAT = "ipmarket-tree-head/1"
_KEY_SIZE = 32
_SIGNATURE_SIZE = 64


def b64decode_strict(value: str) -> bytes:
    """Standard base64 with padding, refusing any other spelling of the same bytes (ValueError)."""
    if not isinstance(value, str):
        raise ValueError("base64 value must be a string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not valid base64") from exc
    # b64decode ignores the unused low bits of the last character; a canonical value re-encodes equal.
    if base64.b64encode(decoded).decode("ascii") != value:
        raise ValueError("not canonical base64")
    return decoded


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _public_key_bytes(public_key_b64: str) -> bytes:
    raw = b64decode_strict(public_key_b64)
    if len(raw) != _KEY_SIZE:
        raise ValueError(f"an Ed25519 public key is {_KEY_SIZE} bytes, got {len(raw)}")
    return raw


def key_id_of(public_key_b64: str) -> str:
    """Hex SHA-256 of the raw public key; ValueError if it is not a base64 32-byte key."""
    return hashlib.sha256(_public_key_bytes(public_key_b64)).hexdigest()


def new_seed_b64() -> str:
    """A fresh private key seed (e.g. for ESCROW_SIGNING_KEY)."""
    return b64encode(os.urandom(_KEY_SIZE))


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_b64 = b64encode(raw)
        self.key_id = hashlib.sha256(raw).hexdigest()

    @classmethod
    def from_seed_b64(cls, seed_b64: str) -> "Signer":
        try:
            seed = base64.b64decode(seed_b64.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("the signing key seed is not valid base64") from exc
        if len(seed) != _KEY_SIZE:
            raise ValueError(f"the signing key seed must decode to {_KEY_SIZE} bytes, got {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def __repr__(self) -> str:  # never the private key
        return f"Signer(key_id={self.key_id!r})"

    def sign(self, message: bytes) -> str:
        return b64encode(self._private_key.sign(message))


def verify_signature(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    """True only for a valid signature; any malformed key or signature is simply not valid."""
    try:
        public_key = Ed25519PublicKey.from_public_bytes(_public_key_bytes(public_key_b64))
        signature = b64decode_strict(signature_b64)
    except ValueError:
        return False
    if len(signature) != _SIGNATURE_SIZE:
        return False
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def tree_head_message(tree_size: int, root_hash_hex: str, timestamp_ms: int) -> bytes:
    """The bytes a tree head signature covers."""
    return canonical_json(
        {
            "format": TREE_HEAD_FORMAT,
            "tree_size": tree_size,
            "root_hash": root_hash_hex,
            "timestamp_ms": timestamp_ms,
        }
    )


def sign_tree_head(tree_size: int, root_hash_hex: str, timestamp_ms: int, signer: Signer) -> dict[str, Any]:
    """A signed tree head as certificates and log exports carry it."""
    return {
        "tree_size": tree_size,
        "root_hash": root_hash_hex,
        "timestamp_ms": timestamp_ms,
        "key_id": signer.key_id,
        "signature": signer.sign(tree_head_message(tree_size, root_hash_hex, timestamp_ms)),
    }
