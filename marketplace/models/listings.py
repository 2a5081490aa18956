"""Listings: technology packages of one or more patents plus know-how, offered for transaction."""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class TransactionType(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment"
    EXCLUSIVE_LICENCE = "exclusive_licence", "Exclusive licence"
    NON_EXCLUSIVE_LICENCE = "non_exclusive_licence", "Non-exclusive licence"
    OPTION = "option", "Option"
    JOINT_DEVELOPMENT = "joint_development", "Joint development"


class Sector(models.TextChoices):
    SEMICONDUCTORS = "semiconductors", "Semiconductors"
    DISPLAYS = "displays", "Displays"
    SECONDARY_BATTERIES = "secondary_batteries", "Secondary batteries"
    ADVANCED_MOBILITY = "advanced_mobility", "Advanced mobility"
    NEXT_GEN_NUCLEAR = "next_gen_nuclear", "Next-generation nuclear"
    ADVANCED_BIOTECH = "advanced_biotech", "Advanced biotech"
    AEROSPACE_MARINE = "aerospace_marine", "Aerospace & marine"
    HYDROGEN = "hydrogen", "Hydrogen"
    CYBERSECURITY = "cybersecurity", "Cybersecurity"
    AI = "ai", "Artificial intelligence"
    NEXT_GEN_COMMUNICATIONS = "next_gen_communications", "Next-generation communications"
    ADVANCED_ROBOTICS = "advanced_robotics", "Advanced robotics & manufacturing"
    QUANTUM = "quantum", "Quantum"
    OTHER = "other", "Other"


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    UNDER_NEGOTIATION = "under_negotiation", "Under negotiation"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Listing(models.Model):
    seller = models.ForeignKey("marketplace.Organization", on_delete=models.PROTECT, related_name="listings")
    created_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="public description of the package")
    # Confidential: only the seller, assigned brokers and buyers with a signed NDA may read it.
    know_how = models.TextField(blank=True)
    quantified_benefit = models.CharField(max_length=500, blank=True)
    patents = models.ManyToManyField("marketplace.Patent", related_name="listings")
    transaction_types = ArrayField(
        models.CharField(max_length=32, choices=TransactionType.choices), default=list
    )
    # Minor units of an ISO 4217 currency (KRW has none); null with price_negotiable for "negotiable".
    price_amount = models.BigIntegerField(null=True, blank=True)
    price_currency = models.CharField(max_length=3, blank=True)
    price_negotiable = models.BooleanField(default=False)
    trl = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    sector = models.CharField(max_length=32, choices=Sector.choices, default=Sector.OTHER)
    status = models.CharField(max_length=24, choices=ListingStatus.choices, default=ListingStatus.DRAFT)
    brokers = models.ManyToManyField("auth.User", related_name="brokered_listings", blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Set by the scheduled patent-life check: which warnings (lapsed, expiring soon…) the listing carries.
    life_flags = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    life_checked_at = models.DateTimeField(null=True, blank=True)
    is_generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "sector"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_amount__isnull=True) | models.Q(price_amount__gt=0),
                name="listing_price_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title
