"""Fifty concurrent release requests for one milestone produce exactly one release: one ledger booking, one
set of gateway operations, one transfer per payee at the gateway; every other request is refused with a
typed code. Real threads, each with its own PostgreSQL connection, started together by a barrier; through
the action and through the GraphQL endpoint."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from graphql_relay import to_global_id

from escrow import ledger
from escrow.models import EscrowMilestone, GatewayOperation, LedgerTransaction, OperationKind, OperationStatus
from escrow.payments import actions, operations
from escrow.payments.simulated import SimulatedGateway
from escrow.tasks import run_release_after_inspection
from marketplace.actions.accounts import create_api_token
from marketplace.error_codes import ActionError
from marketplace.models import Milestone, MilestoneState
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, simulator

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 50
ACCEPT = """
mutation Accept($id: ID!, $key: String) {
  acceptMilestone(milestoneId: $id, idempotencyKey: $key) { milestone { state } errors { code field } }
}"""


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.fixture
def ew(sim: SimulatedGateway) -> EscrowWorld:
    # a 10,000,000 KRW milestone, funded and booked (committed), brokers sharing 70/30
    ew = build_escrow_world(sim)
    fund(ew, ew.milestone)
    return ew


def at_once(n: int, request: Callable[[int], str]) -> list[str]:
    """Runs request(0..n-1) in n threads released together; returns what each answered."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = [""] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[i] = request(i)
        except Exception as error:  # reported in the outcomes, which the test asserts
            outcomes[i] = f"crashed: {type(error).__name__}: {error}"
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def assert_released_once(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    """One booking, its three operations, one transfer per payee of exactly its share: fee 3%, commission
    10% split 70/30, the seller the rest."""
    m = Milestone.objects.get(pk=ew.milestone.pk)
    assert m.state == MilestoneState.RELEASED and ledger.held(m.pk) == 0
    assert list(LedgerTransaction.objects.filter(kind="release").values_list("key", flat=True)) == [
        f"release:m{m.pk}:1"
    ]
    # whatever the after-commit hooks left (none here), the sweep finishes: it must not add a transfer
    operations.execute_pending(gateway=sim)
    ops = GatewayOperation.objects.filter(kind=OperationKind.TRANSFER).order_by("amount")
    assert list(ops.values_list("destination", "amount", "status")) == [
        (ew.co_broker_account, 300_000, OperationStatus.SUCCEEDED),
        (ew.broker_account, 700_000, OperationStatus.SUCCEEDED),
        (ew.seller_account, 8_700_000, OperationStatus.SUCCEEDED),
    ]
    transfers = [key for method, key in sim.calls() if method == "create_transfer"]
    assert sorted(transfers) == sorted(ops.values_list("idempotency_key", flat=True))
    assert (
        sim.transferred_to(ew.seller_account),
        sim.transferred_to(ew.broker_account),
        sim.transferred_to(ew.co_broker_account),
        sim.transfers_in_group(f"deal_{ew.deal.pk}"),
    ) == (8_700_000, 700_000, 300_000, 9_700_000)
    assert ledger.totals_by_currency() == {"KRW": 0}


def test_fifty_concurrent_acceptances_release_once(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given a funded milestone
    buyer, m = ew.w.buyer, ew.milestone

    def accept(_: int) -> str:
        try:
            actions.accept_milestone(buyer, m.pk, sim)
        except ActionError as error:
            return str(error.code)
        return "released"

    # when fifty acceptances arrive at once
    outcomes = at_once(REQUESTS, accept)
    # then one released; the forty-nine others waited for its lock and found the milestone released
    assert Counter(outcomes) == {"released": 1, "already_released": REQUESTS - 1}
    assert_released_once(ew, sim)


def test_fifty_concurrent_releases_of_every_kind_release_once(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given a funded milestone, and fifty requests that would each release all of it: the buyer's
    # acceptance, the buyer's and an operator's partial release of everything held, and the end of the
    # inspection period (the milestone is delivered and its inspection period is over)
    w, m = ew.w, ew.milestone
    actions.confirm_delivery(w.seller, m.pk)
    EscrowMilestone.objects.filter(milestone=m).update(inspection_ends_at=m.escrow.delivered_at)

    def release(i: int) -> str:
        kind = i % 4
        try:
            if kind == 0:
                actions.accept_milestone(w.buyer, m.pk, sim)
            elif kind == 1:
                actions.partial_release(w.buyer, m.pk, 10_000_000, sim)
            elif kind == 2:
                actions.partial_release(w.operator, m.pk, 10_000_000, sim)
            else:
                counts = run_release_after_inspection(gateway=sim)
                return "inspection:released" if counts["released"] else "inspection:nothing_due"
        except ActionError as error:
            return f"{('accept', 'partial', 'partial')[kind]}:{error.code}"
        return f"{('accept', 'partial', 'partial')[kind]}:released"

    # when they all arrive at once
    outcomes = Counter(at_once(REQUESTS, release))
    # then each was answered with what it found under the lock: the milestone open with money held (it
    # releases), released (acceptance, or a partial release after an acceptance), nothing held any more (a
    # partial release after a partial release of everything), or nothing due (the inspection sweep)
    assert set(outcomes) <= {
        "accept:already_released",
        "accept:released",
        "partial:already_released",
        "partial:amount_exceeds_held",
        "partial:released",
        "inspection:nothing_due",
        "inspection:released",
    }, outcomes
    # and the money was released by one of them: a partial release of everything, or a final release;
    # a final release after a partial release of everything only closes the milestone (nothing is held)
    finals = outcomes["accept:released"] + outcomes["inspection:released"]
    assert outcomes["partial:released"] <= 1 and finals <= 1 and outcomes["partial:released"] + finals >= 1
    m.refresh_from_db()
    if m.state != MilestoneState.RELEASED:
        assert m.state == MilestoneState.DELIVERED and ledger.held(m.pk) == 0
        actions.accept_milestone(w.buyer, m.pk, sim)
    assert_released_once(ew, sim)


def test_fifty_concurrent_graphql_acceptances_with_one_idempotency_key_answer_the_same_release(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    # given the buyer's API token; a client that retries one acceptance fifty times at once with one key
    _, token = create_api_token(ew.w.buyer, "retries")
    milestone_id = to_global_id("Milestone", ew.milestone.pk)

    def accept(_: int) -> str:
        response = Client().post(
            "/graphql/",
            {"query": ACCEPT, "variables": {"id": milestone_id, "key": "accept-once"}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        body = response.json()
        if body.get("errors"):
            return f"graphql error: {body['errors'][0].get('message')}"
        payload = body["data"]["acceptMilestone"]
        return str(payload["errors"][0]["code"]) if payload["errors"] else str(payload["milestone"]["state"])

    # when
    outcomes = at_once(REQUESTS, accept)
    # then every retry answers the one release
    assert Counter(outcomes) == {"RELEASED": REQUESTS}
    assert_released_once(ew, sim)


def test_fifty_concurrent_graphql_acceptances_release_once_and_refuse_the_rest_with_a_typed_error(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    # given fifty separate acceptances through the API (no idempotency key)
    _, token = create_api_token(ew.w.buyer, "clicks")
    milestone_id = to_global_id("Milestone", ew.milestone.pk)

    def accept(_: int) -> str:
        response = Client(raise_request_exception=False).post(
            "/graphql/",
            {"query": ACCEPT, "variables": {"id": milestone_id}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        body = response.json()
        if body.get("errors"):
            return f"graphql error: {body['errors'][0].get('message')}"
        payload = body["data"]["acceptMilestone"]
        return str(payload["errors"][0]["code"]) if payload["errors"] else str(payload["milestone"]["state"])

    # when
    outcomes = at_once(REQUESTS, accept)
    # then one released and the others got the payload's typed error (not a request-level failure)
    assert Counter(outcomes) == {"RELEASED": 1, "ALREADY_RELEASED": REQUESTS - 1}, Counter(outcomes)
    assert_released_once(ew, sim)
