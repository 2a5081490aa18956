"""Types shared across the API: money, counted connections that feed the loaders, the viewer."""

import re
from typing import Any

import graphene
from django.contrib.auth.models import AnonymousUser, User
from graphene import relay
from graphene_django import DjangoConnectionField
from graphql import GraphQLError

from backend.api.core.loaders import loaders_of
from marketplace.access import is_operator
from marketplace.models import Membership


class BigInt(graphene.BigInt):
    # graphene's BigInt truncates a variable's 1.5 to 1 (and takes true as 1): an amount of 99.99 sent in
    # major units would become 99 minor units, silently. Ours refuses anything but a whole number.
    class Meta:
        name = "BigInt"
        description = graphene.BigInt._meta.description

    @staticmethod
    def parse_value(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
            return int(value)  # clients that fear JSON's doubles send big integers as strings
        raise GraphQLError(f"BigInt cannot represent non-integer value: {value!r}")


class Money(graphene.ObjectType):
    """An amount in minor units of an ISO 4217 currency (KRW and JPY have none: 1 means 1 won)."""

    amount = BigInt(required=True, description="Minor units, a positive integer.")
    currency = graphene.String(required=True, description="ISO 4217 code, e.g. KRW, USD.")


def money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)


class MoneyInput(graphene.InputObjectType):
    amount = BigInt(required=True, description="Minor units, a positive integer.")
    currency = graphene.String(required=True, description="ISO 4217 code: KRW, JPY, USD, EUR, CNY, GBP.")


class CountedConnection(relay.Connection):
    """A cursor connection that also tells how many items match."""

    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items matching the filters.")

    @staticmethod
    def resolve_total_count(root: Any, info: graphene.ResolveInfo) -> int:
        return int(root.length)


class ConnectionField(DjangoConnectionField):
    """A Django connection whose page of nodes is noted for the loaders, so relations batch per page."""

    @classmethod
    def connection_resolver(
        cls,
        resolver: Any,
        connection: Any,
        default_manager: Any,
        queryset_resolver: Any,
        max_limit: int | None,
        enforce_first_or_last: bool,
        root: Any,
        info: graphene.ResolveInfo,
        **args: Any,
    ) -> Any:
        result = super().connection_resolver(
            resolver,
            connection,
            default_manager,
            queryset_resolver,
            max_limit,
            enforce_first_or_last,
            root,
            info,
            **args,
        )
        loaders_of(info).see_values([[edge.node for edge in result.edges]])
        return result


class Viewer:
    """Facts about the requesting user, computed once per request."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user
        self.is_operator = is_operator(user)  # type: ignore[arg-type]
        self.org_ids: set[int] = set()
        if user.is_authenticated:
            self.org_ids = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))

    def speaks_for(self, org_id: int) -> bool:
        """A member of the organisation, or an operator."""
        return self.is_operator or org_id in self.org_ids


def viewer_of(info: Any) -> Viewer:
    loaders = loaders_of(info)
    return loaders.memo("viewer", lambda: Viewer(loaders.user))
