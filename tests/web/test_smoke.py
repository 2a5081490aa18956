"""The built app is served by Django and starts in a real browser in both languages."""

from typing import Any

import httpx
import pytest

from tests.web.browser import open_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_server_answers_app_routes_with_the_built_page_and_a_csrf_cookie(web_server: str) -> None:
    for path in ("/", "/search?q=battery", "/deals/RGVhbDox", "/no/such/page"):
        response = httpx.get(web_server + path)
        assert response.status_code == 200, path
        assert '<div id="root"></div>' in response.text
        assert response.headers["cache-control"] == "no-cache"
        assert "csrftoken" in response.cookies
    assert httpx.get(web_server + "/graphql/", params={"query": "{__typename}"}).json() == {
        "data": {"__typename": "Query"}
    }


def test_the_app_starts_in_korean_and_in_english(web_server: str, browser: Any) -> None:
    for locale, heading_word in (("ko-KR", "IP 마켓"), ("en-US", "IP Market")):
        context = browser.new_context(locale=locale)
        watched = open_page(context)
        watched.page.goto(web_server + "/")
        watched.page.get_by_role("link", name=heading_word).first.wait_for()
        assert watched.page.evaluate("document.documentElement.lang") == locale[:2]
        assert watched.clean() == []
        context.close()
