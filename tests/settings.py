"""Test settings: the real services, with names of their own so tests never touch the demo's data."""

from urllib.parse import urlsplit

from backend.env import env
from backend.settings import *  # noqa: F403
from backend.settings import CHANNEL_LAYERS, REDIS_URL, RUN_DIR, STORAGES

# pytest-django creates and drops test_<name> in the same PostgreSQL server.
ELASTICSEARCH_INDEX_PREFIX = env("TEST_ELASTICSEARCH_INDEX_PREFIX", "test-ipmarket")
# Named after the test database, so test runs in parallel (own databases) never wake each other's rooms.
# (A server the tests start gets the test database's URL, test_<name>: the same namespace.)
_TEST_NAMESPACE = "ipmarket-test-" + urlsplit(env("DATABASE_URL")).path.strip("/").removeprefix("test_")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{_TEST_NAMESPACE}:asgi"
REALTIME_REDIS_PREFIX = f"{_TEST_NAMESPACE}:rt"
# A Redis database of its own for the broker, so the demo's worker never takes the tests' tasks.
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", urlsplit(REDIS_URL)._replace(path="/2").geturl())
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Test deposits go to a folder of their own, never among the demo's.
STORAGES["escrow"]["OPTIONS"] = {"location": str(RUN_DIR / "test-vault")}
# The tests never use the demo's simulator state: those that need a stateful gateway install their own
# SimulatedGateway in a namespace of their own; the rest talk to stripe-mock.
# (A child process a test starts may name another with TEST_ESCROW_GATEWAY.)
ESCROW_GATEWAY = env("TEST_ESCROW_GATEWAY", "escrow.payments.stripe_gateway.StripeGateway")
