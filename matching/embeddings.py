"""Text encoders for semantic matching, and the vector cache (STUB interface; a helper fills it in)."""

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Literal, Protocol

import numpy as np

Role = Literal["query", "passage"]


class Encoder(Protocol):
    model_version: str
    dimensions: int

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray: ...


def text_hash(text: str, role: Role) -> str:
    return hashlib.sha256(f"{role}\n{text}".encode()).hexdigest()


class HashEncoder:
    """Placeholder: deterministic random unit vectors (no semantics)."""

    model_version = "hash-v0"
    dimensions = 384

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, t in enumerate(texts):
            rng = np.random.default_rng(int(text_hash(t, role)[:8], 16))
            v = rng.standard_normal(self.dimensions).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


@cache
def encoder() -> Encoder:
    return HashEncoder()


def cached_vectors(texts: Sequence[str], role: Role) -> list[np.ndarray | None]:
    """Vectors already stored for these texts (None where missing); never encodes."""
    return [None for _ in texts]


def vectors(texts: Sequence[str], role: Role) -> np.ndarray:
    """Vectors for these texts: from the cache, encoding and storing the missing ones."""
    return encoder().encode(texts, role)
