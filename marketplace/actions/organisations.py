import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from marketplace import audit
from marketplace.access import is_operator
from marketplace.actions.accounts import normalise_email, token_digest
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Invitation, MemberRole, Membership, Organization, OrgKind


@transaction.atomic
def create_organization(
    user: User, name: str, kind: str, country: str, registration_number: str = ""
) -> Organization:
    if kind not in OrgKind.values:
        raise ActionError(MarketplaceErrorCode.INVALID, f"Unknown organisation kind {kind!r}.", "kind")
    if len(country) != 2 or not country.isalpha():
        raise ActionError(
            MarketplaceErrorCode.INVALID, "Country must be an ISO 3166-1 alpha-2 code.", "country"
        )
    if not name.strip():
        raise ActionError(MarketplaceErrorCode.INVALID, "Name is required.", "name")
    org = Organization.objects.create(
        name=name.strip(),
        kind=kind,
        country=country.upper(),
        business_registration_number=registration_number,
    )
    Membership.objects.create(user=user, organization=org, role=MemberRole.ADMIN)
    audit.record(user, org, "create_organization", to_state="unverified")
    return org


@transaction.atomic
def verify_organization(operator: User, organization_id: int) -> Organization:
    if not is_operator(operator):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only operators verify organisations.")
    org = Organization.objects.select_for_update().filter(pk=organization_id).first()
    if org is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such organisation.", "organization_id")
    if org.verified_at is None:
        org.verified_at = timezone.now()
        org.verified_by = operator
        org.save(update_fields=["verified_at", "verified_by"])
        audit.record(operator, org, "verify_organization", "unverified", "verified")
    return org


@transaction.atomic
def add_member(admin: User, organization_id: int, user: User, role: str = MemberRole.MEMBER) -> Membership:
    if not (_is_admin(admin, organization_id) or is_operator(admin)):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the organisation's admins add members."
        )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization_id=organization_id, defaults={"role": role}
    )
    audit.record(admin, membership, "add_member", to_state=membership.role, user_id=user.pk)
    return membership


INVITATION_DAYS = 14


def _is_admin(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(
        user_id=user.pk, organization_id=organization_id, role=MemberRole.ADMIN
    ).exists()


@transaction.atomic
def invite_member(
    admin: User, organization_id: int, email: str, role: str = MemberRole.MEMBER
) -> tuple[Invitation, str]:
    """Returns the invitation and its token, which the caller e-mails; only the token's hash is kept."""
    if not Organization.objects.filter(pk=organization_id).exists():
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such organisation.", "organization_id")
    if not (_is_admin(admin, organization_id) or is_operator(admin)):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only the organisation's admins invite.")
    if role not in MemberRole.values:
        raise ActionError(MarketplaceErrorCode.INVALID, f"Unknown role {role!r}.", "role")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization_id=organization_id,
        email=normalise_email(email),
        role=role,
        digest=token_digest(token),
        invited_by=admin,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit.record(admin, invitation, "invite_member", to_state="pending", role=role)
    return invitation, token


@transaction.atomic
def accept_invitation(user: User, token: str) -> Membership:
    """The signed-in user holding the token joins; the token works once and until it expires."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(digest=token_digest(token), accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        raise ActionError(
            MarketplaceErrorCode.INVITATION_INVALID, "The invitation is unknown, used or expired.", "token"
        )
    if (user.email or user.username).strip().lower() != invitation.email:
        # A forwarded or leaked code must not let someone else join: the invitation names one address.
        raise ActionError(
            MarketplaceErrorCode.INVITATION_INVALID, "This invitation was sent to another address.", "token"
        )
    invitation.accepted_by = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    membership, _ = Membership.objects.get_or_create(
        user=user, organization_id=invitation.organization_id, defaults={"role": invitation.role}
    )
    audit.record(user, invitation, "accept_invitation", "pending", "accepted")
    return membership
