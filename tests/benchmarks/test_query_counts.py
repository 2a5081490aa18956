"""No N+1: every list query costs the same number of SQL queries for a page of 5 as for a page of 50,
with every relation field selected. Run with `-s` to see the counts."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.client import LocalApi
from tests.benchmarks.market import Market, build_market

PATENTS = """query ($first: Int!) { patents(first: $first) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id office title titles { language text } owner { id name kind isVerified }
    life { expiryDate remainingDays warnings { code } } events { date kind }
    ownershipChanges { date toOwner } } } } }"""

ORGANIZATIONS = """query ($first: Int!) { organizations(first: $first) { totalCount edges { node {
  id name kind country isVerified businessRegistrationNumber
  members { role user { id displayName } organization { id name } } } } } }"""

LISTINGS = """query ($first: Int!) { listings(first: $first) { totalCount edges { node {
  id title status sector transactionTypes trl price { amount currency } knowHow knowHowVisible
  isBookmarked seller { id name isVerified } patents { id title owner { id name } }
  quality { score hints { code } } } } } }"""

DEMANDS = """query ($first: Int!) { demands(first: $first) { totalCount edges { node {
  id title sector keywords budget { amount currency } buyer { id name members { role } } } } } }"""

BROKERS = """query ($first: Int!) { brokers(first: $first) { totalCount edges { node {
  id displayName sectors firm { id name kind } } } } }"""

# A deal's relations come in two requests: all of them on a page of 50 would exceed the cost limit.
DEAL_PARTIES = """query ($first: Int!) { myDeals(first: $first) { totalCount edges { node {
  id state viewerSide buyer { id name }
  listing { id title knowHow seller { id } patents { id owner { id } } }
  brokers { isLead broker { id firm { id } } }
  ndaSignatures { side ndaVersion signer { id } } } } } }"""

DEAL_TERMS = """query ($first: Int!) { myDeals(first: $first) { edges { node {
  id offers { version countersVersion acceptances { side } } agreedOffer { version }
  milestones { sequence amount { amount } } } } } }"""

ME = """query ($first: Int!) { me { email isOperator user { id displayName } broker { id firm { id } }
  memberships { role organization { id name members { role user { id } } } }
  notifications(limit: $first) { id kind title readAt } apiTokens { id name } } }"""

# name: (query, viewer for the page of 5, viewer for the page of 50, path to the page's list)
CASES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "patents": (PATENTS, "buyer", "buyer", ("patents", "edges")),
    "organizations": (ORGANIZATIONS, "operator", "operator", ("organizations", "edges")),
    "listings (buyer)": (LISTINGS, "buyer", "buyer", ("listings", "edges")),
    "listings (seller)": (LISTINGS, "seller", "seller", ("listings", "edges")),
    "demands": (DEMANDS, "buyer", "buyer", ("demands", "edges")),
    "brokers": (BROKERS, "buyer", "buyer", ("brokers", "edges")),
    "myDeals parties (seller)": (DEAL_PARTIES, "seller", "seller", ("myDeals", "edges")),
    "myDeals parties (buyer)": (DEAL_PARTIES, "buyer", "buyer", ("myDeals", "edges")),
    "myDeals terms": (DEAL_TERMS, "seller", "seller", ("myDeals", "edges")),
    # `me` has no page: the viewer of the large case has 50 organisations and reads 50 notifications.
    "me": (ME, "few_orgs", "many_orgs", ("me", "notifications")),
}


@pytest.fixture
def market(db: None) -> Market:
    return build_market()


def _count(token: str, query: str, size: int, path: tuple[str, ...]) -> tuple[int, dict[str, Any]]:
    api = LocalApi(token)
    with CaptureQueriesContext(connection) as captured:
        data = api.call(query, first=size)
    page: Any = data
    for key in path:
        page = page[key]
    assert len(page) == size, f"the data fills no page of {size}"
    return len(captured), data


@pytest.mark.parametrize("name", CASES)
def test_a_list_query_costs_the_same_sql_for_5_and_50_items(
    name: str, market: Market, record_property: Any
) -> None:
    query, small_viewer, large_viewer, path = CASES[name]

    small, _ = _count(getattr(market, small_viewer), query, 5, path)
    large, data = _count(getattr(market, large_viewer), query, 50, path)

    print(f"\n{name}: {small} queries for 5, {large} for 50")  # noqa: T201 -- the benchmark's report
    record_property("queries_5", small)
    record_property("queries_50", large)
    assert small == large, f"{name}: {small} SQL queries for 5 items, {large} for 50"
    if name == "me":
        assert len(data["me"]["memberships"]) == 50
