"""System messages: the deal workflow's changes (offers, NDA, milestones, disputes) appear in the room.

Every workflow change is audited (marketplace.audit); the audit signal arrives inside the change's own
transaction, so the system message commits with the change or not at all. The body is plain English for
e-mail digests and simple clients; clients that localise use `event` and `data`.
"""

from typing import Any

from django.contrib.auth.models import User

from marketplace.events import audit_recorded
from marketplace.models import AuditEntry, AuthorRole, Deal, EntryKind, Milestone, Offer
from marketplace.rooms.log import append
from marketplace.rooms.view import role_of

DEAL_EVENTS = {
    "open_inquiry": "inquiry_opened",
    "request_nda": "nda_requested",
    "sign_nda": "nda_signed",
    "nda_completed": "nda_completed",
    "assign_brokers": "brokers_assigned",
    "make_offer": "offer_made",
    "accept_offer": "offer_accepted",
    "agree": "deal_agreed",
    "set_milestones": "milestones_set",
    "escrow_funded": "escrow_funded",
    "settle": "deal_settled",
    "cancel_deal": "deal_cancelled",
    "cancel_funded_deal": "deal_cancelled",
}
MILESTONE_EVENTS = {
    "record_funding": "milestone_funded",
    "confirm_delivery": "milestone_delivered",
    "accept_milestone": "milestone_accepted",
    "release_funds": "funds_released",
    "release_milestone": "milestone_released",
    "refund_milestone": "milestone_refunded",
    "chargeback": "milestone_refunded",
    "open_dispute": "dispute_opened",
    "card_dispute": "dispute_opened",
    "dispute_resolved": "dispute_resolved",
}
TEXTS = {
    "inquiry_opened": "A buyer opened an inquiry.",
    "nda_requested": "The NDA was requested.",
    "nda_signed": "The {side} signed the NDA.",
    "nda_completed": "Both sides signed the NDA.",
    "brokers_assigned": "Brokers were assigned.",
    "offer_made": "Offer v{version}: {amount} {currency}.",
    "offer_countered": "Counter-offer v{version} to v{counters}: {amount} {currency}.",
    "offer_accepted": "The {side} accepted offer v{version}.",
    "deal_agreed": "Agreed on offer v{version}.",
    "milestones_set": "Milestones were set.",
    "escrow_funded": "The deal is in escrow.",
    "deal_settled": "The deal is settled.",
    "deal_cancelled": "The deal was cancelled.",
    "milestone_funded": "Milestone {sequence} ({title}) funded: {amount} {currency} held in escrow.",
    "milestone_delivered": "Milestone {sequence} ({title}) delivered.",
    "milestone_accepted": "Milestone {sequence} ({title}) accepted.",
    "funds_released": "Funds of milestone {sequence} ({title}) released.",
    "milestone_released": "Milestone {sequence} ({title}) released.",
    "milestone_refunded": "Milestone {sequence} ({title}) refunded.",
    "dispute_opened": "A dispute was opened on milestone {sequence} ({title}).",
    "dispute_resolved": "The dispute on milestone {sequence} ({title}) was resolved.",
}


def _offer_facts(deal: Deal, data: dict[str, Any]) -> dict[str, Any]:
    offer = Offer.objects.filter(deal=deal, version=int(data.get("version") or 0)).first()
    if offer is None:
        return {}
    return {"amount": offer.upfront_amount, "currency": offer.currency, "proposed_for": offer.proposed_for}


def _facts(entry: AuditEntry, obj: Any) -> tuple[Deal, str, dict[str, Any]] | None:
    if isinstance(obj, Deal) and entry.action in DEAL_EVENTS:
        deal, event = obj, DEAL_EVENTS[entry.action]
        data = {k: v for k, v in entry.data.items() if k in ("side", "version", "counters", "reason")}
        if entry.action == "make_offer":
            data.update(_offer_facts(deal, data))
            event = "offer_countered" if data.get("counters") else event
        return deal, event, data
    if isinstance(obj, Milestone) and entry.action in MILESTONE_EVENTS:
        data = {"milestone_id": obj.pk, "sequence": obj.sequence, "title": obj.title}
        data.update(amount=entry.data.get("amount", obj.amount), currency=obj.currency)
        return obj.deal, MILESTONE_EVENTS[entry.action], data
    return None


def on_audit(sender: object, entry: AuditEntry, obj: Any, actor: User | None = None, **kwargs: Any) -> None:
    facts = _facts(entry, obj)
    if facts is None:
        return
    deal, event, data = facts
    by_role = role_of(actor, deal) if isinstance(actor, User) else None
    data["by_role"] = by_role or AuthorRole.SYSTEM
    try:
        amount = data.get("amount")
        shown = {**data, "amount": f"{amount:,}"} if isinstance(amount, int) else data
        body = TEXTS[event].format_map({"side": "", "counters": "", **shown})
    except (KeyError, ValueError):
        body = event.replace("_", " ")
    append(
        deal.pk,
        kind=EntryKind.SYSTEM,
        author=actor if isinstance(actor, User) else None,
        author_role=AuthorRole.SYSTEM,
        body=body,
        event=event,
        data=data,
    )
    if entry.action == "open_inquiry" and deal.message and isinstance(actor, User):
        # The buyer's first words open the conversation.
        append(deal.pk, kind=EntryKind.TEXT, author=actor, author_role=AuthorRole.BUYER, body=deal.message)


def connect() -> None:
    audit_recorded.connect(on_audit, sender=AuditEntry, dispatch_uid="deal_room_system_messages")
