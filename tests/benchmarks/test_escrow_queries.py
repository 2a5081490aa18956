"""No N+1 in the escrow side of a deal: `deal { milestones { escrow { ... } } }` costs the same number of
SQL queries for a deal of 1 milestone as for a deal of 4, every escrow field selected, for every viewer
who may see it. Run with `-s` to see the counts."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from escrow.payments import actions
from escrow.payments.simulated import SimulatedGateway
from escrow.vault.deposits import create_deposit
from marketplace import actions as market
from marketplace.actions.accounts import create_api_token
from tests.api.client import LocalApi
from tests.escrow.factories import build_escrow_world, fund, simulator
from tests.escrow.vault_fixtures import seal, vault_fixture
from tests.marketplace.factories import build_world

__all__ = ["vault_fixture"]  # the `vault` fixture, used by name

DEAL_ESCROW = """query ($id: ID!) { deal(id: $id) { id milestones { id sequence state amount { amount }
  escrow { held { amount currency } funded { amount } released { amount } refunded { amount }
    fundedAt deliveredAt inspectionEndsAt acceptedAt holdExpiresAt releasedAt
    openDispute { id reason state resolution fromGateway openedAt }
    payouts { kind amount { amount currency } status }
    materials { id title state purpose depositor { id name } beneficiary { id name }
      files { position name sha256 downloadUrl } releaseRequests { id condition state } } } } } }"""


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


class _Rollback(Exception):
    pass


def _cost(sim: SimulatedGateway, milestones: int, viewer: str) -> tuple[int, dict[str, Any]]:
    """The SQL queries of the deal's escrow query as `viewer`, for a deal of `milestones` milestones in
    as many different states as there are (released, disputed, funded, pending), each with its
    deliverables deposited. Built in a savepoint rolled back afterwards: the next build starts clean."""
    result: tuple[int, dict[str, Any]] = (0, {})
    try:
        with transaction.atomic():
            ew = build_escrow_world(sim, amounts=[1_000_000 * (i + 1) for i in range(milestones)])
            w = ew.w
            for m in ew.milestones:
                files = {f"part-{m.sequence}.pdf": b"%PDF " * 50, "notes.txt": b"notes"}
                create_deposit(
                    w.seller,
                    w.seller_org.pk,
                    "milestone",
                    f"Deliverable {m.sequence}",
                    seal(files),
                    milestone_id=m.pk,
                )
            for i, m in enumerate(ew.milestones[:3]):
                fund(ew, m)
                if i == 0:
                    actions.accept_milestone(w.buyer, m.pk, sim)  # payouts pending: not executed here
                if i == 1:
                    actions.open_dispute(w.buyer, m.pk, "Incomplete")
            api = LocalApi(create_api_token(getattr(w, viewer), "benchmark")[1])
            with CaptureQueriesContext(connection) as captured:
                data = api.call(DEAL_ESCROW, id=to_global_id("Deal", ew.deal.pk))
            assert len(data["deal"]["milestones"]) == milestones
            result = (len(captured), data)
            raise _Rollback
    except _Rollback:
        pass
    return result


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["buyer", "seller", "broker", "operator"])
def test_a_deals_escrow_costs_the_same_sql_for_1_and_4_milestones(
    sim: SimulatedGateway, vault: Path, viewer: str, record_property: Any
) -> None:
    # when
    small, _ = _cost(sim, 1, viewer)
    large, data = _cost(sim, 4, viewer)

    # then
    print(f"\ndeal escrow ({viewer}): {small} queries for 1 milestone, {large} for 4")  # noqa: T201
    record_property("queries_1", small)
    record_property("queries_4", large)
    assert small == large, f"{viewer}: {small} SQL queries for 1 milestone, {large} for 4"
    # and the data is really there: every milestone's materials, the payouts, the dispute
    escrows = [m["escrow"] for m in data["deal"]["milestones"]]
    assert [len(e["materials"]) for e in escrows] == [1, 1, 1, 1]
    assert [len(e["payouts"]) for e in escrows] == [3, 0, 0, 0]
    assert [e["openDispute"] is not None for e in escrows] == [False, True, False, False]
    assert [m["state"] for m in data["deal"]["milestones"]] == ["RELEASED", "DISPUTED", "FUNDED", "PENDING"]


DEPOSITS = """query ($first: Int!) { deposits(first: $first) { totalCount edges { node {
  id title purpose state totalSize logIndex manifestSha256 certificateUrl
  depositor { id name } beneficiary { id name } files { position name sha256 downloadUrl }
  releaseRequests { id condition state approved } } } } }"""


def _deposits_cost(size: int, viewer: str) -> int:
    """The SQL queries of a page of `size` deposits, each made by an organisation of its own (the seller
    is a member of all), as `viewer`. Built in a savepoint rolled back afterwards."""
    count = 0
    try:
        with transaction.atomic():
            w = build_world()
            for i in range(size):
                org = market.create_organization(w.seller, f"Lab {i}", "university", "KR")
                create_deposit(
                    w.seller, org.pk, "proof_of_existence", f"Notebook {i}", seal({"nb.txt": b"x" * i})
                )
            api = LocalApi(create_api_token(getattr(w, viewer), "benchmark")[1])
            with CaptureQueriesContext(connection) as captured:
                data = api.call(DEPOSITS, first=size)
            assert len(data["deposits"]["edges"]) == size
            assert len({e["node"]["depositor"]["id"] for e in data["deposits"]["edges"]}) == size
            count = len(captured)
            raise _Rollback
    except _Rollback:
        pass
    return count


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["seller", "operator"])
def test_a_page_of_deposits_costs_the_same_sql_for_2_and_8_items(
    vault: Path, viewer: str, record_property: Any
) -> None:
    # when
    small, large = _deposits_cost(2, viewer), _deposits_cost(8, viewer)

    # then
    print(f"\ndeposits ({viewer}): {small} queries for 2, {large} for 8")  # noqa: T201
    record_property("queries_2", small)
    record_property("queries_8", large)
    assert small == large, f"{viewer}: {small} SQL queries for 2 deposits, {large} for 8"
