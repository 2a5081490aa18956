"""GraphQL saved searches: `mySavedSearches`, `saveSearch`, `deleteSavedSearch`.

A saved search is its owner's alone: to anyone else it does not exist (`node` is null, deleting answers
NOT_FOUND). New listings that match it are notified to the owner once (matching/saved_searches.py).
"""

from typing import Any

import graphene
from django.db.models import QuerySet
from graphene import relay
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from backend.api.core.errors import ApiErrorCode, api_error, errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.core.types import ConnectionField, CountedConnection, viewer_of
from backend.api.marketplace.listings import SectorEnum, TransactionTypeEnum
from backend.api.matching.search import ListingSearchFilters, PriceBandEnum, RemainingLifeEnum
from marketplace.error_codes import MarketplaceErrorCode as Code
from matching import saved_searches
from matching.models import SavedSearch


def _strings(name: str) -> Any:
    return lambda filters, info: list(filters.get(name) or [])


class SavedSearchFiltersType(graphene.ObjectType):
    """The listing-search filters a saved search applies (as in `searchListings`)."""

    class Meta:
        name = "SavedSearchFilters"

    ipc = graphene.List(graphene.NonNull(graphene.String), required=True, resolver=_strings("ipc"))
    sector = graphene.List(graphene.NonNull(SectorEnum), required=True, resolver=_strings("sector"))
    owner_kind = graphene.List(
        graphene.NonNull(graphene.String), required=True, resolver=_strings("owner_kind")
    )
    legal_status = graphene.List(
        graphene.NonNull(graphene.String), required=True, resolver=_strings("legal_status")
    )
    transaction_type = graphene.List(
        graphene.NonNull(TransactionTypeEnum), required=True, resolver=_strings("transaction_type")
    )
    price_band = graphene.List(
        graphene.NonNull(PriceBandEnum), required=True, resolver=_strings("price_band")
    )
    remaining_life = graphene.List(
        graphene.NonNull(RemainingLifeEnum), required=True, resolver=_strings("remaining_life")
    )
    office = graphene.List(graphene.NonNull(graphene.String), required=True, resolver=_strings("office"))
    trl = graphene.List(
        graphene.NonNull(graphene.Int),
        required=True,
        resolver=lambda filters, info: [int(v) for v in filters.get("trl") or []],
    )


class SavedSearchNode(DjangoObjectType):
    """A listing search you keep; new listings that match it are notified to you once."""

    filters = graphene.Field(SavedSearchFiltersType, required=True)

    class Meta:
        model = SavedSearch
        name = "SavedSearch"
        interfaces = (relay.Node,)
        fields = ("name", "query", "language", "is_active", "created_at")
        connection_class = CountedConnection

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[SavedSearch], info: graphene.ResolveInfo
    ) -> QuerySet[SavedSearch]:
        user = viewer_of(info).user
        return queryset.filter(owner_id=user.pk) if user.is_authenticated else queryset.none()

    @staticmethod
    def resolve_filters(search: SavedSearch, info: graphene.ResolveInfo) -> dict[str, Any]:
        return dict(search.filters or {})


class SavedSearchQueries(graphene.ObjectType):
    my_saved_searches = ConnectionField(SavedSearchNode, description="Your saved searches, newest first.")

    @staticmethod
    def resolve_my_saved_searches(
        root: None, info: graphene.ResolveInfo, **args: Any
    ) -> QuerySet[SavedSearch]:
        viewer = viewer_of(info)
        if not viewer.user.is_authenticated:
            raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see your saved searches.")
        return saved_searches.saved_searches_of(viewer.user)


class SaveSearchInput(graphene.InputObjectType):
    name = graphene.String(required=True, description="1 to 200 characters.")
    query = graphene.String(description="Words, up to 500 characters; words or a filter are needed.")
    language = graphene.String(description="ko, en, ja or zh; detected when omitted.")
    filters = graphene.Field(ListingSearchFilters, description="As in searchListings.")


def _plain(filters: Any) -> dict[str, list[str]]:
    return {
        key: [str(getattr(v, "value", v)) for v in values]
        for key, values in dict(filters or {}).items()
        if values
    }


class SaveSearch(BaseMutation):
    """Keep a listing search; you are notified (in-app and by e-mail) when a new listing matches it."""

    class Arguments:
        input = SaveSearchInput(required=True)
        idempotency_key = idempotency_key_argument()

    saved_search = graphene.Field(SavedSearchNode)
    errors = errors_field("SaveSearch", [Code.IDEMPOTENCY_KEY_REUSED, Code.TOO_MANY_SAVED_SEARCHES])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, input: Any, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        request = {
            "name": input.name,
            "query": input.query or "",
            "language": input.language or "",
            "filters": _plain(input.filters),
        }

        def create() -> SavedSearch:
            return saved_searches.save_search(
                user, request["name"], request["query"], request["language"], request["filters"]
            )

        return {
            "saved_search": idempotent(user, "save_search", idempotency_key, request, SavedSearch, create)
        }


class DeleteSavedSearch(BaseMutation):
    """Delete one of your saved searches (no more notices from it)."""

    class Arguments:
        id = graphene.ID(required=True)

    deleted_id = graphene.ID(description="Global id of the deleted saved search.")
    errors = errors_field("DeleteSavedSearch")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        deleted = saved_searches.delete_saved_search(user, decode_id(id, "SavedSearch", "id"))
        return {"deleted_id": to_global_id("SavedSearch", deleted.pk)}


class SavedSearchMutations(graphene.ObjectType):
    save_search = SaveSearch.Field()
    delete_saved_search = DeleteSavedSearch.Field()
