"""The Stripe client, pointed at STRIPE_API_BASE (stripe-mock in development and tests)."""

from functools import cache

import stripe
from django.conf import settings


@cache
def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
    )
