"""Fixtures of the deal-room tests."""

import pytest
import redis
from django.conf import settings


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Rate-limit counters are keyed by user id and outlive the test database, which the next run creates
    afresh with the same ids: forget this namespace's counters so a run a minute ago cannot throttle us."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        stale = list(client.scan_iter(f"{settings.REALTIME_REDIS_PREFIX}:rate:*"))
        if stale:
            client.delete(*stale)
    finally:
        client.close()
