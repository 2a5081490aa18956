"""Deals, shown whole and read-only: every change of a deal is a workflow action with an audit entry.
The NDA texts signatures pin by hash are versioned here; a signed version never changes."""

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from marketplace.actions.deals import nda_hash
from marketplace.admin.common import (
    AuditLogLink,
    ReadOnlyAdmin,
    ReadOnlyInline,
    format_money,
    with_demo_badge,
)
from marketplace.models import Deal, DealBroker, Milestone, NdaSignature, NdaTemplate, Offer

STATE_HELP = (
    "The state changes only through the deal actions (request_nda, sign_nda, make_offer, accept_offer, "
    "cancel_deal…), each of which checks who may act and writes the audit entry; it is never edited here."
)


class DealBrokerInline(ReadOnlyInline[DealBroker, Deal]):
    model = DealBroker
    fields = ["broker", "is_lead", "share"]
    readonly_fields = ["share"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DealBroker]:
        return super().get_queryset(request).select_related("broker")

    @admin.display(description="share")
    def share(self, obj: DealBroker) -> str:
        return f"{obj.share_bp / 100:g}%"


class NdaSignatureInline(ReadOnlyInline[NdaSignature, Deal]):
    model = NdaSignature
    fields = ["side", "signer", "template", "text_sha256", "signed_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NdaSignature]:
        return super().get_queryset(request).select_related("signer", "template")


class OfferInline(ReadOnlyInline[Offer, Deal]):
    model = Offer
    fields = [
        "version",
        "counters_version",
        "proposed_by",
        "proposed_for",
        "transaction_type",
        "upfront",
        "royalty",
        "term_months",
        "territory",
        "exclusive",
        "accepted_by",
        "created_at",
    ]
    readonly_fields = ["counters_version", "upfront", "royalty", "accepted_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offer]:
        queryset = super().get_queryset(request).select_related("proposed_by", "counters")
        return queryset.prefetch_related("acceptances")

    @admin.display(description="counters")
    def counters_version(self, obj: Offer) -> str:
        return f"v{obj.counters.version}" if obj.counters else "—"

    @admin.display(description="upfront")
    def upfront(self, obj: Offer) -> str:
        return format_money(obj.upfront_amount, obj.currency)

    @admin.display(description="royalty")
    def royalty(self, obj: Offer) -> str:
        return f"{obj.royalty_bp / 100:g}%"

    @admin.display(description="accepted by")
    def accepted_by(self, obj: Offer) -> str:
        return ", ".join(sorted(a.side for a in obj.acceptances.all())) or "—"


class MilestoneInline(ReadOnlyInline[Milestone, Deal]):
    model = Milestone
    fields = ["sequence", "title", "amount_display", "state", "inspection_days", "deliverables"]
    readonly_fields = ["amount_display"]

    @admin.display(description="amount")
    def amount_display(self, obj: Milestone) -> str:
        return format_money(obj.amount, obj.currency)


@admin.register(Deal)
class DealAdmin(AuditLogLink, ReadOnlyAdmin[Deal]):
    list_display = ["deal", "listing", "buyer", "state", "created_at", "updated_at"]
    list_filter = ["state", "is_generated", "created_at"]
    search_fields = ["listing__title", "buyer__name", "listing__seller__name"]
    list_select_related = ["listing", "buyer"]
    fieldsets = [
        (None, {"fields": ["state", "audit_log"], "description": STATE_HELP}),
        (
            "Parties",
            {"fields": ["listing", "buyer", "created_by", "message", "reveal_identities_after_nda"]},
        ),
        ("Record", {"fields": ["cancellation_reason", "is_generated", "created_at", "updated_at"]}),
    ]
    readonly_fields = ["audit_log", "created_at", "updated_at"]
    inlines = [DealBrokerInline, NdaSignatureInline, OfferInline, MilestoneInline]

    @admin.display(description="deal", ordering="pk")
    def deal(self, obj: Deal) -> str:
        return with_demo_badge(f"#{obj.pk}", obj.is_generated)


@admin.register(NdaTemplate)
class NdaTemplateAdmin(admin.ModelAdmin[NdaTemplate]):
    """The highest version is the one parties sign. Once a version is signed, its text is what the
    signatures' hashes prove, so it can no longer be changed or deleted: publish a new version instead."""

    list_display = ["version", "hash_prefix", "signed", "created_at"]
    fields = ["version", "text", "text_sha256", "created_at"]
    readonly_fields = ["text_sha256", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[NdaTemplate]:
        signed = NdaSignature.objects.filter(template=OuterRef("pk"))
        return super().get_queryset(request).annotate(_signed=Exists(signed))

    @admin.display(description="signed", boolean=True)
    def signed(self, obj: NdaTemplate) -> bool:
        return bool(getattr(obj, "_signed", False))

    @admin.display(description="SHA-256")
    def hash_prefix(self, obj: NdaTemplate) -> str:
        return f"{obj.text_sha256[:16]}…"

    def has_change_permission(self, request: HttpRequest, obj: NdaTemplate | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj is not None and self.signed(obj))

    def has_delete_permission(self, request: HttpRequest, obj: NdaTemplate | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and self.signed(obj))

    def save_model(self, request: HttpRequest, obj: NdaTemplate, form: object, change: bool) -> None:
        obj.text_sha256 = nda_hash(obj.text)
        super().save_model(request, obj, form, change)
