"""The payment gateway interface. Escrow code talks to this, never to Stripe directly, so the provider
can be swapped and the narrow seam can be simulated where stripe-mock (stateless) cannot answer.

Every money-moving call takes an idempotency key derived from the ledger operation that requires it:
the gateway performs a call with a key it has seen once only and answers a repeat with the first result.
"""

from dataclasses import dataclass, field
from typing import Protocol


class GatewayError(Exception):
    """The gateway refused or failed a call. `retryable` says whether the same call may succeed later."""

    def __init__(self, message: str, retryable: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class Account:
    id: str
    details_submitted: bool
    payouts_enabled: bool


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    amount: int
    currency: str  # upper case ISO 4217, as the rest of the project
    status: str  # Stripe's statuses: requires_payment_method, ..., succeeded, canceled
    client_secret: str
    transfer_group: str
    amount_received: int = 0
    latest_charge: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    currency: str
    destination: str
    transfer_group: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    payment_intent: str
    status: str
    metadata: dict[str, str] = field(default_factory=dict)


class Gateway(Protocol):
    def create_account(self, *, country: str, email: str, idempotency_key: str) -> Account: ...

    def retrieve_account(self, account_id: str) -> Account: ...

    def create_onboarding_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str: ...

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent: ...

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer: ...

    def list_transfers(self, *, transfer_group: str) -> list[Transfer]: ...

    def create_refund(
        self, *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> Refund: ...

    def list_refunds(self, *, payment_intent_id: str) -> list[Refund]: ...


def get_gateway() -> Gateway:
    """The configured gateway (settings.ESCROW_GATEWAY, a dotted path to a zero-argument factory)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    factory = import_string(settings.ESCROW_GATEWAY)
    gateway: Gateway = factory()
    return gateway
