from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from marketplace import audit
from marketplace.access import is_operator
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import MemberRole, Membership, Organization, OrgKind


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
    is_admin = Membership.objects.filter(
        user=admin, organization_id=organization_id, role=MemberRole.ADMIN
    ).exists()
    if not (is_admin or is_operator(admin)):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Only the organisation's admins add members."
        )
    membership, _ = Membership.objects.get_or_create(
        user=user, organization_id=organization_id, defaults={"role": role}
    )
    audit.record(admin, membership, "add_member", to_state=membership.role, user_id=user.pk)
    return membership
