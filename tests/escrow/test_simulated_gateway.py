"""The stateful Stripe simulator (real Redis): idempotency, balances per transfer group, events, fault
injection, state shared between instances and processes, and Stripe's validation via stripe-mock."""

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from django.conf import settings
from django.test import override_settings

from escrow.payments.gateway import GatewayError, PaymentIntent, Transfer
from escrow.payments.simulated import SimulatedGateway, SimulatedOutage, simulated_gateway
from escrow.payments.stripe_gateway import StripeGateway

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
# The tests' own Redis database (the Celery test broker's), namespaced per test.
SIM_REDIS = settings.CELERY_BROKER_URL


@pytest.fixture
def sim() -> Iterator[SimulatedGateway]:
    gateway = SimulatedGateway(SIM_REDIS, namespace=f"test-{uuid.uuid4().hex}")
    yield gateway
    gateway.reset()


def _fund(sim: SimulatedGateway, amount: int, group: str = "deal_1", currency: str = "KRW") -> PaymentIntent:
    """A payment of `amount` into `group`, paid by the buyer."""
    intent = sim.create_payment_intent(
        amount=amount,
        currency=currency,
        transfer_group=group,
        metadata={"milestone": "7"},
        idempotency_key=f"fund:{uuid.uuid4().hex}",
    )
    sim.succeed_payment(intent.id)
    return intent


def _payee(sim: SimulatedGateway) -> str:
    return sim.create_account(country="KR", email="", idempotency_key=f"account:{uuid.uuid4().hex}").id


def _transfer(
    sim: SimulatedGateway, destination: str, amount: int, key: str, group: str = "deal_1"
) -> Transfer:
    return sim.create_transfer(
        amount=amount,
        currency="KRW",
        destination=destination,
        transfer_group=group,
        metadata={"milestone": "7"},
        idempotency_key=key,
    )


def _race(n: int, call: Callable[[int], T]) -> list[T | BaseException]:
    """Runs call(0..n-1) in n threads released together; returns each result or exception."""
    barrier = threading.Barrier(n)
    results: list[T | BaseException] = [RuntimeError("not run")] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except BaseException as exc:  # the test inspects every outcome
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _types(sim: SimulatedGateway) -> list[str]:
    return [e["type"] for e in sim.events()]


# --- idempotency ---------------------------------------------------------------------------------------


def test_a_repeated_key_returns_the_first_object_and_does_nothing_again(sim: SimulatedGateway) -> None:
    # given
    params: dict[str, Any] = {
        "amount": 1_000_000,
        "currency": "KRW",
        "transfer_group": "deal_1",
        "metadata": {"milestone": "7"},
    }
    first = sim.create_payment_intent(**params, idempotency_key="fund:7")

    # when
    again = sim.create_payment_intent(**params, idempotency_key="fund:7")

    # then
    assert again == first
    assert first.status == "requires_payment_method"
    assert first.id.startswith("pi_") and first.client_secret.startswith(first.id + "_secret_")
    assert sim.calls() == [("create_payment_intent", "fund:7")]


def test_twenty_threads_racing_one_key_make_one_transfer(sim: SimulatedGateway) -> None:
    # given
    _fund(sim, 1_000_000)
    seller = _payee(sim)

    # when
    results = _race(20, lambda i: _transfer(sim, seller, 970_000, "release:tx:1:seller"))

    # then: every caller got the one transfer; the money moved once
    assert all(isinstance(r, Transfer) for r in results), results
    assert len({cast(Transfer, r).id for r in results}) == 1
    assert sim.transferred_to(seller) == 970_000
    assert sim.transfers_in_group("deal_1") == 970_000
    assert [c for c in sim.calls() if c[0] == "create_transfer"] == [
        ("create_transfer", "release:tx:1:seller")
    ]
    assert _types(sim).count("transfer.created") == 1


def test_a_key_reused_with_other_parameters_is_refused(sim: SimulatedGateway) -> None:
    # given
    _fund(sim, 1_000_000)
    seller = _payee(sim)
    first = _transfer(sim, seller, 500_000, "release:tx:1:seller")

    # when
    with pytest.raises(GatewayError) as refused:
        _transfer(sim, seller, 600_000, "release:tx:1:seller")

    # then: refused for good, nothing more moved
    assert (refused.value.code, refused.value.retryable) == ("idempotency_error", False)
    assert sim.list_transfers(transfer_group="deal_1") == [first]
    assert sim.transferred_to(seller) == 500_000


def test_a_key_of_one_method_is_refused_for_another(sim: SimulatedGateway) -> None:
    intent = _fund(sim, 1_000)
    sim.create_refund(payment_intent_id=intent.id, amount=10, metadata={}, idempotency_key="same")

    with pytest.raises(GatewayError) as refused:
        sim.create_account(country="KR", email="", idempotency_key="same")

    assert refused.value.code == "idempotency_error"


# --- balances -------------------------------------------------------------------------------------------


def test_a_transfer_above_the_funds_received_in_its_group_is_refused(sim: SimulatedGateway) -> None:
    # given: 1,000,000 received, 600,000 paid out
    _fund(sim, 1_000_000)
    seller, broker = _payee(sim), _payee(sim)
    _transfer(sim, seller, 600_000, "release:1:seller")
    events_before = sim.events()

    # when
    with pytest.raises(GatewayError) as refused:
        _transfer(sim, broker, 400_001, "release:1:broker")

    # then: refused, and nothing was done or recorded
    assert (refused.value.code, refused.value.retryable) == ("balance_insufficient", False)
    assert sim.transferred_to(broker) == 0
    assert sim.transfers_in_group("deal_1") == 600_000
    assert sim.events() == events_before
    assert ("create_transfer", "release:1:broker") not in sim.calls()
    # the exact remainder still goes, under the same key (a refusal stores no idempotent result)
    assert _transfer(sim, broker, 400_000, "release:1:broker").amount == 400_000
    assert sim.transfers_in_group("deal_1") == 1_000_000


def test_money_not_yet_paid_or_of_another_group_or_currency_cannot_be_transferred(
    sim: SimulatedGateway,
) -> None:
    # given: an unpaid intent in deal_1, a paid one in deal_2, a paid USD one in deal_3
    sim.create_payment_intent(
        amount=1_000, currency="KRW", transfer_group="deal_1", metadata={}, idempotency_key="fund:1"
    )
    _fund(sim, 1_000, group="deal_2")
    _fund(sim, 1_000, group="deal_3", currency="USD")
    seller = _payee(sim)

    # then
    for group in ("deal_1", "deal_3"):
        with pytest.raises(GatewayError) as refused:
            _transfer(sim, seller, 1, f"release:{group}", group=group)
        assert refused.value.code == "balance_insufficient"
    assert _transfer(sim, seller, 1_000, "release:deal_2", group="deal_2").amount == 1_000


def test_concurrent_transfers_never_pay_out_more_than_received(sim: SimulatedGateway) -> None:
    # given: 1,000 received; 20 different transfers of 100 race for it
    _fund(sim, 1_000)
    seller = _payee(sim)

    # when
    results = _race(20, lambda i: _transfer(sim, seller, 100, f"release:{i}"))

    # then: exactly ten went through
    assert sum(isinstance(r, Transfer) for r in results) == 10
    assert all(
        isinstance(r, Transfer) or (isinstance(r, GatewayError) and r.code == "balance_insufficient")
        for r in results
    )
    assert sim.transferred_to(seller) == 1_000


def test_a_refund_above_what_was_received_and_not_refunded_is_refused(sim: SimulatedGateway) -> None:
    # given
    intent = _fund(sim, 1_000)
    sim.create_refund(payment_intent_id=intent.id, amount=700, metadata={}, idempotency_key="refund:1")

    # when
    with pytest.raises(GatewayError) as refused:
        sim.create_refund(payment_intent_id=intent.id, amount=301, metadata={}, idempotency_key="refund:2")

    # then
    assert (refused.value.code, refused.value.retryable) == ("amount_too_large", False)
    assert (sim.received(intent.id), sim.refunded(intent.id)) == (1_000, 700)
    assert [r.amount for r in sim.list_refunds(payment_intent_id=intent.id)] == [700]


def test_refunds_reduce_what_the_group_can_pay_out(sim: SimulatedGateway) -> None:
    intent = _fund(sim, 1_000)
    seller = _payee(sim)
    sim.create_refund(payment_intent_id=intent.id, amount=700, metadata={}, idempotency_key="refund:1")

    with pytest.raises(GatewayError):
        _transfer(sim, seller, 301, "release:1")
    assert _transfer(sim, seller, 300, "release:2").amount == 300


def test_an_unpaid_intent_cannot_be_refunded(sim: SimulatedGateway) -> None:
    intent = sim.create_payment_intent(
        amount=1_000, currency="KRW", transfer_group="deal_1", metadata={}, idempotency_key="fund:1"
    )

    with pytest.raises(GatewayError) as refused:
        sim.create_refund(payment_intent_id=intent.id, amount=1, metadata={}, idempotency_key="refund:1")

    assert refused.value.code == "charge_not_refundable"


def test_a_transfer_to_an_unknown_account_is_refused(sim: SimulatedGateway) -> None:
    _fund(sim, 1_000)

    with pytest.raises(GatewayError) as refused:
        _transfer(sim, "acct_nobody", 100, "release:1")

    assert (refused.value.code, refused.value.retryable) == ("resource_missing", False)


def test_invalid_amounts_are_refused_before_anything_happens(sim: SimulatedGateway) -> None:
    with pytest.raises(GatewayError) as refused:
        sim.create_payment_intent(
            amount=0, currency="KRW", transfer_group="deal_1", metadata={}, idempotency_key="fund:0"
        )

    assert refused.value.code == "parameter_invalid_integer"
    assert sim.calls() == []


# --- disputes -------------------------------------------------------------------------------------------


def test_an_open_dispute_holds_the_funds_and_blocks_refunds(sim: SimulatedGateway) -> None:
    # given
    intent = _fund(sim, 1_000)
    seller = _payee(sim)

    # when
    created = sim.dispute(intent.id, 1_000)

    # then
    dispute = created["data"]["object"]
    assert created["type"] == "charge.dispute.created"
    assert {k: dispute[k] for k in ("object", "payment_intent", "amount", "currency", "status")} == {
        "object": "dispute",
        "payment_intent": intent.id,
        "amount": 1_000,
        "currency": "krw",
        "status": "needs_response",
    }
    assert (
        dispute["id"].startswith("dp_")
        and dispute["charge"] == sim.retrieve_payment_intent(intent.id).latest_charge
    )
    with pytest.raises(GatewayError) as no_transfer:
        _transfer(sim, seller, 1, "release:1")
    assert no_transfer.value.code == "balance_insufficient"
    with pytest.raises(GatewayError) as no_refund:
        sim.create_refund(payment_intent_id=intent.id, amount=1, metadata={}, idempotency_key="refund:1")
    assert no_refund.value.code == "charge_disputed"


def test_a_won_dispute_gives_the_funds_back(sim: SimulatedGateway) -> None:
    intent = _fund(sim, 1_000)
    seller = _payee(sim)
    dispute_id = sim.dispute(intent.id, 1_000)["data"]["object"]["id"]

    closed = sim.close_dispute(dispute_id, "won")

    assert (closed["type"], closed["data"]["object"]["status"]) == ("charge.dispute.closed", "won")
    assert sim.charged_back(intent.id) == 0
    assert _transfer(sim, seller, 1_000, "release:1").amount == 1_000


def test_a_lost_dispute_leaves_the_funds_with_the_buyer(sim: SimulatedGateway) -> None:
    # given: 400 of 1,000 charged back
    intent = _fund(sim, 1_000)
    seller = _payee(sim)
    dispute_id = sim.dispute(intent.id, 400)["data"]["object"]["id"]

    # when
    sim.close_dispute(dispute_id, "lost")

    # then: 600 remain, for a refund or a transfer, not both
    assert sim.charged_back(intent.id) == 400
    with pytest.raises(GatewayError) as refused:
        sim.create_refund(payment_intent_id=intent.id, amount=601, metadata={}, idempotency_key="refund:1")
    assert refused.value.code == "amount_too_large"
    sim.create_refund(payment_intent_id=intent.id, amount=100, metadata={}, idempotency_key="refund:2")
    with pytest.raises(GatewayError):
        _transfer(sim, seller, 501, "release:1")
    assert _transfer(sim, seller, 500, "release:2").amount == 500
    with pytest.raises(GatewayError) as again:
        sim.close_dispute(dispute_id, "won")
    assert again.value.code == "dispute_closed"


# --- events ---------------------------------------------------------------------------------------------


def test_every_state_change_appends_the_event_stripe_would_send(sim: SimulatedGateway) -> None:
    # given
    intent = sim.create_payment_intent(
        amount=1_000,
        currency="KRW",
        transfer_group="deal_1",
        metadata={"milestone": "7"},
        idempotency_key="f",
    )
    seller = sim.create_account(country="KR", email="s@example.com", idempotency_key="account:org:1").id

    # when
    succeeded = sim.succeed_payment(intent.id)
    onboarded = sim.complete_onboarding(seller)
    _transfer(sim, seller, 600, "release:1")
    sim.create_refund(
        payment_intent_id=intent.id, amount=400, metadata={"why": "cancel"}, idempotency_key="r"
    )

    # then
    events = sim.events()
    assert [e["type"] for e in events] == [
        "payment_intent.succeeded",
        "account.updated",
        "transfer.created",
        "charge.refunded",
    ]
    assert events[0] == succeeded and events[1] == onboarded
    for e in events:
        assert e["id"].startswith("evt_") and e["object"] == "event" and e["livemode"] is False
        assert isinstance(e["created"], int)
    paid = events[0]["data"]["object"]
    assert {k: paid[k] for k in ("id", "object", "amount", "amount_received", "currency", "status")} == {
        "id": intent.id,
        "object": "payment_intent",
        "amount": 1_000,
        "amount_received": 1_000,
        "currency": "krw",
        "status": "succeeded",
    }
    assert (paid["transfer_group"], paid["metadata"]) == ("deal_1", {"milestone": "7"})
    assert paid["latest_charge"].startswith("ch_")
    account = events[1]["data"]["object"]
    assert (account["id"], account["details_submitted"], account["payouts_enabled"]) == (seller, True, True)
    transfer = events[2]["data"]["object"]
    assert (transfer["object"], transfer["amount"], transfer["destination"], transfer["transfer_group"]) == (
        "transfer",
        600,
        seller,
        "deal_1",
    )
    assert events[2]["request"]["idempotency_key"] == "release:1"
    charge = events[3]["data"]["object"]
    assert {k: charge[k] for k in ("id", "object", "payment_intent", "amount", "amount_refunded")} == {
        "id": paid["latest_charge"],
        "object": "charge",
        "payment_intent": intent.id,
        "amount": 1_000,
        "amount_refunded": 400,
    }
    assert charge["metadata"] == {"milestone": "7"}  # copied from the intent
    assert [(r["amount"], r["metadata"]) for r in charge["refunds"]["data"]] == [(400, {"why": "cancel"})]
    assert events[3]["data"]["previous_attributes"] == {"amount_refunded": 0, "refunded": False}
    assert sim.retrieve_account(seller).payouts_enabled is True
    assert sim.retrieve_payment_intent(intent.id).amount_received == 1_000


def test_a_payment_succeeds_once(sim: SimulatedGateway) -> None:
    intent = _fund(sim, 1_000)

    with pytest.raises(GatewayError) as refused:
        sim.succeed_payment(intent.id)

    assert refused.value.code == "payment_intent_unexpected_state"
    assert _types(sim) == ["payment_intent.succeeded"]


# --- fault injection ------------------------------------------------------------------------------------


def test_a_failure_before_the_call_does_nothing_and_the_retry_does_it_once(sim: SimulatedGateway) -> None:
    # given
    _fund(sim, 1_000)
    seller = _payee(sim)
    sim.fail_next("create_transfer", "before")

    # when
    with pytest.raises(SimulatedOutage) as outage:
        _transfer(sim, seller, 600, "release:1")

    # then: nothing happened; the retry with the same key transfers once
    assert outage.value.retryable is True
    assert sim.transferred_to(seller) == 0
    transfer = _transfer(sim, seller, 600, "release:1")
    assert sim.list_transfers(transfer_group="deal_1") == [transfer]
    assert [c for c in sim.calls() if c[0] == "create_transfer"] == [("create_transfer", "release:1")]


def test_a_failure_after_the_call_hides_a_transfer_that_happened(sim: SimulatedGateway) -> None:
    # given
    _fund(sim, 1_000)
    seller = _payee(sim)
    sim.fail_next("create_transfer", "after")

    # when: the caller learns nothing...
    with pytest.raises(SimulatedOutage):
        _transfer(sim, seller, 600, "release:1")

    # then: ...but the money moved; the retry with the same key answers that transfer, moving nothing
    assert sim.transferred_to(seller) == 600
    retried = _transfer(sim, seller, 600, "release:1")
    assert sim.list_transfers(transfer_group="deal_1") == [retried]
    assert sim.transferred_to(seller) == 600
    assert [c for c in sim.calls() if c[0] == "create_transfer"] == [("create_transfer", "release:1")]


def test_an_injected_failure_is_one_shot_and_per_method(sim: SimulatedGateway) -> None:
    intent = _fund(sim, 1_000)
    seller = _payee(sim)
    sim.fail_next("create_refund", "before")

    assert _transfer(sim, seller, 100, "release:1").amount == 100
    with pytest.raises(SimulatedOutage):
        sim.create_refund(payment_intent_id=intent.id, amount=1, metadata={}, idempotency_key="refund:1")
    assert sim.create_refund(payment_intent_id=intent.id, amount=1, metadata={}, idempotency_key="refund:1")


# --- shared state ---------------------------------------------------------------------------------------


def test_instances_of_one_namespace_share_state_and_a_new_one_finds_it(sim: SimulatedGateway) -> None:
    # given: two instances on one namespace
    other = SimulatedGateway(SIM_REDIS, namespace=sim.namespace)
    intent = _fund(sim, 1_000)
    seller = _payee(other)

    # when: one instance transfers, the other replays the key
    first = _transfer(sim, seller, 1_000, "release:1")
    replay = _transfer(other, seller, 1_000, "release:1")

    # then
    assert replay == first
    fresh = SimulatedGateway(SIM_REDIS, namespace=sim.namespace)
    assert fresh.received(intent.id) == 1_000
    assert fresh.transferred_to(seller) == 1_000
    assert len(fresh.events()) == len(sim.events())
    # another namespace sees none of it
    assert SimulatedGateway(SIM_REDIS, namespace=f"{sim.namespace}-other").received(intent.id) == 0


def test_a_process_killed_after_its_call_leaves_the_call_done(sim: SimulatedGateway) -> None:
    # given: a child process transfers under a key, then dies without a word
    _fund(sim, 1_000)
    seller = _payee(sim)
    child = (
        "import os, sys\n"
        "from escrow.payments.simulated import SimulatedGateway\n"
        "g = SimulatedGateway(sys.argv[1], namespace=sys.argv[2])\n"
        "g.create_transfer(amount=700, currency='KRW', destination=sys.argv[3], transfer_group='deal_1',\n"
        "                  metadata={}, idempotency_key='release:killed')\n"
        "os.kill(os.getpid(), 9)\n"
    )

    # when
    done = subprocess.run(
        [sys.executable, "-c", child, SIM_REDIS, sim.namespace, seller],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        timeout=60,
    )

    # then: killed, the transfer stands, and our retry of its key moves nothing more
    assert done.returncode == -9, done.stderr.decode()
    retried = sim.create_transfer(
        amount=700,
        currency="KRW",
        destination=seller,
        transfer_group="deal_1",
        metadata={},
        idempotency_key="release:killed",
    )
    assert sim.list_transfers(transfer_group="deal_1") == [retried]
    assert sim.transferred_to(seller) == 700


def test_reset_forgets_the_namespace(sim: SimulatedGateway) -> None:
    _fund(sim, 1_000)

    sim.reset()

    assert (sim.events(), sim.calls(), sim.transfers_in_group("deal_1")) == ([], [], 0)


# --- validation by stripe-mock and the factory ---------------------------------------------------------


def test_with_validate_with_stripe_mock_refuses_what_stripe_would_refuse(sim: SimulatedGateway) -> None:
    # given
    checked = SimulatedGateway(SIM_REDIS, namespace=sim.namespace, validate_with=StripeGateway())
    _fund(checked, 1_000)
    seller = _payee(checked)
    invalid_metadata = cast(dict[str, str], {"milestone": {"nested": "no"}})

    # when
    with pytest.raises(GatewayError) as refused:
        checked.create_transfer(
            amount=100,
            currency="KRW",
            destination=seller,
            transfer_group="deal_1",
            metadata=invalid_metadata,
            idempotency_key="release:bad",
        )

    # then: Stripe's spec refused it and the simulator did nothing
    assert (refused.value.code, refused.value.retryable) == ("invalid_request_error", False)
    assert sim.transferred_to(seller) == 0
    assert ("create_transfer", "release:bad") not in sim.calls()
    assert _transfer(checked, seller, 100, "release:good").amount == 100


def test_the_factory_reads_its_namespace_and_redis_from_the_settings(sim: SimulatedGateway) -> None:
    with override_settings(ESCROW_SIMULATOR_NAMESPACE=sim.namespace, ESCROW_SIMULATOR_REDIS_URL=SIM_REDIS):
        gateway = simulated_gateway()
        intent = _fund(gateway, 1_000)

    assert gateway.namespace == sim.namespace
    assert sim.received(intent.id) == 1_000
    with override_settings(ESCROW_SIMULATOR_VALIDATE="0", ESCROW_SIMULATOR_REDIS_URL=SIM_REDIS):
        assert simulated_gateway()._validate_with is None
