"""Operators' read views of the escrow: the ledger, payments, webhook events, deposits and the log.

Everything here is browse-only: money moves and deposits are released through the domain actions (and
their GraphQL mutations), never by editing rows; the ledger and log tables refuse edits in the database
anyway. Deposit rows show metadata and hashes only, never key material."""

from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from escrow.models import (
    ConnectedAccount,
    Deposit,
    DepositFile,
    Dispute,
    GatewayOperation,
    LedgerEntry,
    LedgerTransaction,
    LogEntry,
    ReleaseRequest,
    TreeHead,
    WebhookEvent,
)
from marketplace.admin.common import ReadOnlyAdmin, ReadOnlyInline, format_money, pretty_json


class LedgerEntryInline(ReadOnlyInline[LedgerEntry, LedgerTransaction]):
    model = LedgerEntry
    fields = ["account", "broker", "signed_amount"]
    readonly_fields = ["signed_amount"]

    @admin.display(description="amount (credit +, debit -)")
    def signed_amount(self, obj: LedgerEntry) -> str:
        return format_money(obj.amount, obj.currency)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin[LedgerTransaction]):
    list_display = ["created_at", "key", "kind", "milestone", "currency", "actor"]
    list_filter = ["kind", "currency"]
    search_fields = ["key"]
    list_select_related = ["milestone", "actor"]
    inlines = [LedgerEntryInline]
    show_full_result_count = False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin[LedgerEntry]):
    """Entries by account; the footer of a filtered list is the derived balance."""

    list_display = ["transaction", "milestone", "account", "broker", "shown_amount"]
    list_filter = ["account", "currency"]
    search_fields = ["transaction__key"]
    list_select_related = ["transaction", "milestone", "broker"]
    show_full_result_count = False

    @admin.display(description="amount")
    def shown_amount(self, obj: LedgerEntry) -> str:
        return format_money(obj.amount, obj.currency)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
        response = super().changelist_view(request, extra_context)
        try:
            queryset: QuerySet[LedgerEntry] = response.context_data["cl"].queryset  # type: ignore[attr-defined]
        except (AttributeError, KeyError):
            return response
        totals = queryset.values("currency").annotate(total=Sum("amount")).order_by("currency")
        response.context_data["title"] = "Ledger entries — balance: " + (  # type: ignore[attr-defined]
            ", ".join(format_money(int(t["total"]), t["currency"]) for t in totals) or "nothing"
        )
        return response


@admin.register(GatewayOperation)
class GatewayOperationAdmin(ReadOnlyAdmin[GatewayOperation]):
    list_display = ["created_at", "kind", "status", "milestone", "shown_amount", "destination", "attempts"]
    list_filter = ["kind", "status"]
    search_fields = ["idempotency_key", "provider_id", "destination"]
    list_select_related = ["milestone"]

    @admin.display(description="amount")
    def shown_amount(self, obj: GatewayOperation) -> str:
        return format_money(obj.amount, obj.currency) if obj.currency else "—"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin[WebhookEvent]):
    list_display = ["received_at", "event_id", "type", "status", "attempts", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["event_id"]
    fields = [
        "event_id",
        "type",
        "status",
        "attempts",
        "error",
        "received_at",
        "processed_at",
        "payload_json",
    ]
    readonly_fields = ["payload_json"]

    @admin.display(description="payload")
    def payload_json(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.payload)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin[Dispute]):
    list_display = ["opened_at", "milestone", "state", "resolution", "provider_dispute_id", "resolved_by"]
    list_filter = ["state", "resolution"]


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(ReadOnlyAdmin[ConnectedAccount]):
    list_display = ["provider_account_id", "organization", "broker", "details_submitted", "payouts_enabled"]
    list_filter = ["payouts_enabled"]


class DepositFileInline(ReadOnlyInline[DepositFile, Deposit]):
    model = DepositFile
    fields = ["position", "name", "size", "sha256", "ciphertext_sha256"]


class ReleaseRequestInline(ReadOnlyInline[ReleaseRequest, Deposit]):
    model = ReleaseRequest
    fields = [
        "condition",
        "state",
        "recorded_by",
        "approved_by",
        "evidence_sha256",
        "created_at",
        "decided_at",
    ]


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin[Deposit]):
    """Metadata only: the wrapped data key is neither listed nor shown."""

    list_display = ["created_at", "title", "purpose", "depositor", "beneficiary", "state", "log_index"]
    list_filter = ["purpose", "state"]
    search_fields = ["title", "manifest_sha256"]
    list_select_related = ["depositor", "beneficiary"]
    fields = [
        "title",
        "purpose",
        "state",
        "depositor",
        "beneficiary",
        "listing",
        "deal",
        "milestone",
        "manifest_sha256",
        "total_size",
        "log_index",
        "kek_id",
        "created_at",
        "released_at",
        "certificate_json",
    ]
    readonly_fields = ["certificate_json"]
    inlines = [DepositFileInline, ReleaseRequestInline]

    @admin.display(description="certificate")
    def certificate_json(self, obj: Deposit) -> str:
        return pretty_json(obj.certificate)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin[LogEntry]):
    list_display = ["index", "kind", "deposit", "actor", "created_at", "leaf_hash"]
    list_filter = ["kind"]
    search_fields = ["leaf_hash"]
    list_select_related = ["deposit", "actor"]
    fields = ["index", "kind", "deposit", "actor", "created_at", "leaf_hash", "leaf_text"]
    readonly_fields = ["leaf_text"]
    show_full_result_count = False

    @admin.display(description="leaf (canonical JSON)")
    def leaf_text(self, obj: LogEntry) -> str:
        return bytes(obj.leaf).decode("utf-8", errors="replace")


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin[TreeHead]):
    list_display = ["tree_size", "root_hash", "timestamp_ms", "key_id", "created_at"]
