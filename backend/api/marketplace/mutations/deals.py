"""The deal workflow: inquiry, NDA, brokers, offers, milestones, cancellation."""

from typing import Any

import graphene

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.core.types import BigInt, MoneyInput
from backend.api.marketplace.deals import DealNode, OfferType
from backend.api.marketplace.listings import TransactionTypeEnum
from marketplace import actions
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms
from marketplace.error_codes import ActionError
from marketplace.error_codes import MarketplaceErrorCode as Code
from marketplace.models import BrokerProfile, Deal, Offer


def _deal_id(value: str) -> int:
    return decode_id(value, "Deal", "deal_id")


class DealMutation(BaseMutation):
    """A mutation on one deal, answering with the deal."""

    class Meta:
        abstract = True

    deal = graphene.Field(DealNode)


class OpenInquiryInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    buyer_id = graphene.ID(required=True, description="Your organisation, buying.")
    message = graphene.String(description="Your first message to the seller, up to 5,000 characters.")


class OpenInquiry(DealMutation):
    """Open a deal on a published listing for your organisation."""

    class Arguments:
        input = OpenInquiryInput(required=True)
        idempotency_key = idempotency_key_argument()

    errors = errors_field("OpenInquiry", [Code.OWN_LISTING, Code.DEAL_EXISTS, Code.IDEMPOTENCY_KEY_REUSED])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, input: Any, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        listing_id = decode_id(input.listing_id, "Listing", "listing_id")
        buyer_id = decode_id(input.buyer_id, "Organization", "buyer_id")
        message = input.message or ""
        if len(message) > 5_000:
            raise ActionError(Code.INVALID, "At most 5,000 characters.", "message")
        deal = idempotent(
            user,
            "open_inquiry",
            idempotency_key,
            dict(input),
            Deal,
            lambda: actions.open_inquiry(user, listing_id, buyer_id, message),
        )
        return {"deal": deal}


class RequestNda(DealMutation):
    """Ask both parties to sign the NDA."""

    class Arguments:
        deal_id = graphene.ID(required=True)

    errors = errors_field("RequestNda", [Code.INVALID_STATE])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, deal_id: str) -> dict[str, Any]:
        return {"deal": actions.request_nda(user, _deal_id(deal_id))}


class SignNda(DealMutation):
    """Sign the current NDA for your side, quoting the SHA-256 of the text you were shown (currentNda)."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        text_sha256 = graphene.String(required=True)

    errors = errors_field("SignNda", [Code.INVALID_STATE, Code.ALREADY_SIGNED, Code.NO_NDA_TEMPLATE])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, deal_id: str, text_sha256: str) -> dict[str, Any]:
        return {"deal": actions.sign_nda(user, _deal_id(deal_id), text_sha256)}


class BrokerShareInput(graphene.InputObjectType):
    broker_id = graphene.ID(required=True, description="A Broker id.")
    share_basis_points = graphene.Int(required=True, description="1 to 10,000; all shares sum to 10,000.")
    is_lead = graphene.Boolean(default_value=False, description="Exactly one broker leads.")


class AssignBrokers(DealMutation):
    """The seller (or the lead broker, or an operator) sets the deal's brokers and commission shares.
    An empty list removes all brokers."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        brokers = graphene.List(graphene.NonNull(BrokerShareInput), required=True)

    errors = errors_field(
        "AssignBrokers",
        [Code.INVALID_STATE, Code.SHARES_MUST_SUM_TO_100, Code.ONE_LEAD_BROKER, Code.NOT_A_BROKER],
    )

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, deal_id: str, brokers: list[Any]
    ) -> dict[str, Any]:
        if len(brokers) > 10:
            raise ActionError(Code.INVALID, "At most 10 brokers.", "brokers")
        profile_ids = [decode_id(b.broker_id, "Broker", "broker_id") for b in brokers]
        users = dict(BrokerProfile.objects.filter(pk__in=profile_ids).values_list("pk", "user_id"))
        if len(users) != len(set(profile_ids)):
            raise ActionError(Code.NOT_A_BROKER, "Every assignee must be a registered broker.", "broker_id")
        shares = [
            BrokerShare(broker_id=users[pid], share_bp=b.share_basis_points, is_lead=bool(b.is_lead))
            for pid, b in zip(profile_ids, brokers, strict=True)
        ]
        return {"deal": actions.assign_brokers(user, _deal_id(deal_id), shares)}


class OfferInput(graphene.InputObjectType):
    transaction_type = graphene.Field(TransactionTypeEnum, required=True)
    upfront = graphene.Field(MoneyInput, required=True, description="Paid through escrow milestones.")
    royalty_basis_points = graphene.Int(default_value=0, description="Running royalty, 0 to 10,000.")
    term_months = graphene.Int(description="1 to 600.")
    territory = graphene.String(description="Up to 100 characters.")
    exclusive = graphene.Boolean(default_value=False)
    note = graphene.String(description="Up to 5,000 characters.")
    counters_version = graphene.Int(description="The offer version this one answers.")


class MakeOffer(DealMutation):
    """Propose terms, or counter an earlier version. Offers are immutable versions."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        input = OfferInput(required=True)
        idempotency_key = idempotency_key_argument()

    offer = graphene.Field(OfferType)
    errors = errors_field("MakeOffer", [Code.INVALID_STATE, Code.IDEMPOTENCY_KEY_REUSED])

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        deal_id: str,
        input: Any,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        pk = _deal_id(deal_id)
        if len(input.territory or "") > 100:
            raise ActionError(Code.INVALID, "At most 100 characters.", "territory")
        if len(input.note or "") > 5_000:
            raise ActionError(Code.INVALID, "At most 5,000 characters.", "note")
        terms = Terms(
            transaction_type=input.transaction_type,
            upfront_amount=input.upfront.amount,
            currency=input.upfront.currency,
            royalty_bp=input.royalty_basis_points,
            term_months=input.term_months,
            territory=input.territory or "",
            exclusive=bool(input.exclusive),
            note=input.note or "",
        )
        request = {"deal": pk, **dict(input)}
        offer = idempotent(
            user,
            "make_offer",
            idempotency_key,
            request,
            Offer,
            lambda: actions.make_offer(user, pk, terms, input.counters_version),
        )
        return {"offer": offer, "deal": offer.deal}


class AcceptOffer(DealMutation):
    """Accept one exact offer version for your side; both sides on the latest version make an agreement."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        version = graphene.Int(required=True)

    errors = errors_field("AcceptOffer", [Code.INVALID_STATE, Code.OFFER_SUPERSEDED, Code.ALREADY_ACCEPTED])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, deal_id: str, version: int) -> dict[str, Any]:
        return {"deal": actions.accept_offer(user, _deal_id(deal_id), version)}


class MilestoneSpecInput(graphene.InputObjectType):
    title = graphene.String(required=True, description="Up to 200 characters.")
    amount = BigInt(required=True, description="Minor units in the agreed currency.")
    deliverables = graphene.String(description="What the buyer inspects.")
    inspection_days = graphene.Int(default_value=14, description="0 to 90 days.")


class SetMilestones(DealMutation):
    """Split the agreed upfront amount into milestones (replacing any not yet funded)."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        milestones = graphene.List(graphene.NonNull(MilestoneSpecInput), required=True)

    errors = errors_field("SetMilestones", [Code.INVALID_STATE, Code.MILESTONES_DO_NOT_MATCH_OFFER])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, deal_id: str, milestones: list[Any]
    ) -> dict[str, Any]:
        if len(milestones) > 20 or any(len(m.title) > 200 for m in milestones):
            raise ActionError(
                Code.INVALID, "At most 20 milestones, titles up to 200 characters.", "milestones"
            )
        specs = [
            MilestoneInput(
                title=m.title,
                amount=m.amount,
                deliverables=m.deliverables or "",
                inspection_days=m.inspection_days,
            )
            for m in milestones
        ]
        return {"deal": actions.set_milestones(user, _deal_id(deal_id), specs)}


class CancelDeal(DealMutation):
    """A party (or an operator) ends the deal, saying why."""

    class Arguments:
        deal_id = graphene.ID(required=True)
        reason = graphene.String(required=True, description="1 to 2,000 characters.")

    errors = errors_field("CancelDeal", [Code.INVALID_STATE])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, deal_id: str, reason: str) -> dict[str, Any]:
        if len(reason) > 2_000:
            raise ActionError(Code.INVALID, "At most 2,000 characters.", "reason")
        return {"deal": actions.cancel_deal(user, _deal_id(deal_id), reason)}


class DealMutations(graphene.ObjectType):
    open_inquiry = OpenInquiry.Field()
    request_nda = RequestNda.Field()
    sign_nda = SignNda.Field()
    assign_brokers = AssignBrokers.Field()
    make_offer = MakeOffer.Field()
    accept_offer = AcceptOffer.Field()
    set_milestones = SetMilestones.Field()
    cancel_deal = CancelDeal.Field()
