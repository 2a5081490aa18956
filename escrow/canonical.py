"""Canonical JSON: the one byte encoding of a value that hashes and signatures are computed over.

Pure Python, no Django: the offline verifier (`python -m escrow.verify`) imports it.
"""

import hashlib
import json
from typing import Any


def _check(value: Any, path: str) -> None:
    # Floats have several textual forms (1.0, 1e0, 1.00) and NaN/Infinity are not JSON at all, so a
    # signed document carrying one could be re-encoded differently by another implementation.
    if isinstance(value, float):
        raise TypeError(f"canonical JSON refuses floats (at {path}); use integers, e.g. minor units")
    if isinstance(value, dict):
        for key, item in value.items():
            # json.dumps would turn 1 into "1", so {1: x} and {"1": x} would share one encoding.
            if not isinstance(key, str):
                raise TypeError(f"canonical JSON object keys must be strings (at {path}: {key!r})")
            _check(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
    elif value is not None and not isinstance(value, str | int | bool):
        raise TypeError(f"canonical JSON cannot encode {type(value).__name__} (at {path})")


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no floats."""
    _check(obj, "$")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
