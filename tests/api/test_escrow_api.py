"""The escrow through GraphQL only (the in-process /graphql/ endpoint, real PostgreSQL, the stateful
gateway simulator checked against stripe-mock, payment events signed and delivered to /webhooks/stripe/):
the money flow with its idempotency keys, disputes, refunds, deposits and certificates, and invalid input.
Who may call what is the authorization matrix's business (tests/api/test_authorization_matrix.py)."""

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from graphql import GraphQLScalarType
from graphql_relay import to_global_id

from backend.api.core.types import BigInt
from escrow import ledger
from escrow.certificates import sign_certificate, verify_certificate
from escrow.models import (
    Deposit,
    Dispute,
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LogEntry,
    TreeHead,
)
from escrow.payments.simulated import SimulatedGateway
from escrow.signing import Signer, key_id_of, new_seed_b64
from escrow.vault import keys
from escrow.vault.deposits import create_deposit
from marketplace.actions.accounts import create_api_token
from marketplace.models import AuditEntry, IdempotencyKey, Milestone, MilestoneState
from tests.api.client import LocalApi
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, simulator
from tests.escrow.stripe_events import deliver
from tests.escrow.vault_fixtures import seal, vault_fixture

__all__ = ["vault_fixture"]  # the `vault` fixture, used by name

pytestmark = pytest.mark.django_db

A = LedgerAccount
RECIPE = b"Spray-dry at 180 C, RGO 0.42 wt%, nozzle 0.7 mm.\n" * 400
DRAWING = bytes(range(256)) * 40

DEAL_ESCROW = """query ($id: ID!) { deal(id: $id) { state milestones { id state escrow {
  held { amount currency } funded { amount currency } released { amount currency } refunded { amount currency }
  fundedAt holdExpiresAt deliveredAt inspectionEndsAt acceptedAt releasedAt
  openDispute { id reason state resolution fromGateway }
  payouts { kind amount { amount currency } status }
  materials { title state files { name sha256 downloadUrl } } } } } }"""

ERRORS = "errors { field code }"
FUND = f"""mutation ($m: ID!, $key: String) {{ fundMilestone(milestoneId: $m, idempotencyKey: $key) {{
  clientSecret publishableKey milestone {{ id state }} {ERRORS} }} }}"""
DELIVER = f"""mutation ($m: ID!) {{ confirmDelivery(milestoneId: $m) {{
  milestone {{ state escrow {{ deliveredAt inspectionEndsAt }} }} {ERRORS} }} }}"""
ACCEPT = f"""mutation ($m: ID!, $key: String) {{ acceptMilestone(milestoneId: $m, idempotencyKey: $key) {{
  milestone {{ id state }} {ERRORS} }} }}"""
RELEASE_PART = f"""mutation ($m: ID!, $amount: BigInt!, $key: String) {{
  releasePartOfMilestone(milestoneId: $m, amount: $amount, idempotencyKey: $key) {{
  milestone {{ state }} {ERRORS} }} }}"""
REFUND = f"""mutation ($m: ID!, $amount: BigInt, $key: String) {{
  refundMilestone(milestoneId: $m, amount: $amount, idempotencyKey: $key) {{ milestone {{ state }} {ERRORS} }} }}"""
DISPUTE = f"""mutation ($m: ID!, $reason: String!) {{ openMilestoneDispute(milestoneId: $m, reason: $reason) {{
  milestone {{ state escrow {{ openDispute {{ id reason state }} }} }} {ERRORS} }} }}"""
RESOLVE = f"""mutation ($d: ID!, $resolution: DisputeResolution!, $amount: BigInt, $key: String) {{
  resolveMilestoneDispute(disputeId: $d, resolution: $resolution, releaseAmount: $amount,
    idempotencyKey: $key) {{ milestone {{ state }} {ERRORS} }} }}"""

DEPOSIT = """query ($id: ID!) { deposit(id: $id) { id title purpose state manifestSha256 totalSize logIndex
  depositor { name } beneficiary { name } certificate certificateUrl
  files { position name size sha256 contentType downloadUrl } } }"""
DEPOSITS = """query ($purpose: DepositPurpose, $deal: ID) { deposits(first: 20, purpose: $purpose, dealId: $deal) {
  totalCount edges { node { title purpose } } } }"""
VERIFY = "query ($c: JSONString!) { verifyCertificate(certificate: $c) { valid problems } }"


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings, validate=True)


@pytest.fixture
def ew(sim: SimulatedGateway) -> EscrowWorld:
    """10,000,000 KRW and 5,000,000 KRW milestones; brokers 70/30 of the 10% commission; fee 3%."""
    return build_escrow_world(sim, amounts=(10_000_000, 5_000_000))


def _as(user: User) -> LocalApi:
    return LocalApi(create_api_token(user, "escrow test")[1])


def _gid(milestone: Any) -> str:
    return to_global_id("Milestone", milestone.pk)


def krw(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "KRW"}


def _escrow_of(api: LocalApi, ew: EscrowWorld, index: int = 0) -> dict[str, Any]:
    deal = api.call(DEAL_ESCROW, id=to_global_id("Deal", ew.deal.pk))["deal"]
    return dict(deal["milestones"][index]["escrow"])


def _payouts(*rows: tuple[str, int, str]) -> list[dict[str, Any]]:
    return [{"kind": kind, "amount": krw(amount), "status": status} for kind, amount, status in rows]


def snapshot() -> tuple[Any, ...]:
    """Everything a money mutation may write, to prove a refused one wrote nothing."""
    return (
        list(LedgerEntry.objects.order_by("pk").values_list("pk", "account", "amount")),
        list(GatewayOperation.objects.order_by("pk").values_list("idempotency_key", "status")),
        list(EscrowMilestone.objects.order_by("pk").values_list("pk", "payment_intent_id", "released_at")),
        list(Dispute.objects.order_by("pk").values_list("pk", "state")),
        list(IdempotencyKey.objects.order_by("pk").values_list("pk", "object_id")),
        list(Milestone.objects.order_by("pk").values_list("pk", "state")),
        AuditEntry.objects.count(),
    )


def refused(api: LocalApi, query: str, **variables: Any) -> list[dict[str, Any]]:
    """The typed errors of a mutation that must be refused, asserting that it wrote nothing."""
    before = snapshot()
    [payload] = api.call(query, **variables).values()
    assert snapshot() == before
    assert payload["errors"], payload
    assert [value for key, value in payload.items() if key != "errors"] == [None] * (len(payload) - 1)
    return list(payload["errors"])


def error(code: str, field: str | None = None) -> list[dict[str, Any]]:
    return [{"field": field, "code": code}]


def _download(user: User, url: str) -> tuple[int, bytes]:
    token = create_api_token(user, "download")[1]
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code != 200:
        return response.status_code, response.content
    return 200, b"".join(response.streaming_content)  # type: ignore[attr-defined]


# --- the whole money flow -------------------------------------------------------------------------------


def test_fund_pay_deliver_accept_over_graphql_with_idempotency_keys(
    ew: EscrowWorld, sim: SimulatedGateway, vault: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # given the seller's deliverables sealed for the first milestone
    w, m1, m2 = ew.w, *ew.milestones
    create_deposit(
        w.seller,
        w.seller_org.pk,
        "milestone",
        "Process recipe",
        seal({"recipe.pdf": RECIPE}),
        milestone_id=m1.pk,
    )
    buyer, seller = _as(w.buyer), _as(w.seller)

    # when the buyer funds it with an idempotency key
    funded = buyer.call(FUND, m=_gid(m1), key="fund-once")["fundMilestone"]

    # then a client secret for Stripe.js and the publishable key; the money is not held yet
    record = EscrowMilestone.objects.get(milestone=m1)
    assert funded == {
        "clientSecret": record.client_secret,
        "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
        "milestone": {"id": _gid(m1), "state": "PENDING"},
        "errors": [],
    }
    assert record.client_secret.startswith(f"{record.payment_intent_id}_secret_")
    assert _escrow_of(buyer, ew)["held"] == krw(0)

    # when the buyer retries with the same key: the same answer, and no second PaymentIntent
    assert buyer.call(FUND, m=_gid(m1), key="fund-once")["fundMilestone"] == funded
    intents = [c for c in sim.calls() if c[0] == "create_payment_intent"]
    assert intents == [("create_payment_intent", f"fund:m{m1.pk}:pi")]
    # and the same key for another milestone is refused, with no intent for it
    assert refused(buyer, FUND, m=_gid(m2), key="fund-once") == error(
        "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"
    )
    assert [c for c in sim.calls() if c[0] == "create_payment_intent"] == intents
    assert not EscrowMilestone.objects.filter(milestone=m2).exists()

    # when the card payment succeeds and the gateway's event reaches the webhook
    event = sim.succeed_payment(str(record.payment_intent_id))
    assert deliver(Client(), event).status_code == 200

    # then the deal shows the money held, the holding period, and the materials sealed
    status = _escrow_of(buyer, ew)
    assert {k: status[k] for k in ("held", "funded", "released", "refunded")} == {
        "held": krw(10_000_000),
        "funded": krw(10_000_000),
        "released": krw(0),
        "refunded": krw(0),
    }
    funded_at = datetime.fromisoformat(status["fundedAt"])
    hold = timedelta(days=settings.ESCROW_MAX_HOLD_DAYS)
    assert datetime.fromisoformat(status["holdExpiresAt"]) - funded_at == hold
    assert status["payouts"] == [] and status["openDispute"] is None
    [material] = status["materials"]
    assert (material["title"], material["state"]) == ("Process recipe", "SEALED")
    [file] = material["files"]
    assert file["sha256"] == hashlib.sha256(RECIPE).hexdigest()
    # and the buyer, the beneficiary, may not download what has not been released
    assert _download(w.buyer, file["downloadUrl"])[0] == 403

    # when the seller confirms delivery
    delivered = seller.call(DELIVER, m=_gid(m1))["confirmDelivery"]

    # then the inspection period runs
    assert delivered["errors"] == [] and delivered["milestone"]["state"] == "DELIVERED"
    ends = datetime.fromisoformat(delivered["milestone"]["escrow"]["inspectionEndsAt"])
    delivered_at = datetime.fromisoformat(delivered["milestone"]["escrow"]["deliveredAt"])
    assert ends - delivered_at == timedelta(days=m1.inspection_days)

    # when the buyer accepts (the transfers run once the mutation's transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = buyer.call(ACCEPT, m=_gid(m1), key="accept-once")["acceptMilestone"]

    # then money and materials are released together: 3% fee kept, 10% commission 70/30, seller the rest
    assert accepted == {"milestone": {"id": _gid(m1), "state": "RELEASED"}, "errors": []}
    status = _escrow_of(buyer, ew)
    assert {k: status[k] for k in ("held", "funded", "released", "refunded")} == {
        "held": krw(0),
        "funded": krw(10_000_000),
        "released": krw(10_000_000),
        "refunded": krw(0),
    }
    assert status["payouts"] == _payouts(
        ("transfer", 8_700_000, "succeeded"),
        ("transfer", 700_000, "succeeded"),
        ("transfer", 300_000, "succeeded"),
    )
    assert status["acceptedAt"] is not None and status["releasedAt"] is not None
    assert [(x["title"], x["state"]) for x in status["materials"]] == [("Process recipe", "RELEASED")]
    assert ledger.balances(m1.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.SELLER_PAYABLE, None): 8_700_000,
        (A.BROKER_PAYABLE, w.broker.pk): 700_000,
        (A.BROKER_PAYABLE, w.co_broker.pk): 300_000,
        (A.PLATFORM_FEE, None): 300_000,
    }
    assert (sim.transferred_to(ew.seller_account), sim.transferred_to(ew.broker_account)) == (
        8_700_000,
        700_000,
    )
    assert sim.transferred_to(ew.co_broker_account) == 300_000
    # and now the buyer downloads exactly what was deposited
    assert _download(w.buyer, file["downloadUrl"]) == (200, RECIPE)

    # when the buyer's client retries the acceptance with the same key
    with django_capture_on_commit_callbacks(execute=True):
        again = buyer.call(ACCEPT, m=_gid(m1), key="accept-once")["acceptMilestone"]

    # then the same answer, and no second ledger transaction or transfer
    assert again == accepted
    assert LedgerTransaction.objects.filter(milestone=m1, kind="release").count() == 1
    assert len([c for c in sim.calls() if c[0] == "create_transfer"]) == 3
    # and a retry without a key is told the milestone is released (a typed error, not a server error)
    assert refused(buyer, ACCEPT, m=_gid(m1)) == error("ALREADY_RELEASED")
    assert refused(seller, DELIVER, m=_gid(m1)) == error("ALREADY_RELEASED")
    assert refused(buyer, RELEASE_PART, m=_gid(m1), amount=1) == error("ALREADY_RELEASED")
    assert refused(seller, REFUND, m=_gid(m1), amount=1) == error("ALREADY_RELEASED")
    assert refused(buyer, DISPUTE, m=_gid(m1), reason="Too late") == error("ALREADY_RELEASED")
    assert ledger.totals_by_currency() == {"KRW": 0}


@pytest.mark.django_db(transaction=True)
def test_the_flow_commits_for_real_and_the_transfers_run_after_the_commit(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    # given real commits: the ledger's deferred zero-sum trigger runs at each COMMIT, and the transfers
    # run from the on-commit hook of the mutation's own transaction, nothing captured by the test
    m = ew.milestone
    buyer, seller = _as(ew.w.buyer), _as(ew.w.seller)
    buyer.call(FUND, m=_gid(m), key="fund")
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    assert deliver(Client(), sim.succeed_payment(intent)).status_code == 200
    seller.call(DELIVER, m=_gid(m))

    # when
    accepted = buyer.call(ACCEPT, m=_gid(m), key="accept")["acceptMilestone"]

    # then the commit went through and the transfers are done
    assert accepted == {"milestone": {"id": _gid(m), "state": "RELEASED"}, "errors": []}
    assert _escrow_of(buyer, ew)["payouts"] == _payouts(
        ("transfer", 8_700_000, "succeeded"),
        ("transfer", 700_000, "succeeded"),
        ("transfer", 300_000, "succeeded"),
    )
    assert sim.transfers_in_group(f"deal_{ew.deal.pk}") == 9_700_000
    assert ledger.totals_by_currency() == {"KRW": 0}


def test_partial_release_over_graphql_keeps_the_rest_in_trust(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a funded milestone
    m = fund(ew, ew.milestone)
    buyer = _as(ew.w.buyer)

    # when the buyer releases 4,000,000 early, and retries with the same key
    with django_capture_on_commit_callbacks(execute=True):
        first = buyer.call(RELEASE_PART, m=_gid(m), amount=4_000_000, key="part-1")["releasePartOfMilestone"]
    with django_capture_on_commit_callbacks(execute=True):
        retry = buyer.call(RELEASE_PART, m=_gid(m), amount=4_000_000, key="part-1")["releasePartOfMilestone"]

    # then it is released once, split like any release; the milestone stays funded
    assert first == retry == {"milestone": {"state": "FUNDED"}, "errors": []}
    status = _escrow_of(buyer, ew)
    assert (status["held"], status["released"]) == (krw(6_000_000), krw(4_000_000))
    assert status["payouts"] == _payouts(
        ("transfer", 3_480_000, "succeeded"),
        ("transfer", 280_000, "succeeded"),
        ("transfer", 120_000, "succeeded"),
    )
    assert LedgerTransaction.objects.filter(milestone=m, kind="release").count() == 1
    # and the same key with another amount is refused
    assert refused(buyer, RELEASE_PART, m=_gid(m), amount=5_000_000, key="part-1") == error(
        "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"
    )
    # and more than is held is refused
    assert refused(buyer, RELEASE_PART, m=_gid(m), amount=6_000_001) == error("AMOUNT_EXCEEDS_HELD", "amount")


# --- disputes -------------------------------------------------------------------------------------------


def test_a_dispute_freezes_the_milestone_until_an_operator_splits_it(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a funded, delivered milestone
    w = ew.w
    m = fund(ew, ew.milestone)
    buyer, seller, operator = _as(w.buyer), _as(w.seller), _as(w.operator)
    assert seller.call(DELIVER, m=_gid(m))["confirmDelivery"]["errors"] == []

    # when the buyer disputes it
    opened = buyer.call(DISPUTE, m=_gid(m), reason="The drawings are incomplete")["openMilestoneDispute"]

    # then it is disputed and frozen: no acceptance, no partial release, no second dispute
    dispute = Dispute.objects.get(milestone=m)
    assert opened == {
        "milestone": {
            "state": "DISPUTED",
            "escrow": {
                "openDispute": {
                    "id": to_global_id("Dispute", dispute.pk),
                    "reason": "The drawings are incomplete",
                    "state": "open",
                }
            },
        },
        "errors": [],
    }
    assert refused(buyer, ACCEPT, m=_gid(m), key="accept") == error("FROZEN")
    assert refused(buyer, RELEASE_PART, m=_gid(m), amount=1_000_000) == error("FROZEN")
    assert refused(seller, REFUND, m=_gid(m), amount=1_000_000) == error("FROZEN")
    assert refused(seller, DISPUTE, m=_gid(m), reason="Paid late") == error("DISPUTE_OPEN")
    d = to_global_id("Dispute", dispute.pk)
    # and an operator cannot split more than is held, nor split without an amount
    assert refused(operator, RESOLVE, d=d, resolution="SPLIT", amount=10_000_001) == error(
        "AMOUNT_EXCEEDS_HELD", "releaseAmount"
    )
    assert refused(operator, RESOLVE, d=d, resolution="SPLIT") == error("INVALID", "releaseAmount")
    assert refused(operator, RESOLVE, d=d, resolution="SPLIT", amount=0) == error("INVALID", "releaseAmount")

    # when an operator splits it: 6,000,000 to the seller side, the rest back to the buyer
    with django_capture_on_commit_callbacks(execute=True):
        resolved = operator.call(RESOLVE, d=d, resolution="SPLIT", amount=6_000_000, key="split")
    assert resolved["resolveMilestoneDispute"] == {"milestone": {"state": "RELEASED"}, "errors": []}

    # then the ledger holds exactly that split, and the gateway did the same
    assert ledger.balances(m.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.REFUNDED, None): 4_000_000,
        (A.SELLER_PAYABLE, None): 5_220_000,
        (A.BROKER_PAYABLE, w.broker.pk): 420_000,
        (A.BROKER_PAYABLE, w.co_broker.pk): 180_000,
        (A.PLATFORM_FEE, None): 180_000,
    }
    status = _escrow_of(buyer, ew)
    assert (status["held"], status["released"], status["refunded"]) == (
        krw(0),
        krw(6_000_000),
        krw(4_000_000),
    )
    assert status["openDispute"] is None
    assert status["payouts"] == _payouts(
        ("refund", 4_000_000, "succeeded"),
        ("transfer", 5_220_000, "succeeded"),
        ("transfer", 420_000, "succeeded"),
        ("transfer", 180_000, "succeeded"),
    )
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    assert (sim.refunded(intent), sim.transferred_to(ew.seller_account)) == (4_000_000, 5_220_000)
    dispute.refresh_from_db()
    assert (dispute.state, dispute.resolution, dispute.release_amount, dispute.refund_amount) == (
        "resolved",
        "split",
        6_000_000,
        4_000_000,
    )

    # when the operator's client retries with the same key: the first answer, nothing booked again
    retry = operator.call(RESOLVE, d=d, resolution="SPLIT", amount=6_000_000, key="split")
    assert retry == resolved
    assert LedgerTransaction.objects.filter(milestone=m).count() == 3  # fund, refund, release
    # and a second resolution is refused
    assert refused(operator, RESOLVE, d=d, resolution="REFUND") == error("NO_OPEN_DISPUTE", "disputeId")


# --- refunds --------------------------------------------------------------------------------------------


def test_a_partial_then_full_refund_closes_the_milestone_as_refunded(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a funded first milestone and an unfunded second one
    m1, m2 = ew.milestones
    fund(ew, m1)
    seller, buyer = _as(ew.w.seller), _as(ew.w.buyer)
    intent = str(EscrowMilestone.objects.get(milestone=m1).payment_intent_id)

    # when the seller refunds 3,000,000 of it
    with django_capture_on_commit_callbacks(execute=True):
        part = seller.call(REFUND, m=_gid(m1), amount=3_000_000, key="refund-1")["refundMilestone"]

    # then the rest stays held and the milestone funded
    assert part == {"milestone": {"state": "FUNDED"}, "errors": []}
    status = _escrow_of(buyer, ew)
    assert (status["held"], status["refunded"], status["released"]) == (
        krw(7_000_000),
        krw(3_000_000),
        krw(0),
    )
    assert status["payouts"] == _payouts(("refund", 3_000_000, "succeeded"))
    assert sim.refunded(intent) == 3_000_000
    # and more than is left is refused
    assert refused(seller, REFUND, m=_gid(m1), amount=7_000_001) == error("AMOUNT_EXCEEDS_HELD", "amount")

    # when the seller refunds the rest (no amount: everything held)
    with django_capture_on_commit_callbacks(execute=True):
        rest = seller.call(REFUND, m=_gid(m1), key="refund-2")["refundMilestone"]

    # then nothing was released, so the milestone is refunded
    assert rest == {"milestone": {"state": "REFUNDED"}, "errors": []}
    status = _escrow_of(buyer, ew)
    assert (status["held"], status["refunded"], status["funded"]) == (
        krw(0),
        krw(10_000_000),
        krw(10_000_000),
    )
    assert status["payouts"] == _payouts(
        ("refund", 3_000_000, "succeeded"), ("refund", 7_000_000, "succeeded")
    )
    assert sim.refunded(intent) == 10_000_000
    assert ledger.totals_by_currency() == {"KRW": 0}
    # and a refund of the refunded milestone is refused (it holds nothing)
    assert refused(seller, REFUND, m=_gid(m1)) == error("INVALID_STATE")

    # and on the pending second milestone every money step is NOT_FUNDED
    assert refused(seller, REFUND, m=_gid(m2)) == error("NOT_FUNDED")
    assert refused(seller, REFUND, m=_gid(m2), amount=1_000) == error("NOT_FUNDED")
    assert refused(seller, DELIVER, m=_gid(m2)) == error("NOT_FUNDED")
    assert refused(buyer, ACCEPT, m=_gid(m2)) == error("NOT_FUNDED")
    assert refused(buyer, RELEASE_PART, m=_gid(m2), amount=1_000) == error("NOT_FUNDED")
    assert refused(buyer, DISPUTE, m=_gid(m2), reason="Nothing yet") == error("NOT_FUNDED")
    m2.refresh_from_db()
    assert m2.state == MilestoneState.PENDING


# --- deposits and certificates --------------------------------------------------------------------------


@pytest.fixture
def deposits(ew: EscrowWorld, vault: Path) -> dict[str, Deposit]:
    """The seller's deliverables for the first milestone (two files) and a proof of existence."""
    w = ew.w
    files = {"recipe.pdf": RECIPE, "nozzle.dwg": DRAWING}
    return {
        "milestone": create_deposit(
            w.seller,
            w.seller_org.pk,
            "milestone",
            "Spray-drying recipe",
            seal(files),
            milestone_id=ew.milestone.pk,
        ),
        "proof": create_deposit(
            w.seller, w.seller_org.pk, "proof_of_existence", "Lab notebook", seal({"nb.txt": b"x"})
        ),
    }


def _certificate(deposit: Deposit) -> dict[str, Any]:
    assert isinstance(deposit.certificate, dict)
    return deposit.certificate


def _verify(api: LocalApi, certificate: Any) -> dict[str, Any]:
    return dict(api.call(VERIFY, c=json.dumps(certificate))["verifyCertificate"])


def test_a_deposit_shows_its_manifest_and_certificate_and_its_files_download(
    ew: EscrowWorld, deposits: dict[str, Deposit]
) -> None:
    # given
    deposit = deposits["milestone"]
    seller = _as(ew.w.seller)

    # when
    node = seller.call(DEPOSIT, id=to_global_id("Deposit", deposit.pk))["deposit"]

    # then
    assert {k: node[k] for k in ("title", "purpose", "state", "manifestSha256", "totalSize", "logIndex")} == {
        "title": "Spray-drying recipe",
        "purpose": "MILESTONE",
        "state": "SEALED",
        "manifestSha256": deposit.manifest_sha256,
        "totalSize": len(RECIPE) + len(DRAWING),
        "logIndex": deposit.log_index,
    }
    assert (node["depositor"], node["beneficiary"]) == (
        {"name": ew.w.seller_org.name},
        {"name": ew.w.buyer_org.name},
    )
    assert [(f["position"], f["name"], f["size"], f["sha256"]) for f in node["files"]] == [
        (0, "recipe.pdf", len(RECIPE), hashlib.sha256(RECIPE).hexdigest()),
        (1, "nozzle.dwg", len(DRAWING), hashlib.sha256(DRAWING).hexdigest()),
    ]
    assert json.loads(node["certificate"]) == deposit.certificate
    assert node["certificateUrl"] == f"/escrow/deposits/{deposit.pk}/certificate.json"
    # and each download URL streams the plaintext whose hash the manifest gives
    for file, content in zip(node["files"], (RECIPE, DRAWING), strict=True):
        assert _download(ew.w.seller, file["downloadUrl"]) == (200, content)
        assert hashlib.sha256(content).hexdigest() == file["sha256"]


def test_verify_certificate_accepts_the_stored_one_and_rejects_any_change(
    ew: EscrowWorld, deposits: dict[str, Deposit]
) -> None:
    # given the stored certificate and the public key the API publishes
    certificate = _certificate(deposits["milestone"])
    api = LocalApi()  # anyone may verify
    key = api.call("{ escrowPublicKey { algorithm keyId publicKey } }")["escrowPublicKey"]
    assert key == {
        "algorithm": "Ed25519",
        "keyId": key_id_of(keys.signer().public_key_b64),
        "publicKey": keys.signer().public_key_b64,
    }
    # then the published key verifies it offline, and so does the API
    assert verify_certificate(certificate, key["publicKey"]) == []
    assert certificate["key_id"] == key["keyId"]
    assert _verify(api, certificate) == {"valid": True, "problems": []}

    # when one character of the title is changed
    retitled = copy.deepcopy(certificate)
    retitled["deposit"]["title"] = "Spray-drying recipF"
    # or it is re-signed by another key that claims the platform's key id
    forger = Signer.from_seed_b64(new_seed_b64())
    forged = {**sign_certificate(retitled, forger), "key_id": key["keyId"]}
    # or the signature is replaced by 64 other bytes
    garbage = {**certificate, "signature": base64.b64encode(bytes(64)).decode()}
    # or it is signed honestly by the forger under its own key id
    own_key = sign_certificate(certificate, forger)

    # then each is invalid, with the reason
    for bad in (retitled, forged, garbage, own_key):
        result = _verify(api, bad)
        assert result["valid"] is False and result["problems"], result
    assert "signature: the certificate signature does not verify" in _verify(api, retitled)["problems"]
    assert any(p.startswith("key id") for p in _verify(api, own_key)["problems"])


@pytest.mark.parametrize(
    "value", [[1, 2], "a string", 42, True, {}, {"format": "ipmarket-deposit-certificate/1"}]
)
def test_verify_certificate_answers_invalid_for_json_that_is_no_certificate(
    ew: EscrowWorld, value: Any
) -> None:
    # when
    result = _verify(LocalApi(), value)

    # then
    assert result["valid"] is False and result["problems"], result


@pytest.mark.parametrize("text", ["{not json", ""])
def test_verify_certificate_refuses_text_that_is_not_json_at_the_schema(ew: EscrowWorld, text: str) -> None:
    # when the JSONString argument is no JSON at all
    response = LocalApi().post(VERIFY, c=text)

    # then the request is refused before anything runs (a client error, not a server error)
    body = json.loads(response.content)
    assert response.status_code == 400 and "data" not in body, body
    assert body["errors"][0]["message"].startswith("Variable '$c' got invalid value")


def test_verify_certificate_refuses_json_null_for_its_non_null_argument(ew: EscrowWorld) -> None:
    # when
    body = LocalApi().body(VERIFY, c="null")

    # then
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Argument 'certificate' of non-null type 'JSONString!' must not be null.",
                "locations": [{"line": 1, "column": 58}],
                "path": ["verifyCertificate"],
            }
        ],
    }


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            yield from _leaf_paths(item, (*path, i))
    else:
        yield path


def test_verify_certificate_never_fails_on_a_malformed_field(
    ew: EscrowWorld, deposits: dict[str, Deposit]
) -> None:
    # given every leaf of a real certificate, replaced in turn by values of every other JSON type
    certificate = _certificate(deposits["milestone"])
    api = LocalApi()
    replacements: list[Any] = [None, True, -1, 1.5, 2**70, "", "zz", [], {}]
    checked = 0

    for path in _leaf_paths(certificate):
        for replacement in replacements:
            bad = copy.deepcopy(certificate)
            target = bad
            for step in path[:-1]:
                target = target[step]
            if target[path[-1]] == replacement and type(target[path[-1]]) is type(replacement):
                continue
            target[path[-1]] = replacement
            # when it is verified
            body = api.body(VERIFY, c=json.dumps(bad))
            # then an answer, never a server error; invalid unless the field is not covered at all
            assert "errors" not in body, (path, replacement, body)
            assert body["data"]["verifyCertificate"]["valid"] is False, (path, replacement)
            checked += 1
    assert checked > 20 * len(replacements)  # every field of the certificate was tried


def test_the_log_head_and_the_deposit_filters(
    ew: EscrowWorld, deposits: dict[str, Deposit], vault: Path
) -> None:
    # given another deal's deposit: the other seller's proof of existence does not count here
    seller, operator = _as(ew.w.seller), _as(ew.w.operator)

    # when
    head = seller.call("{ transparencyLogHead { treeSize rootHash keyId timestampMs signature } }")

    # then the head covers every entry of the log and is the latest signed one
    latest = TreeHead.objects.order_by("-tree_size").first()
    assert latest is not None
    assert head["transparencyLogHead"] == {
        "treeSize": LogEntry.objects.count(),
        "rootHash": latest.root_hash,
        "keyId": key_id_of(keys.signer().public_key_b64),
        "timestampMs": latest.timestamp_ms,
        "signature": latest.signature,
    }
    assert LogEntry.objects.count() == 2

    deal = to_global_id("Deal", ew.deal.pk)
    titles = {
        "all": seller.call(DEPOSITS),
        "milestone of the deal": seller.call(DEPOSITS, purpose="MILESTONE", deal=deal),
        "proof": seller.call(DEPOSITS, purpose="PROOF_OF_EXISTENCE"),
        "proof of the deal": seller.call(DEPOSITS, purpose="PROOF_OF_EXISTENCE", deal=deal),
        "another deal": operator.call(DEPOSITS, deal=to_global_id("Deal", ew.deal.pk + 1000)),
        "not a deal id": operator.call(DEPOSITS, deal=_gid(ew.milestone)),
    }
    assert {
        name: [e["node"]["title"] for e in page["deposits"]["edges"]] for name, page in titles.items()
    } == {
        "all": ["Lab notebook", "Spray-drying recipe"],
        "milestone of the deal": ["Spray-drying recipe"],
        "proof": ["Lab notebook"],
        "proof of the deal": [],
        "another deal": [],
        "not a deal id": [],
    }
    # and the buyer sees the milestone's deposit, not the seller's proof of existence
    buyer_view = _as(ew.w.buyer).call(DEPOSITS, deal=deal)["deposits"]
    assert buyer_view == {
        "totalCount": 1,
        "edges": [{"node": {"title": "Spray-drying recipe", "purpose": "MILESTONE"}}],
    }


# --- invalid input --------------------------------------------------------------------------------------


def test_ids_of_the_wrong_type_are_invalid_input_and_write_nothing(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    # given a Deal id where a Milestone id belongs, and ids that decode to nothing
    buyer, operator = _as(ew.w.buyer), _as(ew.w.operator)
    deal_id = to_global_id("Deal", ew.deal.pk)

    # then
    assert refused(buyer, FUND, m=deal_id) == error("INVALID", "milestoneId")
    assert refused(buyer, FUND, m="not-an-id") == error("INVALID", "milestoneId")
    assert refused(buyer, FUND, m=to_global_id("Milestone", "x")) == error("INVALID", "milestoneId")
    assert refused(buyer, FUND, m=to_global_id("Milestone", 0)) == error("INVALID", "milestoneId")
    assert refused(buyer, ACCEPT, m=deal_id) == error("INVALID", "milestoneId")
    assert refused(operator, RESOLVE, d=_gid(ew.milestone), resolution="REFUND") == error(
        "INVALID", "disputeId"
    )
    # and an unknown milestone is not found
    assert refused(buyer, FUND, m=to_global_id("Milestone", ew.milestone.pk + 1000)) == error(
        "NOT_FOUND", "milestoneId"
    )
    assert not any(method == "create_payment_intent" for method, _ in sim.calls())
    # and an idempotency key longer than 100 characters is refused
    assert refused(buyer, FUND, m=_gid(ew.milestone), key="k" * 101) == error("INVALID", "idempotencyKey")


@pytest.mark.parametrize("amount", [0, -1, -10_000_000])
def test_amounts_that_are_not_positive_are_refused(ew: EscrowWorld, amount: int) -> None:
    # given a funded milestone and a dispute on the second one
    m1, m2 = ew.milestones
    fund(ew, m1)
    fund(ew, m2)
    buyer, seller, operator = _as(ew.w.buyer), _as(ew.w.seller), _as(ew.w.operator)
    assert buyer.call(DISPUTE, m=_gid(m2), reason="Late")["openMilestoneDispute"]["errors"] == []
    dispute = to_global_id("Dispute", Dispute.objects.get(milestone=m2).pk)

    # then
    assert refused(buyer, RELEASE_PART, m=_gid(m1), amount=amount) == error("INVALID", "amount")
    assert refused(seller, REFUND, m=_gid(m1), amount=amount) == error("INVALID", "amount")
    assert refused(operator, RESOLVE, d=dispute, resolution="SPLIT", amount=amount) == error(
        "INVALID", "releaseAmount"
    )
    assert ledger.held(m1.pk) == 10_000_000 and ledger.held(m2.pk) == 5_000_000


@pytest.mark.parametrize("amount", [1.5, "1.5", "1e3", True, "", [1]])
def test_an_amount_that_is_not_a_whole_number_is_refused_by_the_schema(ew: EscrowWorld, amount: Any) -> None:
    # given
    m = fund(ew, ew.milestone)
    buyer = _as(ew.w.buyer)
    before = snapshot()

    # when
    response = buyer.post(RELEASE_PART, m=_gid(m), amount=amount)

    # then a GraphQL error before anything runs, not a rounded amount
    body = json.loads(response.content)
    assert response.status_code == 400 and "data" not in body, body
    assert body["errors"][0]["message"].startswith("Variable '$amount' got invalid value")
    assert snapshot() == before


def test_an_amount_literal_with_a_fraction_is_refused_by_the_schema(ew: EscrowWorld) -> None:
    # given
    m = fund(ew, ew.milestone)
    literal = RELEASE_PART.replace("amount: $amount", "amount: 99.99").replace(", $amount: BigInt!", "")
    buyer = _as(ew.w.buyer)
    before = snapshot()

    # when
    response = buyer.post(literal, m=_gid(m))

    # then
    body = json.loads(response.content)
    assert response.status_code == 400 and "data" not in body, body
    assert "99.99" in body["errors"][0]["message"]
    assert snapshot() == before


def test_every_big_integer_of_the_schema_is_the_strict_one() -> None:
    # graphene registers the first type named BigInt it meets: a converted BigIntegerField (graphene's
    # own, which truncates 1.5 to 1) would silently replace ours for every amount argument of the API.
    from backend.api.schema import schema

    scalar = schema.graphql_schema.get_type("BigInt")
    assert isinstance(scalar, GraphQLScalarType)
    assert scalar.parse_value is BigInt.parse_value
