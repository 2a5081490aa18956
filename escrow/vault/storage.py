"""Where ciphertext lives: Django's `storages["escrow"]` (the local filesystem by default, S3-compatible
storage through django-storages in production). Only ciphertext is ever written here."""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


def vault_storage() -> Storage:
    return storages["escrow"]


def save(name: str, content: IO[bytes]) -> str:
    """Store `content` (rewound first) under `name`; returns the name the storage actually used."""
    content.seek(0)
    return vault_storage().save(name, File(content, name=name))


def read_chunks(name: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with vault_storage().open(name, "rb") as stored:
        while chunk := stored.read(chunk_size):
            yield chunk


def sha256_of(name: str) -> str:
    digest = hashlib.sha256()
    for chunk in read_chunks(name):
        digest.update(chunk)
    return digest.hexdigest()


def delete_quietly(names: Iterable[str]) -> None:
    """Best-effort removal (cleaning up after a refused upload): a failure is logged, not raised, so the
    refusal the caller is reporting is not masked by a storage hiccup."""
    storage = vault_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # any backend's error: we are already on a failure path
            logger.exception("could not delete vault object %s", name)
