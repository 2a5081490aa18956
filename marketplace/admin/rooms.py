"""Deal rooms for operators: every room's log, read-only, with hiding as an action.

Hiding goes through the domain action (marketplace.rooms.actions.hide_message), so it is audited and the
participants' clients learn of it from the room's log like any other entry.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from marketplace.admin.common import ReadOnlyAdmin, run_action
from marketplace.models import DealRoom, RoomEntry, RoomReadState
from marketplace.rooms.actions import hide_message

OPERATOR_HIDE_REASON = "Hidden by an operator in the admin"


@admin.register(RoomReadState)
class RoomReadStateAdmin(ReadOnlyAdmin[RoomReadState]):
    list_display = ["deal", "user", "last_read_sequence", "notified_sequence", "read_at"]
    search_fields = ["user__username", "deal__listing__title"]
    list_select_related = ["user"]


@admin.register(DealRoom)
class DealRoomAdmin(ReadOnlyAdmin[DealRoom]):
    list_display = ["deal", "last_sequence", "digest_sequence", "last_entry_at"]
    search_fields = ["deal__listing__title"]
    list_select_related = ["deal"]


@admin.register(RoomEntry)
class RoomEntryAdmin(ReadOnlyAdmin[RoomEntry]):
    list_display = ["deal", "sequence", "kind", "thread", "author", "author_role", "excerpt", "hidden_at"]
    list_filter = ["kind", "thread", "author_role", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["body", "deal__listing__title"]
    list_select_related = ["author"]
    actions = ["hide"]

    @admin.display(description="message")
    def excerpt(self, obj: RoomEntry) -> str:
        return obj.body if len(obj.body) <= 80 else obj.body[:79] + "…"

    @admin.action(description="Hide from the participants (kept for audit)")
    def hide(self, request: HttpRequest, queryset: QuerySet[RoomEntry]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        run_action(
            self, request, pks, lambda user, pk: hide_message(user, pk, OPERATOR_HIDE_REASON), "Hid {count}."
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoomEntry]:
        return super().get_queryset(request).select_related("author")
