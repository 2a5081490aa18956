"""The web app's API additions: public market figures (landing charts) and the bookmarks list."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from marketplace import actions
from marketplace.models import Deal, Listing, Patent
from tests.marketplace.factories import World, build_world, open_deal

pytestmark = pytest.mark.django_db

STATS = "query ($m: Int) { marketStats(months: $m) { publishedListings listingsBySector { key count } listingsByIpcSection { key count } dealsPerMonth { month deals } } }"
BOOKMARKS = "{ listings(first: 10, bookmarked: true) { edges { node { title isBookmarked } } } }"


def _post(query: str, user: User | None = None, **variables: Any) -> dict[str, Any]:
    client = Client()
    if user is not None:
        client.force_login(user)
    body = {"query": query, "variables": variables}
    answer: dict[str, Any] = client.post("/graphql/", body, content_type="application/json").json()
    return answer


def _second_listing(w: World, title: str, ipc: list[str], sector: str) -> Listing:
    patent = Patent.objects.create(
        office="KR", application_number=f"10-{title}", titles={"en": title}, ipc_codes=ipc, owner=w.seller_org
    )
    listing = actions.create_listing(
        w.seller, w.seller_org.pk, title, [patent.pk], ["assignment"], summary="s", sector=sector
    )
    actions.publish_listing(w.seller, listing.pk)
    return listing


def test_market_stats_count_published_listings_by_sector_and_ipc_section_and_deals_by_month() -> None:
    # given: two published listings (one spanning G and H) and a draft, which does not count
    w = build_world()
    _second_listing(w, "Sensor array", ["G01N 21/00", "H01L 31/00"], "semiconductors")
    actions.create_listing(w.seller, w.seller_org.pk, "Draft", [w.listing.patents.get().pk], ["assignment"])
    deal = open_deal(w)
    older = open_deal_for_other_buyer(w)
    Deal.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=62))

    # when
    stats = _post(STATS, m=4)["data"]["marketStats"]

    # then
    assert stats["publishedListings"] == 2
    assert stats["listingsBySector"] == [
        {"key": "other", "count": 1},
        {"key": "semiconductors", "count": 1},
    ]
    assert stats["listingsByIpcSection"] == [{"key": "G", "count": 1}, {"key": "H", "count": 2}]
    months = stats["dealsPerMonth"]
    assert len(months) == 4 and months[-1] == {"month": deal.created_at.strftime("%Y-%m"), "deals": 1}
    assert sum(m["deals"] for m in months) == 2 and [m["month"] for m in months] == sorted(
        m["month"] for m in months
    )


def open_deal_for_other_buyer(w: World) -> Deal:
    return actions.open_inquiry(w.other_buyer, w.listing.pk, w.other_buyer_org.pk, "Interested")


@pytest.mark.parametrize("months", [0, 37])
def test_market_stats_refuse_a_window_out_of_range(months: int) -> None:
    body = _post(STATS, m=months)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_bookmarked_lists_only_your_bookmarks_latest_first_and_needs_a_session() -> None:
    # given
    w = build_world()
    second = _second_listing(w, "Sensor array", ["G01N 21/00"], "semiconductors")
    actions.bookmark_listing(w.buyer, w.listing.pk, True)
    actions.bookmark_listing(w.buyer, second.pk, True)
    actions.bookmark_listing(w.other_buyer, w.listing.pk, True)

    # when
    mine = _post(BOOKMARKS, w.buyer)["data"]["listings"]["edges"]
    anonymous = _post(BOOKMARKS)

    # then
    assert [e["node"] for e in mine] == [
        {"title": "Sensor array", "isBookmarked": True},
        {"title": w.listing.title, "isBookmarked": True},
    ]
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
