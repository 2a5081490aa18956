"""Search benchmark (`make bench-search`) on a generated corpus of 100,000 listings.

    make bench-search                                   # services up, then this script
    .venv/bin/python scripts/bench_search.py --repeat 5 --ratio-listings 10000
    .venv/bin/python scripts/bench_search.py --rebuild-corpus   # regenerate the rows and the index
    .venv/bin/python scripts/bench_search.py --profile          # pyinstrument profiles into .bench/

Measures, in one run, and writes `.bench/search.json` (plus a table on stdout):

* `searchListings` over GraphQL (Django's test client, in-process: the whole view, middleware, graphene and
  PostgreSQL, no HTTP server) against the very Elasticsearch requests `matching.search` makes for it, sent
  raw with elasticsearch-py: `graphql_over_raw_p50` (BM25 mode, one request; goal <= 1.3).
* hybrid against BM25-only, both through GraphQL: `hybrid_over_bm25_p50` (goal <= 2.0).
* kNN recall@10 of the product's kNN clause against exact cosine in numpy over all vectors (goal >= 0.95).
* documents/s of `matching.indexing.rebuild` (PostgreSQL rows -> analysed documents -> bulk with external
  versions -> alias swap) against `helpers.bulk` of the same documents into an index of the same mapping,
  on the first `--ratio-listings` generated listings: `index_over_raw_bulk` (goal >= 0.8) with the
  analysed-terms cache filled, as in a routine rebuild; `index_over_raw_bulk_cold_terms` with it empty.
* encoding throughput (`matching.embeddings.passages_per_second`) and uncached query-encoding latency.

Isolation: everything runs on its own database (BENCH_DATABASE_URL, default `<demo database>_bench` on the
same server, created and migrated here) and its own index prefix (BENCH_INDEX_PREFIX, default `bench`), so
the demo's rows and indices are untouched. The demo database is only read, to copy vectors it already has.

The corpus: the real records of ../shared/data are imported as they are (the project's importers); each
generated listing takes its title from one record (suffixed with the marker `[GEN]`), a summary made of
sentences from the abstracts of three others (drawn from a pool of 20,000 such summaries), that first record
(sometimes a second) as its patents, hence their IPC codes; no two listings have the same text. Listing
rows and their seller organisations are marked `is_generated`, the index carries `_meta.is_generated`. A
listing's vector is a normalised mix of its source records' vectors (real encoder output, cached in
matching_textvector) plus a little noise, written to the vector cache under the listing's passage, so the
bench measures search and not encoding. The index is built by `matching.indexing.rebuild` from the rows.
Rows and index are kept between runs while the fingerprint (data files, generator version, size, seed,
encoder version, mapping) is unchanged; `--rebuild-corpus` forces both.
"""

import argparse
import copy
import functools
import hashlib
import importlib
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.env import env  # noqa: E402 (needs the path above; imports no Django)

DATA_DIR = Path(os.environ.get("IPMARKET_DATA_DIR", ROOT.parent / "shared" / "data"))
DATA_FILES = ("kr_university_patents_inu.csv", "us_nasa_licensable_patents_2014.csv")
BENCH_DIR = ROOT / ".bench"
STATE_FILE = BENCH_DIR / "corpus.json"

GENERATOR_VERSION = 4  # bump when the generated text or vectors change
SEED = 20261121
MARKER = "[GEN-"  # generated titles end with "[GEN-000001]" (a number keeps every title unique)
SELLERS_PER_OFFICE = 12
NOISE = 0.008  # per-component standard deviation of the noise added to the mixed vectors (norm ~0.16)
MIX = (0.5, 0.2, 0.15, 0.15)  # weights of the title record, then the three summary records
SUMMARY_POOL = 20_000  # distinct generated summaries
GOALS = {
    "graphql_over_raw_p50": ("<=", 1.3),
    "hybrid_over_bm25_p50": ("<=", 2.0),
    "knn_recall_at_10": (">=", 0.95),
    "index_over_raw_bulk": (">=", 0.8),
}
PAGE = 20

# What a results page asks for: hits with their listing, highlights and explanation, facets, paging.
GRAPHQL = """
query Bench($q: String!, $mode: SearchMode!, $first: Int!) {
  searchListings(query: $q, mode: $mode, first: $first) {
    totalCount queryTerms language suggestion
    pageInfo { hasNextPage endCursor }
    facets { name values { value count } }
    hits {
      score
      listing { id title sector transactionTypes trl publishedAt price { amount currency } seller { name } }
      highlights { title body }
      why { matchedTerms keywordRank semanticRank similarity reasons }
    }
  }
}
"""

# Hand-written queries beside the ones cut from real titles: cross-lingual and multi-word ones.
EXTRA_QUERIES = (
    "그래핀 전극",
    "리튬 이차전지 양극",
    "이미지 센서",
    "graphene supercapacitor electrode",
    "lithium battery cathode",
    "thermal protection system",
)


# --- environment ---------------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def configure() -> tuple[str, str]:
    """Point Django at the bench database and index prefix (before django.setup); returns (bench, source)."""
    source = os.environ.get("BENCH_VECTOR_SOURCE_URL") or env("DATABASE_URL")
    name = _database_name(source)
    default = source if "bench" in name else _with_database(source, f"{name}_bench")
    bench = os.environ.get("BENCH_DATABASE_URL") or default
    if "bench" not in _database_name(bench):
        sys.exit(f"refusing to run: the bench database must have 'bench' in its name ({bench})")
    os.environ["DATABASE_URL"] = bench
    os.environ["ELASTICSEARCH_INDEX_PREFIX"] = os.environ.get("BENCH_INDEX_PREFIX", "bench")
    # As deployed: no DEBUG (no SQL log kept per request); a throw-away key for this process.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return bench, source


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = _database_name(url)
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None:
            print(f"creating database {name}")
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- real records --------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


@dataclass
class Source:
    """One real record, with what the generator takes from it."""

    office: str
    number: str
    language: str
    title: str
    sentences: list[str]
    vector_text: str  # the text whose (real) vector stands for the record
    pk: int = 0
    sector: str = "other"


def read_records() -> list[Any]:
    """The real records as the importers read them (PatentRecord), later rows winning, by key."""
    from marketplace.importers import kipris_csv, nasa_csv
    from marketplace.interface import PatentRecord

    records: dict[tuple[str, str], PatentRecord] = {}
    for module, name in zip((kipris_csv, nasa_csv), DATA_FILES, strict=True):
        with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as stream:
            for _line, item in module.read(stream, date.today()):
                if isinstance(item, PatentRecord):
                    records[(item.office, item.application_number)] = item
    return [records[key] for key in sorted(records)]


def sources_of(records: Sequence[Any]) -> list[Source]:
    out = []
    for record in records:
        language = "ko" if record.office == "KR" else "en"
        title = record.titles.get(language) or next(iter(record.titles.values()), "")
        abstract = record.abstracts.get(language) or next((a for a in record.abstracts.values() if a), "")
        sentences = [
            s.strip() for s in _SENTENCE_END.split(" ".join(abstract.split())) if len(s.strip()) >= 20
        ]
        out.append(
            Source(
                office=record.office,
                number=record.application_number,
                language=language,
                title=" ".join(title.split()),
                sentences=sentences or [" ".join(title.split())],
                vector_text=abstract or title,
            )
        )
    return out


def import_patents(records: Sequence[Any], sources: list[Source]) -> None:
    """The real records into the bench database (once), through the project's import writer."""
    from marketplace.demo.sectors import patent_sector
    from marketplace.events import patents_written
    from marketplace.importers.writer import write_patents
    from marketplace.models import Patent
    from matching import signals
    from matching.models import IndexOutbox

    keys = {(s.office, s.number) for s in sources}
    if Patent.objects.count() != len(keys):
        log(f"importing {len(records)} real patent records into the bench database")
        # No outbox rows and no Celery messages from here: this process indexes what it needs itself.
        patents_written.disconnect(signals.patents_bulk_written)
        try:
            write_patents((i, r) for i, r in enumerate(records))
        finally:
            patents_written.connect(signals.patents_bulk_written)
        IndexOutbox.objects.all().delete()
    found = {(p.office, p.application_number): p for p in Patent.objects.all()}
    for source in sources:
        patent = found[(source.office, source.number)]
        source.pk = patent.pk
        source.sector = patent_sector(patent)


def copy_vectors(texts: Sequence[str], source_url: str) -> int:
    """Vectors the demo database already holds for these texts, copied to the bench cache (read-only)."""
    import psycopg

    from matching.embeddings import encoder, text_hash
    from matching.models import TextVector

    enc = encoder()
    hashes = sorted({text_hash(t, "passage") for t in texts})
    have = set(
        TextVector.objects.filter(model_version=enc.model_version, text_hash__in=hashes).values_list(
            "text_hash", flat=True
        )
    )
    wanted = [h for h in hashes if h not in have]
    if not wanted or _database_name(source_url) == _database_name(os.environ["DATABASE_URL"]):
        return 0
    try:
        with psycopg.connect(source_url) as conn:
            rows = conn.execute(
                "select text_hash, vector from matching_textvector"
                " where model_version = %s and dimensions = %s and text_hash = any(%s)",
                (enc.model_version, enc.dimensions, wanted),
            ).fetchall()
    except psycopg.Error as error:
        log(f"could not read vectors from {_database_name(source_url)}: {error}")
        return 0
    TextVector.objects.bulk_create(
        [
            TextVector(
                model_version=enc.model_version, text_hash=h, dimensions=enc.dimensions, vector=bytes(v)
            )
            for h, v in rows
        ],
        ignore_conflicts=True,
    )
    return len(rows)


def base_vectors(sources: Sequence[Source], source_url: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The real records' vectors, of their abstracts and of their titles alone, as the product encodes
    passages and titles (role "passage"): encoded once, then read from the cache."""
    from matching.embeddings import store_vectors, vectors

    texts = [s.vector_text for s in sources] + [s.title for s in sources]
    copied = copy_vectors(texts, source_url)
    started = time.perf_counter()
    encoded = store_vectors(texts, "passage")
    seconds = time.perf_counter() - started
    if encoded:
        log(f"encoded {encoded} real texts in {seconds:.0f}s ({encoded / seconds:.1f}/s)")
    both = vectors(texts, "passage")
    info = {"copied": copied, "encoded": encoded, "encode_seconds": round(seconds, 1)}
    return both[: len(sources)], both[len(sources) :], info


# --- the generated corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    title: str
    summary: str
    patents: tuple[int, ...]  # indices into the sources
    seller: int
    sector: str
    transaction_types: tuple[str, ...]
    price_amount: int | None
    price_currency: str
    trl: int
    status: str
    days_ago: int


def make_plan(
    sources: Sequence[Source], base: np.ndarray, base_titles: np.ndarray, n: int, seed: int
) -> tuple[list[Planned], np.ndarray, np.ndarray]:
    """n listings recombined from the real records, with their passage and title vectors (row i belongs to
    listing i): a mix of the source records' vectors plus noise, and the title record's title vector plus
    noise (the generated title is that record's title and a number)."""
    from marketplace.demo.catalogue import FEDERAL_LAB_OFFERS, UNIVERSITY_OFFERS
    from marketplace.models import ListingStatus

    rng = random.Random(seed)  # noqa: S311 -- reproducible benchmark data, not secrets
    languages = ("ko", "en")
    pools = {lang: [i for i, s in enumerate(sources) if s.language == lang] for lang in languages}
    everyone = list(range(len(sources)))
    # Summaries: the first sentence of one record's abstract, then one or two sentences of two others
    # (mostly of the same language). A pool of them is shared by the listings, so that each summary is
    # analysed once when the corpus is built (see build_corpus_index).
    summaries: dict[str, list[tuple[str, int, int, int]]] = {lang: [] for lang in languages}
    for _ in range(min(SUMMARY_POOL, n)):
        b = rng.randrange(len(sources))
        same = pools[sources[b].language]
        c, d = (rng.choice(same if rng.random() < 0.85 else everyone) for _ in range(2))
        sentences = [sources[b].sentences[0], rng.choice(sources[c].sentences)]
        if rng.random() < 0.5:
            sentences.append(rng.choice(sources[d].sentences))
        summaries[sources[b].language].append((" ".join(sentences), b, c, d))
    picks = np.zeros((n, 4), dtype=np.int64)
    plan: list[Planned] = []
    # Every listing's text differs (title record, summary, patents), so each has its own cached vector.
    used: set[tuple[int, str, int, tuple[int, ...]]] = set()
    while len(plan) < n:
        i = len(plan)
        a = rng.randrange(len(sources))
        lead = sources[a]
        language = lead.language if rng.random() < 0.85 else languages[1 - languages.index(lead.language)]
        j = rng.randrange(len(summaries[language]))
        text, b, c, d = summaries[language][j]
        patents = (a,) if b == a or rng.random() < 0.75 else (a, b)
        if (a, language, j, patents) in used:
            continue
        used.add((a, language, j, patents))
        korean = lead.office == "KR"
        size = len(patents)
        price: int | None = None
        if rng.random() >= 0.25:
            factor = 1 + (size - 1) * 0.6
            price = (
                int(rng.randrange(10, 61, 5) * factor) * 1_000_000
                if korean
                else int(rng.randrange(15, 151, 5) * factor) * 100_000
            )
        plan.append(
            Planned(
                title=f"{lead.title[:280]} {MARKER}{i + 1:06d}]",
                summary=text,
                patents=patents,
                seller=rng.randrange(SELLERS_PER_OFFICE) + (0 if korean else SELLERS_PER_OFFICE),
                sector=lead.sector,
                transaction_types=tuple(rng.choice(UNIVERSITY_OFFERS if korean else FEDERAL_LAB_OFFERS)),
                price_amount=price,
                price_currency="KRW" if korean else "USD",
                trl=rng.randint(3, 6) if korean else rng.randint(4, 7),
                status=ListingStatus.UNDER_NEGOTIATION if rng.random() < 0.1 else ListingStatus.PUBLISHED,
                days_ago=rng.randrange(730),
            )
        )
        picks[i] = (a, b, c, d)
    noise = np.random.default_rng(seed)
    mixed = noise.normal(0.0, NOISE, size=(n, base.shape[1])).astype(np.float32)
    for column, weight in enumerate(MIX):
        mixed += weight * base[picks[:, column]]
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    titles = base_titles[picks[:, 0]] + noise.normal(0.0, NOISE, size=(n, base.shape[1])).astype(np.float32)
    titles /= np.linalg.norm(titles, axis=1, keepdims=True)
    return plan, np.ascontiguousarray(mixed, dtype=np.float32), np.ascontiguousarray(titles, dtype=np.float32)


def fingerprint(n: int, seed: int) -> str:
    from matching.embeddings import encoder
    from matching.indices import listings_mapping

    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(hashlib.sha256((DATA_DIR / name).read_bytes()).digest())
    parts = [GENERATOR_VERSION, n, seed, encoder().model_version, listings_mapping().to_dict()]
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def read_state() -> dict[str, Any]:
    try:
        data = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_state(state: dict[str, Any]) -> None:
    BENCH_DIR.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def generated_ids() -> list[int]:
    from marketplace.models import Listing

    return list(
        Listing.objects.filter(is_generated=True, title__contains=f" {MARKER}")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def sellers() -> list[int]:
    from marketplace.models import Organization, OrgKind

    names = [f"Search benchmark seller {i + 1:02d} (generated)" for i in range(2 * SELLERS_PER_OFFICE)]
    kinds = (OrgKind.UNIVERSITY, OrgKind.PUBLIC_INSTITUTION, OrgKind.SME)
    found = {o.name: o.pk for o in Organization.objects.filter(is_generated=True, name__in=names)}
    for i, name in enumerate(names):
        if name not in found:
            korean = i < SELLERS_PER_OFFICE
            org = Organization.objects.create(
                name=name,
                kind=kinds[i % 3] if korean else OrgKind.PUBLIC_INSTITUTION,
                country="KR" if korean else "US",
                is_generated=True,
            )
            found[name] = org.pk
    return [found[name] for name in names]


def write_listings(plan: Sequence[Planned], sources: Sequence[Source]) -> list[int]:
    """The generated listings as PostgreSQL rows (bulk_create: no signals, no outbox), replacing old ones."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from marketplace.models import Listing

    db = connection.settings_dict["NAME"]
    if "bench" not in db:
        raise RuntimeError(f"not a bench database: {db}")
    with connection.cursor() as cursor:
        # Only benchmark rows live here; everything that refers to a listing goes with them.
        cursor.execute("TRUNCATE marketplace_listing RESTART IDENTITY CASCADE")
    user, _ = User.objects.get_or_create(
        username="search-bench@example.com", defaults={"email": "search-bench@example.com", "password": "!"}
    )
    seller_ids = sellers()
    through = Listing.patents.through
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, len(plan), 5000):
        chunk = plan[start : start + 5000]
        with transaction.atomic():
            created = Listing.objects.bulk_create(
                Listing(
                    seller_id=seller_ids[p.seller],
                    created_by=user,
                    title=p.title,
                    summary=p.summary,
                    transaction_types=list(p.transaction_types),
                    price_amount=p.price_amount,
                    price_currency=p.price_currency,
                    price_negotiable=p.price_amount is None,
                    trl=p.trl,
                    sector=p.sector,
                    status=p.status,
                    published_at=now - timedelta(days=p.days_ago),
                    is_generated=True,
                )
                for p in chunk
            )
            through.objects.bulk_create(
                through(listing_id=listing.pk, patent_id=sources[i].pk)
                for listing, p in zip(created, chunk, strict=True)
                for i in p.patents
            )
        ids += [listing.pk for listing in created]
        if (start // 5000) % 4 == 3:
            log(f"  {len(ids):,} listings written")
    return ids


@dataclass
class Corpus:
    ids: list[int]  # listing pk of plan row i
    vectors: np.ndarray  # of the listings' passages
    title_vectors: np.ndarray  # of their titles alone
    index: str = ""
    load: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, Any] = field(default_factory=dict)

    def matrix(self, name: str) -> np.ndarray:
        """The generated vectors of an index field."""
        return {"vector": self.vectors, "title_vector": self.title_vectors}[name]


def _wait_for_merges(index: str, limit: float = 600.0) -> None:
    from matching.es import client

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = client().indices.stats(index=index, metric="merge")
        if stats["_all"]["primaries"]["merges"]["current"] == 0:
            return
        time.sleep(2)


def drop_unfinished(ref: Any) -> None:
    """Versions an interrupted rebuild left behind its `-next` alias (never the live one)."""
    from matching.es import client

    live = set(ref.versions_behind(ref.alias))
    for name in ref.versions_behind(ref.next_alias):
        if name not in live:
            client().indices.delete(index=name, ignore_unavailable=True)


def build_corpus_index(corpus: Corpus, fp: str) -> dict[str, Any]:
    """The generated listings indexed by the production rebuild (PostgreSQL rows -> documents -> bulk).

    Two things differ from a plain rebuild, neither changing a document: `analyze` is memoised (each
    real patent's titles and abstract appear in ~40 generated listings, each summary in ~5), and a document
    whose passage or title has no cached vector yet gets its generated one, which is also written to the
    cache so later rebuilds (the ratio below) find it.
    """
    from matching import analysis, documents, indexing
    from matching.embeddings import encoder, text_hash
    from matching.es import client
    from matching.indices import LISTINGS
    from matching.models import TextVector

    row_of = {pk: i for i, pk in enumerate(corpus.ids)}
    enc = encoder()
    build = documents.BUILDERS["listings"]
    filled = 0

    def with_vectors(ids: Sequence[int]) -> documents.Built:
        nonlocal filled
        built = build(ids)
        remaining = list(built.missing_passages)
        rows: dict[str, np.ndarray] = {}
        for pk, doc in built.docs.items():
            if doc is None:
                continue
            row = row_of[pk]
            if doc.get("title") and "title_vector" not in doc:
                remaining.remove(doc["title"])  # the title alone, encoded apart (documents.attach_vectors)
                doc["title_vector"] = [float(x) for x in corpus.title_vectors[row]]
                rows[doc["title"]] = corpus.title_vectors[row]
        lacking = [pk for pk, doc in built.docs.items() if doc is not None and not doc.get("has_vector")]
        if len(lacking) != len(remaining):
            raise RuntimeError(
                "documents.attach_vectors changed: the bench cannot tell which vector is missing"
            )
        for pk, text in zip(lacking, remaining, strict=True):
            doc = built.docs[pk]
            if doc is not None:
                doc["vector"] = [float(x) for x in corpus.vectors[row_of[pk]]]
                doc["has_vector"] = True
                rows[text] = corpus.vectors[row_of[pk]]
        TextVector.objects.bulk_create(
            [
                TextVector(
                    model_version=enc.model_version,
                    text_hash=text_hash(text, "passage"),
                    dimensions=enc.dimensions,
                    vector=vector.astype("<f4").tobytes(),
                )
                for text, vector in rows.items()
            ],
            ignore_conflicts=True,
        )
        built.missing_passages = []
        filled += len(rows)
        return built

    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 30 or done == total:
            last[0] = time.monotonic()
            log(f"  {done:,} / {total:,} documents")

    drop_unfinished(LISTINGS)
    log(f"indexing {len(corpus.ids):,} generated listings into {LISTINGS.alias} (production rebuild)")
    memo = functools.lru_cache(maxsize=50_000)(analysis.analyze)
    with (
        mock.patch.dict(documents.BUILDERS, {"listings": with_vectors}),
        mock.patch("matching.documents.analyze", memo),
    ):
        stats = indexing.rebuild(LISTINGS, batch_size=500, on_progress=progress, schedule_missing=False)
    started = time.perf_counter()
    _wait_for_merges(stats.version)
    merge_wait = time.perf_counter() - started
    load = {
        "documents": stats.documents,
        "seconds": round(stats.seconds, 1),
        "docs_per_s": round(stats.documents / stats.seconds, 1),
        "merge_wait_seconds": round(merge_wait, 1),
        "vectors_filled": filled,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    client().indices.put_mapping(
        index=stats.version, meta={"bench_fingerprint": fp, "is_generated": True, "load": load}
    )
    log(f"indexed {stats.documents:,} documents in {stats.seconds:.0f}s ({load['docs_per_s']}/s)")
    return {"version": stats.version, **load}


def ensure_corpus(
    sources: list[Source], base: np.ndarray, base_titles: np.ndarray, n: int, seed: int, force: bool
) -> tuple[Corpus, str]:
    from matching.es import client
    from matching.indices import LISTINGS

    fp = fingerprint(n, seed)
    log(f"planning {n:,} generated listings (fingerprint {fp})")
    plan, mixed, titles = make_plan(sources, base, base_titles, n, seed)
    state = read_state()
    ids = generated_ids()
    corpus = Corpus(ids=ids, vectors=mixed, title_vectors=titles)
    if force or state.get("fingerprint") != fp or len(ids) != n or state.get("first_id") != (ids or [0])[0]:
        log(f"writing {n:,} generated listings to PostgreSQL")
        started = time.perf_counter()
        corpus.ids = write_listings(plan, sources)
        seconds = time.perf_counter() - started
        state = {
            "fingerprint": fp,
            "database": _database_name(os.environ["DATABASE_URL"]),
            "listings": n,
            "first_id": corpus.ids[0],
            "rows_seconds": round(seconds, 1),
        }
        write_state(state)
        log(f"wrote the rows in {seconds:.0f}s")
        corpus.rows = {"cached": False, "seconds": round(seconds, 1)}
        force = True
    else:
        corpus.rows = {"cached": True, "seconds": state.get("rows_seconds")}
    live = LISTINGS.live_version()
    meta: dict[str, Any] = {}
    if live:
        meta = client().indices.get_mapping(index=live).body[live]["mappings"].get("_meta", {})
    count = client().count(index=live)["count"] if live else 0
    if force or not live or meta.get("bench_fingerprint") != fp or count != n:
        load = build_corpus_index(corpus, fp)
        corpus.index, corpus.load = load.pop("version"), {"cached": False, **load}
    else:
        corpus.index, corpus.load = live, {"cached": True, **meta.get("load", {})}
    return corpus, fp


def check_vectors(corpus: Corpus, sample: int = 200) -> float:
    """Smallest cosine between stored vectors and the generated ones, over a sample (should be ~1)."""
    from matching.es import client

    fields = ("vector", "title_vector")
    picks = random.Random(1).sample(range(len(corpus.ids)), sample)  # noqa: S311 -- a sample, not a secret
    docs = client().mget(index=corpus.index, ids=[str(corpus.ids[i]) for i in picks], source_includes=fields)
    worst = 1.0
    for i, doc in zip(picks, docs["docs"], strict=True):
        for name in fields:
            stored = np.asarray(doc["_source"][name], dtype=np.float32)
            worst = min(worst, float(stored @ corpus.matrix(name)[i] / np.linalg.norm(stored)))
    return worst


# --- queries -------------------------------------------------------------------------------------------

_KO_WORD = re.compile(r"[\uac00-\ud7a3]{2,}")
_EN_STOP = {"and", "for", "the", "of", "a", "an", "to", "in", "on", "with", "by", "using", "method", "system"}


def queries_from_titles(sources: Sequence[Source], count: int, seed: int) -> list[str]:
    """Two or three consecutive words of real titles, half Korean, half English (NASA)."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible query set
    out: list[str] = []
    for lang in ("ko", "en"):
        pool = [s.title for s in sources if s.language == lang]
        made: list[str] = []
        while len(made) < count // 2:
            words = rng.choice(pool).split()
            if lang == "ko":
                words = [w for w in words if _KO_WORD.search(w)]
            else:
                words = [w.strip(",.;:()") for w in words if w.lower().strip(",.;:()") not in _EN_STOP]
                words = [w for w in words if len(w) > 2 and w.isalpha()]
            span = rng.choice((2, 2, 3))
            if len(words) < span:
                continue
            start = rng.randrange(len(words) - span + 1)
            query = " ".join(words[start : start + span])
            if query.lower() not in {q.lower() for q in made}:
                made.append(query if lang == "ko" else query.lower())
        out += made
    return out


# --- timing --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "mean_ms": round(statistics.fmean(values), 2),
        "n": len(values),
    }


@contextmanager
def recording_calls(calls: list[tuple[str, dict[str, Any]]]) -> Iterator[None]:
    """Records every Elasticsearch request matching.search makes (method and keyword arguments)."""
    from matching import search as engine

    original = engine._call

    def record(method: str, **kwargs: Any) -> dict[str, Any]:
        calls.append((method, copy.deepcopy(kwargs)))
        return original(method, **kwargs)

    with mock.patch.object(engine, "_call", record):
        yield


@dataclass
class Searches:
    queries: list[str]
    latencies: dict[str, list[float]]
    totals: list[int]
    knn_clauses: list[dict[str, Any]]
    calls: dict[str, int]


def run_searches(queries: Sequence[str], repeat: int, clear_cache: bool) -> Searches:
    from django.test import Client

    from matching import search as engine
    from matching.es import client
    from matching.indices import LISTINGS

    es = client()
    http = Client()

    def graphql(text: str, mode: str) -> dict[str, Any]:
        variables = {"q": text, "mode": mode, "first": PAGE}
        response = http.post(
            "/graphql/", {"query": GRAPHQL, "variables": variables}, content_type="application/json"
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL failed for {text!r}: {response.status_code} {body.get('errors')}")
        return dict(body["data"]["searchListings"])

    # The requests the engine sends for each query and mode, to be replayed raw.
    replay: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for text in queries:
        for mode in ("bm25", "hybrid"):
            calls: list[tuple[str, dict[str, Any]]] = []
            with recording_calls(calls):
                engine.search(engine.SearchRequest(index=LISTINGS, text=text, mode=mode, first=PAGE))
            replay[(text, mode)] = calls
    knn_clauses: list[dict[str, Any]] = []
    for method, kwargs in replay[(queries[0], "hybrid")]:
        if method == "msearch":
            # One clause per vector field (the union count repeats them as a list).
            for part in kwargs["searches"]:
                found = part.get("knn", [])
                for clause in found if isinstance(found, list) else [found]:
                    if clause["field"] not in {c["field"] for c in knn_clauses}:
                        knn_clauses.append(clause)

    def raw(text: str, mode: str) -> None:
        for method, kwargs in replay[(text, mode)]:
            getattr(es, method)(**kwargs)

    def without_highlight(run: Callable[[str, str], Any], text: str, mode: str) -> None:
        with mock.patch.object(engine, "_highlight", lambda result, terms: None):
            run(text, mode)

    def in_engine(text: str, mode: str) -> None:
        engine.search(engine.SearchRequest(index=LISTINGS, text=text, mode=mode, first=PAGE))

    variants: dict[str, Callable[[str], Any]] = {
        "raw_bm25": lambda t: raw(t, "bm25"),
        "graphql_bm25": lambda t: graphql(t, "BM25"),
        "engine_bm25": lambda t: in_engine(t, "bm25"),
        "raw_hybrid": lambda t: raw(t, "hybrid"),
        "graphql_hybrid": lambda t: graphql(t, "HYBRID"),
        "engine_hybrid": lambda t: in_engine(t, "hybrid"),
        # Where the time goes: the same GraphQL requests with the Python highlighting switched off.
        "graphql_bm25_no_highlight": lambda t: without_highlight(graphql, t, "BM25"),
        "graphql_hybrid_no_highlight": lambda t: without_highlight(graphql, t, "HYBRID"),
    }
    totals = [graphql(text, "BM25")["totalCount"] for text in queries]
    log(f"warming up ({len(queries)} queries x {len(variants)} variants)")
    for text in queries:
        for run in variants.values():
            run(text)
    latencies: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    log(f"timing {len(queries)} queries x {len(variants)} variants x {repeat} repetitions")
    for rep in range(repeat):
        for k, text in enumerate(queries):
            # Rotate the order so no variant always runs first (or right after another one).
            for j in range(len(names)):
                name = names[(j + k + rep) % len(names)]
                if clear_cache:  # the shard request cache would answer repeated size-0 (facet) requests
                    es.indices.clear_cache(index=LISTINGS.alias, request=True)
                started = time.perf_counter()
                variants[name](text)
                latencies[name].append(1000 * (time.perf_counter() - started))
    requests = {mode: len(replay[(queries[0], mode)]) for mode in ("bm25", "hybrid")}
    return Searches(list(queries), latencies, totals, knn_clauses, requests)


def knn_recall(corpus: Corpus, texts: Sequence[str], clauses: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Recall of each kNN clause the product sends (field, k, num_candidates as matching.search has them)
    against exact cosine over all generated vectors of that field; query vectors from the real encoder."""
    from matching.embeddings import vectors
    from matching.es import client

    query_vectors = vectors(list(texts), "query")
    row_of = {pk: i for i, pk in enumerate(corpus.ids)}
    out: dict[str, Any] = {"queries": len(texts), "fields": {}}
    for clause in clauses:
        name = str(clause["field"])
        scores = query_vectors @ corpus.matrix(name).T
        k = int(clause.get("k", 100))
        at10: list[float] = []
        at_k: list[float] = []
        latencies: list[float] = []
        for q, row in zip(query_vectors, scores, strict=True):
            exact = np.argsort(-row)[:k]
            knn = {**clause, "query_vector": [float(x) for x in q]}
            started = time.perf_counter()
            response = client().search(index=corpus.index, knn=knn, size=k, source=False)
            latencies.append(1000 * (time.perf_counter() - started))
            found = [row_of[int(h["_id"])] for h in response["hits"]["hits"]]
            at10.append(len(set(found[:10]) & set(exact[:10].tolist())) / 10)
            at_k.append(len(set(found) & set(exact.tolist())) / k)
        out["fields"][name] = {
            "k": k,
            "num_candidates": clause.get("num_candidates"),
            "recall_at_10": round(statistics.fmean(at10), 4),
            "recall_at_k": round(statistics.fmean(at_k), 4),
            "min_recall_at_10": min(at10),
            "latency": summary(latencies),
        }
    # The goal holds for every kNN list the product fuses: the lowest recall counts.
    out["recall_at_10"] = min(f["recall_at_10"] for f in out["fields"].values())
    return out


# --- rebuild against raw bulk --------------------------------------------------------------------------


def index_ratio(corpus: Corpus, count: int) -> dict[str, Any]:
    """`rebuild` of `count` listings against `helpers.bulk` of the documents it built (same mapping).

    The rebuild runs twice: first with an empty analysed-terms cache (every text analysed, as after an
    analyzer upgrade), then again with it filled (the usual rebuild: texts unchanged since they were last
    indexed). The vector cache is filled both times. The ratio goal is read on the second.
    """
    from django.conf import settings
    from django.test import override_settings
    from elasticsearch import helpers

    from matching import documents, indexing, models
    from matching.es import client
    from matching.indices import LISTINGS

    ids = corpus.ids[:count]
    prefix = f"{settings.ELASTICSEARCH_INDEX_PREFIX}-ratio"
    captured: dict[int, dict[str, Any]] = {}
    build = documents.BUILDERS["listings"]
    build_seconds = [0.0]

    def capturing(chunk: Sequence[int]) -> documents.Built:
        started = time.perf_counter()
        built = build(chunk)
        build_seconds[-1] += time.perf_counter() - started
        captured.update({pk: doc for pk, doc in built.docs.items() if doc is not None})
        return built

    es = client()
    runs: list[dict[str, Any]] = []
    with override_settings(ELASTICSEARCH_INDEX_PREFIX=prefix):
        raw_name = f"{LISTINGS.alias}-raw"
        es.options(ignore_status=404).indices.delete(index=raw_name)
        drop_unfinished(LISTINGS)
        term_cache = getattr(models, "AnalysedText", None)
        for name in ("cold_terms", "warm_terms"):
            if name == "cold_terms" and term_cache is not None:
                term_cache.objects.all().delete()  # the bench database's own cache
            log(f"rebuild of {count:,} listings ({LISTINGS.alias}, {name.replace('_', ' ')})")
            build_seconds.append(0.0)
            with (
                mock.patch.object(indexing, "source_ids", lambda ref: list(ids)),
                mock.patch.dict(documents.BUILDERS, {"listings": capturing}),
            ):
                stats = indexing.rebuild(LISTINGS, batch_size=500, schedule_missing=False)
            runs.append(
                {
                    "run": name,
                    "documents": stats.documents,
                    "seconds": round(stats.seconds, 2),
                    "build_seconds": round(build_seconds[-1], 2),
                    "docs_per_s": round(stats.documents / stats.seconds, 1),
                    "indexed": es.count(index=stats.version)["count"],
                }
            )
        rebuilt = stats.version
        log(f"raw helpers.bulk of the same {len(captured):,} documents ({raw_name})")
        started = time.perf_counter()
        LISTINGS.create_version(raw_name)
        es.indices.put_settings(index=raw_name, settings={"refresh_interval": "-1"})
        ok, errors = helpers.bulk(
            es,
            ({"_index": raw_name, "_id": str(pk), "_source": doc} for pk, doc in captured.items()),
            chunk_size=500,
        )
        es.indices.put_settings(index=raw_name, settings={"refresh_interval": "1s"})
        es.indices.refresh(index=raw_name)
        raw_seconds = time.perf_counter() - started
        if errors:
            raise RuntimeError(f"raw bulk: {errors}")
        raw_indexed = es.count(index=raw_name)["count"]
        with_vector = sum(1 for doc in captured.values() if doc.get("has_vector"))
        es.options(ignore_status=404).indices.delete(index=[raw_name, rebuilt])
    raw_rate = ok / raw_seconds
    warm, cold = runs[-1], runs[0]
    return {
        "listings": count,
        "documents": warm["documents"],
        "with_vector": with_vector,
        "rebuilds": runs,
        "raw_seconds": round(raw_seconds, 2),
        "raw_indexed": raw_indexed,
        "rebuild_docs_per_s": warm["docs_per_s"],
        "rebuild_seconds": warm["seconds"],
        "rebuild_build_seconds": warm["build_seconds"],
        "raw_bulk_docs_per_s": round(raw_rate, 1),
        "ratio": round(warm["docs_per_s"] / raw_rate, 3),
        "ratio_cold_terms": round(cold["docs_per_s"] / raw_rate, 3),
    }


# --- encoding ------------------------------------------------------------------------------------------


def encoding(sources: Sequence[Source], queries: Sequence[str]) -> dict[str, Any]:
    from matching.documents import passage
    from matching.embeddings import encoder, passages_per_second

    picked = [s for s in sources if s.language == "ko" and len(s.sentences) > 1][:16]
    picked += [s for s in sources if s.language == "en" and len(s.sentences) > 1][:16]
    texts = [passage(s.title, s.vector_text) for s in picked]
    rate = passages_per_second(texts)
    latencies = []
    for text in list(queries)[:20]:
        started = time.perf_counter()
        encoder().encode([text], "query")
        latencies.append(1000 * (time.perf_counter() - started))
    return {
        "passages": len(texts),
        "mean_chars": round(statistics.fmean(len(t) for t in texts)),
        "passages_per_s": round(rate, 2),
        "query_encode": summary(latencies),
    }


# --- report --------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from matching.es import client

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line
        )
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gib"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    nodes = client().nodes.info(metric="jvm")["nodes"]
    node = next(iter(nodes.values()))
    info["elasticsearch"] = {
        "version": node["version"],
        "heap_gib": round(node["jvm"]["mem"]["heap_max_in_bytes"] / 2**30, 1),
    }
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info["git"] = head
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


def verdict(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    op, goal = GOALS[name]
    ok = value <= goal if op == "<=" else value >= goal
    return "PASS" if ok else "MISS"


def print_report(result: dict[str, Any]) -> None:
    corpus = result["corpus"]
    print()
    print(
        f"Search benchmark: {corpus['listings']:,} generated listings in {corpus['index']} "
        f"({corpus['segments']} segments), {len(result['queries'])} queries x {result['repeat']} repetitions"
    )
    print(f"{'latency (ms)':<44} {'p50':>8} {'p95':>8}")
    labels = {
        "raw_bm25": "raw elasticsearch-py, BM25 request",
        "graphql_bm25": "GraphQL searchListings, BM25",
        "engine_bm25": "matching.search.search, BM25",
        "raw_hybrid": "raw elasticsearch-py, hybrid requests",
        "graphql_hybrid": "GraphQL searchListings, hybrid",
        "engine_hybrid": "matching.search.search, hybrid",
        "graphql_bm25_no_highlight": "GraphQL BM25, highlighting off (diagnostic)",
        "graphql_hybrid_no_highlight": "GraphQL hybrid, highlighting off (diagnostic)",
    }
    for key, label in labels.items():
        stats = result["latency"][key]
        print(f"{label:<44} {stats['p50_ms']:>8.1f} {stats['p95_ms']:>8.1f}")
    knn: dict[str, Any] = result.get("knn") or {}
    for name, stats in knn.get("fields", {}).items():
        label = f"raw kNN clause alone ({name})"
        print(f"{label:<44} {stats['latency']['p50_ms']:>8.1f} {stats['latency']['p95_ms']:>8.1f}")
    enc = result.get("encoding")
    if enc:
        q = enc["query_encode"]
        print(f"{'query encoding, uncached':<44} {q['p50_ms']:>8.1f} {q['p95_ms']:>8.1f}")
    print()
    print(f"{'goal':<24} {'value':>8} {'target':>9}  verdict")
    for name, (op, goal) in GOALS.items():
        value = result.get(name)
        shown = f"{value:.3f}" if isinstance(value, float) else "n/a"
        print(f"{name:<24} {shown:>8} {op + ' ' + str(goal):>9}  {verdict(name, value)}")
    plain = result["without_highlight"]
    print(
        f"diagnostics: hybrid/BM25 on the raw requests {result['hybrid_over_bm25_p50_raw']:.2f}; "
        f"with highlighting off, GraphQL/raw {plain['graphql_over_raw_p50']:.2f} "
        f"and hybrid/BM25 {plain['hybrid_over_bm25_p50']:.2f}"
    )
    ratio = result.get("index")
    if ratio:
        print()
        print(f"raw helpers.bulk: {ratio['raw_bulk_docs_per_s']:.0f} docs/s ({ratio['raw_seconds']:.1f}s)")
        for run in ratio["rebuilds"]:
            print(
                f"rebuild, {run['run'].replace('_', ' ')}: {run['docs_per_s']:.0f} docs/s "
                f"({run['documents']:,} docs in {run['seconds']:.1f}s, {run['build_seconds']:.1f}s building "
                f"documents), {run['docs_per_s'] / ratio['raw_bulk_docs_per_s']:.2f} x raw"
            )
    for name, stats in knn.get("fields", {}).items():
        print(
            f"kNN recall@10 on {name}: {stats['recall_at_10']:.3f} (k={stats['k']}, "
            f"num_candidates={stats['num_candidates']}, {knn['queries']} queries; "
            f"recall@{stats['k']} {stats['recall_at_k']:.3f})"
        )
    if enc:
        print(
            f"encoding: {enc['passages_per_s']:.2f} passages/s "
            f"({enc['passages']} passages, ~{enc['mean_chars']} chars)"
        )
    load = corpus["load"]
    cached = " (cached; measured when built)" if load.get("cached") else ""
    if load.get("seconds"):
        print(
            f"corpus load{cached}: {load['documents']:,} docs in {load['seconds']:.0f}s "
            f"({load['docs_per_s']}/s)"
        )
    print(f"written to {result['output']}")


def segments(index: str) -> int:
    from matching.es import client

    stats = client().indices.stats(index=index, metric="segments")
    return int(stats["_all"]["primaries"]["segments"]["count"])


def profile(queries: Sequence[str], ids: Sequence[int], out_dir: Path) -> list[str]:
    """pyinstrument profiles of GraphQL searches (BM25, hybrid) and of building 500 listing documents."""
    try:
        profiler_class = importlib.import_module("pyinstrument").Profiler
    except ImportError:
        log("pyinstrument is not installed (.venv/bin/pip install pyinstrument); no profiles")
        return []
    from django.test import Client

    from matching.documents import listing_documents

    http = Client()

    def searches(mode: str) -> Callable[[], None]:
        def run() -> None:
            for text in queries:
                variables = {"q": text, "mode": mode, "first": PAGE}
                http.post(
                    "/graphql/", {"query": GRAPHQL, "variables": variables}, content_type="application/json"
                )

        return run

    jobs: dict[str, Callable[[], Any]] = {
        "graphql-bm25": searches("BM25"),
        "graphql-hybrid": searches("HYBRID"),
        "documents": lambda: listing_documents(list(ids[:500])),
    }
    written = []
    for name, job in jobs.items():
        profiler = profiler_class(interval=0.0005)
        profiler.start()
        job()
        profiler.stop()
        path = out_dir / f"profile-{name}.txt"
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        written.append(str(path.relative_to(ROOT)))
        log(f"profile written to {path.relative_to(ROOT)}")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listings", type=int, default=100_000, help="size of the generated corpus")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--queries", type=int, default=26, help="queries cut from real titles (+6 fixed)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of every query and variant")
    parser.add_argument("--knn-queries", type=int, default=100)
    parser.add_argument("--ratio-listings", type=int, default=10_000, help="0 skips the rebuild ratio")
    parser.add_argument(
        "--keep-request-cache", action="store_true", help="do not clear it before each search"
    )
    parser.add_argument("--skip-encoding", action="store_true")
    parser.add_argument("--rebuild-corpus", action="store_true", help="regenerate the rows and the index")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles into .bench/")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "search.json")
    args = parser.parse_args()

    bench_url, source_url = configure()
    ensure_database(bench_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    load_before = os.getloadavg()
    records = read_records()
    sources = sources_of(records)
    import_patents(records, sources)
    base, base_titles, base_info = base_vectors(sources, source_url)
    corpus, fp = ensure_corpus(sources, base, base_titles, args.listings, args.seed, args.rebuild_corpus)
    worst = check_vectors(corpus)
    if worst < 0.999:
        log(f"warning: indexed vectors differ from the generated ones (min cosine {worst:.4f})")
    _wait_for_merges(corpus.index)

    queries = queries_from_titles(sources, args.queries, args.seed) + list(EXTRA_QUERIES)
    searches = run_searches(queries, args.repeat, clear_cache=not args.keep_request_cache)
    latency = {name: summary(values) for name, values in searches.latencies.items()}
    knn_texts = queries_from_titles(sources, args.knn_queries, args.seed + 1)
    log(f"kNN recall over {len(knn_texts)} queries")
    knn = knn_recall(corpus, knn_texts, searches.knn_clauses)

    result: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["scripts/bench_search.py", *sys.argv[1:]]),
        "graphql_over_raw_p50": round(latency["graphql_bm25"]["p50_ms"] / latency["raw_bm25"]["p50_ms"], 3),
        "graphql_over_raw_p50_hybrid": round(
            latency["graphql_hybrid"]["p50_ms"] / latency["raw_hybrid"]["p50_ms"], 3
        ),
        "hybrid_over_bm25_p50": round(
            latency["graphql_hybrid"]["p50_ms"] / latency["graphql_bm25"]["p50_ms"], 3
        ),
        "hybrid_over_bm25_p50_engine": round(
            latency["engine_hybrid"]["p50_ms"] / latency["engine_bm25"]["p50_ms"], 3
        ),
        "hybrid_over_bm25_p50_raw": round(latency["raw_hybrid"]["p50_ms"] / latency["raw_bm25"]["p50_ms"], 3),
        "without_highlight": {
            "graphql_over_raw_p50": round(
                latency["graphql_bm25_no_highlight"]["p50_ms"] / latency["raw_bm25"]["p50_ms"], 3
            ),
            "hybrid_over_bm25_p50": round(
                latency["graphql_hybrid_no_highlight"]["p50_ms"]
                / latency["graphql_bm25_no_highlight"]["p50_ms"],
                3,
            ),
        },
        "knn_recall_at_10": knn["recall_at_10"],
        "index_over_raw_bulk": None,
        "goals": {name: {"op": op, "goal": goal} for name, (op, goal) in GOALS.items()},
        "latency": latency,
        "requests_per_search": searches.calls,
        "knn": knn,
        "queries": queries,
        "total_count_median": statistics.median(searches.totals),
        "repeat": args.repeat,
        "request_cache_cleared": not args.keep_request_cache,
        "graphql_client": "django.test.Client, in-process (no HTTP server)",
        "corpus": {
            "listings": len(corpus.ids),
            "fingerprint": fp,
            "index": corpus.index,
            "segments": segments(corpus.index),
            "real_records": len(sources),
            "real_vectors": base_info,
            "rows": corpus.rows,
            "load": corpus.load,
            "min_vector_cosine_check": round(worst, 5),
        },
    }
    if args.ratio_listings:
        ratio = index_ratio(corpus, min(args.ratio_listings, len(corpus.ids)))
        result["index"] = ratio
        result["index_over_raw_bulk"] = ratio["ratio"]
        result["index_over_raw_bulk_cold_terms"] = ratio["ratio_cold_terms"]
        result["docs_per_s"] = {
            "rebuild": ratio["rebuild_docs_per_s"],
            "raw_bulk": ratio["raw_bulk_docs_per_s"],
        }
    if not args.skip_encoding:
        log("encoding throughput")
        result["encoding"] = encoding(sources, queries)
        result["passages_per_s"] = result["encoding"]["passages_per_s"]
        # What a first-time hybrid query would cost: its text is not in the vector cache yet.
        uncached = latency["graphql_hybrid"]["p50_ms"] + result["encoding"]["query_encode"]["p50_ms"]
        result["hybrid_over_bm25_p50_uncached_query"] = round(uncached / latency["graphql_bm25"]["p50_ms"], 3)
    result["verdicts"] = {name: verdict(name, result.get(name)) for name in GOALS}
    result["machine"] = machine() | {"load_average_before": [round(x, 2) for x in load_before]}
    if args.profile:
        result["profiles"] = profile(queries, corpus.ids, BENCH_DIR)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result["output"] = str(args.output)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_report(result)


if __name__ == "__main__":
    main()
