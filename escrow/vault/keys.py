"""The vault's keys, from the settings: the key-encryption keys (KEKs) and the Ed25519 signing key.

Parsed once per distinct setting value (the cache is keyed by the values, so a test that overrides the
settings gets keys matching its override, and production parses once)."""

from functools import lru_cache

from django.conf import settings

from escrow.crypto import KeyRing
from escrow.signing import Signer


@lru_cache(maxsize=8)
def _keyring(spec: str, active_id: str) -> KeyRing:
    return KeyRing.parse(spec, active_id)


@lru_cache(maxsize=8)
def _signer(seed_b64: str) -> Signer:
    return Signer.from_seed_b64(seed_b64)


def keyring() -> KeyRing:
    """All configured KEKs; new data keys are wrapped with ESCROW_ACTIVE_KEK."""
    return _keyring(settings.ESCROW_KEKS, settings.ESCROW_ACTIVE_KEK)


def signer() -> Signer:
    """The platform's signer of certificates and tree heads."""
    return _signer(settings.ESCROW_SIGNING_KEY)


def deposit_context(deposit_id: int) -> bytes:
    """What a data key's wrapping is bound to: a wrapped key copied onto another deposit will not unwrap."""
    return f"deposit:{deposit_id}".encode()
