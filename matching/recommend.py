"""Recommendations, each with a "why matched" explanation.

`match_request` is THE matching of a need to technology: the demand -> listings recommendation and the
evaluation harness (match_eval) both rank with it, so the measured quality is the product's.
"""

from collections.abc import Sequence
from typing import Any

from marketplace.models import Demand
from matching.indices import LISTINGS, IndexRef
from matching.search import Hit, SearchRequest, search


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
