"""Celery tasks that keep the indices current (imported by matching.apps so the worker registers them)."""

from celery import shared_task

from matching import indexing
from matching.documents import BUILDERS


@shared_task(name="matching.drain_outbox", bind=True, max_retries=None, ignore_result=True)
def drain_outbox(self, limit: int = 500) -> int:  # type: ignore[no-untyped-def]
    """Apply pending index changes; while Elasticsearch is down, retry with backoff (the rows stay)."""
    try:
        result = indexing.drain(limit)
    except indexing.SearchUnavailable as error:
        raise self.retry(exc=error, countdown=min(300, 5 * 2 ** min(self.request.retries, 6))) from error
    if result.written + result.deleted >= limit:
        drain_outbox.delay(limit)  # more to do: continue in a fresh task rather than hold this one
    return result.written + result.deleted


@shared_task(name="matching.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Periodic: drain whatever the after-commit tasks could not (engine or broker down at the time)."""
    total = 0
    while True:
        try:
            result = indexing.drain(500)
        except indexing.SearchUnavailable:
            return total
        done = result.written + result.deleted
        total += done
        if done < 500:
            return total


@shared_task(name="matching.encode_documents", ignore_result=True)
def encode_documents(index: str, ids: list[int]) -> int:
    """Encode the passages of these documents (filling the vector cache), then re-index them with vectors."""
    from django.db import transaction

    from matching.embeddings import vectors

    built = BUILDERS[index](ids)
    if built.missing_passages:
        vectors(built.missing_passages, "passage")
    with transaction.atomic():
        indexing.enqueue(index, ids)
    return len(built.missing_passages)


# Registers matching.notify_saved_searches with the worker (queued from indexing.drain via saved_searches).
from matching import tasks_recommend  # noqa: E402, F401
