"""Shared pieces of the operations admin: read-only bases, money and demo-record display, audit links,
and running a domain action over the selected rows."""

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from marketplace.error_codes import ActionError
from marketplace.models import AuditEntry
from marketplace.validation import CURRENCY_EXPONENTS

M = TypeVar("M", bound=models.Model)
P = TypeVar("P", bound=models.Model)


def format_money(amount: int | None, currency: str) -> str:
    """Minor units as an operator reads them: 50,000,000 KRW, 1,234.50 USD (KRW and JPY have no cents)."""
    if amount is None:
        return "—"
    code = currency.upper()
    exponent = CURRENCY_EXPONENTS.get(code)
    if exponent is None:
        return f"{amount:,} minor units {code}".rstrip()
    return f"{Decimal(amount).scaleb(-exponent):,.{exponent}f} {code}"


def with_demo_badge(label: object, is_generated: bool) -> str:
    """Demo records invented by scripts are marked wherever they are listed, so nobody takes them as real."""
    if not is_generated:
        return format_html("{}", label)
    return format_html(
        '{} <span title="Generated demo record" style="background:#ba2121;color:#fff;'
        'border-radius:3px;padding:0 4px;font-size:10px">DEMO</span>',
        label,
    )


def demo_marked(attr: str, description: str, ordering: str | None = None) -> Callable[[object, Any], str]:
    """A list column showing `attr` with the DEMO badge on generated records."""

    @admin.display(description=description, ordering=ordering or attr)
    def column(model_admin: object, obj: Any) -> str:
        return with_demo_badge(getattr(obj, attr), obj.is_generated)

    return column


def pretty_json(value: object) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def operator(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def run_action(
    model_admin: admin.ModelAdmin[M],
    request: HttpRequest,
    pks: Iterable[int],
    action: Callable[[User, int], object],
    done: str,
) -> int:
    """Call a domain action (which checks access and writes the audit entry) once per row. A refusal is
    reported with its reason and does not stop the others; each call is its own transaction."""
    user = operator(request)
    count, refused = 0, []
    for pk in pks:
        try:
            action(user, pk)
        except ActionError as exc:
            refused.append(f"#{pk}: {exc.message}")
        else:
            count += 1
    if count:
        model_admin.message_user(request, done.format(count=count), messages.SUCCESS)
    if refused:
        model_admin.message_user(request, "Refused: " + " ".join(refused), messages.ERROR)
    return count


class _TrialRun(Exception):
    """Rolls a trial run of an action back."""


def refusal_of(call: Callable[[], object]) -> ActionError | None:
    """The refusal a domain action would give, found by running it in a savepoint that is always rolled
    back, so a form can show it on its fields before anything is written."""
    try:
        with transaction.atomic():
            call()
            raise _TrialRun
    except _TrialRun:
        return None
    except ActionError as exc:
        return exc


class AuditLogLink:
    """A read-only field linking a change page to that object's entries in the audit log."""

    @admin.display(description="Audit log")
    def audit_log(self, obj: models.Model | None) -> str:
        if obj is None or obj.pk is None:
            return "—"
        # The same object_type that marketplace.audit.record writes.
        object_type = obj._meta.model_name or type(obj).__name__.lower()
        count = AuditEntry.objects.filter(object_type=object_type, object_id=obj.pk).count()
        query = urlencode({"object_type": object_type, "object_id": obj.pk})
        url = reverse("admin:marketplace_auditentry_changelist")
        return format_html('<a href="{}?{}">{} audit entries</a>', url, query, count)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Records written only by the system: operators browse them, nobody adds, edits or deletes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[M, P]):
    """Rows of an aggregate (a deal's offers, a patent's events) shown on its page, never edited there.
    Whoever may view the parent may view them, so operators need no permission per child model."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: P | None = None) -> list[str]:
        # Every field, including the non-editable ones (created_at…) a form could not even hold.
        return [*dict.fromkeys([*(self.fields or []), *self.readonly_fields])]

    def has_add_permission(self, request: HttpRequest, obj: P | None) -> bool:  # type: ignore[override]
        return False

    def has_change_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: P | None = None) -> bool:
        opts = self.parent_model._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(verb, opts)}")
            for verb in ("view", "change")
        )
