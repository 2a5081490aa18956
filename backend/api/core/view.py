"""The GraphQL endpoint: who is asking (API token or session), CSRF for cookie sessions, limits."""

import json
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from graphene_django.views import GraphQLView
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)
from graphql.error import GraphQLSyntaxError

from backend.api.core.errors import ApiErrorCode
from backend.api.core.limits import check_limits
from backend.api.core.loaders import Loaders, see_handed_out
from marketplace.actions.accounts import user_for_token


@lru_cache(maxsize=1024)
def _parsed_and_validated(
    schema: GraphQLSchema, query: str
) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parsing and validating depend on the query text alone: clients send the same few documents again
    and again, so each is checked once (the limits, which depend on the variables, run every time)."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as error:
        return None, (error,)
    return document, tuple(validate(schema, document, specified_rules))


def _refuse(status: int, code: str, message: str) -> HttpResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


class ApiView(GraphQLView):
    """Programmatic clients send `Authorization: Bearer <token>` and need no CSRF token, since no cookie
    authenticates them. A request that carries the session cookie must pass Django's CSRF check, so a
    foreign page cannot act with a signed-in browser's session. Requests without either are anonymous.
    POST bodies must be JSON, which a cross-site form cannot send without a CORS preflight."""

    validation_rules = ()  # we validate ourselves, before the limits; see execute_graphql_request

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and request.content_type != "application/json":
            # A foreign page can POST a form without asking, but not JSON: this also shields the
            # cookie-less mutations (signIn, registerUser) from login CSRF.
            return _refuse(415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, "POST a JSON body (application/json).")
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                return _refuse(401, ApiErrorCode.INVALID_TOKEN, "The API token is unknown or revoked.")
            request.user = user
        elif settings.SESSION_COOKIE_NAME in request.COOKIES and request.method == "POST":
            csrf = CsrfViewMiddleware(lambda r: HttpResponse())
            refused = csrf.process_view(request, self.dispatch, (), {})
            if refused is not None:
                return _refuse(
                    403, ApiErrorCode.CSRF_FAILED, "Send the csrftoken cookie's value as X-CSRFToken."
                )
        request.loaders = Loaders(request)  # type: ignore[attr-defined]
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get_middleware(self, request: HttpRequest) -> list[Any]:
        return [*(super().get_middleware(request) or ()), see_handed_out]

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: dict[str, Any],
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        show_graphiql: bool = False,
    ) -> ExecutionResult | None:
        if query:
            schema = self.schema.graphql_schema
            document, invalid = _parsed_and_validated(schema, query)
            if document is None:
                return ExecutionResult(errors=list(invalid))
            errors = list(invalid) or check_limits(schema, document, variables, operation_name)
            if errors:
                return ExecutionResult(data=None, errors=errors)
        return super().execute_graphql_request(  # type: ignore[no-any-return]
            request, data, query, variables, operation_name, show_graphiql
        )
