"""Scheduled escrow work: release when inspection ends, holding-period reminders, the operations sweep."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from escrow import ledger, tasks
from escrow.models import ConnectedAccount, EscrowMilestone, GatewayOperation, HoldReminder, OperationStatus
from escrow.payments import actions, operations
from escrow.payments.simulated import SimulatedGateway
from marketplace.models import AuditEntry, MilestoneState, Notification
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, simulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.fixture
def ew(sim: SimulatedGateway) -> EscrowWorld:
    return build_escrow_world(sim, amounts=(5_000_000, 3_000_000, 2_000_000), inspection_days=7)


def test_the_tasks_are_registered_under_escrow_names() -> None:
    assert {
        tasks.release_after_inspection.name,
        tasks.send_hold_reminders.name,
        tasks.execute_pending_operations.name,
        tasks.reconcile_payments.name,
    } == {
        "escrow.release_after_inspection",
        "escrow.send_hold_reminders",
        "escrow.execute_pending_operations",
        "escrow.reconcile_payments",
    }


def test_inspection_expiry_releases_delivered_milestones_without_a_dispute(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given three delivered milestones: one past its inspection, one still inside it, one disputed
    due, inside, disputed = (fund(ew, m) for m in ew.milestones)
    for m in (due, inside, disputed):
        actions.confirm_delivery(ew.w.seller, m.pk)
    actions.open_dispute(ew.w.buyer, disputed.pk, "Incomplete drawings.")
    now = timezone.now()
    EscrowMilestone.objects.filter(milestone__in=[due, disputed]).update(
        inspection_ends_at=now - timedelta(minutes=1)
    )
    # when the task runs
    with django_capture_on_commit_callbacks(execute=True):
        counts = tasks.run_release_after_inspection(now=now, gateway=sim)
    # then only the due one is accepted and released, by the platform (no actor)
    for m in (due, inside, disputed):
        m.refresh_from_db()
    assert counts == {"due": 1, "released": 1, "refused": 0}
    assert (due.state, inside.state, disputed.state) == (
        MilestoneState.RELEASED,
        MilestoneState.DELIVERED,
        MilestoneState.DISPUTED,
    )
    assert ledger.held(due.pk) == 0 and sim.transferred_to(ew.seller_account) == 4_350_000
    audit = AuditEntry.objects.filter(
        object_type="milestone", object_id=due.pk, action="release_milestone"
    ).get()
    assert audit.actor is None and audit.data == {"reason": "inspection period ended"}
    # and a second run does nothing
    assert tasks.run_release_after_inspection(now=now, gateway=sim) == {"due": 0, "released": 0, "refused": 0}


def test_inspection_expiry_skips_a_milestone_whose_payee_is_not_ready(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    m = fund(ew, ew.milestone)
    actions.confirm_delivery(ew.w.seller, m.pk)
    EscrowMilestone.objects.filter(milestone=m).update(
        inspection_ends_at=timezone.now() - timedelta(seconds=1)
    )
    ConnectedAccount.objects.filter(broker=ew.w.broker).update(payouts_enabled=False)
    assert tasks.run_release_after_inspection(gateway=sim) == {"due": 1, "released": 0, "refused": 1}
    m.refresh_from_db()
    assert m.state == MilestoneState.DELIVERED and ledger.held(m.pk) == 5_000_000


def reminders() -> list[tuple[str, str, int]]:
    return sorted(
        Notification.objects.filter(kind__startswith="escrow_hold").values_list(
            "user__username", "kind", "data__days_before"
        )
    )


def test_hold_reminders_are_sent_once_per_threshold(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given a funded milestone whose holding period ends in 10 days, and one released already
    m = fund(ew, ew.milestone)
    released = fund(ew, ew.milestones[1])
    actions.accept_milestone(ew.w.buyer, released.pk, sim)
    now = timezone.now()
    EscrowMilestone.objects.filter(milestone__in=[m, released]).update(
        hold_expires_at=now + timedelta(days=10)
    )
    # when the task runs twice
    first = tasks.run_send_hold_reminders(now=now)
    second = tasks.run_send_hold_reminders(now=now + timedelta(hours=1))
    # then the 14-day reminder went once to each party member and operator
    assert (first, second) == ({"reminders": 1, "expired": 0}, {"reminders": 0, "expired": 0})
    parties = [
        ("buyer", "escrow_hold_reminder", 14),
        ("operator", "escrow_hold_reminder", 14),
        ("seller", "escrow_hold_reminder", 14),
    ]
    assert reminders() == parties
    # when 6 days remain (past the 7-day threshold), and later only half a day
    assert tasks.run_send_hold_reminders(now=now + timedelta(days=4)) == {"reminders": 1, "expired": 0}
    assert tasks.run_send_hold_reminders(now=now + timedelta(days=9, hours=12)) == {
        "reminders": 1,
        "expired": 0,
    }
    assert tasks.run_send_hold_reminders(now=now + timedelta(days=9, hours=13)) == {
        "reminders": 0,
        "expired": 0,
    }
    # then one more per threshold
    assert sorted(HoldReminder.objects.filter(milestone=m).values_list("days_before", flat=True)) == [
        1,
        7,
        14,
    ]
    assert len(reminders()) == 9
    # when it has run out: the operators are told, once
    assert tasks.run_send_hold_reminders(now=now + timedelta(days=11)) == {"reminders": 0, "expired": 1}
    assert tasks.run_send_hold_reminders(now=now + timedelta(days=12)) == {"reminders": 0, "expired": 0}
    expired = list(
        Notification.objects.filter(kind="escrow_hold_expired").values_list("user__username", flat=True)
    )
    assert expired == ["operator"]
    assert not HoldReminder.objects.filter(milestone=released).exists()


def test_a_late_run_sends_only_the_most_urgent_reminder(ew: EscrowWorld) -> None:
    m = fund(ew, ew.milestone)
    now = timezone.now()
    EscrowMilestone.objects.filter(milestone=m).update(hold_expires_at=now + timedelta(hours=20))
    assert tasks.run_send_hold_reminders(now=now) == {"reminders": 1, "expired": 0}
    assert {days for *_, days in reminders()} == {1}


def test_the_sweep_executes_pending_operations_and_fails_refused_ones(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a release whose transfers hit an outage (retryable: left pending)
    m = fund(ew, ew.milestone)
    sim.fail_next("create_transfer", "before")
    with django_capture_on_commit_callbacks(execute=True):
        actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)
    assert GatewayOperation.objects.filter(status=OperationStatus.PENDING).count() == 1
    # when the sweep runs
    counts = operations.execute_pending(gateway=sim)
    # then
    assert counts == {"pending": 1, "succeeded": 1, "failed": 0, "skipped": 0}
    assert sim.transferred_to(ew.seller_account) == 870_000
    # given a transfer the gateway refuses for good (the payee's account is gone at the gateway)
    ConnectedAccount.objects.filter(broker=ew.w.co_broker).update(provider_account_id="acct_gone")
    with django_capture_on_commit_callbacks(execute=True):
        actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)
    # then it failed, and the operators are told once; the sweep leaves it alone
    failed = GatewayOperation.objects.get(status=OperationStatus.FAILED)
    assert failed.destination == "acct_gone" and failed.attempts == 1 and "acct_gone" in failed.error
    assert list(
        Notification.objects.filter(kind="escrow_operation_failed").values_list("user__username", flat=True)
    ) == ["operator"]
    assert operations.execute_pending(gateway=sim) == {
        "pending": 0,
        "succeeded": 0,
        "failed": 0,
        "skipped": 0,
    }


def test_the_sweep_leaves_young_operations_to_their_own_execution(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    m = fund(ew, ew.milestone)
    actions.partial_release(ew.w.buyer, m.pk, 1_000_000, sim)  # its after-commit execution never ran
    assert operations.execute_pending(older_than_seconds=3600, gateway=sim)["pending"] == 0
    assert operations.execute_pending(gateway=sim) == {
        "pending": 3,
        "succeeded": 3,
        "failed": 0,
        "skipped": 0,
    }
