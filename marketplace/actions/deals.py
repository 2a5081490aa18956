"""The deal workflow: inquiry -> NDA -> negotiation (offer versions) -> agreement -> milestones.

Every action locks the deal row first (`access_deal(..., lock=True)`), so concurrent actions on one deal
run one after the other and each sees the state the previous one left.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from marketplace import audit
from marketplace.access import access_deal, deal_side, is_deal_broker, is_member, is_operator
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import (
    BrokerProfile,
    Deal,
    DealBroker,
    DealState,
    Listing,
    ListingStatus,
    Milestone,
    MilestoneState,
    NdaSignature,
    NdaTemplate,
    Offer,
    OfferAcceptance,
    Side,
    TransactionType,
)
from marketplace.validation import check_money

FINAL_STATES = {DealState.CANCELLED, DealState.SETTLED}


def _transition(user: User, deal: Deal, to: DealState, action: str, **data: object) -> None:
    before = deal.state
    deal.state = to
    deal.save(update_fields=["state", "updated_at"])
    audit.record(user, deal, action, before, to, **data)


def _require_state(deal: Deal, *states: DealState) -> None:
    if deal.state not in states:
        allowed = ", ".join(states)
        raise ActionError(
            MarketplaceErrorCode.INVALID_STATE, f"The deal is {deal.state}; this needs {allowed}."
        )


def _require_party(user: User, deal: Deal) -> Side:
    side = deal_side(user, deal)
    if side is None:
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only the seller or the buyer may do this.")
    return side


@transaction.atomic
def open_inquiry(user: User, listing_id: int, buyer_id: int, message: str = "") -> Deal:
    listing = Listing.objects.filter(pk=listing_id).first()
    if listing is None or listing.status not in (ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION):
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such listing.", "listing_id")
    if not is_member(user, buyer_id):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Inquire for your own organisation.", "buyer_id"
        )
    if buyer_id == listing.seller_id:
        raise ActionError(MarketplaceErrorCode.OWN_LISTING, "An organisation cannot buy its own listing.")
    try:
        with transaction.atomic():
            deal = Deal.objects.create(listing=listing, buyer_id=buyer_id, created_by=user, message=message)
    except IntegrityError as exc:
        # The unique constraint, not a prior check, decides: two concurrent inquiries make one deal.
        raise ActionError(
            MarketplaceErrorCode.DEAL_EXISTS, "Your organisation already has a deal here."
        ) from exc
    audit.record(user, deal, "open_inquiry", "", DealState.INQUIRY)
    return deal


@transaction.atomic
def request_nda(user: User, deal_id: int) -> Deal:
    deal = access_deal(user, deal_id, lock=True)
    _require_state(deal, DealState.INQUIRY)
    if deal_side(user, deal) is None and not is_deal_broker(user, deal):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the parties or their brokers ask for the NDA."
        )
    _transition(user, deal, DealState.NDA_PENDING, "request_nda")
    return deal


def current_nda() -> NdaTemplate:
    template = NdaTemplate.objects.order_by("-version").first()
    if template is None:
        raise ActionError(MarketplaceErrorCode.NO_NDA_TEMPLATE, "No NDA text has been published.")
    return template


def nda_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def sign_nda(user: User, deal_id: int, text_sha256: str) -> Deal:
    """Sign the current NDA for the user's side. The client sends the hash of the text it showed, so a
    signature can never cover a text the signer did not see."""
    deal = access_deal(user, deal_id, lock=True)
    _require_state(deal, DealState.NDA_PENDING)
    side = _require_party(user, deal)
    template = current_nda()
    if text_sha256 != template.text_sha256:
        raise ActionError(
            MarketplaceErrorCode.INVALID, "The NDA text has changed; reload and sign again.", "text_sha256"
        )
    if NdaSignature.objects.filter(deal=deal, side=side).exists():
        raise ActionError(MarketplaceErrorCode.ALREADY_SIGNED, f"The {side} side has already signed.")
    NdaSignature.objects.create(
        deal=deal, template=template, side=side, signer=user, text_sha256=template.text_sha256
    )
    audit.record(user, deal, "sign_nda", deal.state, deal.state, side=side, nda_version=template.version)
    if NdaSignature.objects.filter(deal=deal).count() == 2:
        _transition(user, deal, DealState.NDA_SIGNED, "nda_completed")
    return deal


@dataclass(frozen=True)
class BrokerShare:
    broker_id: int
    share_bp: int
    is_lead: bool = False


@transaction.atomic
def assign_brokers(user: User, deal_id: int, shares: Sequence[BrokerShare]) -> Deal:
    deal = access_deal(user, deal_id, lock=True)
    if deal.state in FINAL_STATES:
        raise ActionError(MarketplaceErrorCode.INVALID_STATE, f"The deal is {deal.state}.")
    lead = deal.brokers.filter(is_lead=True).first()
    is_lead = lead is not None and lead.broker_id == user.pk
    if not (is_member(user, deal.listing.seller_id) or is_operator(user) or is_lead):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "The seller or the lead broker assigns brokers."
        )
    if shares:
        if sum(s.share_bp for s in shares) != 10_000 or any(s.share_bp <= 0 for s in shares):
            raise ActionError(
                MarketplaceErrorCode.SHARES_MUST_SUM_TO_100, "Shares must be positive and sum to 100%."
            )
        if sum(1 for s in shares if s.is_lead) != 1:
            raise ActionError(MarketplaceErrorCode.ONE_LEAD_BROKER, "Exactly one broker leads.")
        ids = [s.broker_id for s in shares]
        if len(set(ids)) != len(ids) or BrokerProfile.objects.filter(user_id__in=ids).count() != len(ids):
            raise ActionError(
                MarketplaceErrorCode.NOT_A_BROKER, "Every assignee must be a registered broker."
            )
    deal.brokers.all().delete()
    DealBroker.objects.bulk_create(
        DealBroker(deal=deal, broker_id=s.broker_id, share_bp=s.share_bp, is_lead=s.is_lead) for s in shares
    )
    audit.record(
        user,
        deal,
        "assign_brokers",
        deal.state,
        deal.state,
        shares=[[s.broker_id, s.share_bp, s.is_lead] for s in shares],
    )
    return deal


@dataclass(frozen=True)
class Terms:
    transaction_type: str
    upfront_amount: int
    currency: str
    royalty_bp: int = 0
    term_months: int | None = None
    territory: str = ""
    exclusive: bool = False
    note: str = ""


def _check_terms(terms: Terms) -> None:
    if terms.transaction_type not in TransactionType.values:
        raise ActionError(MarketplaceErrorCode.INVALID, "Unknown transaction type.", "transaction_type")
    check_money(terms.upfront_amount, terms.currency, "upfront_amount")
    if not 0 <= terms.royalty_bp <= 10_000:
        raise ActionError(MarketplaceErrorCode.INVALID, "Royalty is between 0 and 100%.", "royalty_bp")
    if terms.term_months is not None and not 1 <= terms.term_months <= 600:
        raise ActionError(MarketplaceErrorCode.INVALID, "Term is between 1 and 600 months.", "term_months")


@transaction.atomic
def make_offer(user: User, deal_id: int, terms: Terms, counters_version: int | None = None) -> Offer:
    deal = access_deal(user, deal_id, lock=True)
    _require_state(deal, DealState.NDA_SIGNED, DealState.NEGOTIATING)
    side = deal_side(user, deal)
    if side is None and not is_deal_broker(user, deal):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the parties or their brokers make offers."
        )
    _check_terms(terms)
    counters = None
    if counters_version is not None:
        counters = deal.offers.filter(version=counters_version).first()
        if counters is None:
            raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such offer version.", "counters_version")
    version = (deal.offers.aggregate(v=Max("version"))["v"] or 0) + 1
    offer = Offer.objects.create(
        deal=deal,
        version=version,
        counters=counters,
        proposed_by=user,
        proposed_for=side or "",
        transaction_type=terms.transaction_type,
        upfront_amount=terms.upfront_amount,
        currency=terms.currency.upper(),
        royalty_bp=terms.royalty_bp,
        term_months=terms.term_months,
        territory=terms.territory,
        exclusive=terms.exclusive,
        note=terms.note,
    )
    if deal.state != DealState.NEGOTIATING:
        _transition(user, deal, DealState.NEGOTIATING, "start_negotiation")
        Listing.objects.filter(pk=deal.listing_id, status=ListingStatus.PUBLISHED).update(
            status=ListingStatus.UNDER_NEGOTIATION
        )
    audit.record(user, deal, "make_offer", deal.state, deal.state, version=version, counters=counters_version)
    return offer


@transaction.atomic
def accept_offer(user: User, deal_id: int, version: int) -> Deal:
    """Accept one exact version. Only the latest version can be accepted: a newer one supersedes it."""
    deal = access_deal(user, deal_id, lock=True)
    _require_state(deal, DealState.NEGOTIATING)
    side = _require_party(user, deal)
    latest = deal.offers.order_by("-version").first()
    if latest is None or version != latest.version:
        raise ActionError(
            MarketplaceErrorCode.OFFER_SUPERSEDED, "Only the latest offer can be accepted.", "version"
        )
    if OfferAcceptance.objects.filter(offer=latest, side=side).exists():
        raise ActionError(MarketplaceErrorCode.ALREADY_ACCEPTED, f"The {side} side has already accepted it.")
    OfferAcceptance.objects.create(offer=latest, side=side, accepted_by=user)
    audit.record(user, deal, "accept_offer", deal.state, deal.state, version=version, side=side)
    if latest.acceptances.count() == 2:
        _transition(user, deal, DealState.AGREED, "agree", version=version)
    return deal


def agreed_offer(deal: Deal) -> Offer | None:
    for offer in deal.offers.order_by("-version").prefetch_related("acceptances"):
        if len(offer.acceptances.all()) == 2:
            return offer
    return None


@dataclass(frozen=True)
class MilestoneInput:
    title: str
    amount: int
    deliverables: str = ""
    inspection_days: int = 14


@transaction.atomic
def set_milestones(user: User, deal_id: int, milestones: Sequence[MilestoneInput]) -> Deal:
    """Split the agreed upfront amount into milestones (replacing any not yet funded)."""
    deal = access_deal(user, deal_id, lock=True)
    _require_state(deal, DealState.AGREED)
    if deal_side(user, deal) is None and not is_deal_broker(user, deal):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the parties or their brokers set milestones."
        )
    offer = agreed_offer(deal)
    if offer is None:  # cannot happen: AGREED is only reached when both sides accept one version
        raise ActionError(MarketplaceErrorCode.INVALID_STATE, "The deal has no agreed offer.")
    if not milestones:
        raise ActionError(MarketplaceErrorCode.INVALID, "Give at least one milestone.", "milestones")
    for m in milestones:
        check_money(m.amount, offer.currency, "amount")
        if not m.title.strip():
            raise ActionError(MarketplaceErrorCode.INVALID, "Every milestone needs a title.", "title")
        if not 0 <= m.inspection_days <= 90:
            raise ActionError(
                MarketplaceErrorCode.INVALID, "Inspection lasts 0 to 90 days.", "inspection_days"
            )
    if sum(m.amount for m in milestones) != offer.upfront_amount:
        raise ActionError(
            MarketplaceErrorCode.MILESTONES_DO_NOT_MATCH_OFFER,
            f"Milestones must add up to the agreed {offer.upfront_amount} {offer.currency}.",
            "milestones",
        )
    # A milestone with an escrow record has a payment under way (its PaymentIntent exists): keep it.
    if deal.milestones.filter(Q(escrow__isnull=False) | ~Q(state=MilestoneState.PENDING)).exists():
        raise ActionError(MarketplaceErrorCode.INVALID_STATE, "A milestone is already being paid.")
    deal.milestones.all().delete()
    Milestone.objects.bulk_create(
        Milestone(
            deal=deal,
            sequence=i,
            title=m.title.strip(),
            amount=m.amount,
            currency=offer.currency,
            deliverables=m.deliverables,
            inspection_days=m.inspection_days,
        )
        for i, m in enumerate(milestones, start=1)
    )
    audit.record(user, deal, "set_milestones", deal.state, deal.state, amounts=[m.amount for m in milestones])
    return deal


@transaction.atomic
def cancel_deal(user: User, deal_id: int, reason: str) -> Deal:
    deal = access_deal(user, deal_id, lock=True)
    if deal.state in FINAL_STATES or deal.state in (DealState.IN_ESCROW, DealState.DISPUTED):
        raise ActionError(
            MarketplaceErrorCode.INVALID_STATE, f"A deal that is {deal.state} cannot be cancelled here."
        )
    if deal_side(user, deal) is None and not is_operator(user):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the parties or an operator cancel a deal."
        )
    if not reason.strip():
        raise ActionError(MarketplaceErrorCode.INVALID, "Say why the deal is cancelled.", "reason")
    deal.cancellation_reason = reason.strip()
    deal.save(update_fields=["cancellation_reason"])
    _transition(user, deal, DealState.CANCELLED, "cancel_deal", reason=deal.cancellation_reason)
    return deal
