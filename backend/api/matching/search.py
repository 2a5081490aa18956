"""GraphQL search: `searchListings`, `searchPatents`, `autocomplete`.

The engine ranks and counts; PostgreSQL, through the usual node types, decides what the viewer may see
of each hit (a hit the viewer may not see any more is dropped). Elasticsearch being down is a request
error with the code SEARCH_UNAVAILABLE; the rest of the API keeps working.
"""

from collections.abc import Callable, Sequence
from typing import Any

import graphene
from django.db.models import Model, QuerySet

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.loaders import loaders_of
from backend.api.marketplace.listings import ListingNode, SectorEnum, TransactionTypeEnum, listing_visibility
from backend.api.marketplace.patents import PatentNode
from marketplace.models import Listing, Patent
from matching import search as engine
from matching.analysis import detect_language
from matching.indexing import SearchUnavailable
from matching.indices import LISTINGS, PATENTS, IndexRef


class SearchErrorCode:
    SEARCH_UNAVAILABLE = "SEARCH_UNAVAILABLE"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_FILTER = "INVALID_FILTER"


SearchModeEnum = graphene.Enum(
    "SearchMode",
    [("HYBRID", "hybrid"), ("BM25", "bm25"), ("SEMANTIC", "semantic")],
    description="HYBRID fuses keyword (BM25) and semantic (kNN) rankings; the others use one of them.",
)
ListingSortEnum = graphene.Enum(
    "ListingSearchSort",
    [
        ("RELEVANCE", "relevance"),
        ("NEWEST", "newest"),
        ("PRICE_ASC", "price_asc"),
        ("PRICE_DESC", "price_desc"),
        ("TRL_DESC", "trl_desc"),
        ("REMAINING_LIFE_DESC", "remaining_life_desc"),
    ],
)
PatentSortEnum = graphene.Enum(
    "PatentSearchSort",
    [("RELEVANCE", "relevance"), ("NEWEST", "newest"), ("REMAINING_LIFE_DESC", "remaining_life_desc")],
)
RemainingLifeEnum = graphene.Enum(
    "RemainingLifeBand",
    [(key.upper(), key) for key in engine.REMAINING_LIFE_BANDS],
    description="Remaining life of the shortest-lived patent: ended, under 3 years, 3 to 10, over 10.",
)
PriceBandEnum = graphene.Enum(
    "PriceBand",
    [("LOW", "low"), ("MID", "mid"), ("HIGH", "high"), ("PREMIUM", "premium"), ("ON_REQUEST", "on_request")],
    description="Asking-price band (bounds per currency, docs/search.md); ON_REQUEST = no price given.",
)
SearchIndexEnum = graphene.Enum("SearchIndex", [("LISTINGS", "listings"), ("PATENTS", "patents")])


class ListingSearchFilters(graphene.InputObjectType):
    """Values within one filter are alternatives (OR); different filters all apply (AND)."""

    ipc = graphene.List(
        graphene.NonNull(graphene.String), description="IPC codes at any level: H, H01, H01M."
    )
    sector = graphene.List(graphene.NonNull(SectorEnum))
    owner_kind = graphene.List(graphene.NonNull(graphene.String), description="Seller's organisation kind.")
    legal_status = graphene.List(graphene.NonNull(graphene.String))
    transaction_type = graphene.List(graphene.NonNull(TransactionTypeEnum))
    price_band = graphene.List(graphene.NonNull(PriceBandEnum))
    remaining_life = graphene.List(graphene.NonNull(RemainingLifeEnum))
    office = graphene.List(graphene.NonNull(graphene.String))
    trl = graphene.List(graphene.NonNull(graphene.Int))


class PatentSearchFilters(graphene.InputObjectType):
    ipc = graphene.List(
        graphene.NonNull(graphene.String), description="IPC codes at any level: H, H01, H01M."
    )
    office = graphene.List(graphene.NonNull(graphene.String))
    legal_status = graphene.List(graphene.NonNull(graphene.String))
    owner_kind = graphene.List(graphene.NonNull(graphene.String))
    remaining_life = graphene.List(graphene.NonNull(RemainingLifeEnum))


class FacetValueType(graphene.ObjectType):
    class Meta:
        name = "FacetValue"

    value = graphene.String(required=True)
    count = graphene.Int(required=True, description="Matching documents with this value.")


class FacetType(graphene.ObjectType):
    """Counts with every other selected filter applied (so a facet can be widened)."""

    class Meta:
        name = "SearchFacet"

    name = graphene.String(required=True, description="snake_case facet name, e.g. ipc_class, sector.")
    values = graphene.List(graphene.NonNull(FacetValueType), required=True)


MatchBasisKindEnum = graphene.Enum(
    "MatchBasisKind",
    [("DEMAND", "demand"), ("PATENT", "patent"), ("LISTING", "listing")],
    description="What kind of object a recommendation rests on.",
)


class MatchBasis(graphene.ObjectType):
    """An object a recommendation rests on: an open demand, a patent, or a listing you showed interest in."""

    kind = graphene.Field(MatchBasisKindEnum, required=True)
    id = graphene.ID(required=True, description="Global id of the demand, patent or listing.")
    title = graphene.String(required=True)
    similarity = graphene.Float(description="Cosine similarity of its meaning and the result's, -1 to 1.")


class MatchExplanation(graphene.ObjectType):
    """Why a result matched."""

    matched_terms = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Analysed query terms found in the text.",
    )
    keyword_rank = graphene.Int(description="Rank in the keyword (BM25) list, when it was there.")
    semantic_rank = graphene.Int(description="Rank in the semantic (kNN) list, when it was there.")
    similarity = graphene.Float(description="Cosine similarity of query and document meaning, -1 to 1.")
    shared_ipc = graphene.List(graphene.NonNull(graphene.String), required=True)
    reasons = graphene.List(graphene.NonNull(graphene.String), required=True, description="For humans.")
    behaviour = graphene.String(
        description="Recommendations: the behaviour behind it (views, bookmarks, inquiries), for humans."
    )
    based_on = graphene.List(
        graphene.NonNull(MatchBasis),
        required=True,
        description="Recommendations: the demands, patents or listings it rests on; empty for searches.",
    )

    @staticmethod
    def resolve_based_on(root: "MatchExplanation", info: graphene.ResolveInfo) -> list[MatchBasis]:
        return list(root.based_on or [])


class Highlights(graphene.ObjectType):
    title = graphene.List(graphene.NonNull(graphene.String), required=True, description="HTML, <em> marks.")
    body = graphene.List(graphene.NonNull(graphene.String), required=True, description="HTML, <em> marks.")


class SearchPageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String(description="Pass as `after` for the next page (search_after, any depth).")


def explanation(why: engine.Explanation) -> MatchExplanation:
    reasons = []
    if why.matched_terms:
        reasons.append("matched terms: " + ", ".join(why.matched_terms))
    if why.shared_ipc:
        reasons.append("shared IPC classes: " + ", ".join(why.shared_ipc))
    if why.similarity is not None:
        reasons.append(f"semantic similarity {why.similarity:.2f}")
    return MatchExplanation(
        matched_terms=why.matched_terms,
        keyword_rank=why.bm25_rank,
        semantic_rank=why.knn_rank,
        similarity=why.similarity,
        shared_ipc=why.shared_ipc,
        reasons=reasons,
    )


def hit_type(name: str, node: type, attribute: str) -> type[graphene.ObjectType]:
    attrs = {
        attribute: graphene.Field(node, required=True),
        "score": graphene.Float(required=True, description="Fused relevance; only the order is meaningful."),
        "highlights": graphene.Field(Highlights, required=True),
        "why": graphene.Field(MatchExplanation, required=True),
        "Meta": type("Meta", (), {"name": name}),
    }
    return type(name, (graphene.ObjectType,), attrs)


ListingHit = hit_type("ListingSearchHit", ListingNode, "listing")
PatentHit = hit_type("PatentSearchHit", PatentNode, "patent")


def result_type(name: str, hit: type) -> type[graphene.ObjectType]:
    attrs = {
        "total_count": graphene.Int(required=True, description="All matches (not just this page)."),
        "hits": graphene.List(graphene.NonNull(hit), required=True),
        "facets": graphene.List(graphene.NonNull(FacetType), required=True),
        "page_info": graphene.Field(SearchPageInfo, required=True),
        "query_terms": graphene.List(graphene.NonNull(graphene.String), required=True),
        "language": graphene.String(description="The query's language, as given or detected."),
        "suggestion": graphene.String(description="'Did you mean', when words of the query are unknown."),
        "Meta": type("Meta", (), {"name": name}),
    }
    return type(name, (graphene.ObjectType,), attrs)


ListingSearchResult = result_type("ListingSearchResult", ListingHit)
PatentSearchResult = result_type("PatentSearchResult", PatentHit)


def run_search(
    info: graphene.ResolveInfo,
    ref: IndexRef,
    visible: Callable[[list[int]], dict[int, Model]],
    attribute: str,
    result_cls: type[graphene.ObjectType],
    hit_cls: type[graphene.ObjectType],
    args: dict[str, Any],
) -> Any:
    first = args.get("first")
    if first is None or not 1 <= first <= 100:
        raise api_error(ApiErrorCode.PAGE_SIZE_EXCEEDED, "first must be between 1 and 100")
    filters = {
        key: [str(v.value if hasattr(v, "value") else v) for v in values]
        for key, values in (args.get("filters") or {}).items()
        if values
    }
    text = (args.get("query") or "").strip()[:500]
    request = engine.SearchRequest(
        index=ref,
        text=text,
        language=args.get("language") or None,
        filters=filters,
        sort=_value(args.get("sort")) or "relevance",
        mode=_value(args.get("mode")) or "hybrid",
        first=first,
        after=args.get("after") or None,
    )
    try:
        result = engine.search(request)
        suggestion = engine.spelling(ref, text) if text and result.total < 3 else None
    except SearchUnavailable as error:
        raise api_error(
            SearchErrorCode.SEARCH_UNAVAILABLE, "search is unavailable right now; try again"
        ) from error
    except engine.InvalidCursor as error:
        raise api_error(SearchErrorCode.INVALID_CURSOR, str(error)) from error
    except (ValueError, KeyError) as error:
        raise api_error(SearchErrorCode.INVALID_FILTER, str(error)) from error
    objects = visible([hit.id for hit in result.hits])
    loaders_of(info).see_values([list(objects.values())])
    hits = [
        hit_cls(
            **{attribute: objects[hit.id]},
            score=hit.score,
            highlights=Highlights(title=hit.highlights.get("title", []), body=hit.highlights.get("body", [])),
            why=explanation(hit.why),
        )
        for hit in result.hits
        if hit.id in objects
    ]
    return result_cls(
        total_count=result.total,
        hits=hits,
        facets=[FacetType(name=name, values=values) for name, values in result.facets.items()],
        page_info=SearchPageInfo(has_next_page=result.next_cursor is not None, end_cursor=result.next_cursor),
        query_terms=result.query_terms,
        language=request.language or (detect_language(text) if text else None),
        suggestion=suggestion,
    )


def _value(enum_value: Any) -> str | None:
    if enum_value is None:
        return None
    return str(getattr(enum_value, "value", enum_value))


def by_id(queryset: QuerySet[Any], ids: Sequence[int]) -> dict[int, Model]:
    return {obj.pk: obj for obj in queryset.filter(pk__in=ids)}


def common_args(sort_enum: Any, filters: Any) -> dict[str, Any]:
    return {
        "query": graphene.String(description="Words in any of Korean, English, Japanese, Chinese."),
        "language": graphene.String(description="ko, en, ja or zh; detected when omitted."),
        "filters": graphene.Argument(filters),
        "sort": graphene.Argument(sort_enum, default_value="relevance"),
        "mode": graphene.Argument(SearchModeEnum, default_value="hybrid"),
        "first": graphene.Int(required=True, description="Page size, 1 to 100."),
        "after": graphene.String(description="endCursor of the previous page."),
    }


class SearchQueries(graphene.ObjectType):
    search_listings = graphene.Field(
        ListingSearchResult,
        required=True,
        description="Published technology packages by words, filters and facets.",
        **common_args(ListingSortEnum, ListingSearchFilters),
    )
    search_patents = graphene.Field(
        PatentSearchResult,
        required=True,
        description="Patents by words, filters and facets.",
        **common_args(PatentSortEnum, PatentSearchFilters),
    )
    autocomplete = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        index=graphene.Argument(SearchIndexEnum, required=True),
        prefix=graphene.String(required=True),
        description="Title completions for what has been typed so far (up to 8).",
    )

    @staticmethod
    def resolve_search_listings(root: None, info: graphene.ResolveInfo, **args: Any) -> Any:
        def visible(ids: list[int]) -> dict[int, Model]:
            qs = Listing.objects.filter(listing_visibility(info)).select_related("seller")
            return by_id(qs, ids)

        return run_search(info, LISTINGS, visible, "listing", ListingSearchResult, ListingHit, args)

    @staticmethod
    def resolve_search_patents(root: None, info: graphene.ResolveInfo, **args: Any) -> Any:
        def visible(ids: list[int]) -> dict[int, Model]:
            return by_id(Patent.objects.all(), ids)

        return run_search(info, PATENTS, visible, "patent", PatentSearchResult, PatentHit, args)

    @staticmethod
    def resolve_autocomplete(root: None, info: graphene.ResolveInfo, index: Any, prefix: str) -> list[str]:
        ref = LISTINGS if _value(index) == "listings" else PATENTS
        try:
            return engine.autocomplete(ref, prefix[:100])
        except SearchUnavailable as error:
            raise api_error(SearchErrorCode.SEARCH_UNAVAILABLE, "search is unavailable right now") from error
