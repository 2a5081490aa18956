"""Test support: Stripe-shaped events, signed and delivered to /webhooks/stripe/ as Stripe would."""

import hashlib
import hmac
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

WEBHOOK_PATH = "/webhooks/stripe/"


def sign(payload: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for this exact body: t=<unix time>,v1=<hex HMAC-SHA256 of
    "<t>.<body>" keyed with the endpoint secret (settings.STRIPE_WEBHOOK_SECRET by default)>."""
    key = settings.STRIPE_WEBHOOK_SECRET if secret is None else secret
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(key.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def make_event(
    event_type: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None
) -> dict[str, Any]:
    """An event as Stripe sends it, around `obj` (the payment intent, charge, dispute, account...)."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def deliver(
    client: Client,
    event: dict[str, Any],
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
    body: bytes | None = None,
) -> "Response":
    """POSTs the event (JSON bytes) with a valid Stripe-Signature header. Overrides, for the refusals:
    `secret` and `timestamp` sign differently, `signature` replaces the whole header value ("" sends no
    header), `body` sends other bytes than the event's JSON (still signed unless `signature` is given)."""
    payload = json.dumps(event).encode() if body is None else body
    header = sign(payload, secret, timestamp) if signature is None else signature
    headers = {"Stripe-Signature": header} if header else {}
    return client.post(WEBHOOK_PATH, data=payload, content_type="application/json", headers=headers)
