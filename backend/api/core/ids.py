"""Relay global ids in mutation inputs: decoded with the expected type, or refused as invalid input."""

from graphql_relay import from_global_id

from marketplace.error_codes import ActionError, MarketplaceErrorCode


def decode_id(value: str, type_name: str, field: str) -> int:
    try:
        kind, raw = from_global_id(value)
        pk = int(raw)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise ActionError(MarketplaceErrorCode.INVALID, f"Not a {type_name} id.", field) from exc
    if kind != type_name or pk <= 0:
        raise ActionError(MarketplaceErrorCode.INVALID, f"Not a {type_name} id.", field)
    return pk


def pk_from_global_id(value: str, type_name: str) -> int | None:
    """The primary key in a global id of the given type, or None for anything else (used by filters)."""
    try:
        return decode_id(value, type_name, "id")
    except ActionError:
        return None
