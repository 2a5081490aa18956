"""Listings: create, update, publish, withdraw, bookmark."""

from typing import Any

import graphene

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.core.types import MoneyInput
from backend.api.marketplace.listings import ListingNode, SectorEnum, TransactionTypeEnum
from marketplace import actions
from marketplace.error_codes import ActionError
from marketplace.error_codes import MarketplaceErrorCode as Code
from marketplace.models import Listing


def _patent_ids(values: list[str] | None) -> list[int] | None:
    if values is None:
        return None
    if len(values) > 50:
        raise ActionError(Code.INVALID, "A package holds at most 50 patents.", "patent_ids")
    return [decode_id(value, "Patent", "patent_ids") for value in values]


class ListingFieldsInput:
    """Fields shared by create and update (a mixin, not a GraphQL type of its own)."""

    summary = graphene.String(description="Public description, up to 10,000 characters.")
    know_how = graphene.String(description="Confidential know-how, shown only after a signed NDA.")
    quantified_benefit = graphene.String(description="e.g. '30% lower electrode cost'; up to 500 characters.")
    price = graphene.Field(MoneyInput, description="Asking price; omit for negotiable.")
    sector = graphene.Field(SectorEnum)
    trl = graphene.Int(description="Technology readiness level, 1 to 9.")


class ListingCreateInput(ListingFieldsInput, graphene.InputObjectType):
    seller_id = graphene.ID(required=True, description="Your organisation that holds the patents.")
    title = graphene.String(required=True, description="1 to 300 characters.")
    patent_ids = graphene.List(graphene.NonNull(graphene.ID), required=True, description="1 to 50 patents.")
    transaction_types = graphene.List(graphene.NonNull(TransactionTypeEnum), required=True)


class ListingUpdateInput(ListingFieldsInput, graphene.InputObjectType):
    title = graphene.String(description="1 to 300 characters.")
    patent_ids = graphene.List(graphene.NonNull(graphene.ID), description="Only while a draft.")
    transaction_types = graphene.List(graphene.NonNull(TransactionTypeEnum))
    price_negotiable = graphene.Boolean(description="true removes the asking price.")


LISTING_CODES = [Code.PATENT_NOT_OWNED, Code.INVALID_STATE]


class CreateListing(BaseMutation):
    """Package patents your organisation holds into a draft listing."""

    class Arguments:
        input = ListingCreateInput(required=True)
        idempotency_key = idempotency_key_argument()

    listing = graphene.Field(ListingNode)
    errors = errors_field("CreateListing", [*LISTING_CODES, Code.IDEMPOTENCY_KEY_REUSED])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, input: Any, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        seller_id = decode_id(input.seller_id, "Organization", "seller_id")
        patent_ids = _patent_ids(input.patent_ids) or []
        price = input.price

        def create() -> Listing:
            return actions.create_listing(
                user,
                seller_id,
                input.title,
                patent_ids,
                list(input.transaction_types),
                summary=input.summary or "",
                know_how=input.know_how or "",
                quantified_benefit=input.quantified_benefit or "",
                price_amount=price.amount if price else None,
                price_currency=price.currency if price else "",
                sector=input.sector or "other",
                trl=input.trl,
            )

        listing = idempotent(user, "create_listing", idempotency_key, dict(input), Listing, create)
        return {"listing": listing}


class UpdateListing(BaseMutation):
    """Change a draft or published listing; omitted fields stay as they are."""

    class Arguments:
        id = graphene.ID(required=True)
        input = ListingUpdateInput(required=True)

    listing = graphene.Field(ListingNode)
    errors = errors_field("UpdateListing", LISTING_CODES)

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str, input: Any) -> dict[str, Any]:
        price = input.price
        changes = actions.ListingChanges(
            title=input.title,
            summary=input.summary,
            know_how=input.know_how,
            quantified_benefit=input.quantified_benefit,
            transaction_types=list(input.transaction_types) if input.transaction_types is not None else None,
            price_amount=price.amount if price else None,
            price_currency=price.currency if price else None,
            clear_price=bool(input.price_negotiable),
            sector=input.sector,
            trl=input.trl,
            patent_ids=_patent_ids(input.patent_ids),
        )
        return {"listing": actions.update_listing(user, decode_id(id, "Listing", "id"), changes)}


class PublishListing(BaseMutation):
    """Make a draft visible to everyone. The seller must be verified."""

    class Arguments:
        id = graphene.ID(required=True)

    listing = graphene.Field(ListingNode)
    errors = errors_field("PublishListing", [Code.INVALID_STATE, Code.ORGANIZATION_NOT_VERIFIED])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        return {"listing": actions.publish_listing(user, decode_id(id, "Listing", "id"))}


class WithdrawListing(BaseMutation):
    """Take a listing off the market (not while a deal holds money in escrow)."""

    class Arguments:
        id = graphene.ID(required=True)

    listing = graphene.Field(ListingNode)
    errors = errors_field("WithdrawListing", [Code.INVALID_STATE])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        return {"listing": actions.withdraw_listing(user, decode_id(id, "Listing", "id"))}


class BookmarkListing(BaseMutation):
    """Bookmark a listing, or remove the bookmark."""

    class Arguments:
        id = graphene.ID(required=True)
        bookmarked = graphene.Boolean(default_value=True)

    listing = graphene.Field(ListingNode)
    errors = errors_field("BookmarkListing")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str, bookmarked: bool) -> dict[str, Any]:
        return {"listing": actions.bookmark_listing(user, decode_id(id, "Listing", "id"), bookmarked)}


class RecordListingView(BaseMutation):
    """Note that you opened a listing's page: views feed your recommendations. Signed-in users only."""

    class Arguments:
        id = graphene.ID(required=True)

    listing = graphene.Field(ListingNode)
    errors = errors_field("RecordListingView")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        return {"listing": actions.record_view(user, decode_id(id, "Listing", "id"))}


class ListingMutations(graphene.ObjectType):
    create_listing = CreateListing.Field()
    update_listing = UpdateListing.Field()
    publish_listing = PublishListing.Field()
    withdraw_listing = WithdrawListing.Field()
    bookmark_listing = BookmarkListing.Field()
    record_listing_view = RecordListingView.Field()
