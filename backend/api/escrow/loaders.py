"""Loaders for the escrow side of milestones and deposits (one query per relation per request)."""

from collections import defaultdict

from django.db.models import Sum

from backend.api.core.loaders import ListLoader, Loader
from escrow.models import Deposit, DepositFile, Dispute, DisputeState, EscrowMilestone, GatewayOperation
from escrow.models.ledger import LedgerEntry
from marketplace.models import Milestone


def _by(rows: object, attribute: str) -> dict[int, list[object]]:
    grouped: dict[int, list[object]] = defaultdict(list)
    for row in rows:  # type: ignore[attr-defined]
        grouped[getattr(row, attribute)].append(row)
    return grouped


class EscrowByMilestoneIdLoader(Loader[int, EscrowMilestone | None]):
    sources = ((Milestone, "pk"),)

    def missing(self, key: int) -> None:
        return None

    def batch_load(self, keys: list[int]) -> dict[int, EscrowMilestone | None]:
        return {e.milestone_id: e for e in EscrowMilestone.objects.filter(milestone_id__in=keys)}


class BalancesByMilestoneIdLoader(Loader[int, dict[str, int]]):
    """Balances per ledger account, summed in the database (they are derived, never stored)."""

    sources = ((Milestone, "pk"),)

    def missing(self, key: int) -> dict[str, int]:
        return {}

    def batch_load(self, keys: list[int]) -> dict[int, dict[str, int]]:
        found: dict[int, dict[str, int]] = defaultdict(dict)
        rows = (
            LedgerEntry.objects.filter(milestone_id__in=keys)
            .values("milestone_id", "account")
            .annotate(total=Sum("amount"))
        )
        for row in rows:
            found[row["milestone_id"]][row["account"]] = int(row["total"])
        return found


class OpenDisputeByMilestoneIdLoader(Loader[int, Dispute | None]):
    sources = ((Milestone, "pk"),)

    def missing(self, key: int) -> None:
        return None

    def batch_load(self, keys: list[int]) -> dict[int, Dispute | None]:
        rows = Dispute.objects.filter(milestone_id__in=keys, state=DisputeState.OPEN)
        return {d.milestone_id: d for d in rows}


class OperationsByMilestoneIdLoader(ListLoader[int, GatewayOperation]):
    sources = ((Milestone, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[GatewayOperation]]:
        rows = GatewayOperation.objects.filter(milestone_id__in=keys, kind__in=["transfer", "refund"])
        return _by(rows.order_by("id"), "milestone_id")  # type: ignore[return-value]


class DepositsByMilestoneIdLoader(ListLoader[int, Deposit]):
    sources = ((Milestone, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[Deposit]]:
        return _by(Deposit.objects.filter(milestone_id__in=keys).order_by("id"), "milestone_id")  # type: ignore[return-value]


class FilesByDepositIdLoader(ListLoader[int, DepositFile]):
    sources = ((Deposit, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[DepositFile]]:
        return _by(DepositFile.objects.filter(deposit_id__in=keys).order_by("position"), "deposit_id")  # type: ignore[return-value]
