"""Celery tasks of matching (discovered through INSTALLED_APPS).

`matching.encode_texts` is routed to the "embeddings" queue (CELERY_TASK_ROUTES in backend/settings.py),
which a worker of its own takes one task at a time (scripts/services.sh), so slow CPU encoding never
delays the default queue.
"""

from celery import shared_task

from matching.embeddings import ROLES, store_vectors


@shared_task(name="matching.encode_texts")
def encode_texts(texts: list[str], role: str) -> int:
    """Fill the vector cache for these texts; returns how many distinct texts were encoded now."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    return store_vectors(texts, role)
