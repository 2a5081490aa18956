"""Recommendations, each with a "why matched" explanation.

`match_request` is THE matching of a need to technology: the demand -> listings recommendation and the
evaluation harness (match_eval) both rank with it, so the measured quality is the product's.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db.models import Count, Max, Q
from django.utils import timezone

from marketplace.access import member_org_ids
from marketplace.models import (
    Bookmark,
    Deal,
    Demand,
    Listing,
    ListingView,
    Membership,
    Organization,
    OrgKind,
    Sector,
)
from matching.documents import SEARCHABLE_LISTING_STATES, analysed, ipc_levels, passage
from matching.indexing import SearchUnavailable
from matching.indices import DEMANDS, LISTINGS, PATENTS, IndexRef
from matching.search import (
    Explanation,
    Hit,
    SearchRequest,
    _call,
    fuse,
    ipc_boost,
    more_like_this,
    search,
)


def match_request(
    ref: IndexRef,
    text: str,
    language: str | None,
    ipc: Sequence[str],
    *,
    first: int = 10,
    extra_filter: Sequence[dict[str, Any]] = (),
) -> SearchRequest:
    """Hybrid BM25 (with cross-lingual expansion and an IPC boost) + kNN, fused by RRF."""
    return SearchRequest(
        index=ref,
        text=text,
        language=language,
        ipc_hint=list(ipc),
        first=first,
        mode="hybrid",
        with_facets=False,
        extra_filter=list(extra_filter),
    )


def shared_ipc(hit: Hit, ipc: Sequence[str]) -> list[str]:
    """IPC subclasses (or classes) the document shares with the need."""
    wanted = {code.upper().replace(" ", "")[:4] for code in ipc if len(code.replace(" ", "")) >= 4}
    have = set(hit.source.get("ipc_subclass") or [])
    return sorted(wanted & have)


def demand_text(demand: Demand) -> str:
    return "\n".join(part for part in (demand.title, demand.description, " ".join(demand.keywords)) if part)


def match_listings(demand: Demand, first: int = 10) -> list[Hit]:
    """Published listings for a buyer's demand, best first."""
    request = match_request(LISTINGS, demand_text(demand), None, demand.ipc_interests, first=first)
    hits = search(request).hits
    for hit in hits:
        hit.why.shared_ipc = shared_ipc(hit, demand.ipc_interests)
    return hits


# --- shared pieces of the recommendations ---------------------------------------------------------------
#
# Every recommendation below fuses ranked lists by reciprocal rank fusion (matching.search.fuse) and
# explains each result with a `Why`: the search explanation (matched terms, ranks, similarity, shared IPC)
# plus human reasons, the objects it is based on, and behaviour. Elasticsearch ranks; PostgreSQL decides
# what still exists (stale index entries are dropped) and the API decides what the viewer may see.

WINDOW = 100  # candidates taken from each ranked list
MAX_TERMS = 12  # matched terms shown in an explanation
BEHAVIOUR_WEIGHTS = {"inquiry": 3.0, "bookmark": 2.0, "view": 1.0}
SIMILAR_BEHAVIOUR_DISCOUNT = 0.5  # interest in a similar listing counts half of interest in this one
BEHAVIOUR_SIMILAR_LISTINGS = 20  # similar listings whose audience counts for candidate buyers
CANDIDATE_WEIGHTS = {"demands": 1.5, "patents": 1.0, "behaviour": 1.0}  # an open demand says the most
FEED_RECENT_DAYS = 14
FEED_HISTORY = 50  # most recent listings of a user's behaviour that make up the profile
FEED_DEMANDS = 5  # newest open demands of the user's organisations that feed the feed
POPULAR_DAYS = 90
FEED_WEIGHTS = {"similar": 1.0, "recent": 1.0, "demands": 1.0, "popular": 0.5}
LISTING_FIELDS = ["title", "body", "language", "ipc", "ipc_subclass", "sector", "seller_id", "published_at"]


@dataclass
class Basis:
    """What a recommendation rests on: a demand, a patent, or a listing the user showed interest in."""

    kind: str  # "demand" | "patent" | "listing"
    id: int
    title: str
    similarity: float | None = None


@dataclass
class Why(Explanation):
    reasons: list[str] = field(default_factory=list)
    based_on: list[Basis] = field(default_factory=list)
    behaviour: str | None = None


@dataclass
class Recommendation:
    id: int  # a listing's or an organisation's primary key
    score: float  # fused RRF score; only the order is meaningful
    why: Why


def _ranked(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _terms_of(source: dict[str, Any]) -> set[str]:
    return set(str(source.get("all_terms") or "").split())


def _shown_terms(wanted: Sequence[str], have: set[str]) -> list[str]:
    """The wanted terms the document has, in the wanted order (title terms first), at most MAX_TERMS."""
    return [term for term in dict.fromkeys(wanted) if term in have][:MAX_TERMS]


def _cosine(a: Sequence[float] | None, b: Sequence[float] | None) -> float | None:
    if not a or not b:
        return None
    x, y = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / norm) if norm else None


def _docs(ref: IndexRef, ids: Iterable[int], fields: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Stored documents by id (missing ones left out), in one request."""
    wanted = [str(i) for i in dict.fromkeys(ids)]
    if not wanted:
        return {}
    response = _call("mget", index=ref.alias, ids=wanted, source_includes=list(fields))
    return {int(d["_id"]): d.get("_source", {}) for d in response["docs"] if d.get("found")}


def _searchable(ids: Iterable[int]) -> set[int]:
    """Of these listing ids, those PostgreSQL still holds as searchable (the index may lag behind)."""
    return set(
        Listing.objects.filter(pk__in=list(ids), status__in=SEARCHABLE_LISTING_STATES).values_list(
            "pk", flat=True
        )
    )


def _msearch(searches: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    parts = _call("msearch", searches=searches)["responses"]
    for part in parts:
        if "error" in part:
            raise SearchUnavailable(json.dumps(part["error"])[:500])
    return [list(part["hits"]["hits"]) for part in parts]


def _hybrid(
    ref: IndexRef,
    like_terms: Sequence[str],
    ipc: Sequence[str],
    vector: Sequence[float] | None,
    filters: Sequence[dict[str, Any]],
    must_not: Sequence[dict[str, Any]],
    source: Sequence[str],
) -> tuple[list[int], list[int], dict[int, float], dict[int, dict[str, Any]]]:
    """A text's keyword list ("more like this" over its analysed terms, IPC boost) and semantic list (kNN on
    its vector) in another index: (bm25 ids, knn ids, cosine similarity by id, sources by id)."""
    searches: list[dict[str, Any]] = []
    if like_terms:
        query: dict[str, Any] = {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["all_terms"],
                            "like": " ".join(like_terms),
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 40,
                        }
                    }
                ],
                "should": ipc_boost(ipc),
                "filter": list(filters),
                "must_not": list(must_not),
            }
        }
        searches += [{"index": ref.alias}, {"size": WINDOW, "_source": list(source), "query": query}]
    if vector:
        knn = {
            "field": "vector",
            "query_vector": list(vector),
            "k": WINDOW,
            "num_candidates": 2 * WINDOW,
            "filter": {"bool": {"filter": list(filters), "must_not": list(must_not)}},
        }
        searches += [{"index": ref.alias}, {"knn": knn, "size": WINDOW, "_source": list(source)}]
    if not searches:
        return [], [], {}, {}
    parts = _msearch(searches)
    bm25_hits = parts[0] if like_terms else []
    knn_hits = parts[-1] if vector else []
    sources = {int(h["_id"]): h.get("_source", {}) for h in [*bm25_hits, *knn_hits]}
    similarity = {int(h["_id"]): 2.0 * float(h["_score"]) - 1.0 for h in knn_hits}
    return [int(h["_id"]) for h in bm25_hits], [int(h["_id"]) for h in knn_hits], similarity, sources


@dataclass
class Profile:
    """What a listing is about, for matching it against other indices."""

    listing_id: int
    title: str
    terms: list[str]  # analysed, title terms first
    ipc: list[str]
    ipc_subclass: list[str]
    vector: list[float] | None
    indexed: bool


def listing_profile(listing: Listing) -> Profile:
    """From the listing's search document; for a listing not in the index (a draft), built from PostgreSQL
    the way the indexer would (its vector encoded now when the cache lacks it)."""
    doc = _docs(LISTINGS, [listing.pk], ["title_terms", "all_terms", "ipc", "ipc_subclass", "vector"])
    source = doc.get(listing.pk)
    if source is not None:
        terms = [*str(source.get("title_terms") or "").split(), *str(source.get("all_terms") or "").split()]
        return Profile(
            listing.pk,
            listing.title,
            list(dict.fromkeys(terms)),
            list(source.get("ipc") or []),
            list(source.get("ipc_subclass") or []),
            source.get("vector"),
            indexed=True,
        )
    from matching.embeddings import vectors

    patents = list(listing.patents.all())
    titles = [t for p in patents for t in p.titles.values() if t]
    text = analysed(listing.title, [listing.summary, listing.quantified_benefit, *titles])
    levels = ipc_levels(code for p in patents for code in p.ipc_codes)
    terms = [*text["title_terms"].split(), *text["all_terms"].split()]
    vector = vectors([passage(listing.title, "\n".join([listing.summary, *titles]))], "passage")[0]
    return Profile(
        listing.pk,
        listing.title,
        list(dict.fromkeys(terms)),
        levels["ipc"],
        levels["ipc_subclass"],
        [float(x) for x in vector],
        indexed=False,
    )


# --- demand -> listings --------------------------------------------------------------------------------


def listings_for_demand(demand: Demand, first: int = 10) -> list[Recommendation]:
    """`match_listings`' ranking, without the buyer's own listings, each based on the demand."""
    own = {"bool": {"must_not": [{"term": {"seller_id": str(demand.buyer_id)}}]}}
    request = match_request(
        LISTINGS, demand_text(demand), None, demand.ipc_interests, first=min(100, first + 10)
    )
    request.extra_filter = [own]
    hits = search(request).hits
    alive = _searchable(hit.id for hit in hits)
    out = []
    for hit in hits:
        if hit.id not in alive:
            continue
        why = _why_of(hit.why, shared_ipc=shared_ipc(hit, demand.ipc_interests))
        why.based_on = [Basis("demand", demand.pk, demand.title, hit.why.similarity)]
        why.reasons = [f"matches the demand “{demand.title}”"]
        out.append(Recommendation(hit.id, hit.score, why))
    return out[:first]


def _why_of(base: Explanation, **changes: Any) -> Why:
    fields = {
        "matched_terms": list(base.matched_terms),
        "bm25_rank": base.bm25_rank,
        "knn_rank": base.knn_rank,
        "similarity": base.similarity,
        "shared_ipc": list(base.shared_ipc),
    }
    return Why(**(fields | changes))


# --- similar listings ----------------------------------------------------------------------------------


def similar_listings(listing: Listing, first: int = 10) -> list[Recommendation]:
    """Listings like this one ("more like this" on its terms + kNN on its vector, fused by RRF); only
    searchable ones (published or under negotiation), never itself. A listing not in the index (a draft)
    has none."""
    hits = more_like_this(LISTINGS, listing.pk, first=min(WINDOW, first + 10))
    if not hits:
        return []
    alive = _searchable(hit.id for hit in hits)
    hits = [hit for hit in hits if hit.id in alive and hit.id != listing.pk][:first]
    docs = _docs(
        LISTINGS, [listing.pk, *(hit.id for hit in hits)], ["title_terms", "all_terms", "ipc_subclass"]
    )
    base = docs.get(listing.pk, {})
    wanted = [*str(base.get("title_terms") or "").split(), *str(base.get("all_terms") or "").split()]
    base_ipc = set(base.get("ipc_subclass") or [])
    out = []
    for hit in hits:
        doc = docs.get(hit.id, {})
        why = _why_of(
            hit.why,
            matched_terms=_shown_terms(wanted, _terms_of(doc)),
            shared_ipc=sorted(base_ipc & set(doc.get("ipc_subclass") or [])),
        )
        why.based_on = [Basis("listing", listing.pk, listing.title, hit.why.similarity)]
        why.reasons = [f"similar to “{listing.title}”"]
        out.append(Recommendation(hit.id, hit.score, why))
    return out


# --- listing -> candidate buyers -----------------------------------------------------------------------


@dataclass
class Interest:
    """An organisation's members' behaviour around a listing (and listings like it)."""

    views: int = 0  # members who viewed this listing
    bookmarks: int = 0  # members who bookmarked it
    inquiries: int = 0  # the organisation's deals on it
    similar: set[int] = field(default_factory=set)  # similar listings its members showed interest in
    score: float = 0.0

    def describe(self) -> str | None:
        parts = []
        if self.views:
            parts.append(f"{self.views} member{'s' * (self.views > 1)} viewed this listing")
        if self.bookmarks:
            parts.append(f"{self.bookmarks} bookmarked it")
        if self.inquiries:
            parts.append("inquired about it")
        if self.similar:
            n = len(self.similar)
            parts.append(f"showed interest in {n} similar listing{'s' * (n > 1)}")
        return "; ".join(parts) or None


def organisation_interest(listing_ids: Sequence[int], similar_ids: Sequence[int]) -> dict[int, Interest]:
    """Per organisation: its members' views and bookmarks and its inquiries (deals) on these listings.

    Interest in a similar listing is only counted, never named: which other listings a company looks at
    is not the seller's business, and an inquiry elsewhere is a deal its outsiders must not learn of.
    """
    ids = [*listing_ids, *similar_ids]
    this = set(listing_ids)
    by_user: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for listing_id, user_id in (
        ListingView.objects.filter(listing_id__in=ids).values_list("listing_id", "user_id").distinct()
    ):
        by_user[user_id].append((listing_id, "view"))
    for listing_id, user_id in Bookmark.objects.filter(listing_id__in=ids).values_list(
        "listing_id", "user_id"
    ):
        by_user[user_id].append((listing_id, "bookmark"))
    interest: dict[int, Interest] = defaultdict(Interest)

    def note(org_id: int, listing_id: int, kind: str) -> None:
        entry = interest[org_id]
        weight = BEHAVIOUR_WEIGHTS[kind]
        if listing_id in this:
            entry.score += weight
            if kind == "view":
                entry.views += 1
            elif kind == "bookmark":
                entry.bookmarks += 1
            else:
                entry.inquiries += 1
        else:
            entry.score += weight * SIMILAR_BEHAVIOUR_DISCOUNT
            entry.similar.add(listing_id)

    for user_id, org_id in Membership.objects.filter(user_id__in=list(by_user)).values_list(
        "user_id", "organization_id"
    ):
        for listing_id, kind in by_user[user_id]:
            note(org_id, listing_id, kind)
    for listing_id, buyer_id in Deal.objects.filter(listing_id__in=ids).values_list("listing_id", "buyer_id"):
        note(buyer_id, listing_id, "inquiry")
    return dict(interest)


@dataclass
class _Evidence:
    terms: list[str] = field(default_factory=list)
    ipc: set[str] = field(default_factory=set)
    similarity: float | None = None
    based_on: list[Basis] = field(default_factory=list)

    def add(self, basis: Basis, terms: list[str], ipc: set[str]) -> None:
        if len([b for b in self.based_on if b.kind == basis.kind]) < 3:
            self.based_on.append(basis)
        self.terms += [t for t in terms if t not in self.terms]
        self.ipc |= ipc
        if basis.similarity is not None and (self.similarity is None or basis.similarity > self.similarity):
            self.similarity = basis.similarity


def _org_list(
    profile: Profile,
    lists: tuple[list[int], list[int], dict[int, float], dict[int, dict[str, Any]]],
    kind: str,
    owner_field: str,
    evidence: dict[int, _Evidence],
) -> list[int]:
    """Documents fused by RRF, grouped by their organisation (its best document's place), with evidence."""
    bm25, knn, similarity, sources = lists
    orgs: list[int] = []
    for doc_id, _ in _ranked(fuse([bm25, knn])):
        source = sources[doc_id]
        owner = source.get(owner_field)
        if not owner:
            continue
        org_id = int(owner)
        if org_id not in orgs:
            orgs.append(org_id)
        basis = Basis(kind, doc_id, str(source.get("title") or ""), similarity.get(doc_id))
        evidence.setdefault(org_id, _Evidence()).add(
            basis,
            _shown_terms(profile.terms, _terms_of(source)),
            set(profile.ipc_subclass) & set(source.get("ipc_subclass") or []),
        )
    return orgs


def candidate_buyers(listing: Listing, first: int = 10) -> list[Recommendation]:
    """Organisations that may want this listing, best first: RRF over (1) open demands that match it, (2)
    organisations whose own patents are like it, (3) organisations whose members viewed, bookmarked or
    inquired about it or similar listings. Never the seller, never a broker firm."""
    profile = listing_profile(listing)
    not_seller = [{"term": {"buyer_id": str(listing.seller_id)}}]
    source = ["title", "all_terms", "ipc_subclass"]
    demands = _hybrid(
        DEMANDS, profile.terms, profile.ipc, profile.vector, [], not_seller, [*source, "buyer_id"]
    )
    patents = _hybrid(
        PATENTS,
        profile.terms,
        profile.ipc,
        profile.vector,
        [{"exists": {"field": "owner_id"}}],
        [{"term": {"owner_id": str(listing.seller_id)}}],
        [*source, "owner_id"],
    )
    evidence: dict[int, _Evidence] = {}
    demand_orgs = _org_list(profile, demands, "demand", "buyer_id", evidence)
    patent_orgs = _org_list(profile, patents, "patent", "owner_id", evidence)
    similar = (
        [hit.id for hit in more_like_this(LISTINGS, listing.pk, first=BEHAVIOUR_SIMILAR_LISTINGS)]
        if profile.indexed
        else []
    )
    interest = organisation_interest([listing.pk], similar)
    behaviour_orgs = [org for org, entry in sorted(interest.items(), key=lambda kv: (-kv[1].score, kv[0]))]
    fused = fuse(
        [demand_orgs, patent_orgs, behaviour_orgs],
        [CANDIDATE_WEIGHTS["demands"], CANDIDATE_WEIGHTS["patents"], CANDIDATE_WEIGHTS["behaviour"]],
    )
    allowed = set(
        Organization.objects.filter(pk__in=list(fused))
        .exclude(pk=listing.seller_id)
        .exclude(kind=OrgKind.BROKER_FIRM)
        .values_list("pk", flat=True)
    )
    out = []
    for org_id, score in _ranked(fused):
        if org_id not in allowed:
            continue
        found = evidence.get(org_id, _Evidence())
        entry = interest.get(org_id)
        why = Why(
            matched_terms=found.terms[:MAX_TERMS],
            similarity=found.similarity,
            shared_ipc=sorted(found.ipc),
            based_on=found.based_on,
            behaviour=entry.describe() if entry else None,
        )
        for basis in found.based_on:
            what = "its open demand" if basis.kind == "demand" else "its patent"
            why.reasons.append(f"{what} “{basis.title}”")
        if why.behaviour:
            why.reasons.append(why.behaviour)
        out.append(Recommendation(org_id, score, why))
        if len(out) == first:
            break
    return out


# --- a buyer's feed ------------------------------------------------------------------------------------


def user_behaviour(user: User, org_ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """Listing id -> {kind: weight} of what the user viewed, bookmarked or (through an organisation of
    theirs) inquired about: the most recent FEED_HISTORY listings."""
    found: dict[int, dict[str, float]] = defaultdict(dict)
    recent: dict[int, datetime] = {}

    def note(listing_id: int, kind: str, when: datetime) -> None:
        found[listing_id][kind] = BEHAVIOUR_WEIGHTS[kind]
        recent[listing_id] = max(recent.get(listing_id, when), when)

    views = ListingView.objects.filter(user=user).values("listing_id").annotate(last=Max("viewed_at"))
    for row in views.order_by("-last")[:FEED_HISTORY]:
        note(row["listing_id"], "view", row["last"])
    for listing_id, when in (
        Bookmark.objects.filter(user=user)
        .order_by("-created_at")
        .values_list("listing_id", "created_at")[:FEED_HISTORY]
    ):
        note(listing_id, "bookmark", when)
    for listing_id, when in (
        Deal.objects.filter(buyer_id__in=list(org_ids))
        .order_by("-created_at")
        .values_list("listing_id", "created_at")[:FEED_HISTORY]
    ):
        note(listing_id, "inquiry", when)
    keep = sorted(recent, key=lambda pk: recent[pk], reverse=True)[:FEED_HISTORY]
    return {pk: found[pk] for pk in keep}


def _profile_vector(vectors_by_id: dict[int, list[float]], weights: dict[int, float]) -> list[float] | None:
    rows = [(np.asarray(v, dtype=np.float32), weights[pk]) for pk, v in vectors_by_id.items() if v]
    if not rows:
        return None
    mean = np.average(np.stack([v for v, _ in rows]), axis=0, weights=[w for _, w in rows])
    norm = float(np.linalg.norm(mean))
    return [float(x) for x in np.asarray(mean) / norm] if norm else None


KIND_VERB = {"inquiry": "inquired about", "bookmark": "bookmarked", "view": "viewed"}


def feed(user: User, first: int = 20) -> list[Recommendation]:
    """A signed-in buyer's listings, best first: RRF over listings like the ones they showed interest in
    (kNN on the weighted mean of their vectors), listings published in the last FEED_RECENT_DAYS (their
    sectors first: brand-new listings rank without any behaviour, the cold start), and matches of their
    organisations' open demands; with no behaviour yet, popular listings of their sectors take the place of
    the first list. Listings they already saw and their own organisations' listings are left out."""
    org_ids = sorted(member_org_ids(user))
    behaviour = user_behaviour(user, org_ids)
    seen = set(behaviour)
    history = _docs(LISTINGS, seen, ["title", "vector", "sector"])
    weights = {pk: sum(kinds.values()) for pk, kinds in behaviour.items()}
    profile = _profile_vector({pk: d.get("vector") or [] for pk, d in history.items()}, weights)
    demands = list(
        Demand.objects.filter(buyer_id__in=org_ids, is_open=True).order_by("-created_at")[:FEED_DEMANDS]
    )
    sectors = {str(d.get("sector")) for d in history.values() if d.get("sector")} | {
        d.sector for d in demands
    }
    sectors.discard(Sector.OTHER)
    must_not: list[dict[str, Any]] = [{"terms": {"seller_id": [str(o) for o in org_ids]}}]
    if seen:
        must_not.append({"ids": {"values": [str(pk) for pk in seen]}})

    lists: dict[str, list[int]] = {}
    similarity: dict[int, float] = {}
    searches: list[dict[str, Any]] = []
    if profile is not None:
        knn = {
            "field": "vector",
            "query_vector": profile,
            "k": WINDOW,
            "num_candidates": 2 * WINDOW,
            "filter": {"bool": {"must_not": must_not}},
        }
        searches += [{"index": LISTINGS.alias}, {"knn": knn, "size": WINDOW, "_source": False}]
    since = (timezone.now() - timedelta(days=FEED_RECENT_DAYS)).isoformat()
    recent_query: dict[str, Any] = {
        "bool": {
            "filter": [{"range": {"published_at": {"gte": since}}}],
            "must_not": must_not,
            "should": [{"terms": {"sector": sorted(sectors)}}] if sectors else [],
        }
    }
    searches += [
        {"index": LISTINGS.alias},
        {
            "size": WINDOW,
            "_source": False,
            "query": recent_query,
            "sort": ["_score", {"published_at": {"order": "desc"}}, {"pk": "asc"}],
        },
    ]
    parts = _msearch(searches)
    if profile is not None:
        lists["similar"] = [int(h["_id"]) for h in parts[0]]
        similarity = {int(h["_id"]): 2.0 * float(h["_score"]) - 1.0 for h in parts[0]}
    lists["recent"] = [int(h["_id"]) for h in parts[-1]]

    by_demand: dict[int, Recommendation] = {}
    demand_lists = []
    for demand in demands:
        matches = [r for r in listings_for_demand(demand, first=50) if r.id not in seen]
        demand_lists.append([r.id for r in matches])
        for r in matches:
            by_demand.setdefault(r.id, r)
    if demand_lists:
        lists["demands"] = [pk for pk, _ in _ranked(fuse(demand_lists))]
    if profile is None:
        lists["popular"] = popular_listings(sectors, exclude=seen, org_ids=org_ids)

    names = list(lists)
    fused = fuse([lists[n] for n in names], [FEED_WEIGHTS[n] for n in names])
    ranked = _ranked(fused)[: first + 20]
    alive = _searchable(pk for pk, _ in ranked)
    ranked = [(pk, score) for pk, score in ranked if pk in alive][:first]
    page = _docs(LISTINGS, [pk for pk, _ in ranked], ["vector", "sector", "published_at"])
    rank_in = {n: {pk: i for i, pk in enumerate(lists[n], start=1)} for n in names}
    out = []
    for pk, score in ranked:
        doc = page.get(pk, {})
        why = Why(knn_rank=rank_in.get("similar", {}).get(pk), similarity=similarity.get(pk))
        if pk in rank_in.get("similar", {}):
            _explain_similar(why, doc.get("vector"), history, behaviour)
        if pk in rank_in.get("demands", {}):
            match = by_demand[pk]
            why.matched_terms = match.why.matched_terms
            why.shared_ipc = match.why.shared_ipc
            why.bm25_rank = match.why.bm25_rank
            why.based_on += match.why.based_on
            why.reasons += [f"matches your demand “{b.title}”" for b in match.why.based_on]
        if pk in rank_in["recent"]:
            sector = str(doc.get("sector") or "")
            label = Sector(sector).label if sector in Sector.values else sector
            why.reasons.append(
                f"new in your sector ({label})" if sector in sectors else "new on the marketplace"
            )
        if pk in rank_in.get("popular", {}):
            why.reasons.append("popular in your sector" if sectors else "popular with buyers")
        out.append(Recommendation(pk, score, why))
    return out


def _explain_similar(
    why: Why,
    vector: list[float] | None,
    history: dict[int, dict[str, Any]],
    behaviour: dict[int, dict[str, float]],
) -> None:
    """Name the listing of the user's history closest to this one."""
    best: tuple[float, int] | None = None
    for pk, doc in history.items():
        cos = _cosine(vector, doc.get("vector"))
        if cos is not None and (best is None or cos > best[0]):
            best = (cos, pk)
    if best is None:
        why.reasons.append("similar to listings you showed interest in")
        return
    cos, pk = best
    kinds = behaviour.get(pk, {})
    kind = max(kinds, key=lambda k: kinds[k]) if kinds else "view"
    title = str(history[pk].get("title") or "")
    why.based_on.append(Basis("listing", pk, title, cos))
    why.reasons.append(f"similar to “{title}” you {KIND_VERB[kind]}")


def popular_listings(sectors: set[str], *, exclude: set[int], org_ids: Sequence[int]) -> list[int]:
    """Searchable listings by recent interest (views, bookmarks, inquiries weighted as in the feed), in the
    given sectors (all when none), best first."""
    since = timezone.now() - timedelta(days=POPULAR_DAYS)
    listings = Listing.objects.filter(status__in=SEARCHABLE_LISTING_STATES).exclude(seller_id__in=org_ids)
    if sectors:
        listings = listings.filter(sector__in=sorted(sectors))
    listings = listings.exclude(pk__in=list(exclude))
    scored = listings.annotate(
        interest=Count("views", filter=Q(views__viewed_at__gte=since), distinct=True)
        * int(BEHAVIOUR_WEIGHTS["view"])
        + Count("bookmarks", filter=Q(bookmarks__created_at__gte=since), distinct=True)
        * int(BEHAVIOUR_WEIGHTS["bookmark"])
        + Count("deals", filter=Q(deals__created_at__gte=since), distinct=True)
        * int(BEHAVIOUR_WEIGHTS["inquiry"])
    ).filter(interest__gt=0)
    return list(scored.order_by("-interest", "-pk").values_list("pk", flat=True)[:WINDOW])
