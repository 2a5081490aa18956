"""Deposits as actions: who may deposit what, who may read it and when, and tampering found on read."""

import hashlib
import json
from pathlib import Path

import pytest
from django.db import transaction

from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, DepositFile, LogEntry
from escrow.vault import deposits, releases
from escrow.vault.upload import SealedBatch
from marketplace.error_codes import ActionError
from tests.escrow.vault_fixtures import (
    agreed_deal,
    seal,
    stored_files,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World

pytestmark = pytest.mark.django_db

MATERIALS = {"process.pdf": b"%PDF-1.7 nozzle temperature profile " * 500, "bom.csv": b"part,qty\nRGO,3\n"}


def _code(call: object) -> EscrowErrorCode:
    with pytest.raises(ActionError) as info:
        call()  # type: ignore[operator]
    return info.value.code  # type: ignore[return-value]


def _read(chunks: object) -> bytes:
    return b"".join(chunks)  # type: ignore[arg-type]


def _log() -> list[tuple[str, int | None, dict[str, object]]]:
    return [(e.kind, e.actor_id, json.loads(bytes(e.leaf))) for e in LogEntry.objects.order_by("index")]


def _proof(w: World, files: dict[str, bytes] = MATERIALS) -> Deposit:
    return deposits.create_deposit(w.seller, w.seller_org.pk, "proof_of_existence", "Process v1", seal(files))


def test_a_proof_of_existence_is_sealed_logged_and_certified(world: World, vault: Path) -> None:
    # when the seller deposits two files
    deposit = _proof(world)

    # then rows, log entry and certificate agree
    assert deposit.certificate is not None
    assert deposit.depositor_id == world.seller_org.pk and deposit.beneficiary_id is None
    assert [(f.position, f.name, f.size) for f in deposit.files.all()] == [
        (0, "process.pdf", len(MATERIALS["process.pdf"])),
        (1, "bom.csv", len(MATERIALS["bom.csv"])),
    ]
    kind, actor, leaf = _log()[0]
    assert (kind, actor) == ("deposit", world.seller.pk)
    # the leaf is exactly what the certificate lets anyone recompute: no user id in it
    assert leaf == {
        "kind": "deposit",
        "deposit_id": deposit.pk,
        "depositor_id": world.seller_org.pk,
        "manifest_sha256": deposit.manifest_sha256,
        "time": deposit.certificate["deposit"]["created_at"],
    }
    assert deposit.certificate["deposit"]["manifest_sha256"] == deposit.manifest_sha256
    assert len(stored_files(vault)) == 2


def test_milestone_deliverables_name_the_buyer_as_beneficiary(world: World, vault: Path) -> None:
    deal, milestones = agreed_deal(world)

    deposit = deposits.create_deposit(
        world.seller, world.seller_org.pk, "milestone", "Know-how package", seal(MATERIALS),
        milestone_id=milestones[0].pk,
    )  # fmt: skip

    assert (deposit.deal_id, deposit.milestone_id, deposit.listing_id, deposit.beneficiary_id) == (
        deal.pk,
        milestones[0].pk,
        world.listing.pk,
        world.buyer_org.pk,
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not_a_member", EscrowErrorCode.PERMISSION_DENIED),
        ("unknown_purpose", EscrowErrorCode.INVALID),
        ("data_room_purpose", EscrowErrorCode.INVALID),
        ("proof_with_listing", EscrowErrorCode.INVALID),
        ("listing_without_id", EscrowErrorCode.INVALID),
        ("someone_elses_listing", EscrowErrorCode.NOT_FOUND),
        ("milestone_of_the_buyer", EscrowErrorCode.NOT_FOUND),
        ("milestone_of_another_deal", EscrowErrorCode.INVALID),
        ("blank_title", EscrowErrorCode.INVALID),
        ("no_files", EscrowErrorCode.EMPTY_DEPOSIT),
    ],
)
def test_refused_deposits_leave_no_row_no_log_entry_and_no_stored_file(
    world: World, vault: Path, case: str, code: EscrowErrorCode
) -> None:
    # given a sealed batch (its ciphertext already stored) and a deal with milestones
    _, milestones = agreed_deal(world)
    batch: SealedBatch = seal({} if case == "no_files" else MATERIALS)
    assert len(stored_files(vault)) == (0 if case == "no_files" else 2)
    w = world
    calls = {
        "not_a_member": lambda: deposits.create_deposit(
            w.buyer, w.seller_org.pk, "proof_of_existence", "T", batch
        ),
        "unknown_purpose": lambda: deposits.create_deposit(w.seller, w.seller_org.pk, "gift", "T", batch),
        "data_room_purpose": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "data_room", "T", batch
        ),
        "proof_with_listing": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "proof_of_existence", "T", batch, listing_id=w.listing.pk
        ),
        "listing_without_id": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "listing", "T", batch
        ),
        "someone_elses_listing": lambda: deposits.create_deposit(
            w.buyer, w.buyer_org.pk, "listing", "T", batch, listing_id=w.listing.pk
        ),
        "milestone_of_the_buyer": lambda: deposits.create_deposit(
            w.buyer, w.buyer_org.pk, "milestone", "T", batch, milestone_id=milestones[0].pk
        ),
        "milestone_of_another_deal": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "milestone", "T", batch, milestone_id=milestones[0].pk, deal_id=999_999
        ),
        "blank_title": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "proof_of_existence", " ", batch
        ),
        "no_files": lambda: deposits.create_deposit(
            w.seller, w.seller_org.pk, "proof_of_existence", "T", batch
        ),
    }

    # when the deposit is refused
    assert _code(calls[case]) == code

    # then nothing is left: no rows, no log entry, no ciphertext
    assert Deposit.objects.count() == 0 and DepositFile.objects.count() == 0
    assert LogEntry.objects.count() == 0
    assert stored_files(vault) == []


def test_the_depositor_reads_its_files_and_every_read_is_logged(world: World, vault: Path) -> None:
    deposit = _proof(world)

    row, chunks = deposits.open_file(world.seller, deposit.pk, 0)

    assert row.name == "process.pdf" and _read(chunks) == MATERIALS["process.pdf"]
    kind, actor, leaf = _log()[-1]
    assert (kind, actor, leaf["deposit_id"], leaf["position"]) == ("download", world.seller.pk, deposit.pk, 0)
    assert leaf["sha256"] == row.sha256


def test_unauthorised_downloads_are_refused_and_the_refusal_is_logged(world: World, vault: Path) -> None:
    # given the seller's deposit
    deposit = _proof(world)
    before = LogEntry.objects.count()

    # when an outsider, an operator, and someone asking for a deposit that does not exist try to read
    outsider = _code(lambda: deposits.open_file(world.other_buyer, deposit.pk, 0))
    operator = _code(lambda: deposits.open_file(world.operator, deposit.pk, 0))
    missing = _code(lambda: deposits.open_file(world.seller, 999_999, 0))
    no_such_file = _code(lambda: deposits.open_file(world.seller, deposit.pk, 7))

    # then each is refused (outsiders do not even learn the deposit exists), and each refusal is on the log
    assert (outsider, operator, missing, no_such_file) == (
        EscrowErrorCode.NOT_FOUND,
        EscrowErrorCode.PERMISSION_DENIED,
        EscrowErrorCode.NOT_FOUND,
        EscrowErrorCode.NOT_FOUND,
    )
    refusals = [(k, a, leaf["requested_deposit_id"], leaf["reason"]) for k, a, leaf in _log()[before:]]
    assert refusals == [
        ("download_refused", world.other_buyer.pk, deposit.pk, "not_found"),
        ("download_refused", world.operator.pk, deposit.pk, "permission_denied"),
        ("download_refused", world.seller.pk, 999_999, "not_found"),
        ("download_refused", world.seller.pk, deposit.pk, "not_found"),
    ]
    assert not LogEntry.objects.filter(kind="download").exists()


def test_the_beneficiary_reads_milestone_deliverables_only_after_release(world: World, vault: Path) -> None:
    # given deliverables deposited for the first milestone
    _, milestones = agreed_deal(world)
    deposit = deposits.create_deposit(
        world.seller,
        world.seller_org.pk,
        "milestone",
        "Know-how",
        seal(MATERIALS),
        milestone_id=milestones[0].pk,
    )

    # when the buyer tries before the milestone is paid
    before = _code(lambda: deposits.open_file(world.buyer, deposit.pk, 0))

    # then NOT_RELEASED, logged
    assert before == EscrowErrorCode.NOT_RELEASED
    assert _log()[-1][0] == "download_refused" and _log()[-1][2]["reason"] == "not_released"

    # when the payment step releases the milestone (inside its transaction), the buyer can read
    with transaction.atomic():
        released = releases.release_for_milestone(milestones[0], None)
    row, chunks = deposits.open_file(world.buyer, deposit.pk, 0)

    assert [d.pk for d in released] == [deposit.pk]
    assert _read(chunks) == MATERIALS["process.pdf"] and row.position == 0
    assert _log()[-1][:2] == ("download", world.buyer.pk)
    # other buyers still cannot
    assert _code(lambda: deposits.open_file(world.other_buyer, deposit.pk, 0)) == EscrowErrorCode.NOT_FOUND


def test_a_flipped_byte_in_a_stored_ciphertext_is_detected_on_download(world: World, vault: Path) -> None:
    # given a deposit whose stored ciphertext has one byte flipped
    deposit = _proof(world)
    row = deposit.files.get(position=0)
    path = vault / row.storage_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    # when the depositor downloads it
    code = _code(lambda: deposits.open_file(world.seller, deposit.pk, 0))

    # then TAMPERED before a byte is served; the refusal is logged, no download is
    assert code == EscrowErrorCode.TAMPERED
    assert _log()[-1][0] == "download_refused" and _log()[-1][2]["reason"] == "tampered"
    assert not LogEntry.objects.filter(kind="download").exists()
    # the other file is intact and still readable
    assert _read(deposits.open_file(world.seller, deposit.pk, 1)[1]) == MATERIALS["bom.csv"]


def test_the_aead_tags_catch_a_change_even_when_the_recorded_hash_is_forged_too(
    world: World, vault: Path
) -> None:
    # given an attacker who flips a byte and also rewrites the row's ciphertext hash to match
    deposit = _proof(world)
    row = deposit.files.get(position=0)
    path = vault / row.storage_name
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x80
    path.write_bytes(bytes(data))
    DepositFile.objects.filter(pk=row.pk).update(ciphertext_sha256=hashlib.sha256(bytes(data)).hexdigest())

    # then the download is still refused as TAMPERED
    assert _code(lambda: deposits.open_file(world.seller, deposit.pk, 0)) == EscrowErrorCode.TAMPERED


def test_files_swapped_between_positions_or_keys_between_deposits_do_not_decrypt(
    world: World, vault: Path
) -> None:
    # given two deposits
    first = _proof(world)
    second = _proof(world, {"other.txt": b"another deposit"})
    rows = list(first.files.order_by("position"))

    # when the two files of the first swap their storage objects (hashes swapped too)
    DepositFile.objects.filter(pk=rows[0].pk).update(
        storage_name=rows[1].storage_name, ciphertext_sha256=rows[1].ciphertext_sha256
    )
    # and the second deposit is given the first's wrapped key
    Deposit.objects.filter(pk=second.pk).update(wrapped_key=first.wrapped_key, kek_id=first.kek_id)

    # then neither decrypts: the AAD binds a file to its position, the wrapping binds a key to its deposit
    assert _code(lambda: deposits.open_file(world.seller, first.pk, 0)) == EscrowErrorCode.TAMPERED
    assert _code(lambda: deposits.open_file(world.seller, second.pk, 0)) == EscrowErrorCode.TAMPERED


def test_certificates_are_for_the_parties_and_operators_only(world: World, vault: Path) -> None:
    _, milestones = agreed_deal(world)
    deposit = deposits.create_deposit(
        world.seller,
        world.seller_org.pk,
        "milestone",
        "Know-how",
        seal(MATERIALS),
        milestone_id=milestones[0].pk,
    )

    # The deal's broker mediates: it sees what was deposited (never the content).
    for user in (world.seller, world.buyer, world.operator, world.broker):
        assert deposits.certificate_for(user, deposit.pk) == deposit.certificate
    assert _code(lambda: deposits.certificate_for(world.other_buyer, deposit.pk)) == EscrowErrorCode.NOT_FOUND
    outsider = world.other_broker
    assert _code(lambda: deposits.certificate_for(outsider, deposit.pk)) == EscrowErrorCode.NOT_FOUND
