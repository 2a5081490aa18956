"""Shared helpers of the vault tests: a storage folder and keys of the test's own, sealed batches made by
the real upload handler, a deal with milestones, and raw views of what is stored."""

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from escrow.models import Deposit
from escrow.vault.upload import EncryptingUploadHandler, SealedBatch
from marketplace import actions
from marketplace.actions.deals import MilestoneInput
from marketplace.models import Deal, DealState, Milestone
from tests.marketplace.factories import World, build_world, open_deal

# Fixed test keys (32 bytes each): never used outside the tests.
KEK1 = hashlib.sha256(b"test kek one").digest()
KEK2 = hashlib.sha256(b"test kek two").digest()
SIGNING_SEED = hashlib.sha256(b"test signing seed").digest()
B64 = {name: base64.b64encode(key).decode() for name, key in (("k1", KEK1), ("k2", KEK2))}


@pytest.fixture(name="vault")
def vault_fixture(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Ciphertext goes to a folder of this test's own; the KEK ring and the signing key are fixed."""
    root = tmp_path / "vault"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "escrow": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.ESCROW_KEKS = f"k1:{B64['k1']}"
    settings.ESCROW_ACTIVE_KEK = "k1"
    settings.ESCROW_SIGNING_KEY = base64.b64encode(SIGNING_SEED).decode()
    yield root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def seal(files: dict[str, bytes], *, chunk: int = 10_000) -> SealedBatch:
    """A batch sealed by the real upload handler, fed as the multipart parser feeds it."""
    handler = EncryptingUploadHandler()
    for name, content in files.items():
        handler.new_file("files", name, "application/octet-stream", len(content), None, {})
        for start in range(0, len(content), chunk):
            handler.receive_data_chunk(content[start : start + chunk], start)
        handler.file_complete(len(content))
    handler.upload_complete()
    return handler.batch


def agreed_deal(w: World) -> tuple[Deal, list[Milestone]]:
    """The world's deal, agreed at 50,000,000 KRW in two milestones."""
    deal = open_deal(w, until=DealState.AGREED)
    actions.set_milestones(
        w.seller,
        deal.pk,
        [MilestoneInput("Know-how transfer", 20_000_000), MilestoneInput("Assignment", 30_000_000)],
    )
    return deal, list(deal.milestones.order_by("sequence"))


@pytest.fixture(name="world")
def world_fixture() -> World:
    return build_world()


def raw_rows(table: str) -> list[tuple[object, ...]]:
    """Every column of every row, as the database returns it (no model in between)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 -- a fixed table name from the test
        return list(cursor.fetchall())


def as_bytes(value: object) -> bytes:
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value)
    return str(value).encode()


def data_key_of(deposit: Deposit) -> bytes:
    from escrow.vault import keys

    return keys.keyring().unwrap(deposit.kek_id, bytes(deposit.wrapped_key), keys.deposit_context(deposit.pk))


def key_spellings(key: bytes) -> list[bytes]:
    """The ways a key could show up in a column: raw, hex, base64 (standard and url-safe)."""
    return [
        key,
        key.hex().encode(),
        base64.b64encode(key),
        base64.urlsafe_b64encode(key),
        base64.b64encode(key).rstrip(b"="),
    ]
