"""Payment trust deposits: connected accounts, a milestone's escrow record, gateway calls, webhook events."""

from django.conf import settings
from django.db import models


class ConnectedAccount(models.Model):
    """A payee's account at the gateway (Stripe Connect): a seller organisation or a broker."""

    organization = models.OneToOneField(
        "marketplace.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="payee"
    )
    broker = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="payee"
    )
    provider_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True, broker__isnull=False)
                | models.Q(organization__isnull=False, broker__isnull=True),
                name="payee_exactly_one_owner",
            )
        ]


class EscrowMilestone(models.Model):
    """The escrow side of one deal milestone: its PaymentIntent and the clock of its holding period.
    Amounts are never stored here: they are derived from the ledger."""

    milestone = models.OneToOneField("marketplace.Milestone", on_delete=models.PROTECT, related_name="escrow")
    payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    inspection_ends_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class OperationKind(models.TextChoices):
    ACCOUNT = "account", "Create connected account"
    ACCOUNT_LINK = "account_link", "Onboarding link"
    PAYMENT_INTENT = "payment_intent", "PaymentIntent"
    TRANSFER = "transfer", "Transfer to a payee"
    REFUND = "refund", "Refund to the buyer"


class OperationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class GatewayOperation(models.Model):
    """One call the platform owes the gateway, written in the same transaction as the ledger change that
    requires it and executed after commit. Its idempotency key is derived from that ledger operation, so
    a retry after a crash (before or after the call) can never move money twice."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=OperationKind.choices)
    milestone = models.ForeignKey(
        "marketplace.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ledger_transaction = models.ForeignKey(
        "escrow.LedgerTransaction", null=True, blank=True, on_delete=models.PROTECT, related_name="operations"
    )
    destination = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=12, choices=OperationStatus.choices, default=OperationStatus.PENDING)
    provider_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "created_at"])]


class WebhookStatus(models.TextChoices):
    STARTED = "started", "Started"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """Each gateway event id is stored once (unique); its status says whether it has been applied."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    status = models.CharField(max_length=12, choices=WebhookStatus.choices, default=WebhookStatus.STARTED)
    payload = models.JSONField()
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class DisputeState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Dispute(models.Model):
    """A dispute freezes its milestone until an operator resolves it: release, refund or a split."""

    milestone = models.ForeignKey("marketplace.Milestone", on_delete=models.PROTECT, related_name="disputes")
    # Set when the dispute came from the gateway (a chargeback); empty when a party opened it here.
    provider_dispute_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=DisputeState.choices, default=DisputeState.OPEN)
    resolution = models.CharField(max_length=12, blank=True)
    release_amount = models.BigIntegerField(default=0)
    refund_amount = models.BigIntegerField(default=0)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"], condition=models.Q(state="open"), name="dispute_one_open_per_milestone"
            )
        ]


class HoldReminder(models.Model):
    """A reminder that a milestone's maximum holding period runs out, sent once per threshold."""

    milestone = models.ForeignKey("marketplace.Milestone", on_delete=models.PROTECT, related_name="+")
    days_before = models.IntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["milestone", "days_before"], name="hold_reminder_once")
        ]
