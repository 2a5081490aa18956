"""Saved listing searches, and telling their owners once when a newly published listing matches.

Flow: a listing's index write (indexing.drain) hands the ids of listings published in the last
NOTICE_WINDOW_DAYS to `schedule_notices`, which queues `matching.notify_saved_searches(listing_id)` per
listing (matching/tasks_recommend.py). The task runs every active saved search restricted to that one
listing and, for each that matches, records a SavedSearchMatch (unique per search and listing: the
"once") and notifies the owner: one Notification per owner and listing (unique dedupe key) and an e-mail
after commit. Re-running the task, or the re-write that follows the listing's vector being encoded, finds
the matches taken and notifies nobody again.

A saved search matches a listing when the listing passes its filters and either its words match (BM25 over
the analysed terms, with the cross-lingual expansion search uses) or the meaning of its words is close to
the listing's (cosine similarity of the e5 vectors at least SAVED_SEARCH_MIN_SIMILARITY). The threshold
stands in for "would show near the top": restricted to one listing, a kNN search always returns it.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Listing, Membership, Notification
from matching import analysis
from matching.documents import SEARCHABLE_LISTING_STATES
from matching.es import client
from matching.indexing import ENGINE_ERRORS, SearchUnavailable
from matching.indices import LISTINGS
from matching.models import SavedSearch, SavedSearchMatch
from matching.search import SearchRequest, _call, filter_clauses, text_query, translations_for

log = logging.getLogger(__name__)

MAX_SAVED_SEARCHES = 50  # per user: every one of them runs for every new listing
NOTICE_WINDOW_DAYS = 7  # listings published this recently are announced when (re)written to the index
LANGUAGES = ("ko", "en", "ja", "zh")
NOTIFICATION_KIND = "saved_search_match"
MSEARCH_CHUNK = 100
# Calibrated on multilingual-e5-small (q4): a query and a passage about the same technology score about
# 0.86-0.91, unrelated pairs 0.75-0.84 (docs/recommendations.md).
DEFAULT_MIN_SIMILARITY = 0.86


def min_similarity() -> float:
    return float(getattr(settings, "SAVED_SEARCH_MIN_SIMILARITY", DEFAULT_MIN_SIMILARITY))


# --- saving and deleting -------------------------------------------------------------------------------


def clean_filters(filters: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Listing-search filters as stored: non-empty lists of strings, checked against the search's facets."""
    cleaned = {key: [str(v) for v in values] for key, values in filters.items() if values}
    try:
        filter_clauses(SearchRequest(index=LISTINGS, filters=cleaned))
    except (ValueError, KeyError) as error:
        raise ActionError(
            MarketplaceErrorCode.INVALID, f"Unknown filter value: {error}", "filters"
        ) from error
    return cleaned


def save_search(
    user: User, name: str, query: str, language: str, filters: dict[str, list[Any]]
) -> SavedSearch:
    if not user.is_authenticated:
        raise ActionError(MarketplaceErrorCode.NOT_AUTHENTICATED, "Sign in first.")
    name, query, language = name.strip(), query.strip(), (language or "").strip().lower()
    if not 1 <= len(name) <= 200:
        raise ActionError(MarketplaceErrorCode.INVALID, "1 to 200 characters.", "name")
    if len(query) > 500:
        raise ActionError(MarketplaceErrorCode.INVALID, "At most 500 characters.", "query")
    if language and language not in LANGUAGES:
        raise ActionError(MarketplaceErrorCode.INVALID, "One of ko, en, ja, zh.", "language")
    cleaned = clean_filters(filters)
    if not query and not cleaned:
        raise ActionError(MarketplaceErrorCode.INVALID, "Give words or at least one filter.", "query")
    with transaction.atomic():
        # The user's row lock makes the limit exact under concurrent saves.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if SavedSearch.objects.filter(owner=user).count() >= MAX_SAVED_SEARCHES:
            raise ActionError(
                MarketplaceErrorCode.TOO_MANY_SAVED_SEARCHES,
                f"At most {MAX_SAVED_SEARCHES} saved searches; delete one first.",
            )
        return SavedSearch.objects.create(
            owner=user, name=name, query=query, language=language, filters=cleaned
        )


def delete_saved_search(user: User, saved_search_id: int) -> SavedSearch:
    """The owner's only: to anyone else it does not exist."""
    if not user.is_authenticated:
        raise ActionError(MarketplaceErrorCode.NOT_AUTHENTICATED, "Sign in first.")
    found = SavedSearch.objects.filter(pk=saved_search_id, owner=user).first()
    if found is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such saved search.", "id")
    deleted_pk = found.pk
    found.delete()
    found.pk = deleted_pk
    return found


def saved_searches_of(user: User) -> QuerySet[SavedSearch]:
    return SavedSearch.objects.filter(owner=user).order_by("-created_at", "-pk")


# --- matching one listing ------------------------------------------------------------------------------


@dataclass
class SearchMatch:
    saved_search: SavedSearch
    matched_terms: list[str] = field(default_factory=list)
    similarity: float | None = None


def _query_terms(search: SavedSearch) -> tuple[list[str], str]:
    if not search.query:
        return [], search.language or "en"
    language = search.language or analysis.detect_language(search.query)
    return analysis.analyze(search.query, language), language


def matching_searches(listing_id: int, searches: list[SavedSearch]) -> list[SearchMatch]:
    """Of these saved searches, those the listing matches (its filters, and its words or their meaning)."""
    from matching.embeddings import vectors

    got = (
        client()
        .options(ignore_status=404)
        .get(index=LISTINGS.alias, id=str(listing_id), source_includes=["all_terms", "vector"])
    )
    if not got.body.get("found"):
        return []
    listing_terms = set(str(got.body["_source"].get("all_terms") or "").split())
    listing_vector = got.body["_source"].get("vector")
    terms_of = {s.pk: _query_terms(s) for s in searches}
    with_text = [s for s in searches if s.query]
    similarity: dict[int, float] = {}
    if listing_vector and with_text:
        rows = vectors([s.query for s in with_text], "query")
        for s, row in zip(with_text, rows, strict=True):
            similarity[s.pk] = float(row @ _array(listing_vector))
    found: list[SearchMatch] = []
    for start in range(0, len(searches), MSEARCH_CHUNK):
        chunk = searches[start : start + MSEARCH_CHUNK]
        body: list[dict[str, Any]] = []
        for s in chunk:
            terms, language = terms_of[s.pk]
            request = SearchRequest(index=LISTINGS, filters=dict(s.filters or {}))
            bool_query: dict[str, Any] = {"filter": [{"ids": {"values": [str(listing_id)]}}]}
            try:
                bool_query["filter"] += filter_clauses(request)
            except (ValueError, KeyError):
                log.warning("saved search %s has filters search no longer knows; skipped", s.pk)
                bool_query["filter"] = [{"match_none": {}}]
            if terms:
                words = text_query(terms, translations_for(terms, language))
                words["bool"]["_name"] = "words"
                bool_query["should"] = [words]
            body += [{"index": LISTINGS.alias}, {"size": 1, "_source": False, "query": {"bool": bool_query}}]
        responses = _call("msearch", searches=body)["responses"]
        for s, response in zip(chunk, responses, strict=True):
            if "error" in response:
                raise SearchUnavailable(str(response["error"])[:500])
            hits = response["hits"]["hits"]
            if not hits:
                continue  # the filters exclude it
            terms, _ = terms_of[s.pk]
            words_match = "words" in (hits[0].get("matched_queries") or [])
            close = similarity.get(s.pk, -1.0) >= min_similarity()
            if not terms or words_match or close:
                found.append(
                    SearchMatch(
                        s,
                        matched_terms=[t for t in dict.fromkeys(terms) if t in listing_terms],
                        similarity=similarity.get(s.pk),
                    )
                )
    return found


def _array(values: list[float]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.float32)


# --- notifying -----------------------------------------------------------------------------------------


def schedule_notices(listing_ids: list[int]) -> None:
    """Called after listings were written to the index: queue the saved-search check for those published
    recently (an edit of an old listing is not news)."""
    since = timezone.now() - timedelta(days=NOTICE_WINDOW_DAYS)
    fresh = Listing.objects.filter(
        pk__in=listing_ids, status__in=SEARCHABLE_LISTING_STATES, published_at__gte=since
    ).values_list("pk", flat=True)
    from matching.tasks_recommend import notify_saved_searches

    for pk in fresh:
        try:
            notify_saved_searches.delay(pk)
        except Exception:  # the broker is down: a notice is missed, the index write is not undone
            log.warning("could not queue the saved-search check of listing %s", pk, exc_info=True)


def dedupe_key(listing_id: int) -> str:
    return f"{NOTIFICATION_KIND}:{listing_id}"


def _send(messages: list[EmailMessage]) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:
        # The notifications are committed and are the record; a mail outage must not undo them.
        log.exception("saved-search e-mails could not be sent (%d messages)", len(messages))


@dataclass
class NoticeSummary:
    searches_checked: int = 0
    matches_created: int = 0
    notifications_created: int = 0
    emails_queued: int = 0


def notify_saved_searches(listing_id: int) -> NoticeSummary:
    """Announce a searchable listing to the owners of the active saved searches it matches, once."""
    summary = NoticeSummary()
    listing = Listing.objects.filter(pk=listing_id, status__in=SEARCHABLE_LISTING_STATES).first()
    if listing is None:
        return summary
    sellers = Membership.objects.filter(organization_id=listing.seller_id).values("user_id")
    searches = list(
        SavedSearch.objects.filter(is_active=True, owner__is_active=True)
        .exclude(owner_id__in=sellers)  # nobody is told about their own listing
        .exclude(matches__listing_id=listing_id)  # announced already
        .select_related("owner")
        .order_by("pk")
    )
    summary.searches_checked = len(searches)
    if not searches:
        return summary
    try:
        client().indices.refresh(index=LISTINGS.alias)  # the write that queued us must be searchable
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    matches = matching_searches(listing_id, searches)
    by_owner: dict[int, list[SearchMatch]] = defaultdict(list)
    with transaction.atomic():
        for match in matches:
            # The unique (saved search, listing) pair is what makes this once, whoever runs concurrently.
            _, created = SavedSearchMatch.objects.get_or_create(
                saved_search=match.saved_search, listing_id=listing_id
            )
            if created:
                summary.matches_created += 1
                by_owner[match.saved_search.owner_id].append(match)
        notifications = [_notification(listing, owner_matches) for owner_matches in by_owner.values()]
        taken = set(
            Notification.objects.filter(
                user_id__in=list(by_owner), dedupe_key=dedupe_key(listing_id)
            ).values_list("user_id", flat=True)
        )
        created_notes = [n for n in notifications if n.user_id not in taken]
        Notification.objects.bulk_create(created_notes, ignore_conflicts=True)
        summary.notifications_created = len(created_notes)
        messages = [
            EmailMessage(n.title, n.body, settings.DEFAULT_FROM_EMAIL, [address])
            for n in created_notes
            if (address := by_owner[n.user_id][0].saved_search.owner.email)
        ]
        if messages:
            transaction.on_commit(partial(_send, messages))
        summary.emails_queued = len(messages)
    return summary


def _notification(listing: Listing, matches: list[SearchMatch]) -> Notification:
    owner = matches[0].saved_search.owner
    names = ", ".join(f"“{m.saved_search.name}”" for m in matches)
    lines = [f"“{listing.title}” was just published and matches your saved search {names}."]
    terms = list(dict.fromkeys(t for m in matches for t in m.matched_terms))
    if terms:
        lines.append("Matched words: " + ", ".join(terms[:12]) + ".")
    similarity = max((m.similarity for m in matches if m.similarity is not None), default=None)
    if similarity is not None and similarity >= min_similarity():
        lines.append(f"Close in meaning (similarity {similarity:.2f}).")
    return Notification(
        user_id=owner.pk,
        kind=NOTIFICATION_KIND,
        title=f"New listing for your saved search {names}"[:300],
        body="\n".join(lines),
        data={
            "listing_id": listing.pk,
            "saved_search_ids": [m.saved_search.pk for m in matches],
            "matched_terms": terms[:12],
            "similarity": similarity,
        },
        dedupe_key=dedupe_key(listing.pk),
    )
