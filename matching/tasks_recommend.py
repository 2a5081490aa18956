"""Celery tasks of recommendations and saved searches (imported at the bottom of matching/index_tasks.py,
so the worker registers them)."""

from typing import Any

from celery import shared_task

from matching import saved_searches
from matching.indexing import SearchUnavailable


@shared_task(name="matching.notify_saved_searches", bind=True, max_retries=8, ignore_result=True)
def notify_saved_searches(self: Any, listing_id: int) -> int:
    """Announce a newly searchable listing to the owners of the saved searches it matches (once each);
    while Elasticsearch is down, retry with backoff."""
    try:
        summary = saved_searches.notify_saved_searches(listing_id)
    except SearchUnavailable as error:
        raise self.retry(exc=error, countdown=min(300, 5 * 2 ** min(self.request.retries, 6))) from error
    return summary.notifications_created
