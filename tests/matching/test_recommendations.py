"""Recommendations against the real Elasticsearch (indices of each test's own, removed afterwards) and the
real e5 encoder, on real patent records of the shared INU data file (kr_university_patents_inu.csv).

The helpers at the top (`search_indices`, `index_everything`, `market`) are shared with the saved-search
and API tests, which import them from here.
"""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from marketplace import actions
from marketplace.models import Demand, Listing, Organization, Patent
from matching import recommend
from matching.documents import BUILDERS
from matching.embeddings import Role, encoder, text_hash
from matching.es import client
from matching.indexing import source_ids, write
from matching.indices import ALL, DEMANDS
from matching.models import TextVector
from tests.marketplace.factories import World, build_world

pytestmark = pytest.mark.django_db

# --- shared helpers ------------------------------------------------------------------------------------

# Encoding is slow on CPU (~0.2 s a text) and each test's vector cache rows are rolled back with it, so
# the vectors computed once per session are put back into each test's cache.
_VECTORS: dict[tuple[str, str], bytes] = {}


def cache_vectors(texts: Sequence[str], role: Role) -> None:
    enc = encoder()
    unique = list(dict.fromkeys(texts))
    missing = [t for t in unique if (role, t) not in _VECTORS]
    if missing:
        for text, row in zip(missing, enc.encode(missing, role), strict=True):
            _VECTORS[(role, text)] = row.astype("<f4").tobytes()
    TextVector.objects.bulk_create(
        [
            TextVector(
                model_version=enc.model_version,
                text_hash=text_hash(t, role),
                dimensions=enc.dimensions,
                vector=_VECTORS[(role, t)],
            )
            for t in unique
        ],
        ignore_conflicts=True,
    )


def index_everything() -> None:
    """Every searchable listing, patent and open demand into the indices, with vectors; then refresh."""
    for ref in ALL:
        ids = source_ids(ref)
        built = BUILDERS[ref.name](ids)
        if built.missing_passages:
            cache_vectors(built.missing_passages, "passage")
        write(ref, ids)
    cache_vectors(
        [recommend.demand_text(d) for d in Demand.objects.filter(pk__in=source_ids(DEMANDS))], "query"
    )
    client().indices.refresh(index=",".join(ref.alias for ref in ALL))


@pytest.fixture(scope="session")
def _search_prefix() -> Iterator[str]:
    """Indices of this session's own (a unique prefix under the test prefix), deleted at the end."""
    prefix = f"{settings.ELASTICSEARCH_INDEX_PREFIX}-{uuid.uuid4().hex[:8]}"
    override = override_settings(ELASTICSEARCH_INDEX_PREFIX=prefix)
    override.enable()
    try:
        for ref in ALL:
            ref.ensure()
        yield prefix
    finally:
        found = client().options(ignore_status=404).indices.get(index=f"{prefix}-*")
        for name in found.body if found.meta.status == 200 else {}:
            client().indices.delete(index=name, ignore_unavailable=True)
        override.disable()


@pytest.fixture
def search_indices(_search_prefix: str) -> Iterator[str]:
    """Empty indices for this test (emptied again afterwards: the database rows they mirror roll back)."""
    yield _search_prefix
    # The minimal distribution has no delete-by-query: delete what the test wrote one by one.
    es = client()
    for ref in ALL:
        es.indices.refresh(index=ref.alias)
        hits = es.search(index=ref.alias, size=10_000, source=False)["hits"]["hits"]
        for hit in hits:
            es.options(ignore_status=404).delete(index=hit["_index"], id=hit["_id"])
        es.indices.refresh(index=ref.alias)


@dataclass
class Market:
    w: World
    other_seller_org: Organization
    sponge: Listing  # like the world's 3D graphene listing
    electrolyte: Listing  # unlike it
    demand: Demand  # the buyer's open demand for supercapacitor electrodes
    watcher: User
    watcher_org: Organization


def kr_patent(owner: Organization, number: str, title: str, ipc: list[str], filed: date) -> Patent:
    return Patent.objects.create(
        office="KR", application_number=number, application_date=filed, titles={"en": title}, ipc_codes=ipc,
        owner=owner,
    )  # fmt: skip


def market(*, published_days_ago: int = 0) -> Market:
    """build_world plus: two listings of another university (one like the world's listing, one not), a
    patent of the other buyer like the world's listing, the buyer's open demand for supercapacitor
    electrodes, and a company whose member viewed the world's listing. Titles, numbers and IPC codes are
    real INU records. Listings count as published `published_days_ago` days ago."""
    w = build_world()
    other = Organization.objects.get(memberships__user=w.other_seller)
    actions.verify_organization(w.operator, other.pk)
    sponge_patent = kr_patent(
        other,
        "1020130096862",
        "Supercapacitor using reduced graphene oxide and polymer sponge",
        ["H01G 11/36", "H01G 11/58"],
        date(2013, 8, 14),
    )
    electrolyte_patent = kr_patent(
        other,
        "1020180004326",
        "Solvent for solid electrolytes synthesis including onium composite",
        ["H01M 10/0562", "H01M 10/052"],
        date(2018, 1, 12),
    )
    kr_patent(
        w.other_buyer_org,
        "1020130007075",
        "Graphene/conducting polymer film for supercapacitor and method for preparing the same",
        ["H01G 11/48", "C08J 3/12"],
        date(2013, 1, 22),
    )
    sponge = actions.create_listing(
        w.other_seller,
        other.pk,
        "Reduced graphene oxide sponge supercapacitor",
        [sponge_patent.pk],
        ["exclusive_licence"],
        summary="Supercapacitor electrodes of reduced graphene oxide on a polymer sponge: high capacitance.",
    )
    electrolyte = actions.create_listing(
        w.other_seller,
        other.pk,
        "Wet synthesis of solid electrolytes",
        [electrolyte_patent.pk],
        ["assignment"],
        summary="Onium salt solvents for synthesising sulfide solid electrolytes of all-solid-state cells.",
    )
    for listing in (sponge, electrolyte):
        actions.publish_listing(w.other_seller, listing.pk)
    Listing.objects.filter(pk__in=[w.listing.pk, sponge.pk, electrolyte.pk]).update(
        published_at=timezone.now() - timedelta(days=published_days_ago)
    )
    demand = actions.post_demand(
        w.buyer,
        w.buyer_org.pk,
        "Supercapacitor electrodes for electric buses",
        "Graphene-based supercapacitor electrodes with high capacitance for regenerative braking.",
        ipc_interests=["H01G"],
    )
    watcher = User.objects.create_user("watcher", email="watcher@example.com")
    watcher_org = actions.create_organization(watcher, "Watcher Motors", "large_enterprise", "KR")
    actions.record_view(watcher, w.listing.pk)
    return Market(w, other, sponge, electrolyte, demand, watcher, watcher_org)


def publish_new(
    w: World, title: str, summary: str, patent_title: str, number: str, ipc: list[str]
) -> Listing:
    """A brand-new listing of the world's seller, published now (no behaviour yet)."""
    patent = kr_patent(w.seller_org, number, patent_title, ipc, date(2014, 9, 22))
    listing = actions.create_listing(
        w.seller, w.seller_org.pk, title, [patent.pk], ["option"], summary=summary
    )
    return actions.publish_listing(w.seller, listing.pk)


# --- candidate buyers ----------------------------------------------------------------------------------


def test_candidate_buyers_come_from_demands_patents_and_behaviour_never_the_seller(
    search_indices: str,
) -> None:
    # given
    m = market()
    index_everything()

    # when
    found = recommend.candidate_buyers(m.w.listing, first=10)

    # then: the buyer (its demand), the other buyer (its patent), the watcher (its view); not the seller
    by_org = {item.id: item for item in found}
    assert m.w.seller_org.pk not in by_org
    assert {m.w.buyer_org.pk, m.w.other_buyer_org.pk, m.watcher_org.pk} <= set(by_org)
    assert found[0].id == m.w.buyer_org.pk  # an open demand that matches words, IPC and meaning

    buyer = by_org[m.w.buyer_org.pk].why
    assert [(b.kind, b.id, b.title) for b in buyer.based_on] == [("demand", m.demand.pk, m.demand.title)]
    assert {"supercapacitor", "electrod"} <= set(buyer.matched_terms)
    assert buyer.shared_ipc == ["H01G"]
    assert buyer.similarity is not None and buyer.similarity > 0.8
    assert "its open demand “Supercapacitor electrodes for electric buses”" in buyer.reasons

    holder = by_org[m.w.other_buyer_org.pk].why
    assert [b.kind for b in holder.based_on] == ["patent"]
    assert holder.based_on[0].title.startswith("Graphene/conducting polymer film for supercapacitor")
    assert holder.shared_ipc == ["H01G"]

    watcher = by_org[m.watcher_org.pk].why
    assert watcher.behaviour == "1 member viewed this listing"
    assert watcher.based_on == []


def test_interest_in_similar_listings_is_counted_but_not_named(search_indices: str) -> None:
    # given: the watcher's colleague bookmarked the similar sponge listing; the buyer inquired about it
    m = market()
    colleague = User.objects.create_user("colleague")
    m.watcher_org.memberships.create(user=colleague)
    actions.bookmark_listing(colleague, m.sponge.pk)
    actions.open_inquiry(m.w.buyer, m.sponge.pk, m.w.buyer_org.pk, "Interested")
    index_everything()

    # when
    found = {item.id: item.why for item in recommend.candidate_buyers(m.w.listing, first=10)}

    # then
    assert found[m.watcher_org.pk].behaviour == (
        "1 member viewed this listing; showed interest in 1 similar listing"
    )
    assert "showed interest in 1 similar listing" in (found[m.w.buyer_org.pk].behaviour or "")
    assert all(b.id != m.sponge.pk for why in found.values() for b in why.based_on)


# --- similar listings ----------------------------------------------------------------------------------


def test_similar_listings_rank_the_like_listing_first_and_never_the_listing_itself(
    search_indices: str,
) -> None:
    # given
    m = market()
    index_everything()

    # when
    found = recommend.similar_listings(m.w.listing, first=5)

    # then
    ids = [item.id for item in found]
    assert m.w.listing.pk not in ids
    assert ids[0] == m.sponge.pk
    why = found[0].why
    assert {"graphen", "supercapacitor"} <= set(why.matched_terms)
    assert why.shared_ipc == ["H01G"]
    assert why.similarity is not None
    assert why.reasons == ["similar to “3D graphene supercapacitor electrodes”"]


def test_a_withdrawn_listing_is_no_longer_recommended_even_before_the_index_catches_up(
    search_indices: str,
) -> None:
    m = market()
    index_everything()
    actions.withdraw_listing(m.w.other_seller, m.sponge.pk)  # the index still has it

    assert m.sponge.pk not in [item.id for item in recommend.similar_listings(m.w.listing, first=5)]


# --- demand -> listings --------------------------------------------------------------------------------


def test_listings_for_a_demand_explain_the_match_and_leave_out_the_buyers_own(search_indices: str) -> None:
    m = market()
    index_everything()

    found = recommend.listings_for_demand(m.demand, first=3)

    ids = [item.id for item in found]
    assert set(ids[:2]) == {m.w.listing.pk, m.sponge.pk}
    why = found[0].why
    assert why.based_on[0].kind == "demand" and why.based_on[0].id == m.demand.pk
    assert why.shared_ipc == ["H01G"]
    assert "supercapacitor" in why.matched_terms
    assert why.reasons == ["matches the demand “Supercapacitor electrodes for electric buses”"]


# --- the feed ------------------------------------------------------------------------------------------


def test_a_fresh_user_sees_a_brand_new_listing_first_cold_start(search_indices: str) -> None:
    # given: the market's listings were published two months ago; one is brand new, nobody saw it yet
    m = market(published_days_ago=60)
    new = publish_new(
        m.w,
        "Polyaniline nanofibre and reduced graphene oxide electrodes",
        "Composite electrodes for supercapacitors.",
        "Manufacturing method for polyaniline nanofiber-hydroxyl group enriched reduced graphene oxide "
        "complex",
        "1020140065204",
        ["H01G 11/36"],
    )
    newcomer = User.objects.create_user("newcomer")
    index_everything()

    # when
    found = recommend.feed(newcomer, first=10)

    # then: new first; the viewed listing follows as popular
    assert found[0].id == new.pk
    assert found[0].why.reasons == ["new on the marketplace"]
    popular = {item.id: item.why.reasons for item in found[1:]}
    assert popular[m.w.listing.pk] == ["popular with buyers"]


def test_the_feed_follows_behaviour_and_demands_and_leaves_out_what_was_seen(search_indices: str) -> None:
    # given: the buyer viewed the 3D graphene listing two months after it was published
    m = market(published_days_ago=60)
    actions.record_view(m.w.buyer, m.w.listing.pk)
    index_everything()

    # when
    found = recommend.feed(m.w.buyer, first=10)

    # then
    ids = [item.id for item in found]
    assert m.w.listing.pk not in ids  # seen
    assert ids[0] == m.sponge.pk
    why = found[0].why
    assert "similar to “3D graphene supercapacitor electrodes” you viewed" in why.reasons
    assert "matches your demand “Supercapacitor electrodes for electric buses”" in why.reasons
    assert {(b.kind, b.id) for b in why.based_on} == {("listing", m.w.listing.pk), ("demand", m.demand.pk)}
    assert why.similarity is not None and why.knn_rank == 1
    assert why.shared_ipc == ["H01G"]
