"""The deal data room: closed until the NDA is signed, every view on the transparency log."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, LogEntry
from escrow.vault import data_room, deposits
from marketplace import actions
from marketplace.error_codes import ActionError
from marketplace.models import DealState
from tests.escrow.vault_fixtures import (
    seal,
    stored_files,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World, open_deal

pytestmark = pytest.mark.django_db

SPEC = b"Electrode spec sheet: 3D graphene, 280 F/g at 1 A/g\n" * 100


def _code(call: object) -> EscrowErrorCode:
    with pytest.raises(ActionError) as info:
        call()  # type: ignore[operator]
    return info.value.code  # type: ignore[return-value]


def _entries(kind: str) -> list[tuple[int | None, dict[str, object]]]:
    return [
        (e.actor_id, json.loads(bytes(e.leaf))) for e in LogEntry.objects.filter(kind=kind).order_by("index")
    ]


def test_before_the_nda_nothing_goes_in_and_nothing_is_left_behind(world: World, vault: Path) -> None:
    # given a deal whose NDA is requested but not signed
    deal = open_deal(world, until=DealState.NDA_PENDING)

    # when the seller adds a document
    code = _code(lambda: data_room.add_document(world.seller, deal.pk, "Spec", seal({"spec.txt": SPEC})))

    # then NDA_REQUIRED, and the uploaded ciphertext is deleted
    assert code == EscrowErrorCode.NDA_REQUIRED
    assert Deposit.objects.count() == 0 and LogEntry.objects.count() == 0 and stored_files(vault) == []


def test_after_the_nda_parties_and_brokers_view_documents_and_every_view_is_logged(
    world: World, vault: Path
) -> None:
    # given a deal with a signed NDA and the seller's document in its data room
    deal = open_deal(world, until=DealState.NDA_SIGNED)
    document = data_room.add_document(world.seller, deal.pk, "Spec sheet", seal({"spec.txt": SPEC}))
    assert (document.purpose, document.deal_id, document.depositor_id) == (
        "data_room",
        deal.pk,
        world.seller_org.pk,
    )
    assert _entries("data_room_upload")[0][0] == world.seller.pk

    # when the buyer and the broker view it (the broker through the general download path)
    buyer_row, buyer_chunks = data_room.view_document(world.buyer, document.pk, 0)
    _, broker_chunks = deposits.open_file(world.broker, document.pk, 0)

    # then both get the plaintext, and each view is on the log with who and when
    assert b"".join(buyer_chunks) == SPEC == b"".join(broker_chunks)
    assert buyer_row.name == "spec.txt"
    views = _entries("data_room_view")
    assert [(actor, leaf["deposit_id"], leaf["deal_id"], leaf["position"]) for actor, leaf in views] == [
        (world.buyer.pk, document.pk, deal.pk, 0),
        (world.broker.pk, document.pk, deal.pk, 0),
    ]
    assert all(str(leaf["time"]).endswith("Z") for _, leaf in views)

    # and outsiders and operators are refused, on the record
    assert (
        _code(lambda: data_room.view_document(world.other_buyer, document.pk, 0)) == EscrowErrorCode.NOT_FOUND
    )
    assert _code(lambda: data_room.view_document(world.operator, document.pk, 0)) == (
        EscrowErrorCode.PERMISSION_DENIED
    )
    assert (
        _code(lambda: data_room.view_document(world.other_broker, document.pk, 0))
        == EscrowErrorCode.NOT_FOUND
    )
    refused = _entries("download_refused")
    assert [(actor, leaf["reason"]) for actor, leaf in refused] == [
        (world.other_buyer.pk, "not_found"),
        (world.operator.pk, "permission_denied"),
        (world.other_broker.pk, "not_found"),
    ]


def test_each_side_deposits_for_its_own_organisation_and_brokers_for_their_firm(
    world: World, vault: Path
) -> None:
    deal = open_deal(world, until=DealState.NDA_SIGNED)

    from_buyer = data_room.add_document(world.buyer, deal.pk, "Requirements", seal({"req.txt": b"needs"}))
    from_broker = data_room.add_document(world.broker, deal.pk, "Term sheet", seal({"terms.txt": b"terms"}))

    assert from_buyer.depositor_id == world.buyer_org.pk
    assert from_broker.depositor_id == world.broker.broker_profile.firm_id
    assert _code(lambda: data_room.add_document(world.operator, deal.pk, "X", seal({"x": b"x"}))) == (
        EscrowErrorCode.PERMISSION_DENIED
    )
    assert _code(lambda: data_room.add_document(world.other_buyer, deal.pk, "X", seal({"x": b"x"}))) == (
        EscrowErrorCode.NOT_FOUND
    )
    assert [d.pk for d in data_room.documents(world.seller, deal.pk)] == [from_buyer.pk, from_broker.pk]


def test_a_cancelled_deal_closes_the_room_to_the_other_side(world: World, vault: Path) -> None:
    # given the seller's document and then the deal cancelled
    deal = open_deal(world, until=DealState.NDA_SIGNED)
    document = data_room.add_document(world.seller, deal.pk, "Spec", seal({"spec.txt": SPEC}))
    actions.cancel_deal(world.buyer, deal.pk, "Went another way")

    # then the buyer no longer sees it; the seller still reads its own document
    assert _code(lambda: data_room.view_document(world.buyer, document.pk, 0)) == EscrowErrorCode.NDA_REQUIRED
    assert b"".join(data_room.view_document(world.seller, document.pk, 0)[1]) == SPEC


def test_data_room_documents_over_http(world: World, vault: Path) -> None:
    # given a signed NDA
    deal = open_deal(world, until=DealState.NDA_SIGNED)
    seller, buyer, outsider = Client(), Client(), Client()
    seller.force_login(world.seller)
    buyer.force_login(world.buyer)
    outsider.force_login(world.other_buyer)

    # when the seller uploads to the data room and the buyer downloads
    created = seller.post(
        "/escrow/deposits/",
        {
            "purpose": "data_room",
            "deal": deal.pk,
            "title": "Spec",
            "files": [SimpleUploadedFile("spec.txt", SPEC)],
        },
    )
    assert created.status_code == 201, created.json()
    document_id = created.json()["id"]
    got = buyer.get(f"/escrow/deposits/{document_id}/files/0")
    refused = outsider.get(f"/escrow/deposits/{document_id}/files/0")

    # then the buyer has the document, the outsider a 404, and both are on the log
    assert got.status_code == 200 and b"".join(got.streaming_content) == SPEC  # type: ignore[attr-defined]
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert [e[0] for e in _entries("data_room_view")] == [world.buyer.pk]
    assert [e[0] for e in _entries("download_refused")] == [world.other_buyer.pk]
