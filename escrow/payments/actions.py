"""Payment trust deposits for deal milestones: fund, deliver, accept, release, refund, disputes.

Every action locks the deal row and then the milestone row (always in that order), checks access and
state, and refuses with ActionError before writing anything. Money moves in two steps: the ledger
transaction and the GatewayOperation rows it requires are written together in the action's transaction;
the gateway calls run after commit (escrow.payments.operations) with idempotency keys derived from the
ledger key, so retries, duplicate requests and crashes never move money twice.
"""

import logging
from datetime import timedelta
from functools import partial
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from escrow import ledger
from escrow.error_codes import EscrowErrorCode
from escrow.ledger import Posting
from escrow.models import (
    ConnectedAccount,
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    LedgerTransaction,
    OperationKind,
    OperationStatus,
)
from escrow.payments import operations
from escrow.payments.accounts import payee_ready
from escrow.payments.gateway import Gateway, GatewayError, get_gateway
from escrow.vault.releases import release_for_milestone
from marketplace import audit
from marketplace.access import can_see_deal, deal_side, is_deal_broker, is_operator
from marketplace.error_codes import ActionError
from marketplace.models import Deal, DealState, Membership, Milestone, MilestoneState, Side

log = logging.getLogger(__name__)

# Milestone states in which money can be held (a disputed milestone holds money too, frozen).
HOLDING = (MilestoneState.FUNDED, MilestoneState.DELIVERED, MilestoneState.ACCEPTED)
CLOSED = (MilestoneState.RELEASED, MilestoneState.REFUNDED)

FUND, RELEASE, REFUND, CHARGEBACK = "fund", "release", "refund", "chargeback"  # ledger kinds
LOST, WON = "lost", "won"  # how a card dispute ends
RESOLUTIONS = ("release", "refund", "split")  # how an operator ends a party's dispute


def _refuse(code: EscrowErrorCode, message: str, field: str | None = None) -> NoReturn:
    raise ActionError(code, message, field)


# --- locking and access ------------------------------------------------------------------------------


def lock_milestone(milestone_id: int, user: User | None = None) -> tuple[Deal, Milestone]:
    """Lock the milestone's deal and then the milestone (the fixed order every escrow write uses).
    With a user, someone who may not see the deal gets NOT_FOUND (nobody learns that it exists)."""
    deal_id = Milestone.objects.filter(pk=milestone_id).values_list("deal_id", flat=True).first()
    if deal_id is None:
        _refuse(EscrowErrorCode.NOT_FOUND, "No such milestone.", "milestone_id")
    deal = Deal.objects.select_related("listing").select_for_update(of=("self",)).get(pk=deal_id)
    # filter().first(): set_milestones may have replaced a pending milestone while we waited for the lock.
    milestone = Milestone.objects.select_for_update().filter(pk=milestone_id, deal_id=deal_id).first()
    if milestone is None or (user is not None and not can_see_deal(user, deal)):
        _refuse(EscrowErrorCode.NOT_FOUND, "No such milestone.", "milestone_id")
    return deal, milestone


def _escrow(milestone: Milestone) -> EscrowMilestone:
    """The milestone's escrow record (read under the milestone's lock, which guards it)."""
    record = EscrowMilestone.objects.filter(milestone=milestone).first()
    if record is None:
        _refuse(EscrowErrorCode.NOT_FUNDED, "This milestone has not been funded.", "milestone_id")
    return record


def _require_side(user: User, deal: Deal, *sides: Side, operator: bool = False, broker: bool = False) -> None:
    if (
        deal_side(user, deal) in sides
        or (operator and is_operator(user))
        or (broker and is_deal_broker(user, deal))
    ):
        return
    _refuse(EscrowErrorCode.PERMISSION_DENIED, "You may not do this on this deal.")


def open_dispute_of(milestone: Milestone) -> Dispute | None:
    return Dispute.objects.filter(milestone=milestone, state=DisputeState.OPEN).first()


def _require_not_frozen(milestone: Milestone) -> None:
    if milestone.state == MilestoneState.DISPUTED or open_dispute_of(milestone) is not None:
        _refuse(EscrowErrorCode.FROZEN, "A dispute has frozen this milestone until an operator resolves it.")


def _require_holding(milestone: Milestone) -> None:
    if milestone.state == MilestoneState.PENDING:
        _refuse(EscrowErrorCode.NOT_FUNDED, "This milestone has not been funded.")
    if milestone.state == MilestoneState.RELEASED:
        _refuse(EscrowErrorCode.ALREADY_RELEASED, "This milestone has been released.")
    if milestone.state not in HOLDING:
        _refuse(EscrowErrorCode.INVALID_STATE, f"The milestone is {milestone.state}.")


def _set_state(
    actor: User | None, milestone: Milestone, to: MilestoneState, action: str, **data: Any
) -> None:
    before = milestone.state
    milestone.state = to
    milestone.save(update_fields=["state"])
    audit.record(actor, milestone, action, before, to, **data)


def _set_deal_state(actor: User | None, deal: Deal, to: DealState, action: str) -> None:
    before = deal.state
    deal.state = to
    deal.save(update_fields=["state", "updated_at"])
    audit.record(actor, deal, action, before, to)


def members(*organization_ids: int) -> list[int]:
    return list(
        Membership.objects.filter(organization_id__in=organization_ids).values_list("user_id", flat=True)
    )


# --- payees ---------------------------------------------------------------------------------------------


def payee_destinations(deal: Deal) -> tuple[str, dict[int, str]]:
    """The seller's and each deal broker's connected account id; PAYEE_NOT_READY names who is not."""
    seller = ConnectedAccount.objects.filter(organization_id=deal.listing.seller_id).first()
    if seller is None or not payee_ready(seller):
        _refuse(EscrowErrorCode.PAYEE_NOT_READY, "The seller has not finished payout onboarding.", "seller")
    broker_ids = sorted(deal.brokers.values_list("broker_id", flat=True))
    accounts = {a.broker_id: a for a in ConnectedAccount.objects.filter(broker_id__in=broker_ids)}
    destinations: dict[int, str] = {}
    for broker_id in broker_ids:
        account = accounts.get(broker_id)
        if account is None or not payee_ready(account):
            name = User.objects.filter(pk=broker_id).values_list("username", flat=True).first()
            _refuse(
                EscrowErrorCode.PAYEE_NOT_READY,
                f"Broker {name} has not finished payout onboarding.",
                f"broker:{broker_id}",
            )
        destinations[broker_id] = account.provider_account_id
    return seller.provider_account_id, destinations


def _schedule(op_ids: list[int], gateway: Gateway | None) -> None:
    if op_ids:
        transaction.on_commit(partial(operations.execute_quietly, op_ids, gateway))


def _next_key(milestone: Milestone, kind: str) -> str:
    # Deterministic under the milestone lock: a retry of the same request after a crash before commit
    # computes the same key; a later request gets the next number.
    n = LedgerTransaction.objects.filter(milestone=milestone, kind=kind).count() + 1
    return f"{kind}:m{milestone.pk}:{n}"


def _was_released(milestone: Milestone) -> bool:
    return LedgerTransaction.objects.filter(milestone=milestone, kind=RELEASE).exists()


def _settle_if_done(actor: User | None, deal: Deal) -> None:
    if deal.state != DealState.SETTLED and not deal.milestones.exclude(state__in=CLOSED).exists():
        _set_deal_state(actor, deal, DealState.SETTLED, "settle")


# --- funding --------------------------------------------------------------------------------------------


@transaction.atomic
def fund_milestone(user: User, milestone_id: int, gateway: Gateway | None = None) -> EscrowMilestone:
    """Create (once) the PaymentIntent the buyer pays this milestone with; its client secret is on the
    returned record. A repeat before the payment has arrived returns the same intent."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.BUYER)
    if deal.state not in (DealState.AGREED, DealState.IN_ESCROW):
        _refuse(EscrowErrorCode.INVALID_STATE, f"The deal is {deal.state}; funding needs an agreed deal.")
    if milestone.state != MilestoneState.PENDING:
        _refuse(EscrowErrorCode.ALREADY_FUNDED, "This milestone is already funded.")
    record = EscrowMilestone.objects.filter(milestone=milestone).first()
    if record is not None and record.payment_intent_id:
        return record
    payee_destinations(deal)
    key = f"fund:m{milestone.pk}:pi"
    op, _ = GatewayOperation.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": OperationKind.PAYMENT_INTENT,
            "milestone": milestone,
            "amount": milestone.amount,
            "currency": milestone.currency,
        },
    )
    # The call runs inside the transaction: if we crash before commit, the retry sends the same key and
    # the gateway returns the same intent, so there is never a second one to pay.
    try:
        intent = (gateway or get_gateway()).create_payment_intent(
            amount=milestone.amount,
            currency=milestone.currency,
            transfer_group=operations.transfer_group(deal.pk),
            metadata={"milestone": str(milestone.pk), "deal": str(deal.pk)},
            idempotency_key=key,
        )
    except GatewayError as error:
        _refuse(EscrowErrorCode.GATEWAY_ERROR, f"The payment provider did not answer: {error}")
    op.status, op.provider_id, op.attempts = OperationStatus.SUCCEEDED, intent.id, op.attempts + 1
    op.save(update_fields=["status", "provider_id", "attempts", "updated_at"])
    record = record or EscrowMilestone(milestone=milestone)
    record.payment_intent_id, record.client_secret = intent.id, intent.client_secret
    record.save()
    audit.record(
        user,
        milestone,
        "fund_milestone",
        milestone.state,
        milestone.state,
        payment_intent=intent.id,
        amount=milestone.amount,
        currency=milestone.currency,
    )
    return record


def _find_escrow(payment_intent: dict[str, Any]) -> EscrowMilestone | None:
    intent_id = str(payment_intent.get("id") or "")
    record = EscrowMilestone.objects.filter(payment_intent_id=intent_id).first() if intent_id else None
    if record is not None:
        return record
    # The intent was created but our commit of its id was lost (a crash): its metadata names the milestone.
    milestone_id = str((payment_intent.get("metadata") or {}).get("milestone") or "")
    if not milestone_id.isdigit():
        return None
    record = EscrowMilestone.objects.filter(milestone_id=int(milestone_id)).first()
    if record is not None and record.payment_intent_id and record.payment_intent_id != intent_id:
        log.warning(
            "payment %s names milestone %s, which has intent %s",
            intent_id,
            milestone_id,
            record.payment_intent_id,
        )
        return None
    return record


@transaction.atomic
def record_funding(payment_intent: dict[str, Any]) -> Milestone | None:
    """A succeeded PaymentIntent (its event, or reconciliation): book the money as held, once.

    Returns the milestone, or None when the intent is not one of ours or has not succeeded."""
    if payment_intent.get("status") != "succeeded":
        return None
    received = int(payment_intent.get("amount_received") or 0)
    found = _find_escrow(payment_intent)
    if found is None or received <= 0:
        log.warning("ignoring payment %s: no escrow milestone or nothing received", payment_intent.get("id"))
        return None
    deal, milestone = lock_milestone(found.milestone_id)
    record = EscrowMilestone.objects.get(pk=found.pk)
    currency = str(payment_intent.get("currency") or "").upper()
    if currency != milestone.currency:
        # Cannot happen with intents we created; left unbooked, reconciliation reports it to an operator.
        log.error(
            "payment %s is in %s, its milestone in %s", payment_intent.get("id"), currency, milestone.currency
        )
        return None
    txn = ledger.post(
        f"{FUND}:m{milestone.pk}",
        FUND,
        milestone,
        [Posting(LedgerAccount.BUYER_FUNDING, -received), Posting(LedgerAccount.HELD, received)],
        memo=str(payment_intent["id"]),
    )
    if txn is None:
        return milestone  # booked before: a duplicate event, or reconciliation after the event
    now = timezone.now()
    record.payment_intent_id = record.payment_intent_id or str(payment_intent["id"])
    record.funded_at = now
    record.hold_expires_at = now + timedelta(days=settings.ESCROW_MAX_HOLD_DAYS)
    record.save(update_fields=["payment_intent_id", "funded_at", "hold_expires_at"])
    # A dispute may have come first (events arrive in any order): the milestone then stays disputed.
    to = (
        MilestoneState.FUNDED
        if milestone.state == MilestoneState.PENDING
        else MilestoneState(milestone.state)
    )
    _set_state(
        None, milestone, to, "record_funding", amount=received, payment_intent=record.payment_intent_id
    )
    if deal.state == DealState.AGREED:
        _set_deal_state(None, deal, DealState.IN_ESCROW, "escrow_funded")
    operations.notify(
        members(deal.listing.seller_id),
        "escrow_funded",
        f"Milestone {milestone.sequence} is funded: {received} {milestone.currency} held in trust",
        f"escrow:funded:m{milestone.pk}",
        deal_id=deal.pk,
        milestone_id=milestone.pk,
    )
    # A chargeback the buyer won before we saw the payment takes the money back now.
    for dispute in Dispute.objects.filter(milestone=milestone, resolution=LOST).exclude(
        provider_dispute_id=None
    ):
        apply_chargeback(deal, milestone, dispute)
    if deal.state == DealState.CANCELLED and milestone.state == MilestoneState.FUNDED:
        # Paid after the deal was cancelled (an intent created before): straight back to the buyer.
        refund_locked(None, deal, milestone, None, reason="paid after the deal was cancelled", settle=False)
    return milestone


# --- delivery and acceptance ----------------------------------------------------------------------------


@transaction.atomic
def confirm_delivery(user: User, milestone_id: int) -> Milestone:
    """The seller (or a deal broker) says the deliverables are handed over; the inspection clock starts."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.SELLER, broker=True)
    _require_not_frozen(milestone)
    _require_holding(milestone)
    if milestone.state != MilestoneState.FUNDED:
        _refuse(EscrowErrorCode.INVALID_STATE, f"The milestone is already {milestone.state}.")
    record = _escrow(milestone)
    record.delivered_at = timezone.now()
    record.inspection_ends_at = record.delivered_at + timedelta(days=milestone.inspection_days)
    record.save(update_fields=["delivered_at", "inspection_ends_at"])
    _set_state(user, milestone, MilestoneState.DELIVERED, "confirm_delivery")
    return milestone


def accept_locked(
    actor: User | None, deal: Deal, milestone: Milestone, gateway: Gateway | None, reason: str
) -> Milestone:
    """Accept and release everything held, materials included (the caller holds the locks)."""
    record = _escrow(milestone)
    record.accepted_at = timezone.now()
    record.save(update_fields=["accepted_at"])
    _set_state(actor, milestone, MilestoneState.ACCEPTED, "accept_milestone", reason=reason)
    release_funds(actor, milestone, None, final=True, reason=reason, gateway=gateway, deal=deal)
    return milestone


@transaction.atomic
def accept_milestone(user: User, milestone_id: int, gateway: Gateway | None = None) -> Milestone:
    """The buyer accepts: the final release of everything held, and the milestone's materials, at once."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.BUYER)
    _require_not_frozen(milestone)
    _require_holding(milestone)
    return accept_locked(user, deal, milestone, gateway, "accepted by the buyer")


# --- releases and refunds -------------------------------------------------------------------------------


def release_funds(
    actor: User | None,
    milestone: Milestone,
    amount: int | None,
    *,
    final: bool,
    reason: str,
    resolving: bool = False,
    gateway: Gateway | None = None,
    deal: Deal | None = None,
) -> LedgerTransaction | None:
    """Release `amount` (None: all that is held) to the seller and brokers, the fee to the platform.

    The caller holds the deal's and milestone's locks. `final` also releases the milestone's deposited
    materials in this same transaction (both or neither) and closes the milestone. Only a dispute's
    resolution (`resolving`) may release while a dispute is open."""
    deal = deal or Deal.objects.select_related("listing").get(pk=milestone.deal_id)
    if not resolving:
        _require_not_frozen(milestone)
    held = ledger.held(milestone.pk)
    amount = held if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0 or (amount == 0 and not final):
        _refuse(EscrowErrorCode.INVALID, "Release a positive amount in minor units.", "amount")
    if amount > held:
        _refuse(EscrowErrorCode.AMOUNT_EXCEEDS_HELD, f"Only {held} {milestone.currency} is held.", "amount")
    txn = None
    if amount > 0:
        seller, brokers = payee_destinations(deal)
        shares = dict(deal.brokers.values_list("broker_id", "share_bp"))
        fee, commissions, seller_part = ledger.split_release(
            amount, settings.ESCROW_PLATFORM_FEE_BP, deal.broker_commission_bp, shares
        )
        postings = [Posting(LedgerAccount.HELD, -amount)]
        payouts: list[tuple[str, int]] = []
        if seller_part:
            postings.append(Posting(LedgerAccount.SELLER_PAYABLE, seller_part))
            payouts.append((seller, seller_part))
        for broker_id, commission in sorted(commissions.items()):
            if commission:
                postings.append(Posting(LedgerAccount.BROKER_PAYABLE, commission, broker_id))
                payouts.append((brokers[broker_id], commission))
        if fee:
            postings.append(Posting(LedgerAccount.PLATFORM_FEE, fee))
        txn = ledger.post(
            _next_key(milestone, RELEASE), RELEASE, milestone, postings, actor=actor, memo=reason[:300]
        )
        if txn is None:  # cannot happen under the lock; refuse rather than pay without a booking
            raise RuntimeError(f"release of milestone {milestone.pk} collided with an existing key")
        ops = GatewayOperation.objects.bulk_create(
            GatewayOperation(
                idempotency_key=f"{txn.key}:transfer:{destination}",
                kind=OperationKind.TRANSFER,
                milestone=milestone,
                ledger_transaction=txn,
                destination=destination,
                amount=part,
                currency=milestone.currency,
            )
            for destination, part in payouts
        )
        _schedule([op.pk for op in ops], gateway)
    audit.record(
        actor,
        milestone,
        "release_funds",
        milestone.state,
        milestone.state,
        amount=amount,
        final=final,
        reason=reason,
    )
    if final:
        release_for_milestone(milestone, actor)
        record = _escrow(milestone)
        record.released_at = timezone.now()
        record.save(update_fields=["released_at"])
        _set_state(actor, milestone, MilestoneState.RELEASED, "release_milestone", reason=reason)
        _settle_if_done(actor, deal)
    return txn


@transaction.atomic
def partial_release(user: User, milestone_id: int, amount: int, gateway: Gateway | None = None) -> Milestone:
    """Release part of what is held before acceptance (the buyer, or an operator). The milestone stays
    open; its materials stay sealed until the final release."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.BUYER, operator=True)
    _require_not_frozen(milestone)
    _require_holding(milestone)
    release_funds(user, milestone, amount, final=False, reason="partial release", gateway=gateway, deal=deal)
    return milestone


def refund_locked(
    actor: User | None,
    deal: Deal,
    milestone: Milestone,
    amount: int | None,
    *,
    reason: str,
    gateway: Gateway | None = None,
    settle: bool = True,
) -> LedgerTransaction:
    """Give `amount` (None: all that is held) back to the buyer (the caller holds the locks and has
    checked the dispute freeze). The milestone becomes refunded when nothing remains and nothing was
    released; after a partial release it stays open (a partial refund is then a price reduction)."""
    held = ledger.held(milestone.pk)
    amount = held if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        if held == 0:
            _refuse(EscrowErrorCode.NOT_FUNDED, "Nothing is held for this milestone.")
        _refuse(EscrowErrorCode.INVALID, "Refund a positive amount in minor units.", "amount")
    if amount > held:
        _refuse(EscrowErrorCode.AMOUNT_EXCEEDS_HELD, f"Only {held} {milestone.currency} is held.", "amount")
    txn = ledger.post(
        _next_key(milestone, REFUND),
        REFUND,
        milestone,
        [Posting(LedgerAccount.HELD, -amount), Posting(LedgerAccount.REFUNDED, amount)],
        actor=actor,
        memo=reason[:300],
    )
    if txn is None:
        raise RuntimeError(f"refund of milestone {milestone.pk} collided with an existing key")
    op = GatewayOperation.objects.create(
        idempotency_key=f"{txn.key}:refund",
        kind=OperationKind.REFUND,
        milestone=milestone,
        ledger_transaction=txn,
        amount=amount,
        currency=milestone.currency,
    )
    _schedule([op.pk], gateway)
    audit.record(actor, milestone, "refund", milestone.state, milestone.state, amount=amount, reason=reason)
    if held == amount and not _was_released(milestone):
        _set_state(actor, milestone, MilestoneState.REFUNDED, "refund_milestone", reason=reason)
        if settle:
            _settle_if_done(actor, deal)
    return txn


@transaction.atomic
def refund_milestone(
    user: User, milestone_id: int, amount: int | None = None, gateway: Gateway | None = None
) -> Milestone:
    """Refund the buyer (an operator, or the seller side voluntarily)."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.SELLER, operator=True)
    _require_not_frozen(milestone)
    _require_holding(milestone)
    refund_locked(user, deal, milestone, amount, reason="refund", gateway=gateway)
    return milestone


@transaction.atomic
def cancel_funded_deal(user: User, deal_id: int, reason: str, gateway: Gateway | None = None) -> Deal:
    """Cancel a deal in escrow (an operator, or the seller side): everything still held goes back to the
    buyer. Refused while any milestone is disputed; milestones already released stay released."""
    deal = Deal.objects.select_related("listing").select_for_update(of=("self",)).filter(pk=deal_id).first()
    if deal is None or not can_see_deal(user, deal):
        _refuse(EscrowErrorCode.NOT_FOUND, "No such deal.", "deal_id")
    _require_side(user, deal, Side.SELLER, operator=True)
    if deal.state not in (DealState.AGREED, DealState.IN_ESCROW):
        _refuse(EscrowErrorCode.INVALID_STATE, f"The deal is {deal.state}.")
    if not reason.strip():
        _refuse(EscrowErrorCode.INVALID, "Say why the deal is cancelled.", "reason")
    milestones = list(Milestone.objects.filter(deal=deal).order_by("pk").select_for_update())
    for milestone in milestones:
        _require_not_frozen(milestone)
    why = f"deal cancelled: {reason.strip()}"
    for milestone in milestones:
        if milestone.state in HOLDING and ledger.held(milestone.pk) > 0:
            refund_locked(user, deal, milestone, None, reason=why, gateway=gateway, settle=False)
    deal.cancellation_reason = reason.strip()
    deal.save(update_fields=["cancellation_reason"])
    _set_deal_state(user, deal, DealState.CANCELLED, "cancel_funded_deal")
    return deal


# --- disputes -------------------------------------------------------------------------------------------


def _state_before_dispute(record: EscrowMilestone | None) -> MilestoneState:
    """Where a milestone returns when a dispute ends without moving its money: read off its clock."""
    if record is None or record.funded_at is None:
        return MilestoneState.PENDING
    if record.released_at is not None:
        return MilestoneState.RELEASED
    if record.accepted_at is not None:
        return MilestoneState.ACCEPTED
    if record.delivered_at is not None:
        return MilestoneState.DELIVERED
    return MilestoneState.FUNDED


@transaction.atomic
def open_dispute(user: User, milestone_id: int, reason: str) -> Dispute:
    """Either side disputes a milestone holding money: it is frozen until an operator resolves it."""
    deal, milestone = lock_milestone(milestone_id, user)
    _require_side(user, deal, Side.SELLER, Side.BUYER)
    if not reason.strip():
        _refuse(EscrowErrorCode.INVALID, "Say what the dispute is about.", "reason")
    if open_dispute_of(milestone) is not None:
        _refuse(EscrowErrorCode.DISPUTE_OPEN, "A dispute is already open on this milestone.")
    _require_holding(milestone)
    if ledger.held(milestone.pk) <= 0:
        _refuse(EscrowErrorCode.NOT_FUNDED, "Nothing is held for this milestone.")
    dispute = Dispute.objects.create(milestone=milestone, opened_by=user, reason=reason.strip())
    _set_state(user, milestone, MilestoneState.DISPUTED, "open_dispute", dispute_id=dispute.pk)
    operations.notify(
        operations.operator_ids() + members(deal.listing.seller_id, deal.buyer_id),
        "escrow_dispute_opened",
        f"Milestone {milestone.sequence} is disputed and frozen",
        f"escrow:dispute:{dispute.pk}",
        deal_id=deal.pk,
        milestone_id=milestone.pk,
    )
    return dispute


@transaction.atomic
def resolve_dispute(
    operator: User,
    dispute_id: int,
    resolution: str,
    release_amount: int | None = None,
    gateway: Gateway | None = None,
) -> Dispute:
    """An operator ends a dispute: release everything held, refund it, or split it (release
    `release_amount`, refund the rest). A release here is final: the materials go with it."""
    milestone_id = Dispute.objects.filter(pk=dispute_id).values_list("milestone_id", flat=True).first()
    if milestone_id is None:
        _refuse(EscrowErrorCode.NOT_FOUND, "No such dispute.", "dispute_id")
    deal, milestone = lock_milestone(milestone_id, operator)
    if not is_operator(operator):
        _refuse(EscrowErrorCode.PERMISSION_DENIED, "Only an operator resolves disputes.")
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    if dispute.state != DisputeState.OPEN:
        _refuse(EscrowErrorCode.NO_OPEN_DISPUTE, "This dispute is already resolved.", "dispute_id")
    if dispute.provider_dispute_id:
        _refuse(EscrowErrorCode.INVALID_STATE, "A card dispute is decided by the card network, not here.")
    if resolution not in RESOLUTIONS:
        _refuse(EscrowErrorCode.INVALID, "Resolve by release, refund or split.", "resolution")
    held = ledger.held(milestone.pk)
    if held <= 0:
        _refuse(EscrowErrorCode.NOT_FUNDED, "Nothing is held for this milestone.")
    if resolution == "release":
        release, refund = held, 0
    elif resolution == "refund":
        release, refund = 0, held
    else:
        if isinstance(release_amount, bool) or not isinstance(release_amount, int) or release_amount <= 0:
            _refuse(EscrowErrorCode.INVALID, "A split releases a positive amount.", "release_amount")
        if release_amount > held:
            _refuse(
                EscrowErrorCode.AMOUNT_EXCEEDS_HELD,
                f"Only {held} {milestone.currency} is held.",
                "release_amount",
            )
        release, refund = release_amount, held - release_amount
    dispute.state, dispute.resolution = DisputeState.RESOLVED, resolution
    dispute.release_amount, dispute.refund_amount = release, refund
    dispute.resolved_by, dispute.resolved_at = operator, timezone.now()
    dispute.save()
    reason = f"dispute {dispute.pk} resolved: {resolution}"
    # Refund first: a refund that empties the milestone closes it as refunded; a release after it is
    # final and closes it as released.
    if refund:
        refund_locked(operator, deal, milestone, refund, reason=reason, gateway=gateway)
    if release:
        release_funds(
            operator,
            milestone,
            release,
            final=True,
            reason=reason,
            resolving=True,
            gateway=gateway,
            deal=deal,
        )
    if milestone.state == MilestoneState.DISPUTED:
        _set_state(operator, milestone, _state_before_dispute(_escrow(milestone)), "dispute_resolved")
    audit.record(
        operator,
        dispute,
        "resolve_dispute",
        DisputeState.OPEN,
        DisputeState.RESOLVED,
        resolution=resolution,
        release=release,
        refund=refund,
    )
    return dispute


# --- card disputes (chargebacks), driven by gateway events ---------------------------------------------


def gateway_dispute(
    deal: Deal, milestone: Milestone, provider_dispute: dict[str, Any]
) -> tuple[Dispute, bool]:
    """The Dispute row for a card dispute, created once (the caller holds the locks). A party's open
    dispute gives way to it: the card network now decides. Returns (dispute, created)."""
    provider_id = str(provider_dispute["id"])
    existing = Dispute.objects.filter(provider_dispute_id=provider_id).first()
    if existing is not None:
        return existing, False
    superseded = open_dispute_of(milestone)
    if superseded is not None:
        superseded.state, superseded.resolution, superseded.resolved_at = (
            DisputeState.RESOLVED,
            "superseded",
            timezone.now(),
        )
        superseded.save(update_fields=["state", "resolution", "resolved_at"])
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                milestone=milestone,
                provider_dispute_id=provider_id,
                reason=str(provider_dispute.get("reason") or "card dispute"),
                refund_amount=int(provider_dispute.get("amount") or 0),
            )
    except IntegrityError:
        # Only a concurrent writer of the same provider id gets here (the milestone lock rules out
        # another open dispute): theirs is the row.
        return Dispute.objects.get(provider_dispute_id=provider_id), False
    if milestone.state in (MilestoneState.PENDING, *HOLDING):
        _set_state(None, milestone, MilestoneState.DISPUTED, "card_dispute", dispute_id=dispute.pk)
    operations.notify(
        operations.operator_ids(),
        "escrow_chargeback",
        f"A card dispute was opened on milestone {milestone.sequence} of deal {deal.pk}",
        f"escrow:chargeback:{provider_id}",
        deal_id=deal.pk,
        milestone_id=milestone.pk,
    )
    return dispute, True


def apply_chargeback(deal: Deal, milestone: Milestone, dispute: Dispute) -> LedgerTransaction | None:
    """A lost card dispute: the disputed money went back to the buyer. Book it out of what is held
    (once, keyed by the dispute) and close the milestone as refunded if nothing is left and nothing
    was released. Called when the dispute closes and again when a late payment event arrives."""
    if not LedgerTransaction.objects.filter(milestone=milestone, kind=FUND).exists():
        return None  # the payment itself is not booked yet: record_funding calls again
    amount = min(dispute.refund_amount, ledger.held(milestone.pk))
    txn = None
    if amount > 0:
        txn = ledger.post(
            f"{CHARGEBACK}:{dispute.pk}",
            CHARGEBACK,
            milestone,
            [Posting(LedgerAccount.HELD, -amount), Posting(LedgerAccount.REFUNDED, amount)],
            memo=f"card dispute {dispute.provider_dispute_id} lost",
        )
    if ledger.held(milestone.pk) == 0 and not _was_released(milestone) and milestone.state not in CLOSED:
        _set_state(None, milestone, MilestoneState.REFUNDED, "chargeback", dispute_id=dispute.pk)
        _settle_if_done(None, deal)
    return txn


def close_gateway_dispute(deal: Deal, milestone: Milestone, provider_dispute: dict[str, Any]) -> Dispute:
    """A card dispute closed (the caller holds the locks): "lost" books the chargeback, "won" unfreezes."""
    dispute, _ = gateway_dispute(deal, milestone, provider_dispute)
    status = str(provider_dispute.get("status") or "")
    outcome = LOST if status == LOST else WON if status == WON else ""
    if not outcome or dispute.state == DisputeState.RESOLVED:
        return dispute
    dispute.state, dispute.resolution, dispute.resolved_at = DisputeState.RESOLVED, outcome, timezone.now()
    if provider_dispute.get("amount") is not None:
        dispute.refund_amount = int(provider_dispute["amount"])
    dispute.save(update_fields=["state", "resolution", "resolved_at", "refund_amount"])
    if outcome == LOST:
        apply_chargeback(deal, milestone, dispute)
    else:
        dispute.refund_amount = 0
        dispute.save(update_fields=["refund_amount"])
    if milestone.state == MilestoneState.DISPUTED and open_dispute_of(milestone) is None:
        record = EscrowMilestone.objects.filter(milestone=milestone).first()
        _set_state(
            None, milestone, _state_before_dispute(record), f"card_dispute_{outcome}", dispute_id=dispute.pk
        )
    return dispute
