"""Organisations: create, verify (operators), invite members, accept an invitation."""

from typing import Any

import graphene
from django.conf import settings
from django.core.mail import send_mail

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.marketplace.organisations import (
    MemberRoleEnum,
    MembershipType,
    OrganizationNode,
    OrgKindEnum,
)
from marketplace import actions
from marketplace.error_codes import MarketplaceErrorCode as Code
from marketplace.models import MemberRole, Organization


class OrganizationCreateInput(graphene.InputObjectType):
    name = graphene.String(required=True, description="1 to 255 characters.")
    kind = graphene.Field(OrgKindEnum, required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2, e.g. KR.")
    business_registration_number = graphene.String(description="Checked by an operator before verification.")


class CreateOrganization(BaseMutation):
    """Create an organisation; you become its admin. An operator verifies it before it can sell."""

    class Arguments:
        input = OrganizationCreateInput(required=True)
        idempotency_key = idempotency_key_argument()

    organization = graphene.Field(OrganizationNode)
    errors = errors_field("CreateOrganization", [Code.IDEMPOTENCY_KEY_REUSED])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, input: Any, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        org = idempotent(
            user,
            "create_organization",
            idempotency_key,
            dict(input),
            Organization,
            lambda: actions.create_organization(
                user, input.name, input.kind, input.country, input.business_registration_number or ""
            ),
        )
        return {"organization": org}


class VerifyOrganization(BaseMutation):
    """Operators: mark an organisation's registration as checked."""

    class Arguments:
        id = graphene.ID(required=True, description="Organization id.")

    organization = graphene.Field(OrganizationNode)
    errors = errors_field("VerifyOrganization")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        org = actions.verify_organization(user, decode_id(id, "Organization", "id"))
        return {"organization": org}


class InviteMember(BaseMutation):
    """Admins: invite someone by e-mail. The invitation link is e-mailed and also returned once, so the
    admin can pass it on another way."""

    class Arguments:
        organization_id = graphene.ID(required=True)
        email = graphene.String(required=True)
        role = graphene.Argument(MemberRoleEnum, default_value=MemberRole.MEMBER)

    invitation_token = graphene.String(description="Accept with acceptInvitation; valid 14 days, once.")
    errors = errors_field("InviteMember")

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, organization_id: str, email: str, role: str
    ) -> dict[str, Any]:
        org_id = decode_id(organization_id, "Organization", "organization_id")
        invitation, token = actions.invite_member(user, org_id, email, role)
        send_mail(
            f"You are invited to {invitation.organization.name} on the IP marketplace",
            f"Sign in and accept the invitation with this code within 14 days:\n\n{token}\n",
            settings.DEFAULT_FROM_EMAIL,
            [invitation.email],
        )
        return {"invitation_token": token}


class AcceptInvitation(BaseMutation):
    """Join the organisation that invited you."""

    class Arguments:
        token = graphene.String(required=True)

    membership = graphene.Field(MembershipType)
    errors = errors_field("AcceptInvitation", [Code.INVITATION_INVALID])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, token: str) -> dict[str, Any]:
        return {"membership": actions.accept_invitation(user, token)}


class OrganizationMutations(graphene.ObjectType):
    create_organization = CreateOrganization.Field()
    verify_organization = VerifyOrganization.Field()
    invite_member = InviteMember.Field()
    accept_invitation = AcceptInvitation.Field()
