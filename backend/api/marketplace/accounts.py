"""`me`: the signed-in user's own account, organisations, notifications and API tokens."""

import graphene
from django.contrib.auth.models import User

from backend.api.marketplace.organisations import MembershipType, UserType
from marketplace.access import is_operator
from marketplace.models import ApiToken, BrokerProfile, Membership, Notification


class NotificationType(graphene.ObjectType):
    """Something you should know about."""

    class Meta:
        name = "Notification"

    id = graphene.ID(required=True)
    kind = graphene.String(required=True, description="patent_life, deal_event, …")
    title = graphene.String(required=True)
    body = graphene.String(required=True)
    data = graphene.JSONString(required=True, description="Ids and dates the notification is about.")
    created_at = graphene.DateTime(required=True)
    read_at = graphene.DateTime()


class ApiTokenType(graphene.ObjectType):
    """An API token of yours. The token itself is shown once, when created."""

    class Meta:
        name = "ApiToken"

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    created_at = graphene.DateTime(required=True)
    last_used_at = graphene.DateTime()
    revoked_at = graphene.DateTime()


class MeType(graphene.ObjectType):
    """You."""

    class Meta:
        name = "Me"

    user = graphene.Field(UserType, required=True)
    email = graphene.String(required=True)
    is_operator = graphene.Boolean(required=True, description="Platform operator (staff).")
    memberships = graphene.List(graphene.NonNull(MembershipType), required=True)
    broker = graphene.Field("backend.api.marketplace.brokers.BrokerNode", description="Your broker profile.")
    notifications = graphene.List(
        graphene.NonNull(NotificationType),
        required=True,
        unread_only=graphene.Boolean(default_value=False),
        limit=graphene.Int(default_value=20, description="At most 100."),
        description="Newest first.",
    )
    api_tokens = graphene.List(graphene.NonNull(ApiTokenType), required=True)

    @staticmethod
    def resolve_user(user: User, info: graphene.ResolveInfo) -> User:
        return user

    @staticmethod
    def resolve_is_operator(user: User, info: graphene.ResolveInfo) -> bool:
        return is_operator(user)

    @staticmethod
    def resolve_memberships(user: User, info: graphene.ResolveInfo) -> list[Membership]:
        return list(
            Membership.objects.filter(user=user).select_related("user", "organization").order_by("id")
        )

    @staticmethod
    def resolve_broker(user: User, info: graphene.ResolveInfo) -> BrokerProfile | None:
        return BrokerProfile.objects.select_related("user").filter(user=user).first()

    @staticmethod
    def resolve_notifications(
        user: User, info: graphene.ResolveInfo, unread_only: bool, limit: int
    ) -> list[Notification]:
        rows = Notification.objects.filter(user=user)
        if unread_only:
            rows = rows.filter(read_at__isnull=True)
        return list(rows.order_by("-id")[: max(0, min(limit, 100))])

    @staticmethod
    def resolve_api_tokens(user: User, info: graphene.ResolveInfo) -> list[ApiToken]:
        return list(ApiToken.objects.filter(user=user).order_by("-id"))


class AccountQueries(graphene.ObjectType):
    me = graphene.Field(MeType, description="The signed-in user; null when anonymous.")

    @staticmethod
    def resolve_me(root: None, info: graphene.ResolveInfo) -> User | None:
        user = info.context.user
        return user if user.is_authenticated else None
