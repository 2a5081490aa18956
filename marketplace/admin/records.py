"""Records the system writes: the audit log, notifications, idempotency keys. Browse only."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from marketplace.admin.common import ReadOnlyAdmin, pretty_json
from marketplace.models import AuditEntry, IdempotencyKey, Notification


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin[AuditEntry]):
    """Append-only: ReadOnlyAdmin refuses add, change and delete to everyone, superusers included."""

    list_display = ["at", "actor", "object_type", "object_link", "action", "transition"]
    list_filter = ["object_type", "action", ("at", admin.DateFieldListFilter)]
    search_fields = ["object_id"]
    search_help_text = "Object id (exact)."
    list_select_related = ["actor"]
    fields = ["at", "actor", "object_type", "object_id", "action", "from_state", "to_state", "data_json"]
    readonly_fields = ["data_json"]
    # The log only grows: skip counting the whole table on every page.
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry], search_term: str
    ) -> tuple[QuerySet[AuditEntry], bool]:
        # An exact id filter uses the (object_type, object_id) index; text search would cast every row.
        term = search_term.strip().lstrip("#")
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(object_id=int(term)), False

    @admin.display(description="object", ordering="object_id")
    def object_link(self, obj: AuditEntry) -> str:
        try:
            url = reverse(f"admin:marketplace_{obj.object_type}_change", args=[obj.object_id])
        except NoReverseMatch:
            return str(obj.object_id)
        return format_html('<a href="{}">{}</a>', url, obj.object_id)

    @admin.display(description="from → to")
    def transition(self, obj: AuditEntry) -> str:
        if obj.from_state == obj.to_state:
            return obj.to_state or "—"
        return f"{obj.from_state or '∅'} → {obj.to_state or '∅'}"

    @admin.display(description="data")
    def data_json(self, obj: AuditEntry) -> str:
        return pretty_json(obj.data)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin[Notification]):
    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "title"]
    list_select_related = ["user"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin[IdempotencyKey]):
    list_display = ["created_at", "user", "operation", "key", "object_type", "object_id"]
    list_filter = ["operation"]
    search_fields = ["key", "user__username"]
    list_select_related = ["user"]
