"""The gateway's webhook endpoint: /webhooks/stripe/.

1. The Stripe-Signature header is checked on the raw body, as received: an HMAC-SHA256 with the endpoint
   secret over "<t>.<body>", any of its v1 signatures may match (several are sent while a secret rolls),
   and t must lie within STRIPE_WEBHOOK_TOLERANCE_SECONDS of now either way, so a captured delivery
   cannot be replayed later. Refused deliveries store nothing.
2. Each event id is stored once (INSERT ... ON CONFLICT DO NOTHING under its unique constraint) and its row
   locked, so concurrent deliveries of one event run one after the other and the second sees the first's
   outcome.
3. The handler registered for the event's type runs in a savepoint: success marks the row succeeded;
   an exception rolls the handler's writes back, marks the row failed with the error and answers 500, so
   the gateway delivers again later. Types nobody handles are acknowledged and ignored.
"""

import hashlib
import hmac
import json
import logging
import time
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone

from escrow.models import WebhookEvent, WebhookStatus
from escrow.payments.webhook_registry import HANDLERS, Handler, load_handlers

logger = logging.getLogger(__name__)

SIGNATURE_SCHEME = "v1"
EVENT_ID_MAX_LENGTH = WebhookEvent._meta.get_field("event_id").max_length or 0


class BadDelivery(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            timestamps.append(value)
        elif name == SIGNATURE_SCHEME:
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise BadDelivery("bad_signature", "The Stripe-Signature header has no timestamp or no v1 signature.")
    return int(timestamps[0]), signatures


def verify_signature(body: bytes, header: str | None, secret: str, tolerance: int, now: float) -> None:
    """Raises BadDelivery unless one v1 signature of `header` signs `body` at a timestamp within
    `tolerance` seconds of `now`."""
    if not header:
        raise BadDelivery("bad_signature", "The Stripe-Signature header is missing.")
    timestamp, signatures = _parse_header(header)
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    # Every candidate is compared in constant time; none short-circuits on a partial match.
    if not any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures):
        raise BadDelivery("bad_signature", "No signature matches the payload.")
    # Only a correctly signed timestamp is judged: too old is a replay, too far ahead is as suspect.
    if abs(now - timestamp) > tolerance:
        raise BadDelivery("stale_timestamp", "The signature's timestamp is outside the tolerance.")


def _parse_event(body: bytes) -> dict[str, Any]:
    try:
        evt = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadDelivery("malformed", "The body is not JSON.") from exc
    if (
        not isinstance(evt, dict)
        or not isinstance(evt.get("id"), str)
        or not evt["id"]
        or len(evt["id"]) > EVENT_ID_MAX_LENGTH
        or not isinstance(evt.get("type"), str)
        or not isinstance(evt.get("data"), dict)
        or not isinstance(evt["data"].get("object"), dict)
    ):
        raise BadDelivery("malformed", "The body is not an event.")
    return evt


@cache
def _handlers() -> dict[str, Handler]:
    load_handlers()
    return HANDLERS


def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.body  # the raw bytes: the signature covers them, never a re-serialisation
    try:
        verify_signature(
            body,
            request.headers.get("Stripe-Signature"),
            settings.STRIPE_WEBHOOK_SECRET,
            settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
            time.time(),
        )
        evt = _parse_event(body)
    except BadDelivery as exc:
        return JsonResponse({"code": exc.code, "message": str(exc)}, status=400)
    return _process(evt)


def _process(evt: dict[str, Any]) -> HttpResponse:
    handlers = _handlers()
    event_id, event_type = evt["id"], evt["type"]
    with transaction.atomic():
        WebhookEvent.objects.bulk_create(
            [WebhookEvent(event_id=event_id, type=event_type, payload=evt)], ignore_conflicts=True
        )
        row = WebhookEvent.objects.select_for_update().get(event_id=event_id)
        if row.status == WebhookStatus.SUCCEEDED:
            return JsonResponse({"status": "already_processed"})
        handler = handlers.get(event_type)
        if handler is None:
            _mark(row, WebhookStatus.SUCCEEDED)
            return JsonResponse({"status": "ignored"})
        try:
            with transaction.atomic():
                handler(evt)
        except Exception as exc:
            # The savepoint undid the handler's writes; the row keeps the error for the operators.
            logger.exception("webhook %s (%s) failed", event_id, event_type)
            _mark(row, WebhookStatus.FAILED, error=f"{type(exc).__name__}: {exc}", attempted=True)
            return JsonResponse({"status": "failed"}, status=500)
        _mark(row, WebhookStatus.SUCCEEDED, attempted=True)
        return JsonResponse({"status": "processed"})


def _mark(row: WebhookEvent, status: WebhookStatus, error: str = "", attempted: bool = False) -> None:
    WebhookEvent.objects.filter(pk=row.pk).update(
        status=status,
        error=error,
        attempts=F("attempts") + 1 if attempted else F("attempts"),
        processed_at=timezone.now() if status == WebhookStatus.SUCCEEDED else None,
    )
