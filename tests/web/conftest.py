"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, against the real ASGI server
(uvicorn) serving the built web app (frontend/dist) on the test database, with search indices of this
module's own and the stateful Stripe simulator in a namespace of its own."""

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import ROOT, AsgiServer
from tests.matching.search_fixtures import module_search_indices

__all__ = ["module_search_indices"]  # a fixture, used by name

CHROMIUM = Path("/usr/bin/chromium")
# Sandboxing needs user namespaces that containers often lack; GPU and background traffic are useless here.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DIST = ROOT / "frontend" / "dist" / "index.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/install.sh (make test does)")
    if not DIST.exists():
        pytest.fail("the web app is not built: run `make web` (make test does)")
    # Playwright's sync API keeps an event loop in this thread, so Django's guard against ORM calls from
    # async code would refuse the test's own (synchronous) database work. Lifted for this module only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def simulator_namespace() -> str:
    return f"web-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def web_server(
    django_db_setup: None,
    module_search_indices: str,
    simulator_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The server the browsers talk to: this module's indices, and payments through the simulator that
    the test then confirms with a signed webhook, as Stripe would (Stripe.js cannot load here)."""
    server = AsgiServer(
        tmp_path_factory.mktemp("web") / "uvicorn.log",
        env={
            "TEST_ELASTICSEARCH_INDEX_PREFIX": module_search_indices,
            "TEST_ESCROW_GATEWAY": "escrow.payments.simulated.simulated_gateway",
            "ESCROW_SIMULATOR_NAMESPACE": simulator_namespace,
            "ESCROW_SIMULATOR_REDIS_URL": settings.CELERY_BROKER_URL,
        },
    )
    server.start()
    yield server.url
    server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """On a failure, every page still open is saved as a screenshot under the run's directory, so a red
    CI log points at what the browser showed."""
    from tests.web.browser import OPEN_PAGES

    OPEN_PAGES.clear()
    try:
        return (yield)
    except BaseException:
        out = ROOT / ".run" / "browser-failures"
        out.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(OPEN_PAGES):
            with contextlib.suppress(Exception):  # a closed page: nothing to show
                page.screenshot(path=str(out / f"{item.name}-{i}.png"), full_page=True)
        raise
