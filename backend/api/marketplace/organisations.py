"""Organisations and users in the API. Names and kinds are public; members and registration numbers are
for the organisation's own members and operators."""

from typing import Any

import graphene
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from graphene import relay
from graphene_django import DjangoObjectType

from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection, viewer_of
from backend.api.marketplace.loaders import MembershipsByOrganizationIdLoader
from marketplace.models import MemberRole, Membership, Organization, OrgKind

OrgKindEnum = graphene.Enum.from_enum(OrgKind, description="What kind of organisation it is.")
MemberRoleEnum = graphene.Enum.from_enum(MemberRole, description="A member's role.")


class UserType(graphene.ObjectType):
    """A person on the platform, as others see them."""

    class Meta:
        name = "User"

    id = graphene.ID(required=True, description="Stable user id.")
    display_name = graphene.String(required=True, description="Full name, or the e-mail's local part.")

    @staticmethod
    def resolve_id(user: User, info: graphene.ResolveInfo) -> str:
        return str(user.pk)

    @staticmethod
    def resolve_display_name(user: User, info: graphene.ResolveInfo) -> str:
        return display_name(user)


def display_name(user: User) -> str:
    return user.get_full_name() or user.username.split("@")[0]


class MembershipType(graphene.ObjectType):
    """A user's membership of an organisation."""

    class Meta:
        name = "Membership"

    user = graphene.Field(UserType, required=True, description="The member.")
    organization = graphene.Field(lambda: OrganizationNode, required=True, description="The organisation.")
    role = graphene.Field(MemberRoleEnum, required=True, description="Admins invite members.")

    @staticmethod
    def resolve_role(membership: Membership, info: graphene.ResolveInfo) -> str:
        return membership.role

    @staticmethod
    def resolve_organization(membership: Membership, info: graphene.ResolveInfo) -> Organization:
        return membership.organization


class OrganizationNode(DjangoObjectType):
    """A company, university, public institution or broker firm."""

    kind = graphene.Field(OrgKindEnum, required=True, description="Kind of organisation.")
    is_verified = graphene.Boolean(required=True, description="An operator checked its registration.")
    business_registration_number = graphene.String(description="Only for its members and operators.")
    members = graphene.List(
        graphene.NonNull(MembershipType), description="Members; only for its members and operators."
    )

    class Meta:
        model = Organization
        name = "Organization"
        interfaces = (relay.Node,)
        fields = ("name", "country", "verified_at", "is_generated", "created_at")
        connection_class = CountedConnection

    @staticmethod
    def resolve_kind(org: Organization, info: graphene.ResolveInfo) -> str:
        return org.kind

    @staticmethod
    def resolve_is_verified(org: Organization, info: graphene.ResolveInfo) -> bool:
        return org.is_verified

    @staticmethod
    def resolve_business_registration_number(org: Organization, info: graphene.ResolveInfo) -> str | None:
        viewer = viewer_of(info)
        return org.business_registration_number if viewer.speaks_for(org.pk) else None

    @staticmethod
    def resolve_members(org: Organization, info: graphene.ResolveInfo) -> list[Membership] | None:
        viewer = viewer_of(info)
        if not viewer.speaks_for(org.pk):
            return None
        return loaders_of(info).get(MembershipsByOrganizationIdLoader).load(org.pk)


class OrganizationQueries(graphene.ObjectType):
    organization = relay.Node.Field(OrganizationNode, description="One organisation by its global id.")
    organizations = ConnectionField(
        OrganizationNode,
        kind=graphene.Argument(OrgKindEnum, description="Only this kind."),
        country=graphene.String(description="ISO 3166-1 alpha-2 country code."),
        verified=graphene.Boolean(description="Only verified (true) or unverified (false) ones."),
        search=graphene.String(description="Part of the name, any case."),
        description="Organisations, by name.",
    )

    @staticmethod
    def resolve_organizations(
        root: None, info: graphene.ResolveInfo, **filters: Any
    ) -> QuerySet[Organization]:
        orgs = Organization.objects.order_by("name", "id")
        if filters.get("kind"):
            orgs = orgs.filter(kind=filters["kind"])
        if filters.get("country"):
            orgs = orgs.filter(country=filters["country"].upper())
        if filters.get("verified") is not None:
            orgs = orgs.filter(verified_at__isnull=not filters["verified"])
        if filters.get("search"):
            orgs = orgs.filter(Q(name__icontains=filters["search"]))
        return orgs
