"""Saved searches: validation, and the notice of a newly published listing (once), against the real
Elasticsearch and encoder."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Listing, Notification
from matching import indexing, saved_searches, tasks_recommend
from matching.models import SavedSearch, SavedSearchMatch
from tests.matching.test_recommendations import (  # noqa: F401 -- fixtures
    Market,
    _search_prefix,
    index_everything,
    market,
    publish_new,
    search_indices,
)

pytestmark = pytest.mark.django_db


def new_capacitor(m: Market) -> Listing:
    return publish_new(
        m.w,
        "Polyaniline nanofibre and reduced graphene oxide electrodes",
        "Composite electrodes for supercapacitors with high capacitance.",
        "Manufacturing method for polyaniline nanofiber-hydroxyl group enriched reduced graphene oxide",
        "1020140065204",
        ["H01G 11/36"],
    )


def save(user: User, name: str, query: str = "", **filters: list[str]) -> SavedSearch:
    return saved_searches.save_search(user, name, query, "", dict(filters))


# --- saving --------------------------------------------------------------------------------------------


def test_saving_checks_the_filters_and_needs_words_or_a_filter() -> None:
    user = User.objects.create_user("saver")

    with pytest.raises(ActionError) as unknown:
        save(user, "Bad", "graphene", colour=["red"])
    with pytest.raises(ActionError) as bad_band:
        save(user, "Bad", "graphene", remaining_life=["forever"])
    with pytest.raises(ActionError) as empty:
        save(user, "Nothing", "  ")

    assert (unknown.value.code, unknown.value.field) == (MarketplaceErrorCode.INVALID, "filters")
    assert (bad_band.value.code, bad_band.value.field) == (MarketplaceErrorCode.INVALID, "filters")
    assert (empty.value.code, empty.value.field) == (MarketplaceErrorCode.INVALID, "query")
    kept = save(user, "Batteries", "", sector=["secondary_batteries"], trl=[5, 6])  # type: ignore[list-item]
    assert kept.filters == {"sector": ["secondary_batteries"], "trl": ["5", "6"]}
    assert SavedSearch.objects.filter(owner=user).count() == 1


def test_a_user_keeps_at_most_fifty_saved_searches() -> None:
    user = User.objects.create_user("hoarder")
    SavedSearch.objects.bulk_create(
        [SavedSearch(owner=user, name=f"s{i}", query="graphene") for i in range(50)]
    )

    with pytest.raises(ActionError) as refused:
        save(user, "One more", "graphene")

    assert refused.value.code == MarketplaceErrorCode.TOO_MANY_SAVED_SEARCHES
    assert SavedSearch.objects.filter(owner=user).count() == 50


def test_only_the_owner_deletes_a_saved_search() -> None:
    owner, other = User.objects.create_user("owner"), User.objects.create_user("other")
    kept = save(owner, "Mine", "graphene")

    with pytest.raises(ActionError) as refused:
        saved_searches.delete_saved_search(other, kept.pk)
    assert refused.value.code == MarketplaceErrorCode.NOT_FOUND
    assert saved_searches.delete_saved_search(owner, kept.pk).pk == kept.pk
    assert not SavedSearch.objects.filter(pk=kept.pk).exists()


# --- notifying -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("search_indices")
def test_a_new_listing_that_matches_is_notified_once_even_when_the_task_runs_twice(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given: the other buyer's saved searches, one matching the new listing by words, others not
    m = market()
    owner = m.w.other_buyer
    User.objects.filter(pk=owner.pk).update(email="buyer@example.com")
    wanted = save(owner, "Graphene capacitors", "graphene supercapacitor")
    save(owner, "Plates", "vehicle license plate recognition")
    save(owner, "Hydrogen graphene", "graphene", sector=["hydrogen"])  # the filter excludes it
    save(m.w.seller, "Own", "graphene supercapacitor")  # the seller's own listing is not news to them
    new = new_capacitor(m)
    index_everything()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks_recommend.notify_saved_searches.apply(args=[new.pk]).get()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks_recommend.notify_saved_searches.apply(args=[new.pk]).get()

    # then
    assert (first, second) == (1, 0)
    assert list(SavedSearchMatch.objects.values_list("saved_search_id", "listing_id")) == [
        (wanted.pk, new.pk)
    ]
    notice = Notification.objects.get()
    assert notice.user_id == owner.pk
    assert notice.kind == "saved_search_match"
    assert notice.title == "New listing for your saved search “Graphene capacitors”"
    assert notice.data["listing_id"] == new.pk
    assert notice.data["saved_search_ids"] == [wanted.pk]
    assert {"graphen", "supercapacitor"} <= set(notice.data["matched_terms"])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["buyer@example.com"]
    assert mail.outbox[0].subject == notice.title
    assert "Polyaniline nanofibre and reduced graphene oxide electrodes" in mail.outbox[0].body


@pytest.mark.usefixtures("search_indices")
def test_a_saved_search_without_words_matches_by_its_filters() -> None:
    m = market()
    batteries = save(m.w.other_buyer, "Batteries, H01G", "", ipc=["H01G"])
    hydrogen = save(m.w.other_buyer, "Hydrogen", "", sector=["hydrogen"])
    new = new_capacitor(m)
    index_everything()

    found = saved_searches.matching_searches(new.pk, [batteries, hydrogen])

    assert [match.saved_search.pk for match in found] == [batteries.pk]


@pytest.mark.usefixtures("search_indices")
def test_the_index_write_queues_the_check_for_recently_published_listings_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the market's listings were published long ago; one listing is brand new; all are stale in
    # the outbox (the signals wrote the rows), with their vectors cached
    m = market(published_days_ago=60)
    new = new_capacitor(m)
    index_everything()
    queued: list[int] = []
    monkeypatch.setattr(tasks_recommend.notify_saved_searches, "delay", queued.append)

    # when
    result = indexing.drain()

    # then
    assert result.written > 0
    assert queued == [new.pk]


@pytest.mark.usefixtures("search_indices")
def test_an_unpublished_listing_is_not_announced() -> None:
    m = market()
    save(m.w.other_buyer, "Graphene capacitors", "graphene supercapacitor")
    new = new_capacitor(m)
    index_everything()
    Listing.objects.filter(pk=new.pk).update(status="withdrawn")

    summary = saved_searches.notify_saved_searches(new.pk)

    assert summary.searches_checked == 0
    assert not Notification.objects.exists()
