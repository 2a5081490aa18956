"""The Elasticsearch connection and index naming used by every index of the project."""

from functools import cache

from django.conf import settings
from elasticsearch import Elasticsearch


@cache
def client() -> Elasticsearch:
    return Elasticsearch(settings.ELASTICSEARCH_URL, request_timeout=30, retry_on_timeout=True)


def index_name(name: str) -> str:
    """Prefixed name, so that the demo, the tests and other deployments can share one cluster."""
    return f"{settings.ELASTICSEARCH_INDEX_PREFIX}-{name}"
