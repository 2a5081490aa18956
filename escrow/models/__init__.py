"""Escrow models: the deposit vault and its transparency log, payment trust deposits, and the ledger."""

from escrow.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from escrow.models.payments import (
    ConnectedAccount,
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    HoldReminder,
    OperationKind,
    OperationStatus,
    WebhookEvent,
    WebhookStatus,
)
from escrow.models.vault import (
    Deposit,
    DepositFile,
    DepositPurpose,
    DepositState,
    LogEntry,
    ReleaseCondition,
    ReleaseRequest,
    ReleaseRequestState,
    TreeHead,
)

__all__ = [
    "ConnectedAccount",
    "Deposit",
    "DepositFile",
    "DepositPurpose",
    "DepositState",
    "Dispute",
    "DisputeState",
    "EscrowMilestone",
    "GatewayOperation",
    "HoldReminder",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LogEntry",
    "OperationKind",
    "OperationStatus",
    "ReleaseCondition",
    "ReleaseRequest",
    "ReleaseRequestState",
    "TreeHead",
    "WebhookEvent",
    "WebhookStatus",
]
