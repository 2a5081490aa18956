"""Search documents built from PostgreSQL rows: analysed text, IPC hierarchy, facet values, vectors.

One builder per index. Each returns None for an object that must not be searchable (a listing that is not
published, a closed demand), which the indexer turns into a delete. Vectors come from the vector cache
only; texts without a cached vector are reported back so the indexer can have them encoded in the
background queue and the documents updated when they are ready.
"""

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marketplace.models import Demand, Listing, ListingStatus, Patent
from marketplace.patent_life import computed_expiry
from matching.analysis import ANALYZER_VERSION, analyze, detect_language
from matching.embeddings import cached_vectors
from matching.models import AnalysedText

# Characters of text given to the encoder: e5-small reads 512 tokens at most, and the title and first
# paragraph carry most of a patent's meaning.
PASSAGE_CHARS = 1200
# Long abstracts are cut before analysis: terms past this add little and cost analysis time.
BODY_PART_CHARS = 4000

_IPC = re.compile(r"^([A-H])(\d{2})([A-Z])?")

# Price bands in the currency's major unit (upper bounds, exclusive), per currency; others use USD's.
PRICE_BANDS: dict[str, tuple[int, int, int]] = {
    "KRW": (10_000_000, 100_000_000, 1_000_000_000),
    "JPY": (1_000_000, 10_000_000, 100_000_000),
    "USD": (10_000, 100_000, 1_000_000),
}
PRICE_BAND_NAMES = ("low", "mid", "high", "premium")
PRICE_ON_REQUEST = "on_request"


def price_band(amount: int | None, currency: str) -> str:
    """The facet value of a price given in minor units ("on_request" when there is no price)."""
    if amount is None or not currency:
        return PRICE_ON_REQUEST
    from marketplace.validation import CURRENCY_EXPONENTS

    major = amount // 10 ** CURRENCY_EXPONENTS.get(currency, 2)
    bounds = PRICE_BANDS.get(currency, PRICE_BANDS["USD"])
    for name, bound in zip(PRICE_BAND_NAMES, bounds, strict=False):
        if major < bound:
            return name
    return PRICE_BAND_NAMES[-1]


def ipc_levels(codes: Iterable[str]) -> dict[str, list[str]]:
    """'H01G 11/86' -> section H, class H01, subclass H01G (each level deduplicated, in order)."""
    levels: dict[str, list[str]] = {"ipc": [], "ipc_section": [], "ipc_class": [], "ipc_subclass": []}
    for raw in codes:
        code = " ".join(raw.upper().split())
        match = _IPC.match(code.replace(" ", ""))
        if not match:
            continue
        section, number, letter = match.groups()
        values = {
            "ipc": code,
            "ipc_section": section,
            "ipc_class": section + number,
            "ipc_subclass": section + number + letter if letter else "",
        }
        for key, value in values.items():
            if value and value not in levels[key]:
                levels[key].append(value)
    return levels


@dataclass
class Built:
    """Documents ready for the engine, and the passages that still need a vector."""

    docs: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    missing_passages: list[str] = field(default_factory=list)


class TermCache:
    """Analysed terms of a batch of documents, read from and added to AnalysedText in one query each.

    `analysed(..., cache=c)` returns a document whose term fields `c.fill()` completes: the texts of the
    whole batch are looked up at once, only the unseen ones are analysed, and those are stored. So a
    rebuild analyses nothing it has analysed before (Korean morpheme analysis is the costly step).
    """

    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, Any], str, list[str], str | None]] = []

    @staticmethod
    def key(text: str, language: str | None) -> str:
        return hashlib.sha256(f"{language or ''}\n{text}".encode()).hexdigest()

    def fill(self) -> None:
        wanted = {
            self.key(text, language): (text, language)
            for _, title, parts, language in self.pending
            for text in [title, *parts]
            if text
        }
        known = dict(
            AnalysedText.objects.filter(
                analyzer_version=ANALYZER_VERSION, text_hash__in=list(wanted)
            ).values_list("text_hash", "terms")
        )
        new = {
            h: " ".join(analyze(text, language)) for h, (text, language) in wanted.items() if h not in known
        }
        if new:
            AnalysedText.objects.bulk_create(
                [
                    AnalysedText(analyzer_version=ANALYZER_VERSION, text_hash=h, terms=t)
                    for h, t in new.items()
                ],
                ignore_conflicts=True,
            )
        known |= new
        for doc, title, parts, language in self.pending:
            title_terms = known[self.key(title, language)] if title else ""
            body_terms = " ".join(known[self.key(part, language)] for part in parts)
            doc |= {
                "title_terms": title_terms,
                "body_terms": body_terms,
                "all_terms": f"{title_terms} {body_terms}",
            }
        self.pending = []


def analysed(
    title: str, body_parts: Sequence[str], language: str | None = None, cache: TermCache | None = None
) -> dict[str, Any]:
    """The text fields of a document: originals for display, analysed terms for matching.

    Each part is analysed in its own language (a Korean patent's English title, say), detected when the
    caller does not know it. With a cache, the term fields are filled by `cache.fill()`.
    """
    parts = [p[:BODY_PART_CHARS] for p in body_parts if p and p.strip()]
    body = "\n".join(parts)
    doc: dict[str, Any] = {
        "title": title,
        "body": body,
        "language": language or detect_language(title + "\n" + body),
    }
    if cache is not None:
        cache.pending.append((doc, title, parts, language))
        return doc
    title_terms = analyze(title, language) if title else []
    body_terms = [term for part in parts for term in analyze(part, language)]
    return doc | {
        "title_terms": " ".join(title_terms),
        "body_terms": " ".join(body_terms),
        "all_terms": " ".join(title_terms + body_terms),
    }


def passage(title: str, body: str) -> str:
    return f"{title}\n{body}".strip()[:PASSAGE_CHARS]


def suggest_inputs(titles: Iterable[str]) -> dict[str, Any]:
    """Autocomplete entries: whole titles, and each title from every word on, so a prefix of any word hits."""
    inputs: list[str] = []
    for title in titles:
        title = " ".join(title.split())[:100]
        if not title:
            continue
        words = title.split(" ")
        for i in range(min(len(words), 8)):
            tail = " ".join(words[i:])
            if len(tail) >= 2 and tail not in inputs:
                inputs.append(tail)
    return {"input": inputs}


def attach_vectors(built: Built, passages: dict[int, str]) -> None:
    """Cached vectors of each document's passage and of its title alone (when it has one)."""
    ids = [i for i, doc in built.docs.items() if doc is not None]
    titles = {i: doc["title"] for i in ids if (doc := built.docs[i]) and doc.get("title")}
    found = cached_vectors([passages[i] for i in ids], "passage")
    found_titles = dict(zip(titles, cached_vectors(list(titles.values()), "passage"), strict=True))
    for i, vector in zip(ids, found, strict=True):
        doc = built.docs[i]
        if doc is None:
            continue
        title_vector = found_titles.get(i)
        if title_vector is not None:
            doc["title_vector"] = [float(x) for x in title_vector]
        elif i in titles:
            built.missing_passages.append(titles[i])
        if vector is None:
            doc["has_vector"] = False
            built.missing_passages.append(passages[i])
        else:
            doc["vector"] = [float(x) for x in vector]
            doc["has_vector"] = True


OFFICE_LANGUAGE = {"KR": "ko", "US": "en", "JP": "ja", "CN": "zh"}


def _patent_texts(patent: Patent) -> tuple[list[str], list[str]]:
    """Titles and abstracts, the office's own language first (a KR patent's Korean title is its title)."""
    first = OFFICE_LANGUAGE.get(patent.office, "")

    def ordered(texts: dict[str, str]) -> list[str]:
        return [text for lang, text in sorted(texts.items(), key=lambda kv: kv[0] != first) if text]

    return ordered(patent.titles), [a[:BODY_PART_CHARS] for a in ordered(patent.abstracts)]


def min_expiry(patents: Sequence[Patent]) -> date | None:
    dates = [d for d in (p.expiry_date or computed_expiry(p) for p in patents) if d]
    return min(dates) if dates else None


def listing_documents(ids: Sequence[int]) -> Built:
    built = Built()
    cache = TermCache()
    passages: dict[int, str] = {}
    listings = Listing.objects.filter(pk__in=ids).select_related("seller").prefetch_related("patents")
    found = {listing.pk: listing for listing in listings}
    for pk in ids:
        listing = found.get(pk)
        if listing is None or listing.status not in SEARCHABLE_LISTING_STATES:
            built.docs[pk] = None
            continue
        patents = list(listing.patents.all())
        titles: list[str] = []
        abstracts: list[str] = []
        for patent in patents:
            t, a = _patent_texts(patent)
            titles += t
            abstracts += a
        summary_parts = [listing.summary, listing.quantified_benefit]
        doc = analysed(listing.title, [*summary_parts, *titles, *abstracts], cache=cache)
        doc |= ipc_levels(code for p in patents for code in p.ipc_codes)
        expiry = min_expiry(patents)
        doc |= {
            "cpc": sorted({c for p in patents for c in p.cpc_codes}),
            "sector": listing.sector,
            "owner_kind": listing.seller.kind,
            "seller_id": str(listing.seller_id),
            "seller_name": listing.seller.name,
            "transaction_types": list(listing.transaction_types),
            "legal_status": sorted({p.legal_status for p in patents}),
            "office": sorted({p.office for p in patents}),
            "price_amount": listing.price_amount,
            "price_currency": listing.price_currency or None,
            "price_band": price_band(listing.price_amount, listing.price_currency),
            "trl": listing.trl,
            "min_expiry": expiry.isoformat() if expiry else None,
            "published_at": listing.published_at.isoformat() if listing.published_at else None,
            "patent_ids": [str(p.pk) for p in patents],
            "is_generated": listing.is_generated,
            "suggest": suggest_inputs([listing.title, *titles]),
        }
        doc["pk"] = pk
        built.docs[pk] = doc
        passages[pk] = passage(listing.title, "\n".join([listing.summary, *titles]))
    cache.fill()
    attach_vectors(built, passages)
    return built


def patent_documents(ids: Sequence[int]) -> Built:
    built = Built()
    cache = TermCache()
    passages: dict[int, str] = {}
    found = {p.pk: p for p in Patent.objects.filter(pk__in=ids).select_related("owner")}
    for pk in ids:
        patent = found.get(pk)
        if patent is None:
            built.docs[pk] = None
            continue
        titles, abstracts = _patent_texts(patent)
        title = titles[0] if titles else ""
        doc = analysed(title, [*titles[1:], *abstracts], cache=cache)
        doc |= ipc_levels(patent.ipc_codes)
        expiry = patent.expiry_date or computed_expiry(patent)
        doc |= {
            "cpc": list(patent.cpc_codes),
            "office": patent.office,
            "legal_status": patent.legal_status,
            "owner_id": str(patent.owner_id) if patent.owner_id else None,
            "owner_kind": patent.owner.kind if patent.owner else None,
            "application_number": patent.application_number,
            "applicants": list(patent.applicants),
            "application_date": patent.application_date.isoformat() if patent.application_date else None,
            "expiry": expiry.isoformat() if expiry else None,
            "suggest": suggest_inputs(titles),
        }
        doc["pk"] = pk
        built.docs[pk] = doc
        passages[pk] = passage(title, "\n".join([*titles[1:], *abstracts]))
    cache.fill()
    attach_vectors(built, passages)
    return built


def demand_documents(ids: Sequence[int]) -> Built:
    built = Built()
    cache = TermCache()
    passages: dict[int, str] = {}
    found = {d.pk: d for d in Demand.objects.filter(pk__in=ids)}
    for pk in ids:
        demand = found.get(pk)
        if demand is None or not demand.is_open:
            built.docs[pk] = None
            continue
        doc = analysed(demand.title, [demand.description, " ".join(demand.keywords)], cache=cache)
        doc |= ipc_levels(demand.ipc_interests)
        doc |= {
            "buyer_id": str(demand.buyer_id),
            "sector": demand.sector,
            "transaction_type": demand.transaction_type or None,
            "keywords": list(demand.keywords),
            "is_open": demand.is_open,
            "created_at": demand.created_at.isoformat(),
            "suggest": suggest_inputs([demand.title]),
        }
        doc["pk"] = pk
        built.docs[pk] = doc
        passages[pk] = passage(demand.title, demand.description)
    cache.fill()
    attach_vectors(built, passages)
    return built


# Published listings are found by search; one under negotiation stays findable (it can take more buyers).
SEARCHABLE_LISTING_STATES = (ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION)

BUILDERS = {"listings": listing_documents, "patents": patent_documents, "demands": demand_documents}
