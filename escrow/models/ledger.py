"""The append-only double-entry ledger. Balances are sums of entries; nothing is ever edited.

The database itself refuses UPDATE and DELETE on both tables and checks at commit that every transaction
sums to zero per currency (migration 0002), so neither a bug nor a stray admin action can break it."""

from django.conf import settings
from django.db import models


class LedgerAccount(models.TextChoices):
    """Accounts per milestone. A debit is negative, a credit positive; each transaction sums to zero."""

    BUYER_FUNDING = "buyer_funding", "Buyer funding"
    HELD = "held", "Held in trust"
    SELLER_PAYABLE = "seller_payable", "Seller payable"
    BROKER_PAYABLE = "broker_payable", "Broker payable"
    PLATFORM_FEE = "platform_fee", "Platform fee"
    REFUNDED = "refunded", "Refunded to the buyer"


class LedgerTransaction(models.Model):
    # The ledger operation's own idempotency key ("fund:m12", "release:m12:2"): recording it twice fails
    # on this unique constraint, so nothing is ever booked twice.
    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=24)
    milestone = models.ForeignKey("marketplace.Milestone", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    milestone = models.ForeignKey("marketplace.Milestone", on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=20, choices=LedgerAccount.choices)
    # For broker payables: which broker. Empty for every other account.
    broker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(help_text="minor units; credit positive, debit negative")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_nonzero")]
        indexes = [models.Index(fields=["milestone", "account"])]
