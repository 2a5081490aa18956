"""Gateway events applied to the escrow (registered with escrow.payments.webhook_registry).

Events arrive late, twice, or out of order. Each handler therefore applies a fact, not a step: the
ledger keys and the unique constraints make a repeat a no-op, and a fact that needs another one first
(a chargeback before the payment it takes back) is applied again when that other fact arrives.
"""

import logging
from typing import Any

from django.db import transaction

from escrow.models import EscrowMilestone
from escrow.payments import actions, operations
from escrow.payments.webhook_registry import handles
from marketplace.models import Deal, Milestone

log = logging.getLogger(__name__)

Event = dict[str, Any]


def _object(event: Event) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def _locked_by_intent(intent_id: str) -> tuple[Deal, Milestone] | None:
    milestone_id = (
        EscrowMilestone.objects.filter(payment_intent_id=intent_id)
        .values_list("milestone_id", flat=True)
        .first()
        if intent_id
        else None
    )
    return None if milestone_id is None else actions.lock_milestone(milestone_id)


@handles("payment_intent.succeeded")
def payment_succeeded(event: Event) -> None:
    actions.record_funding(_object(event))


@handles("payment_intent.payment_failed")
def payment_failed(event: Event) -> None:
    intent = _object(event)
    record = (
        EscrowMilestone.objects.select_related("milestone__deal")
        .filter(payment_intent_id=intent["id"])
        .first()
    )
    if record is None:
        return
    error = intent.get("last_payment_error") or {}
    milestone = record.milestone
    operations.notify(
        actions.members(milestone.deal.buyer_id),
        "escrow_payment_failed",
        f"The payment for milestone {milestone.sequence} failed",
        f"escrow:payment_failed:{event['id']}",
        body=str(error.get("message") or ""),
        deal_id=milestone.deal_id,
        milestone_id=milestone.pk,
    )


@handles("transfer.created")
def transfer_created(event: Event) -> None:
    transfer = _object(event)
    key = (transfer.get("metadata") or {}).get("operation")
    if key:
        operations.mark_succeeded(str(key), str(transfer["id"]))


def _refunds(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """charge.refunded carries the charge with its refunds (older API versions expand them); accept a
    bare refund object too."""
    if obj.get("object") == "refund":
        return [obj]
    refunds = obj.get("refunds") or {}
    data = refunds.get("data") if isinstance(refunds, dict) else refunds
    return [r for r in data or [] if isinstance(r, dict)]


@handles("charge.refunded")
def charge_refunded(event: Event) -> None:
    for refund in _refunds(_object(event)):
        key = (refund.get("metadata") or {}).get("operation")
        if key and refund.get("status") not in ("failed", "canceled"):
            operations.mark_succeeded(str(key), str(refund["id"]))


@handles("charge.dispute.created")
def dispute_created(event: Event) -> None:
    dispute = _object(event)
    with transaction.atomic():
        locked = _locked_by_intent(str(dispute.get("payment_intent") or ""))
        if locked is None:
            log.warning("card dispute %s on a payment that is not ours", dispute.get("id"))
            return
        actions.gateway_dispute(*locked, dispute)


@handles("charge.dispute.closed")
def dispute_closed(event: Event) -> None:
    dispute = _object(event)
    with transaction.atomic():
        locked = _locked_by_intent(str(dispute.get("payment_intent") or ""))
        if locked is None:
            log.warning("card dispute %s on a payment that is not ours", dispute.get("id"))
            return
        actions.close_gateway_dispute(*locked, dispute)
