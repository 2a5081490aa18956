import pytest
import stripe

from escrow.payments.stripe_client import client


def test_a_payment_intent_is_created_by_stripe_mock() -> None:
    # KRW is zero-decimal: 1,500,000 won is sent as 1500000.
    intent = client().v1.payment_intents.create(
        params={"amount": 1_500_000, "currency": "krw", "transfer_group": "deal_42"},
        options={"idempotency_key": "test-payment-intent-1"},
    )

    assert intent.object == "payment_intent"
    assert intent.id.startswith("pi_")
    assert intent.amount == 1_500_000


def test_stripe_mock_validates_requests_like_stripe() -> None:
    with pytest.raises(stripe.InvalidRequestError, match="amount"):
        client().v1.payment_intents.create(params={"currency": "krw"})  # amount missing
