"""Loaders for the escrow side of milestones and deposits (one query per relation per request)."""

from collections import defaultdict

from django.db.models import Q, Sum

from backend.api.core.loaders import ListLoader, Loader, group_by
from escrow.models import (
    Deposit,
    DepositFile,
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    ReleaseRequest,
)
from escrow.models.ledger import LedgerEntry
from marketplace.models import Milestone, Organization


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
        return group_by(rows.order_by("id"), "milestone_id")


class VisibleDepositsByMilestoneIdLoader(ListLoader[int, Deposit]):
    """The deposits of each milestone that the viewer may see, filtered in the same query (one query for
    every milestone seen, not one visibility check per milestone). `visibility` is the viewer's filter,
    set once per request before the first load (backend.api.escrow.types.visible_materials)."""

    sources = ((Milestone, "pk"),)
    visibility: Q | None = None

    def batch_load(self, keys: list[int]) -> dict[int, list[Deposit]]:
        if self.visibility is None:
            raise RuntimeError("set the viewer's visibility first (visible_materials)")
        rows = Deposit.objects.filter(self.visibility, milestone_id__in=keys).order_by("id")
        return group_by(rows, "milestone_id")


class FilesByDepositIdLoader(ListLoader[int, DepositFile]):
    sources = ((Deposit, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[DepositFile]]:
        return group_by(DepositFile.objects.filter(deposit_id__in=keys).order_by("position"), "deposit_id")


class ReleaseRequestsByDepositIdLoader(ListLoader[int, ReleaseRequest]):
    sources = ((Deposit, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[ReleaseRequest]]:
        rows = ReleaseRequest.objects.filter(deposit_id__in=keys).order_by("-id")
        return group_by(rows, "deposit_id")


class DepositOrganizationByIdLoader(Loader[int, Organization | None]):
    """Depositors and beneficiaries: the organisations of every deposit seen, in one query (the
    marketplace's organisation loader does not know deposits)."""

    sources = ((Deposit, "depositor_id"), (Deposit, "beneficiary_id"))

    def missing(self, key: int) -> None:
        return None

    def batch_load(self, keys: list[int]) -> dict[int, Organization | None]:
        return {org.pk: org for org in Organization.objects.filter(pk__in=keys)}
