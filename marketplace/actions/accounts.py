"""Accounts: registration, API tokens for programmatic clients."""

import hashlib
import secrets

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace import audit
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import ApiToken

TOKEN_PREFIX = "ipm_"  # noqa: S105 -- a public marker that lets secret scanners spot leaked tokens


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ActionError(MarketplaceErrorCode.INVALID, "Give a valid e-mail address.", "email") from exc
    return email


@transaction.atomic
def register_user(email: str, password: str, full_name: str = "") -> User:
    """The e-mail, lower-cased, is the username: its unique constraint decides who registered first."""
    email = normalise_email(email)
    if len(full_name) > 150:
        raise ActionError(MarketplaceErrorCode.INVALID, "The name is at most 150 characters.", "full_name")
    try:
        validate_password(password, User(username=email, email=email))
    except ValidationError as exc:
        raise ActionError(MarketplaceErrorCode.WEAK_PASSWORD, " ".join(exc.messages), "password") from exc
    first, _, last = full_name.strip().partition(" ")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, email=email, password=password, first_name=first[:150], last_name=last[:150]
            )
    except IntegrityError as exc:
        raise ActionError(
            MarketplaceErrorCode.EMAIL_TAKEN, "An account with this e-mail exists.", "email"
        ) from exc
    audit.record(user, user, "register_user", to_state="active")
    return user


@transaction.atomic
def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself, which is shown once and never stored."""
    if not user.is_authenticated:
        raise ActionError(MarketplaceErrorCode.NOT_AUTHENTICATED, "Sign in first.")
    if not name.strip() or len(name) > 100:
        raise ActionError(MarketplaceErrorCode.INVALID, "Name the token (1 to 100 characters).", "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name.strip(), digest=token_digest(token))
    audit.record(user, row, "create_api_token", to_state="active")
    return row, token


@transaction.atomic
def revoke_api_token(user: User, token_id: int) -> ApiToken:
    row = ApiToken.objects.select_for_update().filter(pk=token_id, user_id=user.pk).first()
    if row is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such token.", "token_id")
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit.record(user, row, "revoke_api_token", "active", "revoked")
    return row


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None. Constant-time: the lookup is by digest."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)  # coarse, to spare a write per call
    return row.user
