"""Deals in the API: only the parties' members, the deal's brokers and operators see a deal at all;
to anyone else it does not exist (null, or NOT_FOUND from mutations)."""

from typing import Any

import graphene
from django.db.models import Q, QuerySet
from graphene import relay
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection, Money, money, viewer_of
from backend.api.marketplace.listings import TransactionTypeEnum
from backend.api.marketplace.loaders import (
    AcceptancesByOfferIdLoader,
    BrokersByDealIdLoader,
    ListingByIdLoader,
    MilestonesByDealIdLoader,
    NdaSignaturesByDealIdLoader,
    OffersByDealIdLoader,
    OrganizationByIdLoader,
)
from backend.api.marketplace.organisations import UserType, display_name
from marketplace.models import (
    Deal,
    DealBroker,
    DealState,
    Listing,
    Milestone,
    MilestoneState,
    NdaSignature,
    NdaTemplate,
    Offer,
    OfferAcceptance,
    Organization,
    Side,
)
from marketplace.rooms.masking import mask_contacts
from marketplace.rooms.view import buyer_alias

DealStateEnum = graphene.Enum.from_enum(DealState, description="Where the deal stands.")
MilestoneStateEnum = graphene.Enum.from_enum(MilestoneState, description="Escrow state of a milestone.")
SideEnum = graphene.Enum.from_enum(Side, description="A party of a deal.")


def participation(info: graphene.ResolveInfo) -> Q:
    """Deals the viewer takes part in: as a member of the seller or the buyer, or as one of its brokers."""
    viewer = viewer_of(info)
    return (
        Q(listing__seller_id__in=viewer.org_ids)
        | Q(buyer_id__in=viewer.org_ids)
        | Q(pk__in=DealBroker.objects.filter(broker_id=viewer.user.pk).values("deal_id"))
    )


def deal_visibility(info: graphene.ResolveInfo) -> Q:
    return Q() if viewer_of(info).is_operator else participation(info)


class DealBrokerType(graphene.ObjectType):
    """A broker on the deal and their commission share."""

    class Meta:
        name = "DealBroker"

    broker = graphene.Field("backend.api.marketplace.brokers.BrokerNode", description="The broker's profile.")
    display_name = graphene.String(required=True)
    is_lead = graphene.Boolean(required=True, description="The lead broker mediates and assigns co-brokers.")
    share_basis_points = graphene.Int(
        required=True, description="Share of the commission; all sum to 10,000."
    )

    @staticmethod
    def resolve_broker(row: DealBroker, info: graphene.ResolveInfo) -> Any:
        return getattr(row.broker, "broker_profile", None)

    @staticmethod
    def resolve_display_name(row: DealBroker, info: graphene.ResolveInfo) -> str:
        return display_name(row.broker)

    @staticmethod
    def resolve_share_basis_points(row: DealBroker, info: graphene.ResolveInfo) -> int:
        return row.share_bp


class NdaSignatureType(graphene.ObjectType):
    """One side's signature of an exact NDA text."""

    class Meta:
        name = "NdaSignature"

    side = graphene.Field(SideEnum, required=True)
    signer = graphene.Field(UserType, required=True)
    signed_at = graphene.DateTime(required=True)
    nda_version = graphene.Int(required=True)
    text_sha256 = graphene.String(required=True, description="SHA-256 of the text signed.")

    @staticmethod
    def resolve_nda_version(row: NdaSignature, info: graphene.ResolveInfo) -> int:
        return row.template.version


class NdaTextType(graphene.ObjectType):
    """The NDA text parties sign now. Sign by sending its textSha256 back."""

    class Meta:
        name = "NdaText"

    version = graphene.Int(required=True)
    text = graphene.String(required=True)
    text_sha256 = graphene.String(required=True)


class OfferAcceptanceType(graphene.ObjectType):
    class Meta:
        name = "OfferAcceptance"

    side = graphene.Field(SideEnum, required=True)
    accepted_at = graphene.DateTime(required=True)


class OfferType(graphene.ObjectType):
    """An immutable version of proposed terms."""

    class Meta:
        name = "Offer"

    version = graphene.Int(required=True)
    counters_version = graphene.Int(description="The version this one answers.")
    proposed_for = graphene.Field(SideEnum, description="Whose terms; null when a broker mediates.")
    proposed_by_broker = graphene.Boolean(required=True)
    transaction_type = graphene.Field(TransactionTypeEnum, required=True)
    upfront = graphene.Field(Money, required=True)
    royalty_basis_points = graphene.Int(required=True)
    term_months = graphene.Int()
    territory = graphene.String(required=True)
    exclusive = graphene.Boolean(required=True)
    note = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    acceptances = graphene.List(graphene.NonNull(OfferAcceptanceType), required=True)

    @staticmethod
    def resolve_counters_version(offer: Offer, info: graphene.ResolveInfo) -> int | None:
        if offer.counters_id is None:
            return None
        by_id = {o.pk: o.version for o in loaders_of(info).get(OffersByDealIdLoader).load(offer.deal_id)}
        return by_id.get(offer.counters_id)

    @staticmethod
    def resolve_proposed_for(offer: Offer, info: graphene.ResolveInfo) -> str | None:
        return offer.proposed_for or None

    @staticmethod
    def resolve_proposed_by_broker(offer: Offer, info: graphene.ResolveInfo) -> bool:
        return not offer.proposed_for

    @staticmethod
    def resolve_upfront(offer: Offer, info: graphene.ResolveInfo) -> Money | None:
        return money(offer.upfront_amount, offer.currency)

    @staticmethod
    def resolve_royalty_basis_points(offer: Offer, info: graphene.ResolveInfo) -> int:
        return offer.royalty_bp

    @staticmethod
    def resolve_acceptances(offer: Offer, info: graphene.ResolveInfo) -> list[OfferAcceptance]:
        return loaders_of(info).get(AcceptancesByOfferIdLoader).load(offer.pk)


class MilestoneType(graphene.ObjectType):
    """A part of the agreed payment, released from escrow when its deliverables are accepted."""

    class Meta:
        name = "Milestone"

    id = graphene.ID(required=True, description="Global id (Milestone), for the escrow mutations.")
    sequence = graphene.Int(required=True)
    title = graphene.String(required=True)
    amount = graphene.Field(Money, required=True)
    deliverables = graphene.String(required=True)
    inspection_days = graphene.Int(required=True)
    state = graphene.Field(MilestoneStateEnum, required=True)
    escrow = graphene.Field(
        "backend.api.escrow.types.MilestoneEscrowType",
        required=True,
        description="Its trust deposit: amounts derived from the ledger, dates, payouts, materials.",
    )

    @staticmethod
    def resolve_id(milestone: Milestone, info: graphene.ResolveInfo) -> str:
        return to_global_id("Milestone", milestone.pk)

    @staticmethod
    def resolve_escrow(milestone: Milestone, info: graphene.ResolveInfo) -> Any:
        from backend.api.escrow.types import escrow_status  # the escrow API builds on this module

        return escrow_status(milestone, info)

    @staticmethod
    def resolve_amount(milestone: Milestone, info: graphene.ResolveInfo) -> Money | None:
        return money(milestone.amount, milestone.currency)

    @staticmethod
    def resolve_state(milestone: Milestone, info: graphene.ResolveInfo) -> str:
        return milestone.state


def _relayed(deal: Deal, info: graphene.ResolveInfo) -> bool:
    """The room's rule (marketplace.rooms.view.is_relayed), from the batched signatures."""
    signatures = loaders_of(info).get(NdaSignaturesByDealIdLoader).load(deal.pk)
    return not (len(signatures) == 2 and deal.reveal_identities_after_nda)


class DealNode(DjangoObjectType):
    """A listing x a buyer organisation, from inquiry to settlement."""

    state = graphene.Field(DealStateEnum, required=True)
    listing = graphene.Field("backend.api.marketplace.listings.ListingNode", required=True)
    buyer = graphene.Field(
        "backend.api.marketplace.organisations.OrganizationNode",
        description="Null for the seller's side while the broker relays (before the NDA, or after it if the "
        "deal keeps identities hidden): the seller then knows the buyer as buyerAlias.",
    )
    buyer_alias = graphene.String(required=True, description="The buyer's alias in the deal room: Buyer A, …")
    viewer_side = graphene.Field(SideEnum, description="Your side in this deal; null for brokers, operators.")
    brokers = graphene.List(graphene.NonNull(DealBrokerType), required=True)
    nda_signatures = graphene.List(graphene.NonNull(NdaSignatureType), required=True)
    offers = graphene.List(
        graphene.NonNull(OfferType), required=True, description="All versions, oldest first."
    )
    agreed_offer = graphene.Field(OfferType, description="The version both sides accepted, once agreed.")
    milestones = graphene.List(graphene.NonNull(MilestoneType), required=True)

    class Meta:
        model = Deal
        name = "Deal"
        interfaces = (relay.Node,)
        fields = (
            "message",
            "cancellation_reason",
            "reveal_identities_after_nda",
            "is_generated",
            "created_at",
            "updated_at",
        )
        connection_class = CountedConnection

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Deal], info: graphene.ResolveInfo) -> QuerySet[Deal]:
        return queryset.filter(deal_visibility(info))

    @staticmethod
    def resolve_state(deal: Deal, info: graphene.ResolveInfo) -> str:
        return deal.state

    @staticmethod
    def resolve_listing(deal: Deal, info: graphene.ResolveInfo) -> Listing | None:
        return loaders_of(info).get(ListingByIdLoader).load(deal.listing_id)

    @staticmethod
    def resolve_buyer(deal: Deal, info: graphene.ResolveInfo) -> Organization | None:
        if DealNode.resolve_viewer_side(deal, info) == "seller" and _relayed(deal, info):
            return None
        return loaders_of(info).get(OrganizationByIdLoader).load(deal.buyer_id)

    @staticmethod
    def resolve_buyer_alias(deal: Deal, info: graphene.ResolveInfo) -> str:
        return buyer_alias(deal)

    @staticmethod
    def resolve_message(deal: Deal, info: graphene.ResolveInfo) -> str:
        """The buyer's first words, masked for the seller's side like the room masks them."""
        if DealNode.resolve_viewer_side(deal, info) == "seller" and _relayed(deal, info):
            return mask_contacts(deal.message).text
        return deal.message

    @staticmethod
    def resolve_viewer_side(deal: Deal, info: graphene.ResolveInfo) -> str | None:
        viewer = viewer_of(info)
        listing = loaders_of(info).get(ListingByIdLoader).load(deal.listing_id)
        if listing is not None and listing.seller_id in viewer.org_ids:
            return "seller"
        return "buyer" if deal.buyer_id in viewer.org_ids else None

    @staticmethod
    def resolve_brokers(deal: Deal, info: graphene.ResolveInfo) -> list[DealBroker]:
        return loaders_of(info).get(BrokersByDealIdLoader).load(deal.pk)

    @staticmethod
    def resolve_nda_signatures(deal: Deal, info: graphene.ResolveInfo) -> list[NdaSignature]:
        return loaders_of(info).get(NdaSignaturesByDealIdLoader).load(deal.pk)

    @staticmethod
    def resolve_offers(deal: Deal, info: graphene.ResolveInfo) -> list[Offer]:
        return loaders_of(info).get(OffersByDealIdLoader).load(deal.pk)

    @staticmethod
    def resolve_agreed_offer(deal: Deal, info: graphene.ResolveInfo) -> Offer | None:
        accepted = loaders_of(info).get(AcceptancesByOfferIdLoader)
        for offer in reversed(loaders_of(info).get(OffersByDealIdLoader).load(deal.pk)):
            if len(accepted.load(offer.pk)) == 2:
                return offer
        return None

    @staticmethod
    def resolve_milestones(deal: Deal, info: graphene.ResolveInfo) -> list[Milestone]:
        return loaders_of(info).get(MilestonesByDealIdLoader).load(deal.pk)


class DealQueries(graphene.ObjectType):
    deal = relay.Node.Field(DealNode, description="One of your deals by global id; null for anyone else's.")
    my_deals = ConnectionField(
        DealNode,
        state=graphene.Argument(DealStateEnum, description="Only deals in this state."),
        description="Deals you take part in (as a party's member or a broker), latest activity first.",
    )
    current_nda = graphene.Field(NdaTextType, description="The NDA text in force, when one is published.")

    @staticmethod
    def resolve_my_deals(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[Deal]:
        viewer = viewer_of(info)
        if not viewer.user.is_authenticated:
            raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see your deals.")
        deals = Deal.objects.filter(participation(info)).order_by("-updated_at", "-id")
        if filters.get("state"):
            deals = deals.filter(state=filters["state"])
        return deals

    @staticmethod
    def resolve_current_nda(root: None, info: graphene.ResolveInfo) -> NdaTemplate | None:
        return NdaTemplate.objects.order_by("-version").first()
