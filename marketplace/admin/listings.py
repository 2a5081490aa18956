"""Listings and demands change only through their actions; behaviour signals are browse-only."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from marketplace.actions import ListingChanges, close_demand, update_listing, withdraw_listing
from marketplace.admin.common import (
    AuditLogLink,
    ReadOnlyAdmin,
    demo_marked,
    format_money,
    operator,
    refusal_of,
    run_action,
)
from marketplace.models import Bookmark, BrokerProfile, Demand, Listing, ListingView

CONTENT_FIELDS = [
    "title",
    "summary",
    "know_how",
    "quantified_benefit",
    "patents",
    "transaction_types",
    "price_amount",
    "price_currency",
    "price_negotiable",
    "trl",
    "sector",
]
PRICE_FIELDS = {"price_amount", "price_currency", "price_negotiable"}
# The inputs update_listing names in its refusals, as fields of this form.
FORM_FIELD = {"patent_ids": "patents", "currency": "price_currency"}


class ListingAdminForm(forms.ModelForm[Listing]):
    """An operator's edit is an update_listing call, so the seller's rules hold (patents change only while
    drafting, supported currencies…) and the audit log records it. clean() finds its refusal by a trial
    run; ListingAdmin.save_model makes the call."""

    operator: User  # set per request by ListingAdmin.get_form

    class Meta:
        model = Listing
        fields = [*CONTENT_FIELDS, "brokers"]
        help_texts = {
            "price_amount": "In minor units of the currency: KRW and JPY have none, so 50000000 KRW is "
            "₩50,000,000. Leave it empty (or tick negotiable) for a negotiable price.",
            "patents": "Patents change only while the listing is a draft.",
        }

    def content_changed(self) -> bool:
        return bool(set(self.changed_data) & set(CONTENT_FIELDS))

    def changes(self) -> ListingChanges:
        data, changed = self.cleaned_data, set(self.changed_data)

        def pick(name: str) -> Any:
            return data.get(name) if name in changed else None

        price = bool(changed & PRICE_FIELDS)
        clear = price and (data.get("price_amount") is None or bool(data.get("price_negotiable")))
        return ListingChanges(
            title=pick("title"),
            summary=pick("summary"),
            know_how=pick("know_how"),
            quantified_benefit=pick("quantified_benefit"),
            transaction_types=pick("transaction_types"),
            price_amount=data.get("price_amount") if price and not clear else None,
            price_currency=data.get("price_currency") if price and not clear else None,
            clear_price=clear,
            sector=pick("sector"),
            trl=pick("trl"),
            patent_ids=[p.pk for p in data["patents"]] if "patents" in changed else None,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and self.content_changed():
            refusal = refusal_of(lambda: update_listing(self.operator, self.instance.pk, self.changes()))
            if refusal is not None:
                field = FORM_FIELD.get(refusal.field or "", refusal.field)
                self.add_error(field if field in self.fields else None, refusal.message)
        brokers = data.get("brokers")
        if brokers and BrokerProfile.objects.filter(user__in=brokers).count() != len(brokers):
            self.add_error("brokers", "Every assigned broker must have a broker profile.")
        return data


class LifeFlagFilter(admin.SimpleListFilter):
    title = "patent-life warnings"
    parameter_name = "life_flags"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", "With warnings"), ("none", "Without warnings")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Listing]) -> QuerySet[Listing]:
        if self.value() == "any":
            return queryset.exclude(life_flags=[])
        if self.value() == "none":
            return queryset.filter(life_flags=[])
        return queryset


@admin.register(Listing)
class ListingAdmin(AuditLogLink, admin.ModelAdmin[Listing]):
    form = ListingAdminForm
    list_display = ["display_title", "seller", "status", "sector", "price", "published_at", "flags"]
    list_filter = ["status", "sector", LifeFlagFilter, "price_currency", "is_generated"]
    search_fields = ["title", "seller__name", "patents__application_number"]
    list_select_related = ["seller"]
    autocomplete_fields = ["patents"]
    raw_id_fields = ["brokers"]
    readonly_fields = [
        "seller",
        "created_by",
        "status",
        "published_at",
        "audit_log",
        "life_flags",
        "life_checked_at",
        "is_generated",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            "Lifecycle",
            {
                "fields": tuple(readonly_fields[:5]),
                # Why read-only: every status change is an action, which writes the audit entry.
                "description": "The status changes only through the listing actions (publish, withdraw: "
                "see the action menu of the list), never by editing it here.",
            },
        ),
        ("Offer", {"fields": [*CONTENT_FIELDS, "brokers"]}),
        ("Record", {"fields": tuple(readonly_fields[5:])}),
    ]
    actions = ["withdraw_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sellers create listings (create_listing checks the seller holds the patents)

    def has_delete_permission(self, request: HttpRequest, obj: Listing | None = None) -> bool:
        return False  # withdraw instead: deals, views and the audit trail refer to the listing

    def get_form(
        self, request: HttpRequest, obj: Listing | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Listing]]:
        form = super().get_form(request, obj, change, **kwargs)  # a new class per call
        form.operator = operator(request)  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Listing, form: Any, change: bool) -> None:
        if form.content_changed():
            update_listing(form.operator, obj.pk, form.changes())

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Only the brokers: patents were set by update_listing, not by the form.
        if "brokers" in form.changed_data:
            form.instance.brokers.set(form.cleaned_data["brokers"])

    display_title = demo_marked("title", "title")

    @admin.display(description="price", ordering="price_amount")
    def price(self, obj: Listing) -> str:
        if obj.price_amount is None:
            return "negotiable" if obj.price_negotiable else "—"
        return format_money(obj.price_amount, obj.price_currency)

    @admin.display(description="life flags")
    def flags(self, obj: Listing) -> str:
        return ", ".join(obj.life_flags) or "—"

    @admin.action(description="Withdraw selected listings", permissions=["change"])
    def withdraw_selected(self, request: HttpRequest, queryset: QuerySet[Listing]) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        run_action(self, request, pks, withdraw_listing, "Withdrew {count} listing(s).")


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin[Demand]):
    """Buyers post and edit their demands; operators browse them and may close them."""

    list_display = [
        "display_title",
        "buyer",
        "sector",
        "transaction_type",
        "budget",
        "reply_deadline",
        "is_open",
    ]
    list_filter = ["is_open", "sector", "transaction_type", "is_generated"]
    search_fields = ["title", "buyer__name"]
    list_select_related = ["buyer"]
    actions = ["close_selected"]

    display_title = demo_marked("title", "title")

    @admin.display(description="budget", ordering="budget_amount")
    def budget(self, obj: Demand) -> str:
        return format_money(obj.budget_amount, obj.budget_currency)

    def has_close_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("marketplace.change_demand")

    @admin.action(description="Close selected demands", permissions=["close"])
    def close_selected(self, request: HttpRequest, queryset: QuerySet[Demand]) -> None:
        pks = list(queryset.filter(is_open=True).values_list("pk", flat=True))
        run_action(self, request, pks, close_demand, "Closed {count} demand(s).")


@admin.register(Bookmark)
class BookmarkAdmin(ReadOnlyAdmin[Bookmark]):
    list_display = ["user", "listing", "created_at"]
    search_fields = ["user__username", "listing__title"]
    list_select_related = ["user", "listing"]


@admin.register(ListingView)
class ListingViewAdmin(ReadOnlyAdmin[ListingView]):
    list_display = ["user", "listing", "viewed_at"]
    search_fields = ["user__username", "listing__title"]
    list_select_related = ["user", "listing"]
