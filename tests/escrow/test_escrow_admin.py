"""The escrow's read views in the operations admin: every list and page opens for an operator, nobody (not
even a superuser) adds, edits or deletes a row, the ledger entry list shows the filtered balance, and a
deposit's page shows no key material."""

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db import connection, models
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escrow.models import (
    ConnectedAccount,
    Deposit,
    DepositFile,
    Dispute,
    GatewayOperation,
    LedgerEntry,
    LedgerTransaction,
    LogEntry,
    ReleaseRequest,
    TreeHead,
    WebhookEvent,
)
from escrow.payments import actions
from escrow.payments.simulated import SimulatedGateway
from escrow.vault import releases
from escrow.vault.deposits import create_deposit
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, simulator
from tests.escrow.stripe_events import deliver
from tests.escrow.vault_fixtures import data_key_of, key_spellings, seal, vault_fixture

__all__ = ["vault_fixture"]  # the `vault` fixture, used by name

pytestmark = pytest.mark.django_db

# The browse-only escrow models and what a row's change page is found by.
READ_ONLY = [
    LedgerTransaction,
    LedgerEntry,
    GatewayOperation,
    WebhookEvent,
    Dispute,
    ConnectedAccount,
    Deposit,
    LogEntry,
    TreeHead,
]
# Never registered on purpose: the escrow record holds the client secret, reminders are bookkeeping.
NOT_IN_ADMIN = {"escrowmilestone", "holdreminder"}


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.fixture
def scene(
    sim: SimulatedGateway, vault: Path, django_capture_on_commit_callbacks: Any
) -> tuple[EscrowWorld, list[Deposit]]:
    """A row in every escrow table, made by the real actions: milestone 1 (10,000,000 KRW) paid through
    the webhook and accepted, its transfers executed; milestone 2 (5,000,000 KRW) funded and disputed;
    each milestone's deliverables deposited; a court order recorded on milestone 2's deposit."""
    ew = build_escrow_world(sim, amounts=(10_000_000, 5_000_000))
    w, (m1, m2) = ew.w, ew.milestones
    deposits = [
        create_deposit(w.seller, w.seller_org.pk, "milestone", title, seal(files), milestone_id=m.pk)
        for m, title, files in (
            (m1, "Process recipe", {"recipe.pdf": b"%PDF recipe" * 100}),
            (m2, "Source archive", {"src.tar.gz": b"\x1f\x8b source" * 100}),
        )
    ]
    intent = actions.fund_milestone(w.buyer, m1.pk, sim).payment_intent_id
    assert deliver(Client(), sim.succeed_payment(str(intent))).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(w.buyer, m1.pk, sim)
    fund(ew, m2)
    actions.open_dispute(w.buyer, m2.pk, "The archive does not build")
    recorder = User.objects.create_user("operator-2", is_staff=True)
    releases.request_release(recorder, deposits[1].pk, "court_order", "Seoul District Court 2026-123")
    for model in READ_ONLY:
        assert model._default_manager.exists(), model.__name__
    return ew, deposits


@pytest.fixture
def operator_client(scene: tuple[EscrowWorld, list[Deposit]], client: Client) -> Client:
    """Staff with what an operator is given for the escrow: view permissions only."""
    operator = scene[0].w.operator
    operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label="escrow", codename__startswith="view_")
    )
    client.force_login(operator)
    return client


@pytest.fixture
def root_client(scene: tuple[EscrowWorld, list[Deposit]]) -> Client:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    return client


def _url(model: type[models.Model], view: str = "changelist", *args: object) -> str:
    return reverse(f"admin:escrow_{model._meta.model_name}_{view}", args=args)


def _rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of every escrow table, to prove that nothing was written."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_app_config("escrow").get_models()
    }


def test_every_escrow_model_is_registered_inline_or_deliberately_left_out() -> None:
    inline_models = {
        inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines
    }
    escrow_models = set(apps.get_app_config("escrow").get_models())
    registered = {m for m in admin.site._registry if m._meta.app_label == "escrow"}

    assert registered == set(READ_ONLY)
    assert {DepositFile, ReleaseRequest} <= inline_models
    left_out = escrow_models - registered - inline_models
    assert {str(m._meta.model_name) for m in left_out} == NOT_IN_ADMIN


@pytest.mark.parametrize("who", ["operator", "superuser"])
def test_every_escrow_list_and_page_opens(who: str, operator_client: Client, root_client: Client) -> None:
    client = operator_client if who == "operator" else root_client
    for model in READ_ONLY:
        # the list, searched, and the page of its first row
        assert client.get(_url(model)).status_code == 200, model.__name__
        assert client.get(_url(model), {"q": "release"}).status_code == 200, model.__name__
        first = model._default_manager.order_by("pk").first()
        assert first is not None
        page = client.get(_url(model, "change", first.pk))
        assert page.status_code == 200, model.__name__
        # read only: no form field for any column, no save or delete button
        content = page.content.decode()
        assert 'name="_save"' not in content and "deletelink" not in content, model.__name__


def test_a_transaction_page_shows_its_entries_and_a_deposit_page_its_files_and_requests(
    scene: tuple[EscrowWorld, list[Deposit]], operator_client: Client
) -> None:
    # given
    ew, deposits = scene
    release = LedgerTransaction.objects.get(key=f"release:m{ew.milestone.pk}:1")

    # when
    txn_page = operator_client.get(_url(LedgerTransaction, "change", release.pk)).content.decode()
    deposit_page = operator_client.get(_url(Deposit, "change", deposits[1].pk)).content.decode()

    # then the split to the unit, and the deposit's manifest and pending court order
    for amount in ("-10,000,000 KRW", "8,700,000 KRW", "700,000 KRW", "300,000 KRW"):
        assert amount in txn_page, amount
    assert "src.tar.gz" in deposit_page and deposits[1].manifest_sha256 in deposit_page
    assert DepositFile.objects.get(deposit=deposits[1]).sha256 in deposit_page
    assert "Court order" in deposit_page and "Seoul District Court" not in deposit_page  # its hash only


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_nobody_adds_changes_or_deletes_escrow_rows_not_even_a_superuser(
    model: type[models.Model], root_client: Client
) -> None:
    # given a superuser, and a row
    root = User.objects.get(username="root")
    request = RequestFactory().get("/")
    request.user = root
    model_admin = admin.site._registry[model]
    row = model._default_manager.order_by("pk").first()
    assert row is not None
    before = _rows()

    # then the admin grants nothing but viewing
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    assert model_admin.has_view_permission(request, row)
    assert "delete_selected" not in model_admin.get_actions(request)
    # and every writing URL refuses
    assert root_client.get(_url(model, "add")).status_code == 403
    assert root_client.post(_url(model, "add"), {"key": "forged", "amount": 1}).status_code == 403
    assert root_client.post(_url(model, "change", row.pk), {"amount": 1, "state": "x"}).status_code == 403
    assert root_client.get(_url(model, "delete", row.pk)).status_code == 403
    assert root_client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    # and the bulk delete action is not there to be posted
    bulk = root_client.post(
        _url(model), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert _rows() == before


@pytest.mark.parametrize(
    ("account", "balance"),
    [
        (None, "0 KRW"),  # every transaction sums to zero
        ("held", "5,000,000 KRW"),  # milestone 2, frozen by its dispute
        ("buyer_funding", "-15,000,000 KRW"),
        ("seller_payable", "8,700,000 KRW"),
        ("broker_payable", "1,000,000 KRW"),
        ("platform_fee", "300,000 KRW"),
        ("refunded", "nothing"),
    ],
)
def test_the_ledger_entry_list_shows_the_balance_of_what_it_lists(
    operator_client: Client, account: str | None, balance: str
) -> None:
    # when
    response = operator_client.get(_url(LedgerEntry), {"account__exact": account} if account else {})

    # then the title carries the balance, derived from the entries listed
    title = f"Ledger entries — balance: {balance}"
    assert response.status_code == 200
    assert response.context["title"] == title
    assert f"<h1>{title}</h1>" in response.content.decode()


def test_the_balance_follows_a_search_too(
    scene: tuple[EscrowWorld, list[Deposit]], operator_client: Client
) -> None:
    # given the key of milestone 1's funding transaction
    key = f"fund:m{scene[0].milestone.pk}"

    # when the entries are searched by it
    response = operator_client.get(_url(LedgerEntry), {"q": key})

    # then both sides are listed and they balance
    assert response.context["cl"].result_count == 2
    assert response.context["title"] == "Ledger entries — balance: 0 KRW"


def test_a_deposit_page_shows_no_key_material(
    scene: tuple[EscrowWorld, list[Deposit]], operator_client: Client
) -> None:
    # given the deposit's wrapped data key, and the data key it unwraps to
    deposit = scene[1][0]
    wrapped = bytes(deposit.wrapped_key)
    secrets = [*key_spellings(wrapped), *key_spellings(data_key_of(deposit))]

    # when its page and the deposit list are opened
    pages = [
        operator_client.get(_url(Deposit, "change", deposit.pk)).content,
        operator_client.get(_url(Deposit)).content,
    ]

    # then neither shows the wrapped key or the data key in any spelling, nor the field at all
    for page in pages:
        assert b"wrapped" not in page.lower()
        for secret in secrets:
            assert secret not in page
        # hex in either case, and base64 split by HTML escaping of "+" or "/" would still be long
        assert wrapped.hex().upper().encode() not in page
        assert base64.b64encode(wrapped)[:24] not in page
    # while the metadata an operator needs is there
    assert deposit.manifest_sha256.encode() in pages[0] and deposit.kek_id.encode() in pages[0]


def _activity(ew: EscrowWorld, sim: SimulatedGateway, milestones: list[Any], capture: Any) -> None:
    """For each milestone: deliverables deposited, paid through the webhook, then accepted (odd) or
    disputed (even), and a court order recorded on a disputed one's deposit."""
    w = ew.w
    recorder = User.objects.get_or_create(username="recorder", defaults={"is_staff": True})[0]
    for i, m in enumerate(milestones):
        deposit = create_deposit(
            w.seller,
            w.seller_org.pk,
            "milestone",
            f"Part {m.sequence}",
            seal({"a.bin": b"a" * 10}),
            milestone_id=m.pk,
        )
        intent = actions.fund_milestone(w.buyer, m.pk, sim).payment_intent_id
        assert deliver(Client(), sim.succeed_payment(str(intent))).status_code == 200
        if i % 2 == 0:
            with capture(execute=True):
                actions.accept_milestone(w.buyer, m.pk, sim)
        else:
            actions.open_dispute(w.buyer, m.pk, "Late")
            releases.request_release(recorder, deposit.pk, "court_order", f"Order {m.pk}")


def test_an_escrow_list_costs_the_same_queries_for_2_and_8_milestones_of_activity(
    sim: SimulatedGateway, vault: Path, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given the activity of 2 milestones, and an operator with view permissions
    ew = build_escrow_world(sim, amounts=[1_000_000] * 8)
    _activity(ew, sim, ew.milestones[:2], django_capture_on_commit_callbacks)
    ew.w.operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label="escrow", codename__startswith="view_")
    )
    client.force_login(ew.w.operator)

    def queries() -> dict[str, int]:
        counts = {}
        for model in READ_ONLY:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(_url(model)).status_code == 200
            counts[model.__name__] = len(captured)
        return counts

    queries()  # warm the caches (content types, the session)
    few = queries()

    # when 6 more milestones see the same activity
    _activity(ew, sim, ew.milestones[2:], django_capture_on_commit_callbacks)

    # then every list costs what it did
    assert queries() == few
