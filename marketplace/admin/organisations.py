"""Organisations (verified only through the verify action), their members, brokers and API tokens."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from marketplace.actions import verify_organization
from marketplace.admin.common import AuditLogLink, ReadOnlyInline, demo_marked, run_action
from marketplace.models import ApiToken, BrokerProfile, Invitation, Membership, Organization


class VerifiedFilter(admin.SimpleListFilter):
    title = "verified"
    parameter_name = "verified"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Organization]
    ) -> list[tuple[str, str]]:
        return [("yes", "Verified"), ("no", "Not verified")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Organization]) -> QuerySet[Organization]:
        if self.value() in ("yes", "no"):
            return queryset.filter(verified_at__isnull=self.value() == "no")
        return queryset


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]


class InvitationInline(ReadOnlyInline[Invitation, Organization]):
    """Sent and accepted by the organisation's admins; only the token's hash is stored and it is not shown."""

    model = Invitation
    fields = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_by", "accepted_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invitation]:
        return super().get_queryset(request).select_related("invited_by", "accepted_by")


@admin.register(Organization)
class OrganizationAdmin(AuditLogLink, admin.ModelAdmin[Organization]):
    list_display = ["display_name", "kind", "country", "verified", "member_count", "created_at"]
    list_filter = ["kind", "country", VerifiedFilter, "is_generated"]
    search_fields = ["name", "business_registration_number"]
    # Verification changes only through the action, so the audit log records who verified and when.
    readonly_fields = ["verified_at", "verified_by", "created_at", "audit_log"]
    fields = [
        "name",
        "kind",
        "country",
        "business_registration_number",
        "is_generated",
        "verified_at",
        "verified_by",
        "created_at",
        "audit_log",
    ]
    inlines = [MembershipInline, InvitationInline]
    actions = ["verify_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    display_name = demo_marked("name", "name")

    @admin.display(description="verified", boolean=True, ordering="verified_at")
    def verified(self, obj: Organization) -> bool:
        return obj.is_verified

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, obj: Organization) -> int:
        return int(getattr(obj, "_member_count", 0))

    @admin.action(description="Verify selected organisations", permissions=["change"])
    def verify_selected(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        pending = list(queryset.filter(verified_at__isnull=True).values_list("pk", flat=True))
        already = queryset.count() - len(pending)
        run_action(self, request, pending, verify_organization, "Verified {count} organisation(s).")
        if already:
            self.message_user(request, f"{already} organisation(s) were already verified.")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["organization"]


@admin.register(BrokerProfile)
class BrokerProfileAdmin(admin.ModelAdmin[BrokerProfile]):
    list_display = ["broker", "firm", "certification_number"]
    list_filter = ["is_generated"]
    search_fields = ["user__username", "certification_number", "firm__name"]
    list_select_related = ["user", "firm"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["firm"]

    broker = demo_marked("user", "broker", ordering="user__username")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Only the token's SHA-256 is stored; the token itself exists nowhere to show. Deleting a row
    revokes the token (a revoke action with an audit entry belongs in marketplace.actions)."""

    list_display = ["name", "user", "digest_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username"]
    list_select_related = ["user"]

    @admin.display(description="digest")
    def digest_prefix(self, obj: ApiToken) -> str:
        return f"{obj.digest[:12]}…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued to their user through the API, shown once

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
