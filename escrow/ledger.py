"""Posting to the double-entry ledger and reading balances from it.

A ledger transaction is a set of postings that sums to zero; its `key` is the idempotency key of the
operation that caused it ("fund:m12", "release:m12:2"), so booking it twice is refused by the unique
constraint and `post` answers None instead of writing again. Balances are always sums of entries.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from escrow.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.models import Milestone

BP = 10_000  # basis points in a whole


@dataclass(frozen=True)
class Posting:
    account: LedgerAccount
    amount: int  # minor units; credit positive, debit negative
    broker_id: int | None = None


def _check(postings: Sequence[Posting]) -> None:
    if not postings:
        raise ValueError("a ledger transaction needs postings")
    for p in postings:
        if isinstance(p.amount, bool) or not isinstance(p.amount, int) or p.amount == 0:
            raise ValueError(f"posting amounts are non-zero integers, got {p.amount!r}")
        if p.account not in LedgerAccount.values:
            raise ValueError(f"unknown ledger account {p.account!r}")
        if (p.broker_id is not None) != (p.account == LedgerAccount.BROKER_PAYABLE):
            raise ValueError("a broker is named on broker payables, and only there")
    if sum(p.amount for p in postings) != 0:
        raise ValueError("postings do not balance")


def _is_duplicate_key(error: IntegrityError) -> bool:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == "escrow_ledgertransaction_key_key"


def post(
    key: str,
    kind: str,
    milestone: Milestone,
    postings: Sequence[Posting],
    *,
    actor: User | None = None,
    memo: str = "",
) -> LedgerTransaction | None:
    """Book one balanced transaction; None when a transaction with this key was already booked."""
    _check(postings)
    with transaction.atomic():
        try:
            with transaction.atomic():
                txn = LedgerTransaction.objects.create(
                    key=key,
                    kind=kind,
                    milestone=milestone,
                    currency=milestone.currency,
                    memo=memo,
                    actor=actor,
                )
        except IntegrityError as error:
            # The unique constraint decides, not a prior read: a concurrent or repeated booking loses here.
            if _is_duplicate_key(error):
                return None
            raise
        # The zero-sum trigger is deferred to COMMIT; checking it at the end of the insert statement
        # instead reports a bad posting where it happens (and inside tests that never commit). Only the
        # ledger's own constraint is switched, so Django's deferred foreign keys keep their behaviour.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS escrow_ledger_balanced IMMEDIATE")
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                transaction=txn,
                milestone=milestone,
                account=p.account,
                broker_id=p.broker_id,
                currency=milestone.currency,
                amount=p.amount,
            )
            for p in postings
        )
    return txn


def balances(milestone_id: int) -> dict[tuple[str, int | None], int]:
    """(account, broker id or None) -> balance, for the accounts this milestone has touched."""
    rows = (
        LedgerEntry.objects.filter(milestone_id=milestone_id)
        .values_list("account", "broker_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(account, broker_id): int(total) for account, broker_id, total in rows}


def held(milestone_id: int) -> int:
    total = LedgerEntry.objects.filter(milestone_id=milestone_id, account=LedgerAccount.HELD).aggregate(
        t=Sum("amount")
    )["t"]
    return int(total or 0)


def totals_by_currency() -> dict[str, int]:
    """The whole ledger's sum per currency: zero, always (every transaction balances)."""
    rows = LedgerEntry.objects.values_list("currency").annotate(total=Sum("amount")).order_by()
    return {currency: int(total) for currency, total in rows}


def split_release(
    amount: int, fee_bp: int, commission_bp: int, broker_shares: Mapping[int, int]
) -> tuple[int, dict[int, int], int]:
    """Split a released amount into (platform fee, {broker id: commission}, seller's part).

    The fee and the brokers' pot are floored; the pot is divided by the shares with the largest-remainder
    method (ties to the lower broker id), so the commissions add up to the pot exactly and the seller
    gets the rest: the parts always sum to the amount, to the unit.
    """
    if amount < 0 or not 0 <= fee_bp <= BP or not 0 <= commission_bp <= BP or fee_bp + commission_bp > BP:
        raise ValueError("amount and rates out of range")
    shares = {broker: share for broker, share in broker_shares.items() if share > 0}
    if any(share < 0 for share in broker_shares.values()):
        raise ValueError("broker shares are non-negative")
    fee = amount * fee_bp // BP
    if not shares:
        return fee, {}, amount - fee
    pot = amount * commission_bp // BP
    whole = sum(shares.values())
    commissions = {broker: pot * share // whole for broker, share in shares.items()}
    left = pot - sum(commissions.values())
    by_remainder = sorted(shares, key=lambda broker: (-(pot * shares[broker] % whole), broker))
    for broker in by_remainder[:left]:
        commissions[broker] += 1
    return fee, commissions, amount - fee - pot
