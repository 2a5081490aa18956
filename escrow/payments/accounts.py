"""Connected accounts for payees (sellers and brokers) and their onboarding.

A seller organisation's admins, or a broker for themself, open the payee's account at the gateway once; the
gateway's onboarding (identity, bank account) happens on its own pages, reached by a single-use link, and
its outcome arrives as `account.updated` events. Money is only paid out to a payee that is ready.

The gateway call runs outside any transaction of ours and is idempotent under a key derived from the
payee ("account:org:<id>", "account:broker:<user id>"): concurrent or repeated requests reach the same
gateway account, and the unique constraints on GatewayOperation and ConnectedAccount decide which row wins.
"""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import F

from escrow.error_codes import EscrowErrorCode
from escrow.models import (
    ConnectedAccount,
    GatewayOperation,
    OperationKind,
    OperationStatus,
    WebhookEvent,
    WebhookStatus,
)
from escrow.payments.gateway import GatewayError, get_gateway
from escrow.payments.webhook_registry import handles
from marketplace import audit
from marketplace.error_codes import ActionError
from marketplace.models import BrokerProfile, MemberRole, Membership, Organization


def _require_user(user: User | AnonymousUser) -> User:
    if not isinstance(user, User) or not user.is_authenticated:
        raise ActionError(EscrowErrorCode.NOT_AUTHENTICATED, "Sign in first.")
    return user


def _is_admin(user: User, organization_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organization_id=organization_id, role=MemberRole.ADMIN
    ).exists()


def _operation(key: str, kind: OperationKind, destination: str = "") -> GatewayOperation:
    """The operation row for this key: inserted once, found afterwards (the unique key decides races)."""
    operation, _ = GatewayOperation.objects.get_or_create(
        idempotency_key=key, defaults={"kind": kind, "destination": destination}
    )
    return operation


def _record_failure(operation: GatewayOperation, exc: GatewayError) -> ActionError:
    # A retryable failure leaves the operation pending: the same key is sent again next time.
    status = OperationStatus.PENDING if exc.retryable else OperationStatus.FAILED
    GatewayOperation.objects.filter(pk=operation.pk).update(
        status=status, error=f"{exc.code}: {exc}", attempts=F("attempts") + 1
    )
    return ActionError(EscrowErrorCode.GATEWAY_ERROR, f"The payment gateway refused: {exc}")


def _record_success(operation: GatewayOperation, provider_id: str = "") -> None:
    GatewayOperation.objects.filter(pk=operation.pk).update(
        status=OperationStatus.SUCCEEDED, provider_id=provider_id, error="", attempts=F("attempts") + 1
    )


def ensure_payee_account(
    user: User | AnonymousUser, *, organization_id: int | None = None
) -> ConnectedAccount:
    """The payee account of the organisation (its admins only) or, without organization_id, of the
    broker themself; created at the gateway on the first call, returned as it is afterwards."""
    actor = _require_user(user)
    owner: dict[str, Any]
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise ActionError(EscrowErrorCode.NOT_FOUND, "No such organisation.", "organization_id")
        if not _is_admin(actor, organization.pk):
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED,
                "Only the organisation's admins manage its payouts.",
                "organization_id",
            )
        owner, key, country = (
            {"organization": organization},
            f"account:org:{organization.pk}",
            organization.country,
        )
    else:
        profile = BrokerProfile.objects.select_related("firm").filter(user=actor).first()
        if profile is None:
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED,
                "Only brokers have payouts of their own; name the organisation.",
            )
        owner, key, country = {"broker": actor}, f"account:broker:{actor.pk}", profile.firm.country

    existing = ConnectedAccount.objects.filter(**owner).first()
    if existing is not None:
        return existing
    operation = _operation(key, OperationKind.ACCOUNT)
    try:
        account = get_gateway().create_account(country=country, email=actor.email, idempotency_key=key)
    except GatewayError as exc:
        raise _record_failure(operation, exc) from exc
    with transaction.atomic():
        payee, created = ConnectedAccount.objects.get_or_create(
            **owner,
            defaults={
                "provider_account_id": account.id,
                "details_submitted": account.details_submitted,
                "payouts_enabled": account.payouts_enabled,
            },
        )
        _record_success(operation, account.id)
        if created:
            audit.record(actor, payee, "create_payee_account", to_state="onboarding", provider=account.id)
    return payee


def _owns(user: User, account: ConnectedAccount) -> bool:
    if account.organization_id is not None:
        return _is_admin(user, account.organization_id)
    return account.broker_id == user.pk


def onboarding_link(user: User | AnonymousUser, account_id: int) -> str:
    """A fresh single-use link to the gateway's onboarding for this payee account (its owner only)."""
    actor = _require_user(user)
    account = ConnectedAccount.objects.filter(pk=account_id).first()
    if account is None or not _owns(actor, account):
        # Someone else's account: whether it exists is not theirs to learn.
        raise ActionError(EscrowErrorCode.NOT_FOUND, "No such payee account.", "account_id")
    # Links are single-use and expire, so each request is a new operation with a key of its own.
    key = f"account_link:{account.provider_account_id}:{uuid.uuid4().hex}"
    operation = _operation(key, OperationKind.ACCOUNT_LINK, destination=account.provider_account_id)
    return_url = settings.ESCROW_PLATFORM_RETURN_URL
    try:
        url = get_gateway().create_onboarding_link(
            account_id=account.provider_account_id,
            # The gateway sends the payee to refresh_url when the link has expired: a new one is asked for.
            refresh_url=f"{return_url}{'&' if '?' in return_url else '?'}refresh={account.pk}",
            return_url=return_url,
            idempotency_key=key,
        )
    except GatewayError as exc:
        raise _record_failure(operation, exc) from exc
    _record_success(operation)
    return url


def payee_ready(account: ConnectedAccount) -> bool:
    """Whether the payee may be paid: onboarding submitted and payouts enabled by the gateway."""
    return account.details_submitted and account.payouts_enabled


@handles("account.updated")
def apply_account_updated(event: dict[str, Any]) -> None:
    obj = event["data"]["object"]
    # The row lock serialises concurrent events of one account; the check below then sees the other's.
    account = ConnectedAccount.objects.select_for_update().filter(provider_account_id=obj["id"]).first()
    if account is None:
        return  # not one of our payees
    # Events arrive in any order: an older state never overwrites a newer one already applied.
    newer = (
        WebhookEvent.objects.filter(
            type="account.updated",
            status=WebhookStatus.SUCCEEDED,
            payload__data__object__id=obj["id"],
            payload__created__gt=int(event.get("created", 0)),
        )
        .exclude(event_id=event["id"])
        .exists()
    )
    if newer:
        return
    account.details_submitted = bool(obj.get("details_submitted"))
    account.payouts_enabled = bool(obj.get("payouts_enabled"))
    account.save(update_fields=["details_submitted", "payouts_enabled", "updated_at"])
