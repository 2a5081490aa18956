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


# Action fields whose API input has another name: `field` must name what the client sent.
API_FIELDS = {
    "price_amount": "price",
    "budget_amount": "budget",
    "upfront_amount": "upfront",
    "royalty_bp": "royalty_basis_points",
    "entry_id": "message_id",  # a deal room's entries are messages in the API
}


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
            field = _camel(API_FIELDS.get(error.field, error.field)) if error.field else None
            if (
                field
                and field.endswith("Id")
                and field not in cls._meta.arguments
                and "id" in cls._meta.arguments
            ):
                field = "id"  # the action names the object (`listing_id`); this mutation's argument is `id`
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
    result; the same key with other input is refused. The key's row is claimed before `create` runs, so
    the unique constraint settles concurrent retries before either creates anything: the later one waits
    on the earlier one's row, then gets the IntegrityError and returns the earlier one's object. (Claiming
    after `create` would let a `create` with a unique constraint of its own, like one live deal per listing
    and buyer, refuse the retry with DEAL_EXISTS instead.)"""
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
            claim = IdempotencyKey.objects.create(
                **lookup, request_sha256=digest, object_type=model._meta.model_name or "", object_id=0
            )
            obj = create()
            claim.object_id = obj.pk
            claim.save(update_fields=["object_id"])
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
