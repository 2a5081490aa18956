"""One helper writes every audit entry, inside the transaction of the change it records."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from marketplace.events import audit_recorded
from marketplace.models import AuditEntry


def record(
    actor: User | AnonymousUser | None,
    obj: models.Model,
    action: str,
    from_state: str = "",
    to_state: str = "",
    **data: Any,
) -> AuditEntry:
    entry = AuditEntry.objects.create(
        actor=actor if isinstance(actor, User) else None,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=obj.pk,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )
    audit_recorded.send(sender=AuditEntry, entry=entry, obj=obj, actor=actor)
    return entry
