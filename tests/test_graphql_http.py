from pathlib import Path
from typing import Any

import httpx
from django.test import Client


def test_graphql_answers_typename_over_http(live_server_url: str) -> None:
    response = httpx.post(f"{live_server_url}/graphql/", json={"query": "{ __typename }"}, timeout=10)

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphql_reports_invalid_queries_as_errors(live_server_url: str) -> None:
    response = httpx.post(f"{live_server_url}/graphql/", json={"query": "{ noSuchField }"}, timeout=10)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "noSuchField" in errors[0]["message"]


def test_graphiql_is_served_in_debug(live_server_url: str) -> None:
    response = httpx.get(f"{live_server_url}/graphql/", headers={"Accept": "text/html"}, timeout=10)

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_the_landing_page_is_the_web_app(live_server_url: str) -> None:
    response = httpx.get(f"{live_server_url}/", timeout=10)

    assert response.status_code == 200
    assert '<div id="root"></div>' in response.text and "/assets/index-" in response.text


def test_an_unbuilt_web_app_answers_503_with_what_to_run(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.WEB_APP_DIST = tmp_path  # no index.html there

    response = client.get("/search")

    assert response.status_code == 503
    assert "make web" in response.content.decode()
