"""KEK rotation: data keys re-wrapped under the new KEK, ciphertext untouched, the old KEK then retired."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escrow.models import Deposit, LogEntry
from escrow.vault import deposits
from tests.escrow.vault_fixtures import (
    B64,
    KEK1,
    KEK2,
    key_spellings,
    seal,
    stored_files,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World

pytestmark = pytest.mark.django_db

FILES = {"a.bin": bytes(range(256)) * 700, "b.txt": b"process window 180-220 C\n"}


def _rotate() -> str:
    out = io.StringIO()
    call_command("rotate_kek", "--batch-size", "2", stdout=out)
    return out.getvalue().strip()


def test_rotation_rewraps_every_data_key_without_touching_the_ciphertext(
    world: World, vault: Path, settings: Any
) -> None:
    # given three deposits under KEK k1
    made = [
        deposits.create_deposit(world.seller, world.seller_org.pk, "proof_of_existence", f"D{n}", seal(FILES))
        for n in range(3)
    ]
    before_files = {p: p.read_bytes() for p in stored_files(vault)}
    before_keys = {d.pk: bytes(d.wrapped_key) for d in made}
    assert {d.kek_id for d in made} == {"k1"}

    # when k2 is added and made active, and the rotation runs (in batches of two)
    settings.ESCROW_KEKS = f"k1:{B64['k1']},k2:{B64['k2']}"
    settings.ESCROW_ACTIVE_KEK = "k2"
    report = _rotate()

    # then every data key is re-wrapped under k2, and every ciphertext file is byte-identical
    assert report == "re-wrapped 3 data key(s) under KEK k2; 3 from k1; 0 already under it; 0 failed"
    after = {d.pk: d for d in Deposit.objects.all()}
    assert {d.kek_id for d in after.values()} == {"k2"}
    assert all(bytes(after[pk].wrapped_key) != wrapped for pk, wrapped in before_keys.items())
    assert {p: p.read_bytes() for p in stored_files(vault)} == before_files

    # and one key_rotation entry records counts and key ids, never key material
    rotation = LogEntry.objects.get(kind="key_rotation")
    leaf = json.loads(bytes(rotation.leaf))
    assert {k: leaf[k] for k in ("to_kek", "from_keks", "rewrapped")} == {
        "to_kek": "k2",
        "from_keks": {"k1": 3},
        "rewrapped": 3,
    }
    for key in (KEK1, KEK2):
        assert not any(spelling in bytes(rotation.leaf) for spelling in key_spellings(key))

    # when it runs again, nothing changes
    assert _rotate() == "re-wrapped 0 data key(s) under KEK k2; 3 already under it; 0 failed"
    assert LogEntry.objects.filter(kind="key_rotation").count() == 1

    # and with k1 retired from the ring, every file still decrypts
    settings.ESCROW_KEKS = f"k2:{B64['k2']}"
    for deposit in made:
        for position, content in enumerate(FILES.values()):
            assert b"".join(deposits.open_file(world.seller, deposit.pk, position)[1]) == content


def test_a_wrapped_key_that_does_not_unwrap_is_reported_and_the_rest_rotate(
    world: World, vault: Path, settings: Any
) -> None:
    # given two deposits, one of whose wrapped keys was damaged
    good, bad = (
        deposits.create_deposit(world.seller, world.seller_org.pk, "proof_of_existence", t, seal(FILES))
        for t in ("good", "bad")
    )
    damaged = bytearray(bytes(bad.wrapped_key))
    damaged[20] ^= 0xFF
    Deposit.objects.filter(pk=bad.pk).update(wrapped_key=bytes(damaged))
    settings.ESCROW_KEKS = f"k1:{B64['k1']},k2:{B64['k2']}"
    settings.ESCROW_ACTIVE_KEK = "k2"

    # when the rotation runs
    with pytest.raises(CommandError, match=f"1 deposit\\(s\\) could not be re-wrapped: \\[{bad.pk}\\]"):
        call_command("rotate_kek", stdout=io.StringIO(), stderr=io.StringIO())

    # then the good one moved to k2, the damaged one is left as it was
    assert dict(Deposit.objects.values_list("pk", "kek_id")) == {good.pk: "k2", bad.pk: "k1"}
