"""GraphQL recommendations: `recommendedListings`, `candidateBuyers`, `similarListings`, `myFeed`.

Each item is the object (a listing or an organisation), its fused score and a `MatchExplanation` that
also names what it rests on (`basedOn`) and the behaviour behind it. Who may ask (object level):

- recommendedListings(demandId): the demand's buyer's members and operators; a demand you cannot see is
  NOT_FOUND, one you can see but is not yours PERMISSION_DENIED.
- candidateBuyers(listingId): the seller's members, brokers assigned to the listing or to one of its
  deals, operators; a listing you cannot see is NOT_FOUND, others PERMISSION_DENIED.
- similarListings(listingId): anyone who can see the listing (else NOT_FOUND).
- myFeed: signed-in users.

Refusals are request-level errors (the field is null); Elasticsearch being down is SEARCH_UNAVAILABLE.
"""

from collections.abc import Callable, Sequence
from typing import Any

import graphene
from django.db.models import Model
from graphql import GraphQLError
from graphql_relay import to_global_id

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.ids import pk_from_global_id
from backend.api.core.loaders import loaders_of
from backend.api.core.types import Viewer, viewer_of
from backend.api.marketplace.demands import demand_visibility
from backend.api.marketplace.listings import ListingNode, listing_visibility
from backend.api.marketplace.organisations import OrganizationNode
from backend.api.matching.search import MatchBasis, MatchExplanation, SearchErrorCode, explanation
from marketplace.models import Deal, Demand, Listing, Organization
from matching import recommend
from matching.indexing import SearchUnavailable

BASIS_TYPES = {"demand": "Demand", "patent": "Patent", "listing": "Listing"}


class RecommendationErrorCode:
    NOT_FOUND = "NOT_FOUND"


class ListingRecommendation(graphene.ObjectType):
    """A recommended listing and why."""

    listing = graphene.Field(ListingNode, required=True)
    score = graphene.Float(required=True, description="Fused relevance (RRF); only the order is meaningful.")
    why = graphene.Field(MatchExplanation, required=True)


class BuyerRecommendation(graphene.ObjectType):
    """An organisation that may want the listing, and why."""

    class Meta:
        name = "CandidateBuyer"

    organization = graphene.Field(OrganizationNode, required=True)
    score = graphene.Float(required=True, description="Fused relevance (RRF); only the order is meaningful.")
    why = graphene.Field(MatchExplanation, required=True)


def _first(first: int) -> int:
    if not 1 <= first <= 100:
        raise api_error(ApiErrorCode.PAGE_SIZE_EXCEEDED, "first must be between 1 and 100")
    return first


def _signed_in(viewer: Viewer) -> None:
    if not viewer.user.is_authenticated:
        raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in first.")


def _pk(value: str, type_name: str) -> int:
    pk = pk_from_global_id(value, type_name)
    if pk is None:
        raise api_error(ApiErrorCode.INVALID_ID, f"Not a {type_name} id.")
    return pk


def _not_found(what: str) -> GraphQLError:
    return api_error(RecommendationErrorCode.NOT_FOUND, f"No such {what}.")


def _visible_listing(info: graphene.ResolveInfo, listing_id: str) -> Listing:
    listing = Listing.objects.filter(listing_visibility(info), pk=_pk(listing_id, "Listing")).first()
    if listing is None:
        raise _not_found("listing")
    return listing


def _engine(compute: Callable[[], list[recommend.Recommendation]]) -> list[recommend.Recommendation]:
    try:
        return compute()
    except SearchUnavailable as error:
        raise api_error(
            SearchErrorCode.SEARCH_UNAVAILABLE, "recommendations are unavailable right now; try again"
        ) from error


def _why(info: graphene.ResolveInfo, why: recommend.Why, open_demands: set[int]) -> MatchExplanation:
    result = explanation(why)
    result.reasons = [*why.reasons, *result.reasons]
    result.behaviour = why.behaviour
    result.based_on = [
        MatchBasis(
            kind=basis.kind,
            id=to_global_id(BASIS_TYPES[basis.kind], basis.id),
            title=basis.title,
            similarity=basis.similarity,
        )
        for basis in why.based_on
        # A demand closed since it was indexed is its buyer's business again.
        if basis.kind != "demand" or basis.id in open_demands
    ]
    return result


def _visible_demands(info: graphene.ResolveInfo, items: Sequence[recommend.Recommendation]) -> set[int]:
    ids = {b.id for item in items for b in item.why.based_on if b.kind == "demand"}
    if not ids:
        return set()
    return set(Demand.objects.filter(demand_visibility(info), pk__in=ids).values_list("pk", flat=True))


def _items(
    info: graphene.ResolveInfo,
    items: list[recommend.Recommendation],
    objects: dict[int, Model],
    attribute: str,
    cls: type[graphene.ObjectType],
) -> list[Any]:
    loaders_of(info).see_values([list(objects.values())])
    demands = _visible_demands(info, items)
    return [
        cls(**{attribute: objects[item.id]}, score=item.score, why=_why(info, item.why, demands))
        for item in items
        if item.id in objects
    ]


def _listing_items(info: graphene.ResolveInfo, items: list[recommend.Recommendation]) -> list[Any]:
    listings = Listing.objects.filter(listing_visibility(info), pk__in=[i.id for i in items])
    objects: dict[int, Model] = {listing.pk: listing for listing in listings.select_related("seller")}
    return _items(info, items, objects, "listing", ListingRecommendation)


def _may_see_buyers(viewer: Viewer, listing: Listing) -> bool:
    """The seller's members, operators, and brokers assigned to the listing or to one of its deals."""
    if viewer.speaks_for(listing.seller_id):
        return True
    user_id = int(viewer.user.pk or 0)
    return bool(
        listing.brokers.filter(pk=user_id).exists()
        or Deal.objects.filter(listing=listing, brokers__broker_id=user_id).exists()
    )


def _first_arg() -> graphene.Int:
    return graphene.Int(required=True, description="How many, 1 to 100.")


class RecommendationQueries(graphene.ObjectType):
    recommended_listings = graphene.List(
        graphene.NonNull(ListingRecommendation),
        demand_id=graphene.ID(required=True, description="One of your organisations' demands."),
        first=_first_arg(),
        description="Listings for a demand, best first (the demand's buyer's members and operators).",
    )
    candidate_buyers = graphene.List(
        graphene.NonNull(BuyerRecommendation),
        listing_id=graphene.ID(required=True, description="A listing you sell or broker."),
        first=_first_arg(),
        description=(
            "Organisations that may want a listing, from open demands, their own patents and behaviour; "
            "for the seller's members, the listing's brokers and operators."
        ),
    )
    similar_listings = graphene.List(
        graphene.NonNull(ListingRecommendation),
        listing_id=graphene.ID(required=True),
        first=_first_arg(),
        description="Published listings like this one (wording and meaning).",
    )
    my_feed = graphene.List(
        graphene.NonNull(ListingRecommendation),
        first=_first_arg(),
        description=(
            "Listings for you: like those you viewed, bookmarked or inquired about, new ones in your "
            "sectors, and matches of your organisations' open demands."
        ),
    )

    @staticmethod
    def resolve_recommended_listings(
        root: None, info: graphene.ResolveInfo, demand_id: str, first: int
    ) -> list[Any]:
        viewer = viewer_of(info)
        _signed_in(viewer)
        _first(first)
        demand = Demand.objects.filter(demand_visibility(info), pk=_pk(demand_id, "Demand")).first()
        if demand is None:
            raise _not_found("demand")
        if not viewer.speaks_for(demand.buyer_id):
            raise api_error(ApiErrorCode.PERMISSION_DENIED, "Only the buyer's members see its matches.")
        return _listing_items(info, _engine(lambda: recommend.listings_for_demand(demand, first)))

    @staticmethod
    def resolve_candidate_buyers(
        root: None, info: graphene.ResolveInfo, listing_id: str, first: int
    ) -> list[Any]:
        viewer = viewer_of(info)
        _signed_in(viewer)
        _first(first)
        listing = _visible_listing(info, listing_id)
        if not _may_see_buyers(viewer, listing):
            raise api_error(
                ApiErrorCode.PERMISSION_DENIED, "Only the seller and the listing's brokers see its buyers."
            )
        items = _engine(lambda: recommend.candidate_buyers(listing, first))
        orgs: dict[int, Model] = {
            org.pk: org for org in Organization.objects.filter(pk__in=[i.id for i in items])
        }
        return _items(info, items, orgs, "organization", BuyerRecommendation)

    @staticmethod
    def resolve_similar_listings(
        root: None, info: graphene.ResolveInfo, listing_id: str, first: int
    ) -> list[Any]:
        _first(first)
        listing = _visible_listing(info, listing_id)
        return _listing_items(info, _engine(lambda: recommend.similar_listings(listing, first)))

    @staticmethod
    def resolve_my_feed(root: None, info: graphene.ResolveInfo, first: int) -> list[Any]:
        viewer = viewer_of(info)
        _signed_in(viewer)
        _first(first)
        user = viewer.user
        return _listing_items(info, _engine(lambda: recommend.feed(user, first)))  # type: ignore[arg-type]
