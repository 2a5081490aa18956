"""The search issue's acceptance points, against the real Elasticsearch and real patent records."""

import threading
from collections import Counter
from datetime import date
from itertools import islice

import pytest
from django.db.models import Q
from django.utils import timezone

from marketplace.importers import kipris_csv
from marketplace.importers.writer import write_patents
from marketplace.models import Listing, ListingStatus, Patent
from matching import indexing
from matching.es import client
from matching.indices import LISTINGS, PATENTS
from matching.models import IndexOutbox
from matching.search import SearchRequest, search
from tests.api.client import LocalApi
from tests.matching.search_fixtures import DATA, import_real, rebuild_all, search_indices, seller

__all__ = ["search_indices"]  # the fixture, used by name

pytestmark = pytest.mark.django_db

# Lines of kr_university_patents_inu.csv whose text has 배터리 only with a particle attached.
BATTERY_ONLY_WITH_PARTICLE = {"1020170108916": "배터리를", "1020160067882": "배터리를"}


def import_kr_lines(lines: set[int]) -> None:
    with (DATA / "kr_university_patents_inu.csv").open(encoding="utf-8-sig", newline="") as stream:
        write_patents([item for item in kipris_csv.read(stream, date.today()) if item[0] in lines])


def test_korean_query_finds_words_with_particles(search_indices: str) -> None:
    import_kr_lines({2, 3, 4, 53, 341, 459, 478, 572})
    indexing.rebuild(PATENTS, schedule_missing=False)
    result = search(SearchRequest(index=PATENTS, text="배터리", mode="bm25", first=20))
    found = {hit.source["title"]: hit for hit in result.hits}
    numbers = set(
        Patent.objects.filter(pk__in=[h.id for h in result.hits]).values_list("application_number", flat=True)
    )
    for number, form in BATTERY_ONLY_WITH_PARTICLE.items():
        patent = Patent.objects.get(application_number=number)
        text = " ".join([*patent.titles.values(), *patent.abstracts.values()])
        assert form in text and "배터리 " not in text  # the record really has only the inflected form
        assert number in numbers, f"{number} ({form}) not found by 배터리"
    # The engine's own standard analyzer keeps the particle on the word, so it misses them: why we analyse.
    raw = client().search(index=PATENTS.alias, query={"match": {"body": "배터리"}}, size=50)
    raw_ids = {int(h["_id"]) for h in raw["hits"]["hits"]}
    missed = Patent.objects.filter(application_number__in=BATTERY_ONLY_WITH_PARTICLE).values_list(
        "pk", flat=True
    )
    assert not raw_ids & set(missed)
    hit = next(iter(found.values()))
    assert any("<em>배터리</em>" in fragment for fragment in hit.highlights["body"] + hit.highlights["title"])


# Real sentences: a Japanese and a Chinese description of battery technology.
JAPANESE = "本発明は、リチウムイオン二次電池の正極材料に関し、充放電サイクル特性を向上させる方法を提供する。"
CHINESE = "本发明涉及一种锂离子电池正极材料的制备方法，能够提高电池的循环性能和安全性。"  # noqa: RUF001
ENGLISH = "A flywheel energy storage system for microgrid control based on batteries."


def test_japanese_and_chinese_queries_find_their_documents(search_indices: str) -> None:
    user, org = seller()
    listings = {}
    for lang, text in (("ja", JAPANESE), ("zh", CHINESE), ("en", ENGLISH)):
        listing = Listing.objects.create(
            seller=org,
            created_by=user,
            title=text[:40],
            summary=text,
            status=ListingStatus.PUBLISHED,
            transaction_types=["license"],
            published_at=timezone.now(),
        )
        listings[lang] = listing.pk
    indexing.rebuild(LISTINGS, schedule_missing=False)
    ja = search(SearchRequest(index=LISTINGS, text="リチウムイオン電池の正極", mode="bm25"))
    assert ja.hits and ja.hits[0].id == listings["ja"], ja.query_terms
    zh = search(SearchRequest(index=LISTINGS, text="锂离子电池", mode="bm25"))
    assert zh.hits and zh.hits[0].id == listings["zh"], zh.query_terms
    en = search(SearchRequest(index=LISTINGS, text="battery storage", mode="bm25"))
    assert en.hits and en.hits[0].id == listings["en"], en.query_terms  # batteries ~ battery (stemmed)


SECTORS = ["secondary_batteries", "semiconductors", "ai", "hydrogen"]
TYPES = [["license"], ["assignment"], ["license", "assignment"], ["exclusive_licence"]]


def make_listings() -> list[Listing]:
    """40 listings over real patents with varied sector, types, TRL, owner kind and price."""
    patents = import_real(kr_rows=30, nasa_rows=30)
    orgs = [seller("uni", "university"), seller("sme", "sme"), seller("lab", "public_institution")]
    listings = []
    for i in range(40):
        user, org = orgs[i % 3]
        listing = Listing.objects.create(
            seller=org,
            created_by=user,
            title=f"Package {i}",
            summary=patents[i].titles.get("en", ""),
            status=ListingStatus.PUBLISHED if i % 7 else ListingStatus.DRAFT,
            sector=SECTORS[i % 4],
            transaction_types=TYPES[i % 4],
            trl=(i % 9) + 1,
            price_amount=None if i % 5 == 0 else 10_000_000 * (i + 1),
            price_currency="" if i % 5 == 0 else "KRW",
            published_at=timezone.now(),
        )
        listing.patents.set([patents[i], patents[(i * 7) % len(patents)]])
        listings.append(listing)
    return listings


def sql_facet_counts(base: Q, facet: str) -> Counter[str]:
    listings = Listing.objects.filter(
        base, status__in=[ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION]
    )
    counts: Counter[str] = Counter()
    for listing in listings.prefetch_related("patents").select_related("seller").distinct():
        if facet == "sector":
            counts[listing.sector] += 1
        elif facet == "transaction_type":
            counts.update(set(listing.transaction_types))
        elif facet == "trl":
            counts[str(listing.trl)] += 1
        elif facet == "owner_kind":
            counts[listing.seller.kind] += 1
        elif facet == "office":
            counts.update({p.office for p in listing.patents.all()})
        elif facet == "legal_status":
            counts.update({p.legal_status for p in listing.patents.all()})
    return counts


FILTER_SQL = {
    "sector": lambda values: Q(sector__in=values),
    "transaction_type": lambda values: Q(transaction_types__overlap=values),
    "trl": lambda values: Q(trl__in=[int(v) for v in values]),
    "owner_kind": lambda values: Q(seller__kind__in=values),
    "office": lambda values: Q(patents__office__in=values),
}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"sector": ["ai"]},
        {"sector": ["ai", "hydrogen"], "transaction_type": ["license"]},
        {"owner_kind": ["sme"], "office": ["US"]},
        {"trl": ["3", "4", "5"], "transaction_type": ["assignment"], "office": ["KR"]},
    ],
)
def test_facet_counts_equal_sql_counts(search_indices: str, filters: dict[str, list[str]]) -> None:
    make_listings()
    indexing.rebuild(LISTINGS, schedule_missing=False)
    result = search(SearchRequest(index=LISTINGS, filters=filters, first=100))
    everything = Q()
    for name, values in filters.items():
        everything &= Q(pk__in=Listing.objects.filter(FILTER_SQL[name](values)).values("pk"))
    expected_total = Listing.objects.filter(everything, status=ListingStatus.PUBLISHED).count()
    assert result.total == expected_total == len(result.hits)
    for facet in ("sector", "transaction_type", "trl", "owner_kind", "office", "legal_status"):
        others = Q()
        for name, values in filters.items():
            if name != facet:
                others &= Q(pk__in=Listing.objects.filter(FILTER_SQL[name](values)).values("pk"))
        engine = {v.value: v.count for v in result.facets[facet]}
        assert engine == dict(sql_facet_counts(others, facet)), facet


def test_full_rebuild_while_searches_run(search_indices: str) -> None:
    make_listings()
    indexing.rebuild(LISTINGS, schedule_missing=False)
    expected = search(SearchRequest(index=LISTINGS, text="package", mode="bm25", first=100)).total
    assert expected > 0
    failures: list[str] = []
    counts: list[int] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                counts.append(
                    search(SearchRequest(index=LISTINGS, text="package", mode="bm25", first=5)).total
                )
            except Exception as error:  # any failure is what the test looks for
                failures.append(repr(error))

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(3):
            indexing.rebuild(LISTINGS, schedule_missing=False)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures
    assert len(counts) > 10 and set(counts) == {expected}
    assert len(LISTINGS.versions_behind(LISTINGS.alias)) == 1


SEARCH = """query($q: String) {
  searchListings(query: $q, first: 5, mode: BM25) { totalCount hits { listing { title } } }
}"""
LISTINGS_QUERY = "{ listings(first: 5) { totalCount } }"


def test_engine_down_gives_a_coded_error_and_changes_catch_up(search_indices: str, settings: object) -> None:
    user, org = seller()
    patent = import_real(kr_rows=3)[0]
    patent.owner = org
    patent.save()
    indexing.rebuild(LISTINGS, schedule_missing=False)
    url = settings.ELASTICSEARCH_URL
    client.cache_clear()
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens: a refused connection
    try:
        api = LocalApi()
        assert api.codes(SEARCH, q="graphene") == ["SEARCH_UNAVAILABLE"]
        assert api.call(LISTINGS_QUERY)["listings"]["totalCount"] == 0  # the rest of the API works
        listing = Listing.objects.create(
            seller=org,
            created_by=user,
            title="Spray-dried graphene electrodes",
            status=ListingStatus.PUBLISHED,
            transaction_types=["license"],
            published_at=timezone.now(),
        )
        listing.patents.set([patent])
        with pytest.raises(indexing.SearchUnavailable):
            indexing.drain()
        assert IndexOutbox.objects.filter(index="listings", object_id=listing.pk).exists()  # kept for later
    finally:
        settings.ELASTICSEARCH_URL = url
        client.cache_clear()
    indexing.drain()
    assert not IndexOutbox.objects.exists()
    client().indices.refresh(index=LISTINGS.alias)
    assert LocalApi().call(SEARCH, q="graphene")["searchListings"]["totalCount"] == 1


def test_consistency_check_reports_drift(search_indices: str) -> None:
    make_listings()
    rebuild_all()
    assert all(indexing.check(ref).consistent for ref in (LISTINGS, PATENTS))
    gone = Listing.objects.filter(status=ListingStatus.PUBLISHED).first()
    assert gone is not None
    client().delete(index=LISTINGS.alias, id=str(gone.pk), refresh=True)
    report = indexing.check(LISTINGS)
    assert not report.consistent and report.missing == [gone.pk]


def test_outbox_row_survives_a_change_made_while_draining(search_indices: str) -> None:
    """A change after the drain read its rows keeps its row: the drain deletes only what it applied."""
    user, org = seller()
    listing = Listing.objects.create(
        seller=org,
        created_by=user,
        title="First title",
        status=ListingStatus.PUBLISHED,
        transaction_types=["license"],
        published_at=timezone.now(),
    )
    LISTINGS.ensure()
    row = IndexOutbox.objects.get(index="listings", object_id=listing.pk)
    original = indexing.write

    def write_then_change(ref: object, ids: list[int], targets: object = None) -> object:
        stats = original(ref, ids, targets)  # type: ignore[arg-type]
        Listing.objects.filter(pk=listing.pk).update(title="Second title")
        indexing.enqueue("listings", [listing.pk])
        return stats

    indexing.write = write_then_change  # type: ignore[assignment]
    try:
        indexing.drain()
    finally:
        indexing.write = original
    assert (
        IndexOutbox.objects.filter(index="listings", object_id=listing.pk)
        .exclude(enqueued_at=row.enqueued_at)
        .exists()
    )
    indexing.drain()
    client().indices.refresh(index=LISTINGS.alias)
    doc = client().get(index=LISTINGS.alias, id=str(listing.pk))
    assert doc["_source"]["title"] == "Second title"
    assert list(islice(IndexOutbox.objects.all(), 1)) == []
