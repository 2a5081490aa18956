"""Patents as recorded by their offices, with legal events and ownership history."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class PatentOffice(models.TextChoices):
    KR = "KR", "Korean Intellectual Property Office"
    US = "US", "United States Patent and Trademark Office"
    JP = "JP", "Japan Patent Office"
    CN = "CN", "China National Intellectual Property Administration"
    EP = "EP", "European Patent Office"
    WO = "WO", "WIPO (PCT)"


class LegalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REGISTERED = "registered", "Registered"
    LAPSED = "lapsed", "Lapsed"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Patent(models.Model):
    """A patent or application as recorded by its office. Keyed by office + application number."""

    office = models.CharField(max_length=2, choices=PatentOffice.choices)
    application_number = models.CharField(max_length=40)
    application_date = models.DateField(null=True, blank=True)
    registration_number = models.CharField(max_length=40, blank=True)
    registration_date = models.DateField(null=True, blank=True)
    publication_number = models.CharField(max_length=40, blank=True)
    publication_date = models.DateField(null=True, blank=True)
    # Language code -> text. Korean records carry Korean and English titles; NASA ones English only.
    titles = models.JSONField(default=dict)
    abstracts = models.JSONField(default=dict)
    claims = models.JSONField(default=list, blank=True, help_text="claim texts, in order")
    ipc_codes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    cpc_codes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    applicants = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    inventors = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    legal_status = models.CharField(max_length=16, choices=LegalStatus.choices, default=LegalStatus.PENDING)
    expiry_date = models.DateField(null=True, blank=True)
    next_annual_fee_due = models.DateField(null=True, blank=True)
    family_id = models.CharField(max_length=40, blank=True)
    # The organisation that holds the patent now (first applicant unless ownership changed).
    owner = models.ForeignKey(
        "marketplace.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="patents"
    )
    # Where the record came from (dataset name) and its identifier there, for provenance.
    source = models.CharField(max_length=64, blank=True)
    source_reference = models.CharField(max_length=64, blank=True)
    # Fields of the source record that have no column of their own yet (category, contact office…).
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["office", "application_number"], name="patent_office_application_uniq"
            ),
        ]
        ordering = ["office", "application_number"]

    def __str__(self) -> str:
        return f"{self.office} {self.application_number}: {self.title}"

    @property
    def title(self) -> str:
        """The title to show when no language is asked for: English first, then any."""
        return self.titles.get("en") or next(iter(self.titles.values()), "")


class PatentEvent(models.Model):
    """One step of a patent's legal history (filed, published, registered, fee paid, lapsed…)."""

    patent = models.ForeignKey(Patent, on_delete=models.CASCADE, related_name="events")
    date = models.DateField()
    kind = models.CharField(max_length=32)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [models.UniqueConstraint(fields=["patent", "date", "kind"], name="patent_event_uniq")]


class PatentOwnershipChange(models.Model):
    patent = models.ForeignKey(Patent, on_delete=models.CASCADE, related_name="ownership_changes")
    date = models.DateField()
    from_owner = models.CharField(max_length=255)
    to_owner = models.CharField(max_length=255)

    class Meta:
        ordering = ["date", "id"]
