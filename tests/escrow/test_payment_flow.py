"""The payment trust deposit workflow against real PostgreSQL and the stateful gateway simulator: fund,
deliver, accept, partial release, refunds, cancellation, disputes; every refusal writes nothing."""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from escrow import ledger
from escrow.error_codes import EscrowErrorCode
from escrow.models import (
    ConnectedAccount,
    DepositState,
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OperationKind,
    OperationStatus,
)
from escrow.payments import actions
from escrow.payments.simulated import SimulatedGateway
from escrow.vault.deposits import create_deposit
from marketplace.error_codes import ActionError
from marketplace.models import AuditEntry, DealState, MilestoneState, Notification
from tests.escrow.factories import EscrowWorld, build_escrow_world, fund, pay, simulator
from tests.escrow.stripe_events import deliver
from tests.escrow.vault_fixtures import seal, vault_fixture  # noqa: F401 -- the vault fixture

A = LedgerAccount
MONEY_KINDS = (OperationKind.PAYMENT_INTENT, OperationKind.TRANSFER, OperationKind.REFUND)


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings, validate=True)


@pytest.fixture
def ew(db: None, sim: SimulatedGateway) -> EscrowWorld:
    return build_escrow_world(sim)


def money_ops() -> list[tuple[str, str, int, str]]:
    return list(
        GatewayOperation.objects.filter(kind__in=MONEY_KINDS)
        .order_by("pk")
        .values_list("idempotency_key", "destination", "amount", "status")
    )


def snapshot() -> tuple[Any, ...]:
    """Everything an escrow action may write, to prove a refusal wrote nothing."""
    return (
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
        money_ops(),
        list(EscrowMilestone.objects.values_list("pk", "payment_intent_id", "funded_at", "released_at")),
        list(Dispute.objects.values_list("pk", "state")),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


def refused(code: EscrowErrorCode, call: Callable[[], object]) -> None:
    before = snapshot()
    with pytest.raises(ActionError) as info:
        call()
    assert info.value.code == code, info.value.message
    assert snapshot() == before


# --- the happy path -------------------------------------------------------------------------------------


def test_fund_deliver_accept_pays_seller_and_brokers_by_share_and_keeps_the_fee(
    ew: EscrowWorld,
    sim: SimulatedGateway,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    vault: Path,
) -> None:
    # given the seller's sealed deliverables for the 10,000,000 KRW milestone
    w, m = ew.w, ew.milestone
    deposit = create_deposit(
        w.seller, w.seller_org.pk, "milestone", "Process recipe", seal({"a.txt": b"x"}), milestone_id=m.pk
    )
    # when the buyer funds it and the gateway's payment_intent.succeeded arrives at the webhook
    record = actions.fund_milestone(w.buyer, m.pk, sim)
    assert record.client_secret.startswith(f"{record.payment_intent_id}_secret_")
    event = sim.succeed_payment(str(record.payment_intent_id))
    assert deliver(client, event).status_code == 200
    m.refresh_from_db()
    ew.deal.refresh_from_db()
    # then the money is held and the deal is in escrow
    assert (m.state, ew.deal.state, ledger.held(m.pk)) == (
        MilestoneState.FUNDED,
        DealState.IN_ESCROW,
        10_000_000,
    )
    assert Notification.objects.filter(user=w.seller, kind="escrow_funded").count() == 1
    # when the seller delivers and the buyer accepts
    actions.confirm_delivery(w.seller, m.pk)
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(w.buyer, m.pk, sim)
    # then fee 3% stays, commission 10% goes 70/30 to the brokers, the seller gets the rest
    m.refresh_from_db()
    ew.deal.refresh_from_db()
    deposit.refresh_from_db()
    assert m.state == MilestoneState.RELEASED and ew.deal.state == DealState.SETTLED
    assert deposit.state == DepositState.RELEASED
    assert sim.transferred_to(ew.seller_account) == 8_700_000
    assert sim.transferred_to(ew.broker_account) == 700_000
    assert sim.transferred_to(ew.co_broker_account) == 300_000
    assert sim.transfers_in_group(f"deal_{ew.deal.pk}") == 9_700_000
    assert ledger.balances(m.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.SELLER_PAYABLE, None): 8_700_000,
        (A.BROKER_PAYABLE, w.broker.pk): 700_000,
        (A.BROKER_PAYABLE, w.co_broker.pk): 300_000,
        (A.PLATFORM_FEE, None): 300_000,
    }
    assert ledger.held(m.pk) == 0 and ledger.totals_by_currency() == {"KRW": 0}
    key = f"release:m{m.pk}:1"
    assert money_ops() == [
        (f"fund:m{m.pk}:pi", "", 10_000_000, OperationStatus.SUCCEEDED),
        (f"{key}:transfer:{ew.seller_account}", ew.seller_account, 8_700_000, OperationStatus.SUCCEEDED),
        (f"{key}:transfer:{ew.broker_account}", ew.broker_account, 700_000, OperationStatus.SUCCEEDED),
        (f"{key}:transfer:{ew.co_broker_account}", ew.co_broker_account, 300_000, OperationStatus.SUCCEEDED),
    ]


def test_usd_milestones_split_to_the_cent(
    sim: SimulatedGateway, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given $1,234.57 and $765.43 milestones (cents)
    ew = build_escrow_world(sim, amounts=(123_457, 76_543), currency="USD")
    m1, m2 = ew.milestones
    fund(ew, m1)
    fund(ew, m2)
    # when the first is accepted
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m1.pk, sim)
    # then fee floor(3703.71)=3703, pot floor(12345.7)=12345 split 8641.5 / 3703.5: the tied unit goes to
    # the lower broker id (the lead), and the seller gets the rest
    assert ledger.balances(m1.pk) == {
        (A.BUYER_FUNDING, None): -123_457,
        (A.HELD, None): 0,
        (A.SELLER_PAYABLE, None): 107_409,
        (A.BROKER_PAYABLE, ew.w.broker.pk): 8_642,
        (A.BROKER_PAYABLE, ew.w.co_broker.pk): 3_703,
        (A.PLATFORM_FEE, None): 3_703,
    }
    assert sim.transferred_to(ew.seller_account) == 107_409
    # and the deal is not settled while the second milestone holds money
    ew.deal.refresh_from_db()
    assert ew.deal.state == DealState.IN_ESCROW and ledger.held(m2.pk) == 76_543
    assert ledger.totals_by_currency() == {"USD": 0}


def test_a_repeated_fund_returns_the_same_intent_and_secret(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given
    first = actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim)
    # when the buyer asks again before paying
    second = actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim)
    # then
    assert (second.payment_intent_id, second.client_secret) == (first.payment_intent_id, first.client_secret)
    assert [c for c in sim.calls() if c[0] == "create_payment_intent"] == [
        ("create_payment_intent", f"fund:m{ew.milestone.pk}:pi")
    ]


def test_a_duplicate_payment_event_books_the_funding_once(ew: EscrowWorld, client: Client) -> None:
    # given
    event = pay(ew, ew.milestone)
    # when the same event arrives three times
    for _ in range(3):
        assert deliver(client, event).status_code == 200
    # then
    assert ledger.held(ew.milestone.pk) == 10_000_000
    assert LedgerTransaction.objects.filter(kind="fund").count() == 1


def test_partial_release_then_final_release(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given a funded, delivered milestone
    m = fund(ew, ew.milestone)
    actions.confirm_delivery(ew.w.seller, m.pk)
    # when the buyer releases 4,000,000 early
    with django_capture_on_commit_callbacks(execute=True):
        actions.partial_release(ew.w.buyer, m.pk, 4_000_000, sim)
    # then it is split like any release, the milestone stays delivered and its materials sealed
    m.refresh_from_db()
    assert m.state == MilestoneState.DELIVERED and ledger.held(m.pk) == 6_000_000
    assert sim.transferred_to(ew.seller_account) == 3_480_000
    assert sim.transferred_to(ew.broker_account) == 280_000
    assert sim.transferred_to(ew.co_broker_account) == 120_000
    # when the buyer accepts
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    # then the rest goes, as a second release
    m.refresh_from_db()
    assert m.state == MilestoneState.RELEASED
    assert list(LedgerTransaction.objects.filter(kind="release").values_list("key", flat=True)) == [
        f"release:m{m.pk}:1",
        f"release:m{m.pk}:2",
    ]
    assert sim.transferred_to(ew.seller_account) == 8_700_000
    assert sim.transferred_to(ew.broker_account) == 700_000
    assert sim.transferred_to(ew.co_broker_account) == 300_000
    assert ledger.balances(m.pk)[(A.PLATFORM_FEE, None)] == 300_000


def test_an_operator_may_release_part_but_not_more_than_is_held(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    m = fund(ew, ew.milestone)
    refused(
        EscrowErrorCode.AMOUNT_EXCEEDS_HELD,
        lambda: actions.partial_release(ew.w.operator, m.pk, 10_000_001, sim),
    )
    refused(EscrowErrorCode.INVALID, lambda: actions.partial_release(ew.w.operator, m.pk, 0, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.partial_release(ew.w.seller, m.pk, 1, sim))
    actions.partial_release(ew.w.operator, m.pk, 10_000_000, sim)
    assert ledger.held(m.pk) == 0


# --- refunds and cancellation ---------------------------------------------------------------------------


def test_cancelling_a_funded_deal_refunds_everything_held(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    m = fund(ew, ew.milestone)
    # when the seller cancels the deal
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel_funded_deal(ew.w.seller, ew.deal.pk, "The patent was invalidated.")
    # then the buyer gets it all back
    m.refresh_from_db()
    ew.deal.refresh_from_db()
    assert (m.state, ew.deal.state) == (MilestoneState.REFUNDED, DealState.CANCELLED)
    intent = EscrowMilestone.objects.get(milestone=m).payment_intent_id
    assert sim.refunded(str(intent)) == 10_000_000
    assert ledger.balances(m.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.REFUNDED, None): 10_000_000,
    }
    assert money_ops()[-1] == (f"refund:m{m.pk}:1:refund", "", 10_000_000, OperationStatus.SUCCEEDED)


def test_a_partial_refund_then_acceptance_releases_the_rest(
    ew: EscrowWorld, sim: SimulatedGateway, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    m = fund(ew, ew.milestone)
    # when an operator refunds 3,000,000 (a price reduction) and the buyer then accepts
    with django_capture_on_commit_callbacks(execute=True):
        actions.refund_milestone(ew.w.operator, m.pk, 3_000_000, sim)
    m.refresh_from_db()
    assert m.state == MilestoneState.FUNDED and ledger.held(m.pk) == 7_000_000
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    # then
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    assert sim.refunded(intent) == 3_000_000
    assert sim.transferred_to(ew.seller_account) == 6_090_000
    assert ledger.balances(m.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.REFUNDED, None): 3_000_000,
        (A.SELLER_PAYABLE, None): 6_090_000,
        (A.BROKER_PAYABLE, ew.w.broker.pk): 490_000,
        (A.BROKER_PAYABLE, ew.w.co_broker.pk): 210_000,
        (A.PLATFORM_FEE, None): 210_000,
    }


def test_a_full_refund_closes_the_milestone_and_a_partial_one_does_not(
    ew: EscrowWorld, sim: SimulatedGateway
) -> None:
    m = fund(ew, ew.milestone)
    actions.refund_milestone(ew.w.seller, m.pk, 4_000_000, sim)
    m.refresh_from_db()
    assert m.state == MilestoneState.FUNDED
    actions.refund_milestone(ew.w.seller, m.pk, None, sim)
    m.refresh_from_db()
    ew.deal.refresh_from_db()
    assert m.state == MilestoneState.REFUNDED and ew.deal.state == DealState.SETTLED
    assert [k for k, *_ in money_ops() if "refund" in k] == [
        f"refund:m{m.pk}:1:refund",
        f"refund:m{m.pk}:2:refund",
    ]
    refused(EscrowErrorCode.INVALID_STATE, lambda: actions.refund_milestone(ew.w.seller, m.pk, None, sim))


# --- disputes -------------------------------------------------------------------------------------------


def test_a_dispute_freezes_the_milestone(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    # given a funded milestone disputed by the seller
    m = fund(ew, ew.milestone)
    dispute = actions.open_dispute(ew.w.seller, m.pk, "The buyer uses the know-how without paying.")
    m.refresh_from_db()
    assert m.state == MilestoneState.DISPUTED and dispute.state == DisputeState.OPEN
    # then every party move is refused FROZEN and writes nothing
    w = ew.w
    refused(EscrowErrorCode.FROZEN, lambda: actions.accept_milestone(w.buyer, m.pk, sim))
    refused(EscrowErrorCode.FROZEN, lambda: actions.partial_release(w.buyer, m.pk, 1_000, sim))
    refused(EscrowErrorCode.FROZEN, lambda: actions.refund_milestone(w.seller, m.pk, 1_000, sim))
    refused(EscrowErrorCode.FROZEN, lambda: actions.refund_milestone(w.operator, m.pk, None, sim))
    refused(EscrowErrorCode.FROZEN, lambda: actions.confirm_delivery(w.seller, m.pk))
    refused(EscrowErrorCode.FROZEN, lambda: actions.cancel_funded_deal(w.operator, ew.deal.pk, "no"))
    refused(EscrowErrorCode.DISPUTE_OPEN, lambda: actions.open_dispute(w.buyer, m.pk, "me too"))
    # and only an operator resolves it
    refused(
        EscrowErrorCode.PERMISSION_DENIED,
        lambda: actions.resolve_dispute(w.buyer, dispute.pk, "refund", None, sim),
    )
    refused(
        EscrowErrorCode.NOT_FOUND,
        lambda: actions.resolve_dispute(w.other_buyer, dispute.pk, "refund", None, sim),
    )
    refused(
        EscrowErrorCode.INVALID, lambda: actions.resolve_dispute(w.operator, dispute.pk, "halve", None, sim)
    )
    refused(
        EscrowErrorCode.INVALID, lambda: actions.resolve_dispute(w.operator, dispute.pk, "split", None, sim)
    )
    refused(
        EscrowErrorCode.AMOUNT_EXCEEDS_HELD,
        lambda: actions.resolve_dispute(w.operator, dispute.pk, "split", 10_000_001, sim),
    )


@pytest.mark.parametrize(
    ("resolution", "release", "state", "seller", "refunded"),
    [
        ("release", None, MilestoneState.RELEASED, 8_700_000, 0),
        ("refund", None, MilestoneState.REFUNDED, 0, 10_000_000),
        ("split", 6_000_000, MilestoneState.RELEASED, 5_220_000, 4_000_000),
    ],
)
def test_an_operator_resolves_a_dispute(
    ew: EscrowWorld,
    sim: SimulatedGateway,
    django_capture_on_commit_callbacks: Any,
    resolution: str,
    release: int | None,
    state: MilestoneState,
    seller: int,
    refunded: int,
) -> None:
    # given a delivered milestone the buyer disputes
    m = fund(ew, ew.milestone)
    actions.confirm_delivery(ew.w.seller, m.pk)
    dispute = actions.open_dispute(ew.w.buyer, m.pk, "The recipe does not reproduce.")
    # when an operator resolves it
    with django_capture_on_commit_callbacks(execute=True):
        resolved = actions.resolve_dispute(ew.w.operator, dispute.pk, resolution, release, sim)
    # then
    m.refresh_from_db()
    released = 10_000_000 - refunded
    assert (resolved.state, resolved.resolution) == (DisputeState.RESOLVED, resolution)
    assert (resolved.release_amount, resolved.refund_amount, resolved.resolved_by) == (
        released,
        refunded,
        ew.w.operator,
    )
    assert m.state == state and ledger.held(m.pk) == 0
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    assert sim.refunded(intent) == refunded and sim.transferred_to(ew.seller_account) == seller
    balances = ledger.balances(m.pk)
    assert balances.get((A.REFUNDED, None), 0) == refunded
    assert balances.get((A.SELLER_PAYABLE, None), 0) == seller
    assert balances.get((A.PLATFORM_FEE, None), 0) == released * 3 // 100
    assert all(status == OperationStatus.SUCCEEDED for *_, status in money_ops())
    # and a second resolution is refused
    refused(
        EscrowErrorCode.NO_OPEN_DISPUTE,
        lambda: actions.resolve_dispute(ew.w.operator, dispute.pk, "refund", None, sim),
    )


# --- refusals -------------------------------------------------------------------------------------------


def test_funding_refusals_write_nothing(sim: SimulatedGateway, db: None) -> None:
    # given a deal whose co-broker has not finished onboarding
    ew = build_escrow_world(sim)
    w, m = ew.w, ew.milestone
    ConnectedAccount.objects.filter(broker=w.co_broker).update(payouts_enabled=False)
    # then
    refused(EscrowErrorCode.NOT_FOUND, lambda: actions.fund_milestone(w.other_buyer, m.pk, sim))
    refused(EscrowErrorCode.NOT_FOUND, lambda: actions.fund_milestone(w.buyer, 10**9, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.fund_milestone(w.seller, m.pk, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.fund_milestone(w.broker, m.pk, sim))
    with pytest.raises(ActionError) as info:
        actions.fund_milestone(w.buyer, m.pk, sim)
    assert (info.value.code, info.value.field) == (
        EscrowErrorCode.PAYEE_NOT_READY,
        f"broker:{w.co_broker.pk}",
    )
    assert "co-broker" in info.value.message
    assert sim.calls() == [c for c in sim.calls() if c[0] != "create_payment_intent"]
    # and once the payee is ready, the milestone funds; a second funding is refused
    ConnectedAccount.objects.filter(broker=w.co_broker).update(payouts_enabled=True)
    fund(ew, m)
    refused(EscrowErrorCode.ALREADY_FUNDED, lambda: actions.fund_milestone(w.buyer, m.pk, sim))


def test_a_gateway_failure_while_funding_writes_nothing(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    sim.fail_next("create_payment_intent", "before")
    refused(EscrowErrorCode.GATEWAY_ERROR, lambda: actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim))
    # the retry works with the same key
    record = actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim)
    assert record.payment_intent_id


def test_funding_needs_an_agreed_deal(sim: SimulatedGateway, db: None) -> None:
    ew = build_escrow_world(sim)
    ew.deal.state = DealState.CANCELLED
    ew.deal.save(update_fields=["state"])
    refused(EscrowErrorCode.INVALID_STATE, lambda: actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim))


def test_workflow_refusals_write_nothing(ew: EscrowWorld, sim: SimulatedGateway) -> None:
    w, m = ew.w, ew.milestone
    # before funding
    refused(EscrowErrorCode.NOT_FUNDED, lambda: actions.confirm_delivery(w.seller, m.pk))
    refused(EscrowErrorCode.NOT_FUNDED, lambda: actions.accept_milestone(w.buyer, m.pk, sim))
    refused(EscrowErrorCode.NOT_FUNDED, lambda: actions.partial_release(w.buyer, m.pk, 1, sim))
    refused(EscrowErrorCode.NOT_FUNDED, lambda: actions.refund_milestone(w.operator, m.pk, 1, sim))
    refused(EscrowErrorCode.NOT_FUNDED, lambda: actions.open_dispute(w.buyer, m.pk, "why"))
    fund(ew, m)
    # the wrong people
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.confirm_delivery(w.buyer, m.pk))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.accept_milestone(w.seller, m.pk, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.accept_milestone(w.broker, m.pk, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.refund_milestone(w.buyer, m.pk, 1, sim))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.open_dispute(w.broker, m.pk, "why"))
    refused(EscrowErrorCode.PERMISSION_DENIED, lambda: actions.cancel_funded_deal(w.buyer, ew.deal.pk, "why"))
    refused(EscrowErrorCode.NOT_FOUND, lambda: actions.accept_milestone(w.other_buyer, m.pk, sim))
    refused(EscrowErrorCode.NOT_FOUND, lambda: actions.confirm_delivery(w.other_broker, m.pk))
    # bad amounts
    refused(
        EscrowErrorCode.AMOUNT_EXCEEDS_HELD,
        lambda: actions.refund_milestone(w.operator, m.pk, 10_000_001, sim),
    )
    refused(EscrowErrorCode.INVALID, lambda: actions.refund_milestone(w.operator, m.pk, -5, sim))
    refused(EscrowErrorCode.INVALID, lambda: actions.open_dispute(w.buyer, m.pk, "  "))
    # the broker may confirm delivery; delivering twice is refused
    actions.confirm_delivery(w.broker, m.pk)
    refused(EscrowErrorCode.INVALID_STATE, lambda: actions.confirm_delivery(w.seller, m.pk))
    # a payee who is no longer ready blocks the release (nothing is paid without a ready account)
    ConnectedAccount.objects.filter(organization=w.seller_org).update(payouts_enabled=False)
    refused(EscrowErrorCode.PAYEE_NOT_READY, lambda: actions.accept_milestone(w.buyer, m.pk, sim))
    ConnectedAccount.objects.filter(organization=w.seller_org).update(payouts_enabled=True)
    actions.accept_milestone(w.buyer, m.pk, sim)
    refused(EscrowErrorCode.ALREADY_RELEASED, lambda: actions.accept_milestone(w.buyer, m.pk, sim))
    refused(EscrowErrorCode.ALREADY_RELEASED, lambda: actions.partial_release(w.buyer, m.pk, 1, sim))


def test_a_failed_materials_release_undoes_the_money_release(
    ew: EscrowWorld, sim: SimulatedGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a funded milestone whose materials cannot be released (the vault fails)
    m = fund(ew, ew.milestone)

    def broken(*args: object) -> None:
        raise RuntimeError("vault unavailable")

    monkeypatch.setattr(actions, "release_for_milestone", broken)
    before = snapshot()
    # when the buyer accepts, then nothing moved: both or neither
    with pytest.raises(RuntimeError):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    assert snapshot() == before
    m.refresh_from_db()
    assert m.state == MilestoneState.FUNDED and ledger.held(m.pk) == 10_000_000


# --- concurrency ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_acceptances_release_once(sim: SimulatedGateway) -> None:
    # given a funded milestone (committed)
    ew = build_escrow_world(sim)
    m = fund(ew, ew.milestone)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def accept() -> None:
        try:
            barrier.wait()
            actions.accept_milestone(ew.w.buyer, m.pk, sim)
            outcomes.append("released")
        except ActionError as error:
            outcomes.append(str(error.code))
        finally:
            connection.close()

    # when ten requests accept at once
    threads = [threading.Thread(target=accept) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then one released, nine saw it released; one ledger release, one set of transfers
    assert sorted(outcomes) == ["already_released"] * 9 + ["released"]
    assert LedgerTransaction.objects.filter(kind="release").count() == 1
    assert GatewayOperation.objects.filter(kind=OperationKind.TRANSFER).count() == 3
    assert len([c for c in sim.calls() if c[0] == "create_transfer"]) == 3
    assert sim.transfers_in_group(f"deal_{ew.deal.pk}") == 9_700_000
    assert ledger.totals_by_currency() == {"KRW": 0}


def test_a_payment_after_the_deal_was_cancelled_goes_straight_back(
    ew: EscrowWorld, sim: SimulatedGateway, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given an intent created, then the deal cancelled before the buyer paid
    record = actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim)
    actions.cancel_funded_deal(ew.w.operator, ew.deal.pk, "The buyer withdrew.")
    # when the payment arrives anyway
    event = sim.succeed_payment(str(record.payment_intent_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    # then it is booked and refunded at once
    m = ew.milestone
    m.refresh_from_db()
    ew.deal.refresh_from_db()
    assert (m.state, ew.deal.state) == (MilestoneState.REFUNDED, DealState.CANCELLED)
    assert sim.refunded(str(record.payment_intent_id)) == 10_000_000
    assert ledger.balances(m.pk) == {
        (A.BUYER_FUNDING, None): -10_000_000,
        (A.HELD, None): 0,
        (A.REFUNDED, None): 10_000_000,
    }
