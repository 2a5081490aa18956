"""Reconciliation: the gateway's records against the ledger and the operations, per milestone.

What it finds, and what `repair` does about it:

- funding_not_posted: the payment succeeded at the gateway but the ledger has no funding (a lost
  webhook). Repair: record_funding, exactly as the event would have.
- operation_not_marked: an operation is pending but the gateway has done it (the process died after
  the call, or the update was lost). Repair: mark it succeeded with the gateway's id.
- operation_not_executed: an operation is pending and the gateway has no trace of it (died before the
  call). Repair: execute it, with the same idempotency key.
- needing an operator, reported only: a transfer or refund at the gateway that no operation asked for,
  an amount or destination that differs, an operation we marked done that the gateway does not have, a
  failed operation, a funding amount that differs from what the gateway received.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone

from escrow.models import (
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    LedgerEntry,
    OperationKind,
    OperationStatus,
)
from escrow.payments import actions, operations
from escrow.payments.gateway import Gateway, GatewayError, PaymentIntent, Refund, Transfer, get_gateway

REPAIRABLE = {"funding_not_posted", "operation_not_marked", "operation_not_executed"}


@dataclass
class Drift:
    kind: str
    milestone_id: int | None
    detail: str
    reference: str = ""  # the operation key or the gateway id concerned
    repaired: bool = False

    @property
    def needs_operator(self) -> bool:
        return self.kind not in REPAIRABLE


@dataclass
class Report:
    milestones: int = 0
    drifts: list[Drift] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[Drift]:
        return [d for d in self.drifts if not d.repaired]

    def as_json(self) -> str:
        return json.dumps(
            {
                "milestones": self.milestones,
                "drifts": [asdict(d) | {"needs_operator": d.needs_operator} for d in self.drifts],
                "unrepaired": len(self.unrepaired),
            },
            indent=2,
        )

    def as_table(self) -> str:
        rows = [("milestone", "kind", "reference", "repaired", "detail")]
        rows += [
            (str(d.milestone_id or "-"), d.kind, d.reference, "yes" if d.repaired else "no", d.detail)
            for d in self.drifts
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) for row in rows
        ]
        counts = f"{len(self.drifts)} drifts, {len(self.unrepaired)} unrepaired"
        lines.append(f"{self.milestones} milestones checked, {counts}")
        return "\n".join(lines)


def _intent_dict(intent: PaymentIntent) -> dict[str, Any]:
    """The event-shaped object record_funding reads, from the gateway's answer."""
    return {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_received": intent.amount_received,
        "currency": intent.currency.lower(),
        "status": intent.status,
        "metadata": dict(intent.metadata),
        "transfer_group": intent.transfer_group,
    }


def _funded(milestone_id: int) -> int:
    entries = LedgerEntry.objects.filter(milestone_id=milestone_id, account=LedgerAccount.BUYER_FUNDING)
    return -int(entries.aggregate(total=Sum("amount"))["total"] or 0)


class _Checker:
    def __init__(self, gateway: Gateway, repair: bool, report: Report, grace: timedelta) -> None:
        self.gateway, self.repair, self.report = gateway, repair, report
        self.cutoff = timezone.now() - grace

    def drift(self, kind: str, milestone_id: int | None, detail: str, reference: str = "") -> Drift:
        item = Drift(kind, milestone_id, detail, reference)
        self.report.drifts.append(item)
        return item

    def funding(self, record: EscrowMilestone) -> None:
        intent = self.gateway.retrieve_payment_intent(str(record.payment_intent_id))
        booked = _funded(record.milestone_id)
        if intent.status != "succeeded" or intent.amount_received <= 0:
            if booked:
                self.drift(
                    "funding_not_at_gateway",
                    record.milestone_id,
                    f"ledger holds {booked} funded, the gateway's payment is {intent.status}",
                    intent.id,
                )
            return
        if not booked:
            item = self.drift(
                "funding_not_posted",
                record.milestone_id,
                f"{intent.amount_received} {intent.currency} received, not in the ledger",
                intent.id,
            )
            if self.repair:
                item.repaired = actions.record_funding(_intent_dict(intent)) is not None
        elif booked != intent.amount_received:
            self.drift(
                "funding_amount_differs",
                record.milestone_id,
                f"ledger {booked}, gateway received {intent.amount_received}",
                intent.id,
            )

    def operations(self, ops: Iterable[GatewayOperation], found: dict[str, Transfer | Refund]) -> None:
        for op in ops:
            done = found.get(op.idempotency_key)
            if done is not None:
                destination = getattr(done, "destination", op.destination)
                if done.amount != op.amount or destination != op.destination:
                    self.drift(
                        "operation_differs",
                        op.milestone_id,
                        f"we asked {op.amount} to {op.destination or 'the buyer'}, the gateway has "
                        f"{done.amount} to {destination or 'the buyer'}",
                        op.idempotency_key,
                    )
                if op.status == OperationStatus.PENDING:
                    item = self.drift(
                        "operation_not_marked",
                        op.milestone_id,
                        f"done at the gateway as {done.id}",
                        op.idempotency_key,
                    )
                    if self.repair:
                        operations.mark_succeeded(op.idempotency_key, done.id)
                        item.repaired = True
                elif op.status == OperationStatus.FAILED:
                    self.drift("operation_failed_but_done", op.milestone_id, done.id, op.idempotency_key)
            elif op.status == OperationStatus.PENDING and op.created_at <= self.cutoff:
                item = self.drift(
                    "operation_not_executed", op.milestone_id, f"{op.kind} of {op.amount}", op.idempotency_key
                )
                if self.repair:
                    executed = operations.execute(op.pk, self.gateway)
                    item.repaired = executed is not None and executed.status == OperationStatus.SUCCEEDED
                    if not item.repaired and executed is not None:
                        item.detail += f" (retry: {executed.status}, {executed.error})"
            elif op.status == OperationStatus.SUCCEEDED:
                self.drift(
                    "operation_missing_at_gateway",
                    op.milestone_id,
                    f"marked done as {op.provider_id}, the gateway has no such {op.kind}",
                    op.idempotency_key,
                )
            elif op.status == OperationStatus.FAILED:
                self.drift("operation_failed", op.milestone_id, op.error[:200], op.idempotency_key)

    def strays(self, found: Iterable[Transfer | Refund], known: set[str]) -> None:
        for item in found:
            if item.metadata.get("operation", "") in known:
                continue
            named = item.metadata.get("milestone", "")
            kind = "unknown_transfer" if isinstance(item, Transfer) else "unknown_refund"
            self.drift(
                kind,
                int(named) if named.isdigit() else None,
                f"{item.amount} {item.currency} that no operation asked for",
                item.id,
            )


def _by_key(
    items: Iterable[Transfer | Refund], checker: _Checker, milestone_id: int | None
) -> dict[str, Transfer | Refund]:
    found: dict[str, Transfer | Refund] = {}
    for item in items:
        key = item.metadata.get("operation", "")
        if key and key in found:
            checker.drift("duplicate_at_gateway", milestone_id, f"{found[key].id} and {item.id}", key)
        elif key:
            found[key] = item
    return found


def reconcile(repair: bool = False, gateway: Gateway | None = None, grace_seconds: int = 0) -> Report:
    """Compare every milestone with a PaymentIntent against the gateway; with `repair`, fix what can
    be fixed safely (see the module's docstring). Operations younger than `grace_seconds` that are
    pending and absent at the gateway are left to their after-commit execution."""
    gateway = gateway or get_gateway()
    report = Report()
    checker = _Checker(gateway, repair, report, timedelta(seconds=grace_seconds))
    records = list(
        EscrowMilestone.objects.exclude(Q(payment_intent_id=None) | Q(payment_intent_id=""))
        .select_related("milestone")
        .order_by("milestone__deal_id", "milestone_id")
    )
    by_deal: dict[int, list[EscrowMilestone]] = defaultdict(list)
    for record in records:
        by_deal[record.milestone.deal_id].append(record)
    for deal_id, deal_records in by_deal.items():
        ids = [r.milestone_id for r in deal_records]
        ops = list(
            GatewayOperation.objects.filter(
                milestone_id__in=ids, kind__in=(OperationKind.TRANSFER, OperationKind.REFUND)
            ).order_by("pk")
        )
        try:
            transfers = gateway.list_transfers(transfer_group=operations.transfer_group(deal_id))
        except GatewayError as error:
            checker.drift("gateway_unavailable", None, f"deal {deal_id}: {error}")
            continue
        found_transfers = _by_key(transfers, checker, None)
        checker.strays(transfers, {op.idempotency_key for op in ops})
        for record in deal_records:
            report.milestones += 1
            try:
                checker.funding(record)
                refunds = gateway.list_refunds(payment_intent_id=str(record.payment_intent_id))
            except GatewayError as error:
                checker.drift("gateway_unavailable", record.milestone_id, str(error))
                continue
            mine = [op for op in ops if op.milestone_id == record.milestone_id]
            found: dict[str, Transfer | Refund] = dict(found_transfers)
            found.update(_by_key(refunds, checker, record.milestone_id))
            checker.strays(refunds, {op.idempotency_key for op in mine})
            checker.operations(mine, found)
    return report
