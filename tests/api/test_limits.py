"""Depth, cost and page-size limits: part of the schema's contract. A refused query runs nothing."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from marketplace.actions.accounts import create_api_token
from marketplace.models import AuditEntry, Deal
from tests.api.client import Api, LocalApi
from tests.marketplace.factories import World, build_world, open_deal

pytestmark = pytest.mark.django_db


def _nest(levels: int, leaf: str) -> str:
    """`members { organization { ... } }` `levels` times around `leaf`: two levels each."""
    return "members { organization { " * levels + leaf + " } }" * levels


# deal(1) listing(2) seller(3) members(4) organization(5) members(6) organization(7) members(8) user(9)
# displayName(10); three lists of 10 keep the cost far below its limit.
DEAL_AT_DEPTH_10 = (
    "query ($id: ID!) { deal(id: $id) { listing { seller { "
    + _nest(2, "members { user { displayName } }")
    + " } } } }"
)
# patents(1) edges(2) node(3) owner(4) members(5) organization(6) members(7) organization(8) members(9)
# user(10) displayName(11)
PATENT_AT_DEPTH_11 = (
    "{ patents(first: 1) { edges { node { owner { "
    + _nest(2, "members { user { displayName } }")
    + " } } } } }"
)


def _refused_without_sql(query: str, **variables: object) -> list[str]:
    """The codes of an anonymous request that was refused, asserting that it ran no SQL at all."""
    with CaptureQueriesContext(connection) as captured:
        codes = LocalApi().codes(query, **variables)
    assert [q["sql"] for q in captured] == []
    return codes


@pytest.fixture
def world() -> World:
    return build_world()


def test_a_query_10_levels_deep_runs(world: World) -> None:
    # given the seller's deal
    deal = open_deal(world)
    seller = LocalApi(create_api_token(world.seller, "t")[1])

    # when the seller asks 10 levels deep
    data = seller.call(DEAL_AT_DEPTH_10, id=to_global_id("Deal", deal.pk))

    # then it is answered, down to the 10th level
    members = data["deal"]["listing"]["seller"]["members"]
    deepest = members[0]["organization"]["members"][0]["organization"]["members"][0]["user"]
    assert deepest == {"displayName": "seller"}


def test_a_query_11_levels_deep_is_refused_before_anything_runs() -> None:
    assert _refused_without_sql(PATENT_AT_DEPTH_11) == ["QUERY_TOO_DEEP"]


def test_fragments_do_not_hide_depth() -> None:
    # The depth-11 patent query again, its levels in fragments; spreads themselves add none.
    query = """query { patents(first: 1) { edges { ...Edge } } }
      fragment Edge on PatentEdge { node { owner { ...A } } }
      fragment A on Organization { members { organization { ...B } } }
      fragment B on Organization { members { organization { ... on Organization { ...C } } } }
      fragment C on Organization { members { user { displayName } } }"""

    assert _refused_without_sql(query) == ["QUERY_TOO_DEEP"]


def test_fragments_spreading_fragments_are_measured_at_once() -> None:
    # given fragments that each spread the next one twice: 2^40 paths, one field
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(40))
    query = "query { ...F0 }\n" + fragments + "fragment F40 on Query { serverInfo { version } }"

    # when it is asked
    started = time.monotonic()
    data = LocalApi().call(query)

    # then it is measured (and answered) without walking every path
    assert data == {"serverInfo": {"version": "0.1.0"}}
    assert time.monotonic() - started < 5


def test_a_page_of_101_is_refused_as_a_literal_or_a_variable() -> None:
    assert _refused_without_sql("{ patents(first: 101) { totalCount } }") == ["PAGE_SIZE_EXCEEDED"]
    assert _refused_without_sql("{ listings(last: 101) { totalCount } }") == ["PAGE_SIZE_EXCEEDED"]
    by_variable = "query ($first: Int) { patents(first: $first) { totalCount } }"
    assert _refused_without_sql(by_variable, first=101) == ["PAGE_SIZE_EXCEEDED"]
    by_default = "query ($first: Int = 500) { patents(first: $first) { totalCount } }"
    assert _refused_without_sql(by_default) == ["PAGE_SIZE_EXCEEDED"]


def test_a_page_of_100_runs_also_when_its_size_is_a_variable_default() -> None:
    api = LocalApi()

    assert api.call("{ patents(first: 100) { totalCount } }") == {"patents": {"totalCount": 0}}
    by_default = "query ($first: Int = 100) { patents(first: $first) { totalCount } }"
    assert api.call(by_default) == {"patents": {"totalCount": 0}}


def test_a_connection_without_a_page_size_is_refused() -> None:
    assert _refused_without_sql("{ patents { totalCount } }") == ["PAGE_SIZE_REQUIRED"]
    unset = "query ($first: Int) { brokers(first: $first) { totalCount } }"
    assert _refused_without_sql(unset) == ["PAGE_SIZE_REQUIRED"]


def _costing(total: int) -> str:
    """A query of exactly `total` (> 9,902) cost: 100 patents of 98 fields (1 + 1 + 100 x (1 + 98) for
    the connection, its edges and their nodes) and the rest in `totalCount` aliases."""
    ids = " ".join(f"i{n}: id" for n in range(98))
    counts = " ".join(f"c{n}: totalCount" for n in range(total - 9_902))
    return f"{{ patents(first: 100) {{ {counts} edges {{ node {{ {ids} }} }} }} }}"


def test_a_query_costing_10000_runs_and_one_costing_10001_is_refused() -> None:
    assert LocalApi().call(_costing(10_000))["patents"]["c0"] == 0

    assert _refused_without_sql(_costing(10_001)) == ["QUERY_TOO_COSTLY"]


def test_lists_inside_pages_multiply_the_cost() -> None:
    # 3 x (1 + 1 + 100 x (1 + 1 + 1 + (1 + 10 x 3) + (1 + 10 x 1))) = 14,406
    page = "patents(first: 100) { edges { node { id events { date kind description } ownershipChanges { date } } } }"
    query = f"{{ a: {page} b: {page} c: {page} }}"

    assert _refused_without_sql(query) == ["QUERY_TOO_COSTLY"]
    assert LocalApi().call(f"{{ a: {page} b: {page} }}") == {"a": {"edges": []}, "b": {"edges": []}}


def test_a_refused_mutation_writes_nothing(world: World) -> None:
    # given a buyer who may inquire, and what exists
    api = LocalApi(create_api_token(world.buyer, "t")[1])
    deals, audit = Deal.objects.count(), AuditEntry.objects.count()
    # openInquiry(1) deal(2) listing(3) seller(4) ... user(10) displayName(11)
    mutation = (
        "mutation ($listing: ID!, $buyer: ID!) { openInquiry(input: {listingId: $listing, buyerId: $buyer}) {"
        " deal { listing { seller { " + _nest(2, "members { user { displayName } }") + " } } } } }"
    )

    # when the inquiry is sent with a selection 11 levels deep
    with CaptureQueriesContext(connection) as captured:
        codes = api.codes(
            mutation,
            listing=to_global_id("Listing", world.listing.pk),
            buyer=to_global_id("Organization", world.buyer_org.pk),
        )

    # then it is refused: the token was looked up (and stamped as used), nothing else
    assert codes == ["QUERY_TOO_DEEP"]
    tables = [q["sql"].split('"')[1] for q in captured]
    assert tables == ["marketplace_apitoken", "marketplace_apitoken"], [q["sql"] for q in captured]
    assert (Deal.objects.count(), AuditEntry.objects.count()) == (deals, audit)


def test_limits_over_http_answer_400_with_the_code(live_server_url: str) -> None:
    api = Api(live_server_url)

    assert api.codes(PATENT_AT_DEPTH_11) == ["QUERY_TOO_DEEP"]
    assert api.codes("query ($n: Int) { patents(first: $n) { totalCount } }", n=101) == ["PAGE_SIZE_EXCEEDED"]
    assert api.codes(_costing(10_001)) == ["QUERY_TOO_COSTLY"]
