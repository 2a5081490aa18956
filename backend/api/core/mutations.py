"""The base of every mutation: authentication, typed errors, idempotency keys."""

import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import graphene
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction

from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import IdempotencyKey

M = TypeVar("M", bound=models.Model)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class BaseMutation(graphene.Mutation):
    """Subclasses define `perform(cls, info, user, **args)` returning the payload's fields, and an
    `errors` field built with `error_type`. An ActionError becomes one typed error; nothing is written."""

    class Meta:
        abstract = True

    login_required: ClassVar[bool] = True

    @classmethod
    def mutate(cls, root: None, info: graphene.ResolveInfo, **kwargs: Any) -> "BaseMutation":
        user = info.context.user
        try:
            if cls.login_required and not user.is_authenticated:
                raise ActionError(MarketplaceErrorCode.NOT_AUTHENTICATED, "Sign in first.")
            # Each subclass's `perform` takes its own arguments, so it is looked up rather than declared here.
            perform: Callable[..., dict[str, Any]] = getattr(cls, "perform")  # noqa: B009
            return cls(errors=[], **perform(info, user, **kwargs))
        except ActionError as error:
            error_cls = cls._meta.fields["errors"].type.of_type.of_type.of_type  # [XError!]!
            if error.code.value not in error_cls.allowed_codes:
                raise  # a code the schema does not declare is a bug, not a client error
            field = _camel(error.field) if error.field else None
            return cls(errors=[error_cls(field=field, message=error.message, code=error.code.value)])


def idempotent(
    user: User,
    operation: str,
    key: str | None,
    request: dict[str, Any],
    model: type[M],
    create: Callable[[], M],
) -> M:
    """Run `create` once per (user, operation, key). A retry with the same key and input returns the first
    result; the same key with other input is refused. The unique constraint settles concurrent retries:
    the loser's whole transaction, its object included, rolls back and it returns the winner's object."""
    if not key:
        return create()
    if len(key) > 100:
        raise ActionError(MarketplaceErrorCode.INVALID, "At most 100 characters.", "idempotency_key")
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()

    def replay(row: IdempotencyKey) -> M:
        if row.request_sha256 != digest:
            raise ActionError(
                MarketplaceErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was used with other input.",
                "idempotency_key",
            )
        return model._default_manager.get(pk=row.object_id)

    lookup = {"user": user, "operation": operation, "key": key}
    row = IdempotencyKey.objects.filter(**lookup).first()
    if row is not None:
        return replay(row)
    try:
        with transaction.atomic():
            obj = create()
            IdempotencyKey.objects.create(
                **lookup,
                request_sha256=digest,
                object_type=model._meta.model_name or "",
                object_id=obj.pk,
            )
            return obj
    except IntegrityError:
        row = IdempotencyKey.objects.filter(**lookup).first()
        if row is None:
            raise
        return replay(row)


def idempotency_key_argument() -> graphene.String:
    return graphene.String(
        description="Retrying with the same key and input returns the first result instead of a copy."
    )
