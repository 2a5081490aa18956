"""The Gateway implemented with stripe-python (Stripe Connect, separate charges and transfers).

The buyer pays a PaymentIntent on the platform account, tagged with the deal's `transfer_group`; the payees
are paid later by transfers to their connected accounts in the same group; refunds go back through the
PaymentIntent. Amounts are minor units as Stripe counts them (KRW has none). Currencies travel lower-case
to Stripe and come back upper-case, as the rest of the project writes them.
"""

from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

import stripe

from escrow.payments import stripe_client
from escrow.payments.gateway import Account, GatewayError, PaymentIntent, Refund, Transfer

T = TypeVar("T")

# A page of Stripe's list endpoints holds at most 100 objects; auto-pagination fetches the rest.
PAGE_SIZE = 100


def _id(value: Any) -> str:
    """An expandable field's id, whether Stripe sent the id or the expanded object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.id)


def _metadata(value: Any) -> dict[str, str]:
    if not value:
        return {}
    # A StripeObject is not a dict (its .items would be a field): it converts with to_dict().
    data = value.to_dict() if isinstance(value, stripe.StripeObject) else dict(value)
    return {str(k): str(v) for k, v in data.items()}


def _upper(currency: str | None) -> str:
    return (currency or "").upper()


def gateway_error(exc: stripe.StripeError) -> GatewayError:
    """Stripe's error as ours: retryable when the same call may succeed later (the network, rate limits,
    Stripe's own failures, an idempotent request still in progress), not for a request Stripe refused."""
    status = exc.http_status
    code = exc.code or (exc.error.code if exc.error is not None else None) or ""
    retryable = False
    if isinstance(exc, stripe.APIConnectionError):
        retryable, code = True, code or "api_connection_error"
    elif isinstance(exc, stripe.RateLimitError):
        retryable, code = True, code or "rate_limit"
    elif isinstance(exc, stripe.IdempotencyError):
        # The same key was sent with other parameters: a bug on our side, never healed by retrying.
        code = code or "idempotency_error"
    elif isinstance(exc, stripe.APIError) and (status is None or status == 409 or status >= 500):
        # 409: a request with this idempotency key is still being processed.
        retryable, code = True, code or ("idempotency_key_in_use" if status == 409 else "api_error")
    elif isinstance(exc, stripe.CardError):
        code = code or "card_error"
    elif isinstance(exc, stripe.InvalidRequestError):
        code = code or "invalid_request_error"
    elif status is not None and status >= 500:
        retryable, code = True, code or "api_error"
    else:
        code = code or type(exc).__name__
    return GatewayError(exc.user_message or str(exc), retryable=retryable, code=code)


def _call(request: Callable[[], T]) -> T:
    try:
        return request()
    except stripe.StripeError as exc:
        raise gateway_error(exc) from exc


def _account(obj: stripe.Account) -> Account:
    return Account(
        id=obj.id,
        details_submitted=bool(obj.details_submitted),
        payouts_enabled=bool(obj.payouts_enabled),
    )


def _payment_intent(obj: stripe.PaymentIntent) -> PaymentIntent:
    return PaymentIntent(
        id=obj.id,
        amount=obj.amount,
        currency=_upper(obj.currency),
        status=obj.status,
        client_secret=obj.client_secret or "",
        transfer_group=obj.transfer_group or "",
        amount_received=obj.amount_received or 0,
        latest_charge=_id(obj.latest_charge),
        metadata=_metadata(obj.metadata),
    )


def _transfer(obj: stripe.Transfer) -> Transfer:
    return Transfer(
        id=obj.id,
        amount=obj.amount,
        currency=_upper(obj.currency),
        destination=_id(obj.destination),
        transfer_group=obj.transfer_group or "",
        metadata=_metadata(obj.metadata),
    )


def _refund(obj: stripe.Refund) -> Refund:
    return Refund(
        id=obj.id,
        amount=obj.amount,
        currency=_upper(obj.currency),
        payment_intent=_id(obj.payment_intent),
        status=obj.status or "",
        metadata=_metadata(obj.metadata),
    )


class StripeGateway:
    """The default gateway (settings.ESCROW_GATEWAY). `client` is the shared StripeClient pointed at
    STRIPE_API_BASE unless another is given (tests point one at a closed port)."""

    def __init__(
        self,
        client: stripe.StripeClient | None = None,
        account_type: Literal["custom", "express"] = "express",
    ) -> None:
        self._client = client if client is not None else stripe_client.client()
        self._account_type: Literal["custom", "express"] = account_type

    # --- connected accounts -------------------------------------------------------------------------

    def create_account(self, *, country: str, email: str, idempotency_key: str) -> Account:
        params: stripe.params.AccountCreateParams = {
            "type": self._account_type,
            "country": country.upper(),
            # Separate charges and transfers: the payee only ever receives transfers from the platform.
            "capabilities": {"transfers": {"requested": True}},
        }
        if email:
            params["email"] = email
        obj = _call(
            lambda: self._client.v1.accounts.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return _account(obj)

    def retrieve_account(self, account_id: str) -> Account:
        return _account(_call(lambda: self._client.v1.accounts.retrieve(account_id)))

    def create_onboarding_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        link = _call(
            lambda: self._client.v1.account_links.create(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(link.url)

    # --- the buyer's payment ------------------------------------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        obj = _call(
            lambda: self._client.v1.payment_intents.create(
                params={
                    "amount": amount,
                    "currency": currency.lower(),
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return _payment_intent(obj)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return _payment_intent(_call(lambda: self._client.v1.payment_intents.retrieve(payment_intent_id)))

    # --- payouts to payees and refunds to the buyer -------------------------------------------------

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer:
        obj = _call(
            lambda: self._client.v1.transfers.create(
                params={
                    "amount": amount,
                    "currency": currency.lower(),
                    "destination": destination,
                    "transfer_group": transfer_group,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return _transfer(obj)

    def list_transfers(self, *, transfer_group: str) -> list[Transfer]:
        page = _call(
            lambda: self._client.v1.transfers.list(
                params={"transfer_group": transfer_group, "limit": PAGE_SIZE}
            )
        )
        return [_transfer(t) for t in _all(page.auto_paging_iter())]

    def create_refund(
        self, *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> Refund:
        obj = _call(
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            )
        )
        return _refund(obj)

    def list_refunds(self, *, payment_intent_id: str) -> list[Refund]:
        page = _call(
            lambda: self._client.v1.refunds.list(
                params={"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
            )
        )
        return [_refund(r) for r in _all(page.auto_paging_iter())]


def _all(pages: Iterator[T]) -> list[T]:
    """Drains auto-pagination; the next pages are fetched lazily, so their errors surface here."""
    return _call(lambda: list(pages))
