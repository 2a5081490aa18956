"""Search over the indices: full text, filters, facets, sorting, highlighting, cursors, suggestions.

Relevance with a text query is hybrid: BM25 over the Python-analysed terms and kNN over the vectors, run
in one multi-search and fused by reciprocal rank fusion here (RRF is a paid feature of the engine).
The fused order is exact over the first `HYBRID_WINDOW` hits of each list; past that window the results
continue in BM25 order (search_after), skipping what the window already showed.

Facets count documents with every selected filter applied except the facet's own, so a user can widen a
choice (multi-select); the hits are filtered by all of them (post_filter).
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from matching import analysis
from matching.es import client
from matching.indexing import ENGINE_ERRORS, SearchUnavailable, unavailable
from matching.indices import LISTINGS, PATENTS, IndexRef

HYBRID_WINDOW = 100
RRF_K = 10
RRF_WEIGHTS = (1.0, 1.0, 0.5)  # keyword, passage vector, title vector
MAX_FACET_VALUES = 50

REMAINING_LIFE_BANDS = {
    "ended": (None, "now/d"),
    "under_3_years": ("now/d", "now+3y/d"),
    "from_3_to_10_years": ("now+3y/d", "now+10y/d"),
    "over_10_years": ("now+10y/d", None),
}


@dataclass(frozen=True)
class Facet:
    name: str
    field: str
    kind: str = "terms"  # terms | life (date bands) | ipc (prefix at any level)


LISTING_FACETS = (
    Facet("ipc_section", "ipc_section"),
    Facet("ipc_class", "ipc_class"),
    Facet("ipc_subclass", "ipc_subclass"),
    Facet("sector", "sector"),
    Facet("owner_kind", "owner_kind"),
    Facet("legal_status", "legal_status"),
    Facet("transaction_type", "transaction_types"),
    Facet("price_band", "price_band"),
    Facet("remaining_life", "min_expiry", "life"),
    Facet("office", "office"),
    Facet("trl", "trl"),
)
PATENT_FACETS = (
    Facet("ipc_section", "ipc_section"),
    Facet("ipc_class", "ipc_class"),
    Facet("ipc_subclass", "ipc_subclass"),
    Facet("office", "office"),
    Facet("legal_status", "legal_status"),
    Facet("owner_kind", "owner_kind"),
    Facet("remaining_life", "expiry", "life"),
)
FACETS = {LISTINGS.name: LISTING_FACETS, PATENTS.name: PATENT_FACETS}
# The IPC levels are one facet for filtering: a selected code at any level filters all of them.
IPC_LEVELS = ("ipc_section", "ipc_class", "ipc_subclass")

SORTS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "listings": {
        "newest": [{"published_at": {"order": "desc", "missing": "_last"}}],
        "price_asc": [{"price_amount": {"order": "asc", "missing": "_last"}}],
        "price_desc": [{"price_amount": {"order": "desc", "missing": "_last"}}],
        "trl_desc": [{"trl": {"order": "desc", "missing": "_last"}}],
        "remaining_life_desc": [{"min_expiry": {"order": "desc", "missing": "_last"}}],
    },
    "patents": {
        "newest": [{"application_date": {"order": "desc", "missing": "_last"}}],
        "remaining_life_desc": [{"expiry": {"order": "desc", "missing": "_last"}}],
    },
}


class InvalidCursor(ValueError):
    pass


@dataclass
class SearchRequest:
    index: IndexRef
    text: str = ""
    language: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    first: int = 20
    after: str | None = None
    mode: str = "hybrid"  # hybrid | bm25 | semantic
    with_facets: bool = True
    ipc_hint: Sequence[str] = ()  # IPC codes that raise a document's BM25 score (demands, eval queries)
    extra_filter: list[dict[str, Any]] = field(default_factory=list)  # always applied, never a facet


@dataclass
class Explanation:
    matched_terms: list[str] = field(default_factory=list)
    bm25_rank: int | None = None
    knn_rank: int | None = None
    similarity: float | None = None  # cosine similarity of the query and document vectors
    shared_ipc: list[str] = field(default_factory=list)


@dataclass
class Hit:
    id: int
    score: float
    source: dict[str, Any]
    highlights: dict[str, list[str]] = field(default_factory=dict)
    why: Explanation = field(default_factory=Explanation)


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    query_terms: list[str]
    suggestion: str | None = None


# --- query parts ---------------------------------------------------------------------------------------


def ipc_filter(codes: Sequence[str]) -> dict[str, Any]:
    """Codes at any level (H, H01, H01G, 'H01G 11/86') -> documents carrying any of them."""
    clauses: list[dict[str, Any]] = []
    for raw in codes:
        code = " ".join(raw.upper().split())
        compact = code.replace(" ", "")
        if len(compact) == 1:
            clauses.append({"term": {"ipc_section": compact}})
        elif len(compact) == 3:
            clauses.append({"term": {"ipc_class": compact}})
        elif len(compact) == 4:
            clauses.append({"term": {"ipc_subclass": compact}})
        else:
            clauses.append({"prefix": {"ipc": code}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def facet_filter(facet: Facet, values: Sequence[str]) -> dict[str, Any]:
    if facet.kind == "life":
        ranges = []
        for value in values:
            low, high = REMAINING_LIFE_BANDS[value]
            bounds = {k: v for k, v in (("gte", low), ("lt", high)) if v}
            ranges.append({"range": {facet.field: bounds}})
        return {"bool": {"should": ranges, "minimum_should_match": 1}}
    if facet.field == "trl":
        return {"terms": {"trl": [int(v) for v in values]}}
    return {"terms": {facet.field: list(values)}}


def filter_clauses(request: SearchRequest, *, skip: str | None = None) -> list[dict[str, Any]]:
    """Every selected filter as a query clause (optionally without one facet's own)."""
    facets = {f.name: f for f in FACETS.get(request.index.schema, ())}
    clauses = list(request.extra_filter)
    for name, values in request.filters.items():
        if not values or name == skip or (skip in IPC_LEVELS and name == "ipc"):
            continue
        if name == "ipc":
            clauses.append(ipc_filter(values))
        elif name in facets:
            clauses.append(facet_filter(facets[name], values))
        else:
            raise ValueError(f"unknown filter {name}")
    return clauses


def facet_aggs(request: SearchRequest) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for facet in FACETS.get(request.index.schema, ()):
        if facet.kind == "life":
            inner: dict[str, Any] = {
                "date_range": {
                    "field": facet.field,
                    "keyed": True,
                    "ranges": [
                        {"key": key, **{k: v for k, v in (("from", low), ("to", high)) if v}}
                        for key, (low, high) in REMAINING_LIFE_BANDS.items()
                    ],
                }
            }
        else:
            inner = {"terms": {"field": facet.field, "size": MAX_FACET_VALUES}}
        others = filter_clauses(request, skip=facet.name)
        aggs[facet.name] = {"filter": {"bool": {"filter": others}}, "aggs": {"values": inner}}
    return aggs


def read_facets(aggregations: dict[str, Any]) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    for name, agg in aggregations.items():
        buckets = agg["values"]["buckets"]
        if isinstance(buckets, dict):  # keyed date ranges
            values = [FacetValue(key, b["doc_count"]) for key, b in buckets.items() if b["doc_count"]]
        else:
            values = [FacetValue(str(b["key"]), b["doc_count"]) for b in buckets]
        facets[name] = values
    return facets


def text_query(terms: Sequence[str], translations: Sequence[tuple[str, float]] = ()) -> dict[str, Any]:
    """BM25 over the analysed fields: title terms weigh more (x2).

    With translations (an English query), the clauses are the lexicon's weighted terms, which keep the
    query's own Latin terms at a lower weight (0.5): measured best on the English -> Korean set.
    """
    should: list[dict[str, Any]] = []
    joined = " ".join(terms)
    if joined and not translations:
        should += [
            {"match": {"title_terms": {"query": joined, "boost": 2.0}}},
            {"match": {"body_terms": {"query": joined}}},
        ]
    for term, weight in translations:
        should += [
            {"match": {"title_terms": {"query": term, "boost": 2.0 * weight}}},
            {"match": {"body_terms": {"query": term, "boost": weight}}},
        ]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def ipc_boost(codes: Sequence[str]) -> list[dict[str, Any]]:
    levels: dict[str, set[str]] = {"ipc_subclass": set(), "ipc_class": set()}
    for raw in codes:
        compact = raw.upper().replace(" ", "")
        if len(compact) >= 4:
            levels["ipc_subclass"].add(compact[:4])
        if len(compact) >= 3:
            levels["ipc_class"].add(compact[:3])
    clauses = []
    if levels["ipc_subclass"]:
        clauses.append({"terms": {"ipc_subclass": sorted(levels["ipc_subclass"]), "boost": 1.5}})
    if levels["ipc_class"]:
        clauses.append({"terms": {"ipc_class": sorted(levels["ipc_class"]), "boost": 0.5}})
    return clauses


# --- cursors -------------------------------------------------------------------------------------------


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as error:
        raise InvalidCursor("the cursor is not one this search handed out") from error
    if not isinstance(data, dict):
        raise InvalidCursor("the cursor is not one this search handed out")
    return data


# --- running -------------------------------------------------------------------------------------------


SOURCE_FIELDS = ["title", "body", "language", "ipc", "ipc_subclass", "title_terms", "body_terms"]


def _call(method: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = getattr(client(), method)(**kwargs)
    except ENGINE_ERRORS as error:
        # A missing index is a search that is not set up yet (no rebuild ran): unavailable, not a bug.
        if unavailable(error) or getattr(error, "error", "") == "index_not_found_exception":
            raise SearchUnavailable(str(error)) from error
        raise
    return dict(response.body)


def query_vector(text: str) -> list[float] | None:
    from matching.embeddings import vectors

    if not text.strip():
        return None
    return [float(x) for x in vectors([text], "query")[0]]


def translations_for(terms: Sequence[str], language: str) -> list[tuple[str, float]]:
    """Cross-lingual expansion of an English query into Korean terms (learned lexicon), when available."""
    if language != "en" or not getattr(settings, "MATCHING_TRANSLATE_QUERIES", True):
        return []
    try:
        from matching.lexicon import translate
    except ImportError:
        return []
    return list(translate(terms))


def search(request: SearchRequest) -> SearchResult:
    if not 1 <= request.first <= 100:
        raise ValueError("first must be between 1 and 100")
    language = request.language or (analysis.detect_language(request.text) if request.text else "en")
    terms = analysis.analyze(request.text, language) if request.text else []
    cursor = decode_cursor(request.after) if request.after else {}
    hybrid = bool(terms) and request.sort == "relevance" and request.mode in ("hybrid", "semantic")
    if hybrid and cursor.get("m", "w") == "w":
        result = _hybrid_page(request, language, terms, cursor.get("o", 0))
    else:
        result = _sorted_page(request, language, terms, cursor)
    result.query_terms = terms
    _highlight(result, terms)
    return result


def _base_body(request: SearchRequest, language: str, terms: Sequence[str]) -> dict[str, Any]:
    query: dict[str, Any]
    if terms:
        query = text_query(terms, translations_for(terms, language))
        if request.ipc_hint:
            query["bool"]["should"] += ipc_boost(request.ipc_hint)
    else:
        query = {"match_all": {}}
    body: dict[str, Any] = {"query": query, "_source": SOURCE_FIELDS, "track_total_hits": True}
    post = filter_clauses(request)
    if post:
        body["post_filter"] = {"bool": {"filter": post}}
    if request.with_facets:
        body["aggs"] = facet_aggs(request)
    return body


def _sorted_page(
    request: SearchRequest, language: str, terms: Sequence[str], cursor: dict[str, Any]
) -> SearchResult:
    """BM25 relevance or a field sort, paged with search_after (ties broken by id)."""
    body = _base_body(request, language, terms)
    if request.sort == "relevance":
        sort: list[Any] = (
            ["_score"]
            if terms
            else [{"published_at" if request.index.schema == "listings" else "_doc": "desc"}]
        )
    else:
        sorts = SORTS.get(request.index.schema, {})
        if request.sort not in sorts:
            raise ValueError(f"unknown sort {request.sort}")
        sort = list(sorts[request.sort])
    body["sort"] = [*sort, {"pk": "asc"}] if "pk" not in str(sort) else sort
    body["size"] = request.first + 1
    if cursor.get("sa"):
        body["search_after"] = cursor["sa"]
    skip = set(cursor.get("skip", []))
    if skip:
        body["query"] = {"bool": {"must": [body["query"]], "must_not": [{"ids": {"values": sorted(skip)}}]}}
    response = _call("search", index=request.index.alias, body=body)
    raw = response["hits"]["hits"]
    page, more = raw[: request.first], len(raw) > request.first
    hits = [Hit(int(h["_id"]), float(h.get("_score") or 0.0), h.get("_source", {})) for h in page]
    next_cursor = None
    if more and page:
        next_cursor = encode_cursor({"m": "s", "sa": page[-1]["sort"], "skip": sorted(skip)})
    total = response["hits"]["total"]["value"]
    return SearchResult(
        hits=hits,
        total=total,
        facets=read_facets(response.get("aggregations", {})),
        next_cursor=next_cursor,
        query_terms=list(terms),
    )


def fuse(
    lists: Sequence[Sequence[int]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of weight / (k + rank of d in that list)."""
    scores: dict[int, float] = {}
    weights = weights or [1.0] * len(lists)
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, doc_id in enumerate(ranked, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return scores


@dataclass
class Candidates:
    bm25: list[int]
    knn: list[int]
    title_knn: list[int]
    similarity: dict[int, float]
    total: int
    facets: dict[str, list[FacetValue]]
    bm25_sort: list[Any] | None  # search_after values of the last BM25 hit in the window


def candidates(
    request: SearchRequest,
    language: str,
    terms: Sequence[str],
    window: int = HYBRID_WINDOW,
) -> Candidates:
    """The BM25 and kNN lists (one multi-search), filtered alike, with facets over their union.

    The lists carry ids and scores only (the page's documents are fetched afterwards, `page_sources`):
    fetching the stored fields of all 3 x 100 candidates took a third of the multi-search's time on
    100,000 listings (make bench-search)."""
    vector = query_vector(request.text) if request.mode in ("hybrid", "semantic") else None
    filters = filter_clauses(request)
    searches: list[dict[str, Any]] = []
    bm25 = _base_body(request, language, terms)
    bm25 |= {"size": window, "sort": ["_score", {"pk": "asc"}], "track_total_hits": True, "_source": False}
    bm25.pop("aggs", None)
    if request.mode == "semantic":
        bm25["size"] = 0
    searches += [{"index": request.index.alias}, bm25]
    if vector is not None:
        knn: dict[str, Any] = {
            "field": "vector",
            "query_vector": vector,
            "k": window,
            # 2 x k gave recall@10 0.945 (titles) / 0.97 on 100,000 listings; 4 x k 0.98 / 0.99 for about
            # 1 ms more (make bench-search, docs/benchmarks.md).
            "num_candidates": max(window * 4, 400),
        }
        if filters:
            knn["filter"] = {"bool": {"filter": filters}}
        min_similarity = getattr(settings, "MATCHING_KNN_MIN_SIMILARITY", None)
        if min_similarity is not None:
            knn["similarity"] = min_similarity
        searches += [{"index": request.index.alias}, {"knn": knn, "size": window, "_source": False}]
        # The same vector against the titles alone: a short title is a sharper target than a long passage.
        title_knn = dict(knn, field="title_vector")
        searches += [
            {"index": request.index.alias},
            {"knn": title_knn, "size": window, "_source": False},
        ]
    response = _call("msearch", searches=searches)
    parts = response["responses"]
    for part in parts:
        if "error" in part:
            raise SearchUnavailable(json.dumps(part["error"])[:500])
    bm25_hits = parts[0]["hits"]["hits"]
    knn_hits = parts[1]["hits"]["hits"] if vector is not None else []
    title_hits = parts[2]["hits"]["hits"] if vector is not None else []
    # kNN scores for cosine are (1 + cos) / 2.
    similarity = {int(h["_id"]): 2.0 * float(h["_score"]) - 1.0 for h in knn_hits}
    for h in title_hits:
        doc_id = int(h["_id"])
        similarity[doc_id] = max(similarity.get(doc_id, -1.0), 2.0 * float(h["_score"]) - 1.0)
    knn_ids = [int(h["_id"]) for h in knn_hits]
    title_ids = [int(h["_id"]) for h in title_hits]
    bm25_ids = [int(h["_id"]) for h in bm25_hits]
    # Totals and facets over what the reader can page through: BM25 matches plus the kNN windows, named by
    # id. (Sending the kNN clauses again with the BM25 query gives the same union in the same multi-search,
    # but runs both kNN searches twice: slower on 2 cores than this second round trip, make bench-search.)
    # post_filter narrows the hits and their total; each facet's aggregation applies the other filters.
    union: dict[str, Any] = {
        "bool": {
            "should": [bm25["query"], {"ids": {"values": [str(i) for i in {*knn_ids, *title_ids}]}}],
            "minimum_should_match": 1,
        }
    }
    count_body: dict[str, Any] = {"size": 0, "query": union, "track_total_hits": True}
    if filters:
        count_body["post_filter"] = {"bool": {"filter": filters}}
    if request.with_facets:
        count_body["aggs"] = facet_aggs(request)
    counted = _call("search", index=request.index.alias, body=count_body)
    return Candidates(
        bm25=bm25_ids,
        knn=knn_ids,
        title_knn=title_ids,
        similarity=similarity,
        total=counted["hits"]["total"]["value"],
        facets=read_facets(counted.get("aggregations", {})),
        bm25_sort=bm25_hits[-1]["sort"] if len(bm25_hits) == window else None,
    )


def rank(
    c: Candidates, weights: Sequence[float] | None = None, k: int | None = None
) -> list[tuple[int, float]]:
    """RRF of the keyword list and the two semantic lists (passage and title); weights and k from the
    settings MATCHING_RRF_WEIGHTS and MATCHING_RRF_K (chosen on the benchmark, docs/benchmarks.md)."""
    weights = weights or getattr(settings, "MATCHING_RRF_WEIGHTS", RRF_WEIGHTS)
    rrf_k = k if k is not None else int(getattr(settings, "MATCHING_RRF_K", RRF_K))
    fused = fuse([c.bm25, c.knn, c.title_knn], weights, rrf_k)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def page_sources(index: IndexRef, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored fields a page of hits shows, for these documents only."""
    if not ids:
        return {}
    response = _call("mget", index=index.alias, ids=[str(i) for i in ids], source_includes=SOURCE_FIELDS)
    return {int(doc["_id"]): doc.get("_source", {}) for doc in response["docs"] if doc.get("found")}


def _hybrid_page(request: SearchRequest, language: str, terms: Sequence[str], offset: int) -> SearchResult:
    c = candidates(request, language, terms, window=max(HYBRID_WINDOW, request.first))
    ranked = rank(c)
    page = ranked[offset : offset + request.first]
    sources = page_sources(request.index, [doc_id for doc_id, _ in page])
    bm25_rank = {doc_id: i for i, doc_id in enumerate(c.bm25, start=1)}
    knn_rank = {doc_id: i for i, doc_id in enumerate(c.knn or c.title_knn, start=1)}
    hits = [
        Hit(
            doc_id,
            score,
            sources.get(doc_id, {}),
            why=Explanation(
                bm25_rank=bm25_rank.get(doc_id),
                knn_rank=knn_rank.get(doc_id),
                similarity=c.similarity.get(doc_id),
            ),
        )
        for doc_id, score in page
    ]
    next_cursor = None
    if offset + request.first < len(ranked):
        next_cursor = encode_cursor({"m": "w", "o": offset + request.first})
    elif c.bm25_sort is not None:
        # Past the window: BM25 order, without the documents the window already showed.
        shown = [str(doc_id) for doc_id, _ in ranked]
        next_cursor = encode_cursor({"m": "s", "sa": c.bm25_sort, "skip": shown})
    return SearchResult(
        hits=hits, total=c.total, facets=c.facets, next_cursor=next_cursor, query_terms=list(terms)
    )


def _highlight(result: SearchResult, terms: Sequence[str]) -> None:
    """Highlights found on the surface of the text, and the matched terms from the stored term fields:
    neither analyses the hits' text again (Korean analysis would cost more than the search itself)."""
    wanted = {word for term in terms for word in term.split()}  # a Korean compound noun can hold a space
    for hit in result.hits:
        source = hit.source
        if wanted:
            hit.highlights = {
                "title": analysis.highlight_surface(
                    source.get("title", ""), wanted, fragments=1, fragment_chars=300
                ),
                "body": analysis.highlight_surface(
                    source.get("body", ""), wanted, fragments=2, fragment_chars=160
                ),
            }
        stored = set(source.get("title_terms", "").split()) | set(source.get("body_terms", "").split())
        hit.why.matched_terms = sorted(wanted & stored)


# --- suggestions ---------------------------------------------------------------------------------------


def autocomplete(index: IndexRef, prefix: str, size: int = 8) -> list[str]:
    prefix = prefix.strip()
    if not prefix:
        return []
    body = {
        "_source": False,
        "suggest": {
            "ac": {
                "prefix": prefix[:100],
                "completion": {"field": "suggest", "size": size, "skip_duplicates": True},
            }
        },
    }
    response = _call("search", index=index.alias, body=body)
    return [option["text"] for option in response["suggest"]["ac"][0]["options"]]


def spelling(index: IndexRef, text: str) -> str | None:
    """'Did you mean': each query word that the index does not know replaced by its closest known word."""
    words = text.split()
    if not words:
        return None
    body = {
        "size": 0,
        "suggest": {
            "text": text,
            "title": {"term": {"field": "title", "suggest_mode": "missing", "min_word_length": 2, "size": 1}},
            "body": {"term": {"field": "body", "suggest_mode": "missing", "min_word_length": 2, "size": 1}},
        },
    }
    response = _call("search", index=index.alias, body=body)
    replacements: dict[str, str] = {}
    for name in ("title", "body"):
        for entry in response["suggest"][name]:
            if entry["options"]:
                replacements.setdefault(entry["text"].lower(), entry["options"][0]["text"])
    if not replacements:
        return None
    corrected = [replacements.get(word.lower(), word) for word in words]
    suggestion = " ".join(corrected)
    return suggestion if suggestion.lower() != text.lower() else None


def more_like_this(
    index: IndexRef, doc_id: int, first: int = 10, extra_filter: Sequence[dict[str, Any]] = ()
) -> list[Hit]:
    """Documents like this one: its terms (more_like_this) and its vector (kNN), fused by RRF."""
    got = (
        client()
        .options(ignore_status=404)
        .get(index=index.alias, id=str(doc_id), source_includes=["vector", "title"])
    )
    if not got.body.get("found"):
        return []
    vector = got.body["_source"].get("vector")
    exclude = [{"ids": {"values": [str(doc_id)]}}]
    searches: list[dict[str, Any]] = [
        {"index": index.alias},
        {
            "size": HYBRID_WINDOW,
            "_source": SOURCE_FIELDS,
            "query": {
                "bool": {
                    "must": [
                        {
                            "more_like_this": {
                                "fields": ["all_terms"],
                                "like": [{"_index": index.alias, "_id": str(doc_id)}],
                                "min_term_freq": 1,
                                "min_doc_freq": 1,
                                "max_query_terms": 40,
                            }
                        }
                    ],
                    "must_not": exclude,
                    "filter": list(extra_filter),
                }
            },
        },
    ]
    if vector:
        knn = {
            "field": "vector",
            "query_vector": vector,
            "k": HYBRID_WINDOW,
            "num_candidates": 200,
            "filter": {"bool": {"must_not": exclude, "filter": list(extra_filter)}},
        }
        searches += [{"index": index.alias}, {"knn": knn, "size": HYBRID_WINDOW, "_source": SOURCE_FIELDS}]
    parts = _call("msearch", searches=searches)["responses"]
    lists = [[int(h["_id"]) for h in part.get("hits", {}).get("hits", [])] for part in parts]
    sources = {int(h["_id"]): h["_source"] for part in parts for h in part.get("hits", {}).get("hits", [])}
    similarity = {
        int(h["_id"]): 2.0 * float(h["_score"]) - 1.0 for h in (parts[1]["hits"]["hits"] if vector else [])
    }
    fused = sorted(fuse(lists).items(), key=lambda item: (-item[1], item[0]))[:first]
    mlt_rank = {d: i for i, d in enumerate(lists[0], start=1)}
    return [
        Hit(d, s, sources[d], why=Explanation(bm25_rank=mlt_rank.get(d), similarity=similarity.get(d)))
        for d, s in fused
    ]
