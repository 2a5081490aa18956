"""Patents as imported from their offices; legal events and ownership changes are shown, never edited."""

from django.contrib import admin

from marketplace.admin.common import ReadOnlyInline
from marketplace.models import Patent, PatentEvent, PatentOwnershipChange


class PatentEventInline(ReadOnlyInline[PatentEvent, Patent]):
    model = PatentEvent
    fields = ["date", "kind", "description"]


class PatentOwnershipChangeInline(ReadOnlyInline[PatentOwnershipChange, Patent]):
    model = PatentOwnershipChange
    fields = ["date", "from_owner", "to_owner"]


@admin.register(Patent)
class PatentAdmin(admin.ModelAdmin[Patent]):
    list_display = [
        "office",
        "application_number",
        "registration_number",
        "title",
        "legal_status",
        "expiry_date",
        "owner",
        "source",
    ]
    list_filter = ["office", "legal_status", "source"]
    # "titles" matches the text of every language's title (Korean, English…).
    search_fields = [
        "application_number",
        "registration_number",
        "publication_number",
        "source_reference",
        "titles",
    ]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PatentEventInline, PatentOwnershipChangeInline]
