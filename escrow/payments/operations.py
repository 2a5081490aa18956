"""Executing the gateway calls the ledger owes: transfers to payees and refunds to buyers.

A GatewayOperation row is written in the same transaction as the ledger change that requires it, and
executed after that transaction commits (and again by the periodic sweep, and by reconciliation, until
it is done). The call always carries the operation's idempotency key, so running it twice, before or
after a crash, never moves money twice: the gateway answers a repeat with the first result.

Choice: `execute` holds the operation's row lock across the gateway call. The transaction stays open
for one HTTP round trip (bounded by the client's timeouts), and in exchange two workers never run the
same operation at once: the second one skips the locked row (`skip_locked`) instead of waiting. The
idempotency key would make a concurrent duplicate harmless anyway; the lock saves the extra call and
keeps `attempts` exact.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from escrow.models import GatewayOperation, OperationKind, OperationStatus
from escrow.payments.faults import crash_point
from escrow.payments.gateway import Gateway, GatewayError, get_gateway
from marketplace.models import Notification

log = logging.getLogger(__name__)

EXECUTABLE = (OperationKind.TRANSFER, OperationKind.REFUND)


def notify(
    user_ids: Iterable[int], kind: str, title: str, dedupe_key: str, body: str = "", **data: Any
) -> None:
    """One notification per user; the (user, dedupe_key) constraint makes a repeat a no-op."""
    Notification.objects.bulk_create(
        (
            Notification(user_id=uid, kind=kind, title=title, body=body, data=data, dedupe_key=dedupe_key)
            for uid in sorted(set(user_ids))
        ),
        ignore_conflicts=True,
    )


def operator_ids() -> list[int]:
    return list(User.objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True))


def transfer_group(deal_id: int) -> str:
    return f"deal_{deal_id}"


def _call(gateway: Gateway, op: GatewayOperation) -> str:
    """Perform the operation at the gateway; the provider's id of what it created."""
    milestone = op.milestone
    if milestone is None:
        raise GatewayError(f"operation {op.idempotency_key} has no milestone")
    metadata = {"operation": op.idempotency_key, "milestone": str(milestone.pk)}
    if op.kind == OperationKind.TRANSFER:
        transfer = gateway.create_transfer(
            amount=op.amount,
            currency=op.currency,
            destination=op.destination,
            transfer_group=transfer_group(milestone.deal_id),
            metadata=metadata,
            idempotency_key=op.idempotency_key,
        )
        return transfer.id
    if op.kind == OperationKind.REFUND:
        intent = milestone.escrow.payment_intent_id
        if not intent:
            raise GatewayError(f"milestone {milestone.pk} has no payment to refund")
        refund = gateway.create_refund(
            payment_intent_id=intent, amount=op.amount, metadata=metadata, idempotency_key=op.idempotency_key
        )
        return refund.id
    raise GatewayError(f"operations of kind {op.kind} are not executed here")


def execute(op_id: int, gateway: Gateway | None = None) -> GatewayOperation | None:
    """Run one pending operation. Returns it as left (None when another worker holds it right now).

    A retryable gateway error leaves it pending for the sweep (attempts + 1, the error kept); any other
    gateway error marks it failed and tells the operators, who must decide what to do with the money.
    """
    gateway = gateway or get_gateway()
    with transaction.atomic():
        op = (
            GatewayOperation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("milestone__escrow")
            .filter(pk=op_id)
            .first()
        )
        if op is None or op.status != OperationStatus.PENDING:
            return op
        crash_point("before_gateway_call")
        op.attempts += 1
        try:
            provider_id = _call(gateway, op)
        except GatewayError as error:
            op.error = str(error)[:2000]
            if not error.retryable:
                op.status = OperationStatus.FAILED
                notify(
                    operator_ids(),
                    "escrow_operation_failed",
                    f"A {op.kind} of {op.amount} {op.currency} failed at the gateway",
                    f"escrow:operation_failed:{op.pk}",
                    body=op.error,
                    operation=op.idempotency_key,
                    milestone_id=op.milestone_id,
                )
            op.save(update_fields=["status", "error", "attempts", "updated_at"])
            log.warning("gateway operation %s: %s", op.idempotency_key, error)
            return op
        crash_point("after_gateway_call")
        op.status, op.provider_id, op.error = OperationStatus.SUCCEEDED, provider_id, ""
        op.save(update_fields=["status", "provider_id", "error", "attempts", "updated_at"])
        return op


def execute_quietly(op_ids: Iterable[int], gateway: Gateway | None = None) -> None:
    """The after-commit hook: nothing here may fail the request whose transaction already committed;
    what does not succeed now stays pending for the sweep."""
    for op_id in op_ids:
        try:
            execute(op_id, gateway)
        except Exception:
            log.exception("executing gateway operation %s failed; the sweep will retry", op_id)


def mark_succeeded(key: str, provider_id: str) -> bool:
    """The gateway has done this operation (its event or reconciliation says so): mark it succeeded if
    still pending. True when this call changed it. Blocks while `execute` holds the row, then sees its
    outcome, so the two never disagree."""
    with transaction.atomic():
        op = GatewayOperation.objects.select_for_update().filter(idempotency_key=key).first()
        if op is None or op.status != OperationStatus.PENDING:
            return False
        op.status, op.provider_id, op.error = OperationStatus.SUCCEEDED, provider_id, ""
        op.save(update_fields=["status", "provider_id", "error", "updated_at"])
        return True


def execute_pending(older_than_seconds: int = 0, gateway: Gateway | None = None) -> dict[str, int]:
    """The sweep: run every pending transfer and refund created at least `older_than_seconds` ago."""
    gateway = gateway or get_gateway()
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        GatewayOperation.objects.filter(
            status=OperationStatus.PENDING, kind__in=EXECUTABLE, created_at__lte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {"pending": len(ids), "succeeded": 0, "failed": 0, "skipped": 0}
    for op_id in ids:
        op = execute(op_id, gateway)
        if op is None or op.status == OperationStatus.PENDING:
            counts["skipped"] += 1
        elif op.status == OperationStatus.SUCCEEDED:
            counts["succeeded"] += 1
        else:
            counts["failed"] += 1
    return counts
