"""Recommendations and saved searches through `/graphql/` (in-process), on the real Elasticsearch."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from graphql_relay import to_global_id

from marketplace.actions.accounts import create_api_token
from matching.es import client
from matching.models import SavedSearch
from tests.api.client import LocalApi
from tests.marketplace.factories import open_deal
from tests.matching.test_recommendations import (  # noqa: F401 -- fixtures
    Market,
    _search_prefix,
    index_everything,
    market,
    publish_new,
    search_indices,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_indices")]

WHY = "why { matchedTerms sharedIpc similarity reasons behaviour basedOn { kind id title similarity } }"
CANDIDATES = f"query ($id: ID!, $first: Int!) {{ candidateBuyers(listingId: $id, first: $first) {{ organization {{ name }} score {WHY} }} }}"
RECOMMENDED = (
    f"query ($id: ID!) {{ recommendedListings(demandId: $id, first: 5) {{ listing {{ title }} {WHY} }} }}"
)
SIMILAR = "query ($id: ID!) { similarListings(listingId: $id, first: 5) { listing { title } why { reasons basedOn { kind title } } } }"
FEED = "query ($first: Int!) { myFeed(first: $first) { listing { title } why { reasons } } }"


def api(user: User | None) -> LocalApi:
    return LocalApi(create_api_token(user, "test")[1] if user else None)


def refused(client: LocalApi, query: str, **variables: Any) -> list[str]:
    """The codes of a refused request: its root field is null (or nothing ran) and it has errors."""
    body = client.body(query, **variables)
    assert not any((body.get("data") or {}).values()), body
    return [error["extensions"]["code"] for error in body["errors"]]


def gid(kind: str, pk: int) -> str:
    return to_global_id(kind, pk)


def test_the_seller_sees_candidate_buyers_with_why_they_matched() -> None:
    m = market()
    index_everything()

    data = api(m.w.seller).call(CANDIDATES, id=gid("Listing", m.w.listing.pk), first=10)

    items = {item["organization"]["name"]: item for item in data["candidateBuyers"]}
    assert {"에이치씨테크(주)", "Other Buyer Inc.", "Watcher Motors"} <= set(items)
    assert "인천대학교 산학협력단" not in items
    buyer = items["에이치씨테크(주)"]["why"]
    assert buyer["sharedIpc"] == ["H01G"]
    assert buyer["basedOn"][0]["kind"] == "DEMAND"
    assert buyer["basedOn"][0]["id"] == gid("Demand", m.demand.pk)
    assert buyer["basedOn"][0]["title"] == "Supercapacitor electrodes for electric buses"
    assert "supercapacitor" in buyer["matchedTerms"]
    assert buyer["reasons"][0] == "its open demand “Supercapacitor electrodes for electric buses”"
    assert items["Watcher Motors"]["why"]["behaviour"] == "1 member viewed this listing"
    assert items["Other Buyer Inc."]["why"]["basedOn"][0]["kind"] == "PATENT"


def test_candidate_buyers_are_refused_to_anyone_but_the_seller_its_brokers_and_operators() -> None:
    m = market()
    index_everything()
    listing = gid("Listing", m.w.listing.pk)
    m.w.listing.brokers.add(m.w.other_broker)

    assert refused(api(m.w.buyer), CANDIDATES, id=listing, first=5) == ["PERMISSION_DENIED"]
    assert refused(api(m.w.broker), CANDIDATES, id=listing, first=5) == ["PERMISSION_DENIED"]
    assert refused(api(None), CANDIDATES, id=listing, first=5) == ["NOT_AUTHENTICATED"]
    open_deal(m.w)  # the seller assigns `broker` to the buyer's deal on the listing
    for allowed in (m.w.seller, m.w.broker, m.w.other_broker, m.w.operator):
        assert api(allowed).call(CANDIDATES, id=listing, first=5)["candidateBuyers"]


def test_recommended_listings_for_a_demand_are_its_buyers_alone() -> None:
    m = market()
    index_everything()
    demand = gid("Demand", m.demand.pk)

    data = api(m.w.buyer).call(RECOMMENDED, id=demand)

    titles = [item["listing"]["title"] for item in data["recommendedListings"]]
    assert set(titles[:2]) == {"3D graphene supercapacitor electrodes", m.sponge.title}
    why = data["recommendedListings"][0]["why"]
    assert why["basedOn"][0]["id"] == demand and why["sharedIpc"] == ["H01G"]
    assert refused(api(m.w.other_buyer), RECOMMENDED, id=demand) == ["PERMISSION_DENIED"]
    assert refused(api(m.w.other_buyer), RECOMMENDED, id=gid("Demand", 10**9)) == ["NOT_FOUND"]
    assert api(m.w.operator).call(RECOMMENDED, id=demand)["recommendedListings"]


def test_similar_listings_for_anyone_who_sees_the_listing_and_page_sizes() -> None:
    m = market()
    index_everything()

    data = api(None).call(SIMILAR, id=gid("Listing", m.w.listing.pk))

    assert data["similarListings"][0] == {
        "listing": {"title": m.sponge.title},
        "why": {
            "reasons": [
                "similar to “3D graphene supercapacitor electrodes”",
                *data["similarListings"][0]["why"]["reasons"][1:],
            ],
            "basedOn": [{"kind": "LISTING", "title": "3D graphene supercapacitor electrodes"}],
        },
    }
    query = "query ($first: Int!) { similarListings(listingId: $id, first: $first) { score } }"
    query = query.replace("query (", "query ($id: ID!, ")
    for first in (0, 101):
        codes = refused(api(None), query, id=gid("Listing", m.w.listing.pk), first=first)
        assert codes == ["PAGE_SIZE_EXCEEDED"]


def test_a_fresh_user_finds_a_brand_new_listing_in_their_feed() -> None:
    m = market(published_days_ago=60)
    new = publish_new(
        m.w,
        "Nitrogen and fluorine co-doped hollow carbon spheres",
        "Hollow carbon sphere electrodes for supercapacitors.",
        "Manufacturing method of nitrogen/fluorine co-doped hollow carbon sphere",
        "1020180105920",
        ["H01G 11/34", "C01B 32/05"],
    )
    index_everything()

    data = api(User.objects.create_user("fresh")).call(FEED, first=5)

    assert data["myFeed"][0] == {
        "listing": {"title": new.title},
        "why": {"reasons": ["new on the marketplace"]},
    }
    assert refused(api(None), FEED, first=5) == ["NOT_AUTHENTICATED"]


def test_search_unavailable_when_elasticsearch_is_down(settings: object) -> None:
    m = market()
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    client.cache_clear()
    try:
        codes = refused(api(m.w.seller), CANDIDATES, id=gid("Listing", m.w.listing.pk), first=5)
    finally:
        client.cache_clear()
    assert codes == ["SEARCH_UNAVAILABLE"]


# --- saved searches ------------------------------------------------------------------------------------

SAVE = """mutation ($key: String) { saveSearch(idempotencyKey: $key, input: {name: "Capacitors",
  query: "graphene supercapacitor", language: "en", filters: {sector: [SECONDARY_BATTERIES], trl: [5]}}) {
  savedSearch { id name query language filters { sector trl ipc } isActive } errors { field code } } }"""
MINE = "{ mySavedSearches(first: 10) { totalCount edges { node { name } } } }"
DELETE = "mutation ($id: ID!) { deleteSavedSearch(id: $id) { deletedId errors { code } } }"


def test_save_list_and_delete_saved_searches() -> None:
    owner, other = User.objects.create_user("owner"), User.objects.create_user("other")
    me, them = api(owner), api(other)

    saved = me.call(SAVE, key="k1")["saveSearch"]
    again = me.call(SAVE, key="k1")["saveSearch"]

    assert saved["errors"] == [] and again == saved  # the retry returns the first
    assert saved["savedSearch"]["filters"] == {"sector": ["SECONDARY_BATTERIES"], "trl": [5], "ipc": []}
    assert me.call(MINE)["mySavedSearches"]["totalCount"] == 1
    assert them.call(MINE)["mySavedSearches"]["totalCount"] == 0
    assert refused(api(None), MINE) == ["NOT_AUTHENTICATED"]
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert them.call(node, id=saved["savedSearch"]["id"])["node"] is None
    assert them.call(DELETE, id=saved["savedSearch"]["id"])["deleteSavedSearch"] == {
        "deletedId": None,
        "errors": [{"code": "NOT_FOUND"}],
    }
    assert me.call(DELETE, id=saved["savedSearch"]["id"])["deleteSavedSearch"] == {
        "deletedId": saved["savedSearch"]["id"],
        "errors": [],
    }
    assert not SavedSearch.objects.exists()


def test_saving_refuses_unknown_filter_values_on_the_field() -> None:
    owner = User.objects.create_user("owner")
    bad = 'mutation { saveSearch(input: {name: "x", filters: {remainingLife: [], office: [], trl: []}}) { savedSearch { id } errors { field code } } }'

    assert api(owner).call(bad)["saveSearch"] == {
        "savedSearch": None,
        "errors": [{"field": "query", "code": "INVALID"}],
    }
    assert api(None).call(SAVE, key=None)["saveSearch"]["errors"] == [
        {"field": None, "code": "NOT_AUTHENTICATED"}
    ]
    assert client() is not None
