"""Reconciliation: drift between the gateway's records and ours is found, and repaired where it is safe."""

import json
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from escrow import ledger
from escrow.models import EscrowMilestone, GatewayOperation, OperationKind, OperationStatus
from escrow.payments import actions, operations
from escrow.payments.faults import CRASH_EXIT_CODE
from escrow.payments.reconcile import reconcile
from escrow.payments.simulated import SimulatedGateway
from marketplace.models import MilestoneState
from tests.conftest import ROOT, _child_env
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, pay, simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.fixture
def ew(sim: SimulatedGateway) -> EscrowWorld:
    return build_escrow_world(sim)


def kinds(report: Any) -> list[tuple[str, bool]]:
    return [(d.kind, d.repaired) for d in report.drifts]


def transfers_called(sim: SimulatedGateway) -> int:
    return len([c for c in sim.calls() if c[0] == "create_transfer"])


def test_nothing_to_report_when_all_agree(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    m = fund(ew, ew.milestone)
    with django_capture_on_commit_callbacks(execute=True):
        actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)
        actions.refund_milestone(ew.w.operator, m.pk, 500_000, sim)
    report = reconcile(repair=False, gateway=sim)
    assert (report.milestones, report.drifts) == (1, [])


def test_a_lost_payment_webhook_is_found_and_repaired(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given a payment that succeeded at the gateway whose event never reached us
    pay(ew, ew.milestone)
    # when reconciliation only reports
    report = reconcile(repair=False, gateway=sim)
    # then it names the drift and changes nothing
    assert kinds(report) == [("funding_not_posted", False)]
    assert ledger.held(ew.milestone.pk) == 0
    # when it repairs
    report = reconcile(repair=True, gateway=sim)
    # then the funding is booked as the event would have booked it, and a second run is clean
    ew.milestone.refresh_from_db()
    assert kinds(report) == [("funding_not_posted", True)] and report.unrepaired == []
    assert ew.milestone.state == MilestoneState.FUNDED and ledger.held(ew.milestone.pk) == 10_000_000
    assert EscrowMilestone.objects.get(milestone=ew.milestone).hold_expires_at is not None
    assert reconcile(repair=True, gateway=sim).drifts == []


def test_a_transfer_whose_update_was_lost_is_marked_not_sent_again(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given the seller's transfer done at the gateway, but its answer lost (the operation stays pending)
    m = fund(ew, ew.milestone)
    sim.fail_next("create_transfer", "after")
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    pending = GatewayOperation.objects.get(status=OperationStatus.PENDING)
    assert pending.attempts == 1 and "after" in pending.error
    assert transfers_called(sim) == 3
    # when reconciliation repairs
    report = reconcile(repair=True, gateway=sim)
    # then the operation is marked with the gateway's transfer, and nothing was transferred twice
    pending.refresh_from_db()
    transfer = next(
        t
        for t in sim.list_transfers(transfer_group=f"deal_{ew.deal.pk}")
        if t.metadata["operation"] == pending.idempotency_key
    )
    assert kinds(report) == [("operation_not_marked", True)]
    assert (pending.status, pending.provider_id) == (OperationStatus.SUCCEEDED, transfer.id)
    assert transfers_called(sim) == 3 and sim.transferred_to(ew.seller_account) == 8_700_000


def test_a_transfer_never_sent_is_executed_with_the_same_key(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a refund whose call never reached the gateway
    m = fund(ew, ew.milestone)
    sim.fail_next("create_refund", "before")
    with django_capture_on_commit_callbacks(execute=True):
        actions.refund_milestone(ew.w.operator, m.pk, 2_000_000, sim)
    op = GatewayOperation.objects.get(kind=OperationKind.REFUND)
    assert op.status == OperationStatus.PENDING and sim.refunded(str(m.escrow.payment_intent_id)) == 0
    # when
    report = reconcile(repair=True, gateway=sim)
    # then
    op.refresh_from_db()
    assert kinds(report) == [("operation_not_executed", True)]
    assert op.status == OperationStatus.SUCCEEDED and op.attempts == 2
    assert sim.refunded(str(m.escrow.payment_intent_id)) == 2_000_000
    assert [c for c in sim.calls() if c[0] == "create_refund"] == [("create_refund", op.idempotency_key)]


def test_a_transfer_we_never_asked_for_and_a_differing_amount_need_an_operator(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a released milestone, a transfer somebody made by hand in the deal's group, and an operation
    # whose recorded amount no longer matches the gateway's
    m = fund(ew, ew.milestone)
    with django_capture_on_commit_callbacks(execute=True):
        actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)
    stray = sim.create_transfer(
        amount=12_345,
        currency="KRW",
        destination=ew.broker_account,
        transfer_group=f"deal_{ew.deal.pk}",
        metadata={},
        idempotency_key="by-hand",
    )
    op = GatewayOperation.objects.filter(kind=OperationKind.TRANSFER).order_by("pk").first()
    assert op is not None
    GatewayOperation.objects.filter(pk=op.pk).update(amount=op.amount + 1)
    # when
    report = reconcile(repair=True, gateway=sim)
    # then both are reported, neither repaired
    assert sorted(kinds(report)) == [("operation_differs", False), ("unknown_transfer", False)]
    assert {d.reference for d in report.unrepaired} == {stray.id, op.idempotency_key}
    assert all(d.needs_operator for d in report.unrepaired)


def test_the_command_prints_the_report_and_exits_1_while_drift_remains(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    # given a lost webhook and a stray transfer
    pay(ew, ew.milestone)
    sim.create_transfer(
        amount=1,
        currency="KRW",
        destination=ew.seller_account,
        transfer_group=f"deal_{ew.deal.pk}",
        metadata={},
        idempotency_key="stray",
    )
    out = StringIO()
    # when the command repairs, then the stray transfer remains: exit status 1
    with pytest.raises(CommandError) as info:
        call_command("reconcile_payments", "--repair", "--json", "--grace-seconds", "0", stdout=out)
    assert info.value.returncode == 1
    printed = json.loads(out.getvalue())
    assert sorted((d["kind"], d["repaired"], d["needs_operator"]) for d in printed["drifts"]) == [
        ("funding_not_posted", True, False),
        ("unknown_transfer", False, True),
    ]
    assert printed["unrepaired"] == 1
    # and the table form names them too
    table = StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile_payments", stdout=table)
    assert "unknown_transfer" in table.getvalue() and "1 unrepaired" in table.getvalue()


def test_the_command_exits_0_when_clean(ew: EscrowWorld) -> None:
    fund(ew, ew.milestone)
    out = StringIO()
    call_command("reconcile_payments", stdout=out)
    assert "1 milestones checked, 0 drifts, 0 unrepaired" in out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("point", ["before_gateway_call", "after_gateway_call"])
def test_a_process_killed_around_the_gateway_call_converges_without_paying_twice(
    sim: SimulatedGateway, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    # given a committed release whose transfers have not run (their after-commit execution is held back)
    ew = build_escrow_world(sim)
    m = fund(ew, ew.milestone)
    monkeypatch.setattr(operations, "execute_quietly", lambda *args: None)
    actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)
    # when a worker process running the sweep dies at `point`
    env = _child_env() | {
        "TEST_ESCROW_GATEWAY": "escrow.payments.simulated.simulated_gateway",
        "ESCROW_SIMULATOR_NAMESPACE": sim.namespace,
        "ESCROW_SIMULATOR_REDIS_URL": settings.CELERY_BROKER_URL,
        "ESCROW_SIMULATOR_VALIDATE": "0",
        "ESCROW_CRASH_AT": point,
    }
    script = (
        "import django; django.setup(); from escrow.payments import operations; operations.execute_pending()"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, timeout=120)
    # then it died there, leaving the first transfer undone or done-but-unrecorded
    assert done.returncode == CRASH_EXIT_CODE, done.stderr.decode()[-2000:]
    assert GatewayOperation.objects.filter(status=OperationStatus.PENDING).count() == 3
    assert transfers_called(sim) == (1 if point == "after_gateway_call" else 0)
    # when reconciliation repairs (and the sweep runs again)
    report = reconcile(repair=True, gateway=sim)
    operations.execute_pending(gateway=sim)
    # then every transfer happened exactly once
    assert report.unrepaired == []
    assert set(GatewayOperation.objects.values_list("status", flat=True)) == {OperationStatus.SUCCEEDED}
    assert transfers_called(sim) == 3
    assert sim.transferred_to(ew.seller_account) == 870_000
    assert sim.transfers_in_group(f"deal_{ew.deal.pk}") == 970_000
