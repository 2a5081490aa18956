"""Organisations, their members, brokers and API tokens."""

from django.conf import settings
from django.db import models


class OrgKind(models.TextChoices):
    PUBLIC_INSTITUTION = "public_institution", "Public research institution"
    UNIVERSITY = "university", "University"
    SME = "sme", "Small or medium enterprise"
    LARGE_ENTERPRISE = "large_enterprise", "Large enterprise"
    BROKER_FIRM = "broker_firm", "Technology-transfer broker firm"


class Organization(models.Model):
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=OrgKind.choices)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    business_registration_number = models.CharField(max_length=32, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Demo records invented by scripts are marked, so they are never presented as real.
    is_generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "business_registration_number"],
                condition=~models.Q(business_registration_number=""),
                name="org_registration_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class MemberRole(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member", "Member"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_uniq")]


class BrokerProfile(models.Model):
    """A certified technology-transfer broker, working for a broker firm."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broker_profile"
    )
    firm = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="brokers")
    certification_number = models.CharField(max_length=64, blank=True)
    sectors = models.JSONField(default=list, blank=True)
    bio = models.TextField(blank=True)
    is_generated = models.BooleanField(default=False)


class ApiToken(models.Model):
    """A programmatic client's bearer token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class Invitation(models.Model):
    """An organisation admin's invitation to join, accepted by a signed-in user holding the token.

    The token travels by e-mail; only its SHA-256 is stored, so a database reader cannot join anywhere.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
