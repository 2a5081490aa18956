"""Typed mutation errors: every mutation has its own error type and code enum (Saleor's pattern)."""

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import graphene
from graphql import GraphQLError

from marketplace.error_codes import MarketplaceErrorCode as Code

# Codes any mutation may answer with: signed out, bad input, not visible to you, not allowed.
COMMON_CODES = (Code.NOT_AUTHENTICATED, Code.INVALID, Code.NOT_FOUND, Code.PERMISSION_DENIED)


def error_type(name: str, codes: Iterable[StrEnum]) -> type[graphene.ObjectType]:
    """`<Name>Error { field, message, code: <Name>ErrorCode! }` with exactly the codes given."""
    members = list(dict.fromkeys([*COMMON_CODES, *codes]))
    enum = graphene.Enum(
        f"{name}ErrorCode",
        [(code.name, code.value) for code in members],
        description=f"Why {name} was refused.",
    )
    attrs: dict[str, Any] = {
        "field": graphene.String(description="The input field at fault (camelCase), when there is one."),
        "message": graphene.String(required=True, description="For humans; clients branch on code."),
        "code": graphene.Field(enum, required=True, description="What went wrong."),
        "Meta": type("Meta", (), {"description": f"A reason {name} was refused; nothing was changed."}),
    }
    error_cls = type(f"{name}Error", (graphene.ObjectType,), attrs)
    error_cls.allowed_codes = {code.value for code in members}  # type: ignore[attr-defined]
    return error_cls


class ApiErrorCode:
    """Codes of request-level GraphQL errors (in `errors[].extensions.code`)."""

    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 -- an error code
    CSRF_FAILED = "CSRF_FAILED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    PAGE_SIZE_REQUIRED = "PAGE_SIZE_REQUIRED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INVALID_ID = "INVALID_ID"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"  # an argument out of its documented range


def api_error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def errors_field(name: str, codes: Iterable[StrEnum] = ()) -> graphene.List:
    """The `errors: [<Name>Error!]!` field of a mutation payload."""
    return graphene.List(
        graphene.NonNull(error_type(name, codes)), required=True, description="Empty when it worked."
    )
