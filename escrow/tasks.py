"""Scheduled escrow work (Celery beat, backend/celery.py): releases when inspection ends, reminders
before the maximum holding period runs out, and the sweep of gateway operations still pending."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from escrow import ledger
from escrow.models import EscrowMilestone, HoldReminder
from escrow.payments import actions, operations
from escrow.payments.gateway import Gateway
from escrow.payments.reconcile import reconcile
from marketplace.error_codes import ActionError
from marketplace.models import MilestoneState

log = logging.getLogger(__name__)

EXPIRED = 0  # HoldReminder.days_before of the "holding period has run out" notice


def run_release_after_inspection(
    now: datetime | None = None, gateway: Gateway | None = None
) -> dict[str, int]:
    """Delivered milestones whose inspection period ended without a dispute: the platform accepts them
    and makes the final release (actor None). One transaction per milestone."""
    now = now or timezone.now()
    due = list(
        EscrowMilestone.objects.filter(milestone__state=MilestoneState.DELIVERED, inspection_ends_at__lte=now)
        .order_by("milestone_id")
        .values_list("milestone_id", flat=True)
    )
    counts = {"due": len(due), "released": 0, "refused": 0}
    for milestone_id in due:
        try:
            with transaction.atomic():
                deal, milestone = actions.lock_milestone(milestone_id)
                record = EscrowMilestone.objects.get(milestone=milestone)
                # Re-read under the lock: a dispute or the buyer's own acceptance may have come first.
                if (
                    milestone.state != MilestoneState.DELIVERED
                    or record.inspection_ends_at is None
                    or record.inspection_ends_at > now
                    or actions.open_dispute_of(milestone) is not None
                ):
                    continue
                actions.accept_locked(None, deal, milestone, gateway, "inspection period ended")
            counts["released"] += 1
        except ActionError as error:
            counts["refused"] += 1
            log.warning("automatic release of milestone %s refused: %s %s", milestone_id, error.code, error)
    return counts


def _first_send(milestone_id: int, days_before: int) -> bool:
    """True for the one caller that records this reminder: the unique constraint decides."""
    try:
        with transaction.atomic():
            HoldReminder.objects.create(milestone_id=milestone_id, days_before=days_before)
    except IntegrityError:
        return False
    return True


def run_send_hold_reminders(now: datetime | None = None) -> dict[str, int]:
    """Milestones holding money whose maximum holding period ends within a reminder threshold: remind
    the parties' members and the operators, once per threshold (the most urgent one reached, so a late
    run does not send three at once); once it has run out, tell the operators it expired."""
    now = now or timezone.now()
    thresholds = sorted(d for d in settings.ESCROW_HOLD_REMINDER_DAYS if d > 0)
    horizon = now + timedelta(days=max(thresholds, default=0))
    records = list(
        EscrowMilestone.objects.filter(
            milestone__state__in=actions.HOLDING, hold_expires_at__isnull=False, hold_expires_at__lte=horizon
        )
        .select_related("milestone__deal__listing")
        .order_by("milestone_id")
    )
    counts = {"reminders": 0, "expired": 0}
    for record in records:
        milestone = record.milestone
        expires = record.hold_expires_at
        if expires is None or ledger.held(milestone.pk) <= 0:
            continue
        deal = milestone.deal
        with transaction.atomic():
            if expires <= now:
                if _first_send(milestone.pk, EXPIRED):
                    operations.notify(
                        operations.operator_ids(),
                        "escrow_hold_expired",
                        f"The holding period of milestone {milestone.sequence} of deal {deal.pk} has run out",
                        f"escrow:hold_expired:m{milestone.pk}",
                        deal_id=deal.pk,
                        milestone_id=milestone.pk,
                        expired_at=expires.isoformat(),
                    )
                    counts["expired"] += 1
                continue
            days = min(d for d in thresholds if expires - now <= timedelta(days=d))
            if _first_send(milestone.pk, days):
                operations.notify(
                    actions.members(deal.listing.seller_id, deal.buyer_id) + operations.operator_ids(),
                    "escrow_hold_reminder",
                    f"Milestone {milestone.sequence}: the money held in trust must be released or refunded "
                    f"within {days} day{'s' if days != 1 else ''}",
                    f"escrow:hold_reminder:m{milestone.pk}:{days}",
                    deal_id=deal.pk,
                    milestone_id=milestone.pk,
                    days_before=days,
                    expires_at=expires.isoformat(),
                )
                counts["reminders"] += 1
    return counts


@shared_task(name="escrow.release_after_inspection", ignore_result=True)
def release_after_inspection() -> dict[str, int]:
    return run_release_after_inspection()


@shared_task(name="escrow.send_hold_reminders", ignore_result=True)
def send_hold_reminders() -> dict[str, int]:
    return run_send_hold_reminders()


@shared_task(name="escrow.execute_pending_operations", ignore_result=True)
def execute_pending_operations(older_than_seconds: int = 60) -> dict[str, int]:
    """The sweep: operations whose after-commit execution did not finish (gateway or process down)."""
    return operations.execute_pending(older_than_seconds)


@shared_task(name="escrow.reconcile_payments", ignore_result=True)
def reconcile_payments() -> int:
    """Repair what is safe to repair; what needs an operator stays for `manage.py reconcile_payments`."""
    report = reconcile(repair=True, grace_seconds=300)
    for drift in report.unrepaired:
        log.error(
            "payment drift on milestone %s: %s %s %s",
            drift.milestone_id,
            drift.kind,
            drift.reference,
            drift.detail,
        )
    return len(report.unrepaired)
