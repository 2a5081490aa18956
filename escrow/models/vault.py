"""The technology deposit vault: encrypted deposits, their release conditions, the transparency log."""

from django.conf import settings
from django.db import models


class DepositPurpose(models.TextChoices):
    PROOF_OF_EXISTENCE = "proof_of_existence", "Proof of existence"
    LISTING = "listing", "Listing materials"
    MILESTONE = "milestone", "Milestone deliverables"
    DATA_ROOM = "data_room", "Deal data room document"


class DepositState(models.TextChoices):
    SEALED = "sealed", "Sealed"
    RELEASED = "released", "Released"


class Deposit(models.Model):
    """One sealed set of files. Its data key is stored only wrapped by a key-encryption key (KEK)."""

    depositor = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, related_name="deposits"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=24, choices=DepositPurpose.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    listing = models.ForeignKey(
        "marketplace.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="deposits"
    )
    deal = models.ForeignKey(
        "marketplace.Deal", null=True, blank=True, on_delete=models.PROTECT, related_name="deposits"
    )
    milestone = models.ForeignKey(
        "marketplace.Milestone", null=True, blank=True, on_delete=models.PROTECT, related_name="deposits"
    )
    # Who receives the materials on release (a deal's buyer); empty for proof of existence.
    beneficiary = models.ForeignKey(
        "marketplace.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=12, choices=DepositState.choices, default=DepositState.SEALED)
    # Envelope encryption: the per-deposit AES-256 data key, wrapped (AES-GCM) by the KEK named kek_id.
    wrapped_key = models.BinaryField()
    kek_id = models.CharField(max_length=40)
    # SHA-256 of the canonical manifest JSON (the files' names, sizes and plaintext hashes).
    manifest_sha256 = models.CharField(max_length=64)
    total_size = models.BigIntegerField(default=0)
    log_index = models.BigIntegerField(null=True, blank=True)
    certificate = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class DepositFile(models.Model):
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="files")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, help_text="of the plaintext")
    ciphertext_sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300)

    class Meta:
        ordering = ["deposit_id", "position"]
        constraints = [models.UniqueConstraint(fields=["deposit", "position"], name="deposit_file_position")]


class ReleaseCondition(models.TextChoices):
    MILESTONE_PAID = "milestone_paid", "Milestone accepted and paid"
    INSOLVENCY = "insolvency", "Depositor insolvency"
    COURT_ORDER = "court_order", "Court order"
    MUTUAL_AGREEMENT = "mutual_agreement", "Depositor and beneficiary agree"


class ReleaseRequestState(models.TextChoices):
    PENDING = "pending", "Pending"
    EXECUTED = "executed", "Executed"
    REJECTED = "rejected", "Rejected"


class ReleaseRequest(models.Model):
    """The recorded condition under which a deposit is (or would be) released.

    Insolvency and court orders are recorded by one operator with evidence and approved by another;
    mutual agreement needs the depositor's and the beneficiary's consent; a paid milestone is recorded by
    the release step itself."""

    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="release_requests")
    condition = models.CharField(max_length=20, choices=ReleaseCondition.choices)
    state = models.CharField(
        max_length=12, choices=ReleaseRequestState.choices, default=ReleaseRequestState.PENDING
    )
    evidence = models.TextField(blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    # Empty when the platform itself recorded the condition (an inspection period ran out).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    depositor_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    beneficiary_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most one open request per deposit: approvals then cannot be split across duplicates.
            models.UniqueConstraint(
                fields=["deposit"], condition=models.Q(state="pending"), name="release_one_pending"
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("recorded_by")),
                name="release_four_eyes",
            ),
        ]


class LogEntry(models.Model):
    """One leaf of the transparency log (RFC 6962). Rows are append-only: the database refuses UPDATE and
    DELETE (migration 0002), and the Merkle tree over `leaf` makes any edit evident anyway."""

    index = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=32)
    # The canonical JSON bytes that were hashed: what happened, to which deposit, by whom, when.
    leaf = models.BinaryField()
    leaf_hash = models.CharField(max_length=64)
    deposit = models.ForeignKey(Deposit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.CheckConstraint(condition=models.Q(index__gte=0), name="log_index_nonneg")]


class TreeHead(models.Model):
    """A signed tree head: the log's size and root hash at a time, signed with the platform's key."""

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp_ms = models.BigIntegerField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tree_size"]
