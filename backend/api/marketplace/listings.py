"""Listings (technology packages) in the API. Drafts and withdrawn listings are the seller's business;
the know-how is for the seller, its brokers and buyers whose deal has a signed NDA."""

from typing import Any

import graphene
from django.db.models import Q, QuerySet
from django.utils import timezone
from graphene import relay
from graphene_django import DjangoObjectType

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.ids import pk_from_global_id
from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection, Money, money, viewer_of
from backend.api.marketplace.loaders import (
    BookmarkedByListingIdLoader,
    KnowHowAccessByListingIdLoader,
    OrganizationByIdLoader,
    PatentsByListingIdLoader,
)
from backend.api.marketplace.patents import PatentNode
from marketplace.coach import ListingQuality, assess_listing
from marketplace.models import Listing, ListingStatus, Organization, Patent, Sector, TransactionType

SectorEnum = graphene.Enum.from_enum(Sector, description="Strategic technology sector.")
TransactionTypeEnum = graphene.Enum.from_enum(
    TransactionType, description="How the technology changes hands."
)
ListingStatusEnum = graphene.Enum.from_enum(ListingStatus, description="Where the listing is in its life.")
PUBLIC_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION, ListingStatus.CLOSED)


class QualityHintType(graphene.ObjectType):
    """One concrete way to make the listing more convincing."""

    class Meta:
        name = "QualityHint"

    code = graphene.String(required=True, description="Stable code, e.g. no_quantified_benefit.")
    field = graphene.String(required=True, description="The listing field to change.")
    message = graphene.String(required=True, description="What to do, in English.")
    weight = graphene.Int(required=True, description="Points it costs the score.")


class ListingQualityType(graphene.ObjectType):
    """The listing-quality coach's verdict."""

    class Meta:
        name = "ListingQuality"

    score = graphene.Int(required=True, description="0 to 100.")
    hints = graphene.List(graphene.NonNull(QualityHintType), required=True, description="Worst first.")


def listing_visibility(info: graphene.ResolveInfo) -> Q:
    viewer = viewer_of(info)
    if viewer.is_operator:
        return Q()
    return Q(status__in=PUBLIC_STATUSES) | Q(seller_id__in=viewer.org_ids)


class ListingNode(DjangoObjectType):
    """A technology package: one or more patents plus know-how, offered for transaction."""

    seller = graphene.Field("backend.api.marketplace.organisations.OrganizationNode", required=True)
    patents = graphene.List(graphene.NonNull(PatentNode), required=True, description="The packaged patents.")
    transaction_types = graphene.List(graphene.NonNull(TransactionTypeEnum), required=True)
    sector = graphene.Field(SectorEnum, required=True)
    status = graphene.Field(ListingStatusEnum, required=True)
    price = graphene.Field(Money, description="Asking price; null when negotiable.")
    know_how = graphene.String(
        description="Confidential know-how: for the seller, its brokers and buyers with a signed NDA."
    )
    know_how_visible = graphene.Boolean(required=True, description="Whether `knowHow` is readable by you.")
    is_bookmarked = graphene.Boolean(required=True, description="You bookmarked it.")
    quality = graphene.Field(ListingQualityType, description="The coach's score and hints; for the seller.")

    class Meta:
        model = Listing
        name = "Listing"
        interfaces = (relay.Node,)
        fields = (
            "title",
            "summary",
            "quantified_benefit",
            "price_negotiable",
            "trl",
            "life_flags",
            "life_checked_at",
            "published_at",
            "is_generated",
            "created_at",
            "updated_at",
        )
        connection_class = CountedConnection

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Listing], info: graphene.ResolveInfo) -> QuerySet[Listing]:
        return queryset.filter(listing_visibility(info))

    @staticmethod
    def resolve_seller(listing: Listing, info: graphene.ResolveInfo) -> Organization | None:
        return loaders_of(info).get(OrganizationByIdLoader).load(listing.seller_id)

    @staticmethod
    def resolve_patents(listing: Listing, info: graphene.ResolveInfo) -> list[Patent]:
        return loaders_of(info).get(PatentsByListingIdLoader).load(listing.pk)

    @staticmethod
    def resolve_transaction_types(listing: Listing, info: graphene.ResolveInfo) -> list[str]:
        return list(listing.transaction_types)

    @staticmethod
    def resolve_sector(listing: Listing, info: graphene.ResolveInfo) -> str:
        return listing.sector

    @staticmethod
    def resolve_status(listing: Listing, info: graphene.ResolveInfo) -> str:
        return listing.status

    @staticmethod
    def resolve_price(listing: Listing, info: graphene.ResolveInfo) -> Money | None:
        return money(listing.price_amount, listing.price_currency)

    @staticmethod
    def resolve_know_how_visible(listing: Listing, info: graphene.ResolveInfo) -> bool:
        viewer = viewer_of(info)
        if viewer.speaks_for(listing.seller_id):
            return True
        return loaders_of(info).get(KnowHowAccessByListingIdLoader).load(listing.pk)

    @staticmethod
    def resolve_know_how(listing: Listing, info: graphene.ResolveInfo) -> str | None:
        return listing.know_how if ListingNode.resolve_know_how_visible(listing, info) else None

    @staticmethod
    def resolve_is_bookmarked(listing: Listing, info: graphene.ResolveInfo) -> bool:
        return loaders_of(info).get(BookmarkedByListingIdLoader).load(listing.pk)

    @staticmethod
    def resolve_quality(listing: Listing, info: graphene.ResolveInfo) -> ListingQuality | None:
        viewer = viewer_of(info)
        if not viewer.speaks_for(listing.seller_id):
            return None
        patents = loaders_of(info).get(PatentsByListingIdLoader).load(listing.pk)
        return assess_listing(listing, patents, timezone.localdate())


class ListingQueries(graphene.ObjectType):
    listing = relay.Node.Field(ListingNode, description="One listing by its global id.")
    listings = ConnectionField(
        ListingNode,
        sector=graphene.Argument(SectorEnum, description="Only this sector."),
        transaction_type=graphene.Argument(
            TransactionTypeEnum, description="Offering this transaction type."
        ),
        status=graphene.Argument(ListingStatusEnum, description="Only this status (drafts: your own)."),
        seller=graphene.ID(description="Global id of the selling organisation."),
        mine=graphene.Boolean(description="Only listings of your organisations (any status)."),
        bookmarked=graphene.Boolean(
            description="Only listings you bookmarked (any status you may see), latest bookmark first."
        ),
        description="Listings you may see, newest first.",
    )

    @staticmethod
    def resolve_listings(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[Listing]:
        viewer = viewer_of(info)
        listings = Listing.objects.filter(listing_visibility(info)).order_by("-published_at", "-id")
        if filters.get("bookmarked"):
            if not viewer.user.is_authenticated:
                raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see your bookmarks.")
            # A bookmark stays listed after the listing is withdrawn or closed, while the viewer may see it.
            listings = listings.filter(bookmarks__user=viewer.user).order_by("-bookmarks__created_at")
        elif filters.get("mine"):
            if not viewer.user.is_authenticated:
                raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see your listings.")
            listings = listings.filter(seller_id__in=viewer.org_ids)
        elif not filters.get("status"):
            listings = listings.filter(status__in=PUBLIC_STATUSES)
        if filters.get("status"):
            listings = listings.filter(status=filters["status"])
        if filters.get("sector"):
            listings = listings.filter(sector=filters["sector"])
        if filters.get("transaction_type"):
            listings = listings.filter(transaction_types__contains=[filters["transaction_type"]])
        if filters.get("seller"):
            listings = listings.filter(seller_id=pk_from_global_id(filters["seller"], "Organization"))
        return listings
