"""StripeGateway against the real stripe-mock: Stripe's OpenAPI spec accepts every request we send, errors
map to GatewayError with the right retryability, and every mutating call carries its idempotency key.

stripe-mock is stateless (fixtures, no balances): what the answers contain beyond the echoed parameters is
not asserted here; the stateful semantics are the simulator's (test_simulated_gateway.py)."""

import socket
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.conf import settings

from escrow.payments.gateway import Account, GatewayError, PaymentIntent, Refund, Transfer
from escrow.payments.stripe_gateway import StripeGateway, gateway_error

Sent = list[tuple[str, str, dict[str, str], Any]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Each request's method, URL, headers and body, noted on its way to the real stripe-mock."""
    requests: Sent = []
    original = stripe.RequestsClient.request

    def record(self: Any, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        requests.append((method.upper(), url, dict(headers or {}), post_data))
        return original(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", record)
    return requests


def _gateway() -> StripeGateway:
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe.RequestsClient(),
        max_network_retries=0,
    )
    return StripeGateway(client)


def _form(body: Any) -> dict[str, list[str]]:
    """A form-encoded body or query string as Stripe receives it (nested keys as "a[b][c]")."""
    return parse_qs(body.decode() if isinstance(body, bytes) else str(body or ""))


def _path(url: str) -> str:
    return url.removeprefix(settings.STRIPE_API_BASE)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_a_connected_account_is_created_with_the_transfers_capability(sent: Sent) -> None:
    # when
    account = _gateway().create_account(
        country="kr", email="payee@example.com", idempotency_key="account:org:1"
    )

    # then: an express account, KR upper-case, transfers requested, under the key
    assert isinstance(account, Account)
    assert account.id.startswith("acct_")
    method, url, headers, body = sent[-1]
    assert (method, _path(url)) == ("POST", "/v1/accounts")
    assert headers["Idempotency-Key"] == "account:org:1"
    form = _form(body)
    assert form["type"] == ["express"]
    assert form["country"] == ["KR"]
    assert form["capabilities[transfers][requested]"] == ["true"]
    assert form["email"] == ["payee@example.com"]


def test_an_account_without_email_sends_none(sent: Sent) -> None:
    _gateway().create_account(country="KR", email="", idempotency_key="account:broker:7")

    assert "email" not in _form(sent[-1][3])


def test_an_account_is_retrieved() -> None:
    account = _gateway().retrieve_account("acct_123")

    assert isinstance(account, Account)
    assert account.id.startswith("acct_")


def test_an_onboarding_link_is_created_for_the_account(sent: Sent) -> None:
    # when
    url = _gateway().create_onboarding_link(
        account_id="acct_123",
        refresh_url="http://127.0.0.1:8000/payouts/?refresh=1",
        return_url="http://127.0.0.1:8000/payouts/",
        idempotency_key="account_link:acct_123:1",
    )

    # then
    assert url.startswith("https://")
    method, path, headers, body = sent[-1]
    assert (method, _path(path)) == ("POST", "/v1/account_links")
    assert headers["Idempotency-Key"] == "account_link:acct_123:1"
    assert _form(body)["type"] == ["account_onboarding"]


def test_a_payment_intent_is_created_on_the_platform_with_its_transfer_group(sent: Sent) -> None:
    # when: KRW has no minor unit, 1,500,000 won is sent as 1500000
    intent = _gateway().create_payment_intent(
        amount=1_500_000,
        currency="KRW",
        transfer_group="deal_42",
        metadata={"milestone": "7"},
        idempotency_key="fund:milestone:7",
    )

    # then: the currency went lower-case and came back upper-case
    assert isinstance(intent, PaymentIntent)
    assert intent.id.startswith("pi_")
    assert intent.amount == 1_500_000
    assert intent.currency == "KRW"
    assert intent.transfer_group == "deal_42"
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith("pi_")
    method, url, headers, body = sent[-1]
    assert (method, _path(url)) == ("POST", "/v1/payment_intents")
    assert headers["Idempotency-Key"] == "fund:milestone:7"
    form = _form(body)
    assert (form["currency"], form["metadata[milestone]"]) == (["krw"], ["7"])
    assert form["automatic_payment_methods[enabled]"] == ["true"]


def test_a_payment_intent_is_retrieved() -> None:
    intent = _gateway().retrieve_payment_intent("pi_123")

    assert isinstance(intent, PaymentIntent)
    assert intent.currency == intent.currency.upper()


def test_a_transfer_goes_to_the_destination_in_the_transfer_group(sent: Sent) -> None:
    # when
    transfer = _gateway().create_transfer(
        amount=970_000,
        currency="KRW",
        destination="acct_seller",
        transfer_group="deal_42",
        metadata={"milestone": "7", "payee": "seller"},
        idempotency_key="release:tx:1:seller",
    )

    # then
    assert isinstance(transfer, Transfer)
    assert transfer.id.startswith("tr_")
    assert (transfer.amount, transfer.destination, transfer.transfer_group, transfer.currency) == (
        970_000,
        "acct_seller",
        "deal_42",
        "KRW",
    )
    method, url, headers, body = sent[-1]
    assert (method, _path(url)) == ("POST", "/v1/transfers")
    assert headers["Idempotency-Key"] == "release:tx:1:seller"
    assert _form(body)["currency"] == ["krw"]


def test_transfers_are_listed_by_transfer_group(sent: Sent) -> None:
    transfers = _gateway().list_transfers(transfer_group="deal_42")

    # the query asked for this group, and Stripe's transfers came back as ours
    assert transfers and all(isinstance(t, Transfer) for t in transfers)
    method, url, headers, _ = sent[-1]
    assert method == "GET"
    assert _form(urlsplit(url).query) == {"transfer_group": ["deal_42"], "limit": ["100"]}
    assert "Idempotency-Key" not in headers


def test_a_refund_is_created_by_payment_intent(sent: Sent) -> None:
    # when
    refund = _gateway().create_refund(
        payment_intent_id="pi_123", amount=500_000, metadata={"milestone": "7"}, idempotency_key="refund:tx:2"
    )

    # then
    assert isinstance(refund, Refund)
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.payment_intent) == (500_000, "pi_123")
    assert refund.currency == refund.currency.upper()
    method, url, headers, _ = sent[-1]
    assert (method, _path(url)) == ("POST", "/v1/refunds")
    assert headers["Idempotency-Key"] == "refund:tx:2"


def test_refunds_are_listed_by_payment_intent(sent: Sent) -> None:
    refunds = _gateway().list_refunds(payment_intent_id="pi_123")

    assert refunds and all(isinstance(r, Refund) for r in refunds)
    assert _form(urlsplit(sent[-1][1]).query)["payment_intent"] == ["pi_123"]


def test_the_default_gateway_uses_the_shared_client_against_stripe_mock() -> None:
    # The zero-argument factory settings.ESCROW_GATEWAY names.
    intent = StripeGateway().create_payment_intent(
        amount=1000, currency="usd", transfer_group="deal_1", metadata={}, idempotency_key="k-default"
    )

    assert intent.currency == "USD"


def test_a_request_stripe_refuses_is_a_non_retryable_gateway_error() -> None:
    # given: metadata values must be strings in Stripe's spec
    invalid_metadata = cast(dict[str, str], {"milestone": {"nested": "no"}})

    # when
    with pytest.raises(GatewayError) as refused:
        _gateway().create_transfer(
            amount=100,
            currency="KRW",
            destination="acct_seller",
            transfer_group="deal_42",
            metadata=invalid_metadata,
            idempotency_key="release:bad",
        )

    # then
    assert refused.value.retryable is False
    assert refused.value.code == "invalid_request_error"
    assert "metadata" in str(refused.value)


def test_an_unreachable_gateway_is_a_retryable_gateway_error() -> None:
    # given: a client pointed at a port where nothing listens
    client = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": f"http://127.0.0.1:{_closed_port()}"},
        max_network_retries=0,
    )

    # when
    with pytest.raises(GatewayError) as failed:
        StripeGateway(client).create_refund(
            payment_intent_id="pi_123", amount=1, metadata={}, idempotency_key="refund:unreachable"
        )

    # then
    assert failed.value.retryable is True
    assert failed.value.code == "api_connection_error"


# stripe-python's error classes have untyped constructors.
_CardError = cast(Any, stripe.CardError)
_InvalidRequestError = cast(Any, stripe.InvalidRequestError)


@pytest.mark.parametrize(
    ("error", "retryable", "code"),
    [
        (stripe.RateLimitError("slow down", http_status=429), True, "rate_limit"),
        (stripe.APIError("stripe failed", http_status=500), True, "api_error"),
        (stripe.APIError("in progress", http_status=409), True, "idempotency_key_in_use"),
        (stripe.APIError("lock", http_status=409, code="lock_timeout"), True, "lock_timeout"),
        (stripe.IdempotencyError("other params", http_status=400), False, "idempotency_error"),
        (_CardError("declined", param="", code="card_declined", http_status=402), False, "card_declined"),
        (
            _InvalidRequestError(
                "insufficient", param="amount", code="balance_insufficient", http_status=400
            ),
            False,
            "balance_insufficient",
        ),
        (stripe.AuthenticationError("bad key", http_status=401), False, "AuthenticationError"),
    ],
)
def test_stripe_errors_map_to_gateway_errors(error: stripe.StripeError, retryable: bool, code: str) -> None:
    mapped = gateway_error(error)

    assert (mapped.retryable, mapped.code) == (retryable, code)
