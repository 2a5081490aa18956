"""A real process killed in the middle of moving money: retry and reconciliation converge, and nothing is
paid twice.

Each test runs the work in a child Python process (Django set up on the test database, the gateway
simulator in this test's Redis namespace, its calls validated by stripe-mock) that dies with os._exit(137)
at a named point, as an OOM kill or a power cut would: no rollback message, no after-commit hook, no
answer. `escrow.payments.faults.crash_point` gives the two points inside the gateway operation
(`before_gateway_call`: the booking is committed, the call never made; `after_gateway_call`: the call was
made, its result never committed). Where production code has no crash point (creating the PaymentIntent,
applying a webhook), the child wraps the function at the seam and dies right after it returned, before
the transaction commits.

tests/escrow/test_reconcile.py already kills the sweep (`execute_pending`) around a transfer of a release
committed by the test process. Here the child commits the release itself and dies in its own after-commit
hook, for transfers and refunds, retried in both orders (sweep then reconciliation, and the other way
round); the sweep is killed after every transfer in turn with only the gateway's events to catch up; the
funding is killed after its PaymentIntent was created and after its commit; a webhook is killed before its
commit and delivered again.
"""

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from escrow import ledger
from escrow.models import (
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    LedgerTransaction,
    OperationKind,
    OperationStatus,
    WebhookEvent,
)
from escrow.payments import actions, operations
from escrow.payments.faults import CRASH_EXIT_CODE
from escrow.payments.reconcile import reconcile
from escrow.payments.simulated import SimulatedGateway
from marketplace.models import MilestoneState
from tests.conftest import ROOT, _child_env
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, simulator
from tests.escrow.stripe_events import deliver

pytestmark = pytest.mark.django_db(transaction=True)

A = LedgerAccount
# The child's preamble: Django on the test database, the gateway the test's simulator (set here, as
# tests/settings.py fixes ESCROW_GATEWAY whatever the environment says); argv[1:] are the test's arguments.
PRELUDE = """
import json, os, sys
import django
django.setup()
from django.conf import settings
settings.ESCROW_GATEWAY = "escrow.payments.simulated.simulated_gateway"
settings.ESCROW_SIMULATOR_NAMESPACE = os.environ["ESCROW_SIMULATOR_NAMESPACE"]
settings.ESCROW_SIMULATOR_REDIS_URL = os.environ["ESCROW_SIMULATOR_REDIS_URL"]
settings.ESCROW_SIMULATOR_VALIDATE = os.environ["ESCROW_SIMULATOR_VALIDATE"]
from django.contrib.auth.models import User
from escrow.payments import actions, operations
args = sys.argv[1:]
"""
# The transfers of a 10,000,000 KRW release: fee 3%, commission 10% split 70/30 between the brokers.
SELLER, BROKER, CO_BROKER = 8_700_000, 700_000, 300_000


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.fixture
def ew(sim: SimulatedGateway) -> EscrowWorld:
    return build_escrow_world(sim)


def child(sim: SimulatedGateway, code: str, *args: object, crash_at: str = "") -> int:
    """Runs `code` after PRELUDE in a new Python process against this test's database and simulator;
    returns its exit status. ESCROW_CRASH_AT=crash_at makes it die at that crash point."""
    env = _child_env() | {
        "ESCROW_SIMULATOR_NAMESPACE": sim.namespace,
        "ESCROW_SIMULATOR_REDIS_URL": settings.CELERY_BROKER_URL,
        "ESCROW_SIMULATOR_VALIDATE": "1",
        "ESCROW_CRASH_AT": crash_at,
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code, *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    if done.returncode not in (0, CRASH_EXIT_CODE):
        pytest.fail(f"the child failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
    return done.returncode


def calls(sim: SimulatedGateway, method: str) -> list[str]:
    return [key for m, key in sim.calls() if m == method]


def statuses(kind: OperationKind) -> list[str]:
    return list(GatewayOperation.objects.filter(kind=kind).order_by("pk").values_list("status", flat=True))


def assert_converged(ew: EscrowWorld, sim: SimulatedGateway, client: Client) -> None:
    """Every operation done once at the gateway with its provider id recorded; the ledger's payables and
    refunds equal the gateway's; a second reconciliation and a replay of every gateway event change
    nothing."""
    ops = list(GatewayOperation.objects.filter(kind__in=(OperationKind.TRANSFER, OperationKind.REFUND)))
    assert {op.status for op in ops} == {OperationStatus.SUCCEEDED}
    for kind, method in (
        (OperationKind.TRANSFER, "create_transfer"),
        (OperationKind.REFUND, "create_refund"),
    ):
        keys = sorted(op.idempotency_key for op in ops if op.kind == kind)
        assert sorted(calls(sim, method)) == keys  # each operation executed once at the gateway
    group = f"deal_{ew.deal.pk}"
    transfers = {t.metadata["operation"]: t for t in sim.list_transfers(transfer_group=group)}
    for op in ops:
        if op.kind == OperationKind.TRANSFER:
            assert transfers[op.idempotency_key].id == op.provider_id
    balances = ledger.balances(ew.milestone.pk)
    assert sim.transferred_to(ew.seller_account) == balances.get((A.SELLER_PAYABLE, None), 0)
    assert sim.transferred_to(ew.broker_account) == balances.get((A.BROKER_PAYABLE, ew.w.broker.pk), 0)
    assert sim.transferred_to(ew.co_broker_account) == balances.get((A.BROKER_PAYABLE, ew.w.co_broker.pk), 0)
    intent = str(EscrowMilestone.objects.get(milestone=ew.milestone).payment_intent_id)
    assert sim.refunded(intent) == balances.get((A.REFUNDED, None), 0)
    assert reconcile(repair=False, gateway=sim).drifts == []
    before = (
        ledger_rows(),
        list(GatewayOperation.objects.order_by("pk").values_list("status", "provider_id")),
    )
    for event in sim.events():
        assert deliver(client, event).status_code == 200
    after = (
        ledger_rows(),
        list(GatewayOperation.objects.order_by("pk").values_list("status", "provider_id")),
    )
    assert after == before
    assert ledger.totals_by_currency() == {"KRW": 0}


def ledger_rows() -> list[tuple[str, str, int]]:
    return sorted(LedgerTransaction.objects.values_list("key", "entries__account", "entries__amount"))


def retry(sim: SimulatedGateway, order: str) -> None:
    """What the platform does after a crash: the periodic sweep and the reconciliation, in either order."""
    if order == "sweep_first":
        operations.execute_pending(gateway=sim)
        report = reconcile(repair=True, gateway=sim)
    else:
        report = reconcile(repair=True, gateway=sim)
        operations.execute_pending(gateway=sim)
    assert report.unrepaired == []


# --- a release or a refund killed in its own after-commit hook ----------------------------------------


@pytest.mark.parametrize("order", ["sweep_first", "reconciliation_first"])
@pytest.mark.parametrize("point", ["before_gateway_call", "after_gateway_call"])
def test_an_acceptance_killed_around_its_first_transfer_pays_each_payee_once(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client, point: str, order: str
) -> None:
    # given a funded milestone
    m = fund(ew, ew.milestone)
    # when the buyer's acceptance runs in a process that commits the release and then dies in the
    # after-commit hook, before or after the first transfer's call to the gateway
    code = "actions.accept_milestone(User.objects.get(pk=int(args[0])), int(args[1]))"
    assert child(sim, code, ew.w.buyer.pk, m.pk, crash_at=point) == CRASH_EXIT_CODE
    # then the release is committed with its three operations pending, and the gateway has done the
    # first transfer (after the call) or nothing (before it)
    m.refresh_from_db()
    assert m.state == MilestoneState.RELEASED
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    assert statuses(OperationKind.TRANSFER) == [OperationStatus.PENDING] * 3
    assert len(calls(sim, "create_transfer")) == (1 if point == "after_gateway_call" else 0)
    # when the platform retries
    retry(sim, order)
    # then each payee was paid once, exactly its share
    assert (
        sim.transferred_to(ew.seller_account),
        sim.transferred_to(ew.broker_account),
        sim.transferred_to(ew.co_broker_account),
    ) == (SELLER, BROKER, CO_BROKER)
    assert_converged(ew, sim, client)


@pytest.mark.parametrize("order", ["sweep_first", "reconciliation_first"])
@pytest.mark.parametrize("point", ["before_gateway_call", "after_gateway_call"])
def test_a_refund_killed_around_its_gateway_call_refunds_once(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client, point: str, order: str
) -> None:
    # given a funded milestone
    m = fund(ew, ew.milestone)
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    # when an operator's partial refund of 2,500,000 runs in a process that dies around the refund call
    code = "actions.refund_milestone(User.objects.get(pk=int(args[0])), int(args[1]), 2_500_000)"
    assert child(sim, code, ew.w.operator.pk, m.pk, crash_at=point) == CRASH_EXIT_CODE
    # then the refund is booked, its operation pending, and the gateway refunded it or not yet
    assert ledger.held(m.pk) == 7_500_000
    assert statuses(OperationKind.REFUND) == [OperationStatus.PENDING]
    assert sim.refunded(intent) == (2_500_000 if point == "after_gateway_call" else 0)
    # when the platform retries
    retry(sim, order)
    # then the buyer got 2,500,000 back, once
    assert sim.refunded(intent) == 2_500_000
    assert_converged(ew, sim, client)


def test_a_sweep_killed_after_every_transfer_is_caught_up_by_the_gateway_events_alone(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client
) -> None:
    # given an accepted milestone whose three transfers are pending (their after-commit hook died before
    # the first call)
    m = fund(ew, ew.milestone)
    code = "actions.accept_milestone(User.objects.get(pk=int(args[0])), int(args[1]))"
    assert child(sim, code, ew.w.buyer.pk, m.pk, crash_at="before_gateway_call") == CRASH_EXIT_CODE
    deaths = 0
    # when the sweep is killed right after each gateway call, and only the gateway's events (no
    # reconciliation) tell the platform what was done
    sweep = "operations.execute_pending()"
    while child(sim, sweep, crash_at="after_gateway_call") == CRASH_EXIT_CODE:
        deaths += 1
        assert deaths <= 3, "the sweep keeps dying on work that is already done"
        # then the gateway did one more transfer each time, never one twice
        assert Counter(calls(sim, "create_transfer")) == dict.fromkeys(calls(sim, "create_transfer"), 1)
        assert len(calls(sim, "create_transfer")) == deaths
        for event in sim.events():  # delivered late, and everything again each time
            assert deliver(client, event).status_code == 200
        assert statuses(OperationKind.TRANSFER).count(OperationStatus.SUCCEEDED) == deaths
    # then three deaths, one per transfer; the fourth sweep found nothing left to do
    assert deaths == 3
    assert_converged(ew, sim, client)


# --- funding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["after_the_intent_before_commit", "after_commit"])
def test_funding_killed_after_creating_the_intent_gets_the_same_intent_on_retry(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client, when: str
) -> None:
    # given the buyer funding a milestone in a process that dies right after the gateway created the
    # PaymentIntent (before the transaction commits), or right after the commit (before answering)
    m = ew.milestone
    code = """
from escrow.payments.simulated import SimulatedGateway
created = SimulatedGateway.create_payment_intent
if args[2] == "after_the_intent_before_commit":
    def dying(self, **kwargs):
        created(self, **kwargs)
        os._exit(137)
    SimulatedGateway.create_payment_intent = dying
actions.fund_milestone(User.objects.get(pk=int(args[0])), int(args[1]))
os._exit(137)
"""
    # when
    assert child(sim, code, ew.w.buyer.pk, m.pk, when) == CRASH_EXIT_CODE
    # then the gateway has one intent; the database has it only if the transaction committed
    key = f"fund:m{m.pk}:pi"
    assert calls(sim, "create_payment_intent") == [key]
    committed = when == "after_commit"
    assert EscrowMilestone.objects.filter(milestone=m, payment_intent_id__isnull=False).exists() == committed
    assert GatewayOperation.objects.filter(idempotency_key=key).exists() == committed
    # when the buyer tries again
    record = actions.fund_milestone(ew.w.buyer, m.pk, sim)
    # then the same intent comes back (the same idempotency key), still one at the gateway
    intent = sim.retrieve_payment_intent(str(record.payment_intent_id))
    assert intent.metadata["milestone"] == str(m.pk) and intent.client_secret == record.client_secret
    assert calls(sim, "create_payment_intent") == [key]
    assert GatewayOperation.objects.get(idempotency_key=key).provider_id == intent.id
    # and when it is paid, the milestone is funded once
    assert deliver(client, sim.succeed_payment(intent.id)).status_code == 200
    m.refresh_from_db()
    assert m.state == MilestoneState.FUNDED and ledger.held(m.pk) == 10_000_000
    assert reconcile(repair=False, gateway=sim).drifts == []


# --- a webhook --------------------------------------------------------------------------------------------


def test_a_webhook_killed_before_its_commit_is_applied_once_when_delivered_again(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client
) -> None:
    # given the payment of a milestone at the gateway
    m = ew.milestone
    record = actions.fund_milestone(ew.w.buyer, m.pk, sim)
    event = sim.succeed_payment(str(record.payment_intent_id))
    # when its event is delivered to a server process that dies after booking the funding, before the
    # webhook's transaction commits
    code = """
from django.test import Client
from django.test.utils import setup_test_environment
from escrow import ledger
from tests.escrow.stripe_events import deliver
posted = ledger.post
def dying(*a, **k):
    posted(*a, **k)
    os._exit(137)
ledger.post = dying
setup_test_environment()
deliver(Client(), json.loads(args[0]))
"""
    assert child(sim, code, json.dumps(event)) == CRASH_EXIT_CODE
    # then nothing of it was kept: not the event's row, not the booking
    assert not WebhookEvent.objects.exists() and not LedgerTransaction.objects.exists()
    # when the gateway delivers it again (it got no answer), twice
    assert deliver(client, event).status_code == 200
    assert deliver(client, event).status_code == 200
    # then the funding is booked once
    m.refresh_from_db()
    assert m.state == MilestoneState.FUNDED
    assert list(LedgerTransaction.objects.values_list("key", flat=True)) == [f"fund:m{m.pk}"]
    assert list(WebhookEvent.objects.values_list("event_id", "status", "attempts")) == [
        (event["id"], "succeeded", 1)
    ]
