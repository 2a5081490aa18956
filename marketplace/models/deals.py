"""Deals: a listing x a buyer organisation, with brokers, the NDA, offer versions and milestones."""

from django.db import models

from marketplace.models.listings import TransactionType


class DealState(models.TextChoices):
    INQUIRY = "inquiry", "Inquiry"
    NDA_PENDING = "nda_pending", "NDA pending"
    NDA_SIGNED = "nda_signed", "NDA signed"
    NEGOTIATING = "negotiating", "Negotiating"
    AGREED = "agreed", "Agreed"
    IN_ESCROW = "in_escrow", "In escrow"
    SETTLED = "settled", "Settled"
    CANCELLED = "cancelled", "Cancelled"
    DISPUTED = "disputed", "Disputed"
    RESOLVED = "resolved", "Resolved"


class Side(models.TextChoices):
    SELLER = "seller", "Seller"
    BUYER = "buyer", "Buyer"


class Deal(models.Model):
    listing = models.ForeignKey("marketplace.Listing", on_delete=models.PROTECT, related_name="deals")
    buyer = models.ForeignKey(
        "marketplace.Organization", on_delete=models.PROTECT, related_name="deals_as_buyer"
    )
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=DealState.choices, default=DealState.INQUIRY)
    message = models.TextField(blank=True, help_text="the buyer's first inquiry")
    # Whether the parties see each other's names once the NDA is signed (brokers always do).
    reveal_identities_after_nda = models.BooleanField(default=True)
    # The brokers' commission on every released amount, in basis points, split by their shares.
    broker_commission_bp = models.PositiveIntegerField(default=1000)
    cancellation_reason = models.TextField(blank=True)
    is_generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One live deal per listing and buyer: a second inquiry joins the first.
            models.UniqueConstraint(
                fields=["listing", "buyer"],
                condition=~models.Q(state__in=["cancelled", "settled"]),
                name="deal_live_uniq",
            ),
            models.CheckConstraint(
                condition=models.Q(broker_commission_bp__lte=5000), name="deal_commission_at_most_half"
            ),
        ]


class DealBroker(models.Model):
    """A broker on a deal and their commission share, in basis points (all shares sum to 10,000)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="brokers")
    broker = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="deal_brokerships")
    is_lead = models.BooleanField(default=False)
    share_bp = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "broker"], name="deal_broker_uniq"),
            models.UniqueConstraint(fields=["deal"], condition=models.Q(is_lead=True), name="deal_one_lead"),
            models.CheckConstraint(condition=models.Q(share_bp__lte=10_000), name="deal_broker_share_range"),
        ]


class NdaTemplate(models.Model):
    """A version of the platform's NDA text. Signatures pin the exact text by its SHA-256."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)


class NdaSignature(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="nda_signatures")
    template = models.ForeignKey(NdaTemplate, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=8, choices=Side.choices)
    signer = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    text_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deal", "side"], name="nda_one_signature_per_side")]


class Offer(models.Model):
    """An immutable version of terms. A counter-offer is a new version pointing at the one it answers."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="offers")
    version = models.PositiveIntegerField()
    counters = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    # Which party the terms come from; a broker proposes on behalf of a side or as mediator (blank).
    proposed_for = models.CharField(max_length=8, choices=Side.choices, blank=True)
    transaction_type = models.CharField(max_length=32, choices=TransactionType.choices)
    upfront_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    royalty_bp = models.PositiveIntegerField(default=0, help_text="running royalty in basis points")
    term_months = models.PositiveIntegerField(null=True, blank=True)
    territory = models.CharField(max_length=100, blank=True)
    exclusive = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deal_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "version"], name="offer_version_uniq"),
            models.CheckConstraint(condition=models.Q(upfront_amount__gte=0), name="offer_amount_nonneg"),
        ]


class OfferAcceptance(models.Model):
    """One side accepting one exact offer version; both sides on the same version make an agreement."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="acceptances")
    side = models.CharField(max_length=8, choices=Side.choices)
    accepted_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offer", "side"], name="offer_acceptance_uniq")]


class MilestoneState(models.TextChoices):
    PENDING = "pending", "Pending"
    FUNDED = "funded", "Funded"
    DELIVERED = "delivered", "Delivered"
    ACCEPTED = "accepted", "Accepted"
    RELEASED = "released", "Released"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"


class Milestone(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="milestones")
    sequence = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    deliverables = models.TextField(blank=True)
    inspection_days = models.PositiveSmallIntegerField(default=14)
    state = models.CharField(max_length=16, choices=MilestoneState.choices, default=MilestoneState.PENDING)

    class Meta:
        ordering = ["deal_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "sequence"], name="milestone_sequence_uniq"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="milestone_amount_positive"),
        ]
