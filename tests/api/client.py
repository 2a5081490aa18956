"""GraphQL clients for tests: a real one (the `gql` package over HTTP) against the running ASGI server, a
browser-like session, and an in-process one whose SQL queries can be counted."""

from typing import Any

import httpx
from django.http import HttpResponse
from django.test import Client as DjangoClient
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport


class Api:
    """One API user: anonymous, or with a bearer token. `call` returns `data`; `errors` the GraphQL errors."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(
            transport=HTTPXTransport(url=f"{base_url}/graphql/", headers=headers, timeout=30)
        )

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        return self.client.execute(gql(query), variable_values=variables)

    def errors(self, query: str, **variables: Any) -> list[dict[str, Any]]:
        try:
            self.client.execute(gql(query), variable_values=variables)
        except TransportQueryError as error:
            return list(error.errors or [])
        raise AssertionError("the request succeeded")

    def codes(self, query: str, **variables: Any) -> list[str]:
        return [error["extensions"]["code"] for error in self.errors(query, **variables)]


class BrowserSession:
    """A browser-like session: cookies kept, the CSRF token sent back as X-CSRFToken, as the web app does."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/graphql/"
        self.http = httpx.Client(timeout=30)

    def post(self, query: str, csrf: bool = True, **variables: Any) -> httpx.Response:
        headers = {"Referer": self.url}
        token = self.http.cookies.get("csrftoken")
        if csrf and token:
            headers["X-CSRFToken"] = token
        return self.http.post(self.url, json={"query": query, "variables": variables}, headers=headers)


class LocalApi:
    """The same API in-process, through Django's test client: the SQL a request runs can be counted with
    CaptureQueriesContext, and nothing needs a running server. Authenticated with a bearer token, if any."""

    def __init__(self, token: str | None = None) -> None:
        self.client = DjangoClient()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def post(self, query: str, **variables: Any) -> HttpResponse:
        body = {"query": query, "variables": variables}
        return self.client.post("/graphql/", body, content_type="application/json", **self.headers)

    def body(self, query: str, **variables: Any) -> dict[str, Any]:
        return dict(self.post(query, **variables).json())

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of a request that must succeed."""
        body = self.body(query, **variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])

    def codes(self, query: str, **variables: Any) -> list[str]:
        """The codes of a refused request's GraphQL errors (it must not have run: no `data`)."""
        body = self.body(query, **variables)
        assert body.get("data") is None, body
        return [error["extensions"]["code"] for error in body["errors"]]
