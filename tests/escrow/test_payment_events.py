"""Gateway events through the real webhook endpoint: late, duplicated and shuffled deliveries give the same
ledger and the same operation states as in-order delivery."""

import itertools
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from escrow import ledger
from escrow.models import (
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    LedgerEntry,
    OperationStatus,
)
from escrow.payments import actions
from escrow.payments.simulated import SimulatedGateway
from marketplace.models import Milestone, MilestoneState, Notification
from tests.escrow.factories import EscrowWorld, build_escrow_world, pay, simulator
from tests.escrow.stripe_events import deliver, make_event

Event = dict[str, Any]


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


def normalised_ledger(ew: EscrowWorld) -> list[tuple[str, str, str, int]]:
    """The ledger as (key, account, broker, amount) with ids replaced by names that do not depend on the
    database's sequences: milestones by their sequence number, disputes by order, brokers by username."""
    names = {f"m{m.pk}": f"M{m.sequence}" for m in ew.milestones}
    disputes = {
        str(pk): f"D{i}"
        for i, pk in enumerate(Dispute.objects.order_by("pk").values_list("pk", flat=True), 1)
    }
    brokers = {ew.w.broker.pk: "broker", ew.w.co_broker.pk: "co-broker"}

    def key(value: str) -> str:
        value = re.sub(r"\bm\d+\b", lambda found: names[found.group()], value)
        return re.sub(r"^chargeback:(\d+)$", lambda found: f"chargeback:{disputes[found.group(1)]}", value)

    rows = LedgerEntry.objects.values_list("transaction__key", "account", "broker_id", "amount").order_by()
    return sorted(
        (key(k), account, brokers.get(broker, "-") if broker else "-", amount)
        for k, account, broker, amount in rows
    )


def ok(client: Client, event: Event) -> None:
    response = deliver(client, event)
    assert response.status_code == 200, response.content


# The ledger of the scenario below, whatever the order of delivery.
EXPECTED = sorted(
    [
        ("fund:M1", "buyer_funding", "-", -6_000_000),
        ("fund:M1", "held", "-", 6_000_000),
        ("release:M1:1", "held", "-", -6_000_000),
        ("release:M1:1", "seller_payable", "-", 5_220_000),
        ("release:M1:1", "broker_payable", "broker", 420_000),
        ("release:M1:1", "broker_payable", "co-broker", 180_000),
        ("release:M1:1", "platform_fee", "-", 180_000),
        ("fund:M2", "buyer_funding", "-", -4_000_000),
        ("fund:M2", "held", "-", 4_000_000),
        ("refund:M2:1", "held", "-", -1_000_000),
        ("refund:M2:1", "refunded", "-", 1_000_000),
        ("chargeback:D1", "held", "-", -3_000_000),
        ("chargeback:D1", "refunded", "-", 3_000_000),
    ]
)


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_every_event_three_times_in_shuffled_order_gives_the_in_order_ledger(
    sim: SimulatedGateway, db: None, client: Client, django_capture_on_commit_callbacks: Any, seed: int | None
) -> None:
    """seed None: each event is delivered once, as it happens. Otherwise only the two payments are
    delivered when the flow needs them; then every event of the flow, three times, shuffled."""
    # given two milestones of 6,000,000 and 4,000,000 KRW
    ew = build_escrow_world(sim, amounts=(6_000_000, 4_000_000))
    m1, m2 = ew.milestones
    in_order = seed is None
    seen = len(sim.events())

    def happened() -> None:
        nonlocal seen
        new = sim.events()[seen:]
        seen += len(new)
        if in_order:
            for event in new:
                ok(client, event)

    # M1: paid, delivered, accepted; the first transfer's answer is lost (done at the gateway, the
    # operation left pending): only its event can tell us
    ok(client, pay(ew, m1))
    happened()
    actions.confirm_delivery(ew.w.seller, m1.pk)
    sim.fail_next("create_transfer", "after")
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m1.pk, sim)
    happened()
    # M2: paid, 1,000,000 refunded (its answer lost too), then a 3,000,000 chargeback the buyer wins
    ok(client, pay(ew, m2))
    happened()
    sim.fail_next("create_refund", "after")
    with django_capture_on_commit_callbacks(execute=True):
        actions.refund_milestone(ew.w.operator, m2.pk, 1_000_000, sim)
    happened()
    intent = str(EscrowMilestone.objects.get(milestone=m2).payment_intent_id)
    dispute_id = sim.dispute(intent, 3_000_000)["data"]["object"]["id"]
    sim.close_dispute(dispute_id, "lost")
    happened()
    # when (shuffled) every event of the flow arrives three times in random order
    if not in_order:
        deliveries = sim.events() * 3
        random.Random(seed).shuffle(deliveries)  # noqa: S311 -- a reproducible test order
        for event in deliveries:
            ok(client, event)
    # then
    assert normalised_ledger(ew) == EXPECTED
    assert ledger.totals_by_currency() == {"KRW": 0}
    assert set(GatewayOperation.objects.values_list("status", flat=True)) == {OperationStatus.SUCCEEDED}
    for m in (m1, m2):
        m.refresh_from_db()
    assert (m1.state, m2.state) == (MilestoneState.RELEASED, MilestoneState.REFUNDED)
    assert list(Dispute.objects.values_list("state", "resolution", "refund_amount")) == [
        (DisputeState.RESOLVED, "lost", 3_000_000)
    ]


@pytest.mark.parametrize("outcome", ["lost", "won"])
@pytest.mark.parametrize("order", list(itertools.permutations(("paid", "disputed", "closed"))))
def test_payment_and_card_dispute_events_in_any_order(
    sim: SimulatedGateway, db: None, client: Client, order: tuple[str, ...], outcome: str
) -> None:
    # given a 4,000,000 KRW payment, then a 3,000,000 chargeback decided `outcome`, at the gateway
    ew = build_escrow_world(sim, amounts=(4_000_000,))
    m = ew.milestone
    events = {"paid": pay(ew, m)}
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    events["disputed"] = sim.dispute(intent, 3_000_000)
    events["closed"] = sim.close_dispute(events["disputed"]["data"]["object"]["id"], outcome)  # type: ignore[arg-type]
    # when they arrive in this order, each twice
    for name in order:
        ok(client, events[name])
        ok(client, events[name])
    # then
    m.refresh_from_db()
    dispute = Dispute.objects.get()
    assert m.state == MilestoneState.FUNDED
    assert (dispute.state, dispute.resolution) == (DisputeState.RESOLVED, outcome)
    expected = [("fund:M1", "buyer_funding", "-", -4_000_000), ("fund:M1", "held", "-", 4_000_000)]
    if outcome == "lost":
        expected += [
            ("chargeback:D1", "held", "-", -3_000_000),
            ("chargeback:D1", "refunded", "-", 3_000_000),
        ]
    assert normalised_ledger(ew) == sorted(expected)
    assert ledger.held(m.pk) == (1_000_000 if outcome == "lost" else 4_000_000)


def test_an_open_card_dispute_freezes_the_milestone_and_a_lost_one_closes_it(
    sim: SimulatedGateway, db: None, client: Client
) -> None:
    # given a funded milestone
    ew = build_escrow_world(sim, amounts=(4_000_000,))
    m = ew.milestone
    ok(client, pay(ew, m))
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    # when the bank opens a chargeback for all of it
    created = sim.dispute(intent, 4_000_000)
    ok(client, created)
    # then the milestone is frozen and the operators are told
    m.refresh_from_db()
    assert m.state == MilestoneState.DISPUTED
    assert Notification.objects.filter(user=ew.w.operator, kind="escrow_chargeback").count() == 1
    with pytest.raises(Exception, match="frozen"):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    # and a card dispute is not an operator's to resolve
    with pytest.raises(Exception, match="card network"):
        actions.resolve_dispute(ew.w.operator, Dispute.objects.get().pk, "release", None, sim)
    # when the buyer wins it
    ok(client, sim.close_dispute(created["data"]["object"]["id"], "lost"))
    # then everything held went back to the buyer and the milestone is closed as refunded
    m.refresh_from_db()
    assert m.state == MilestoneState.REFUNDED and ledger.held(m.pk) == 0
    assert sim.charged_back(intent) == 4_000_000


def test_a_card_dispute_supersedes_a_party_dispute(sim: SimulatedGateway, db: None, client: Client) -> None:
    # given a party's open dispute
    ew = build_escrow_world(sim, amounts=(4_000_000,))
    m = ew.milestone
    ok(client, pay(ew, m))
    party = actions.open_dispute(ew.w.buyer, m.pk, "Not as agreed.")
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    # when the bank opens a chargeback, and the platform wins it
    created = sim.dispute(intent, 4_000_000)
    ok(client, created)
    ok(client, sim.close_dispute(created["data"]["object"]["id"], "won"))
    # then the party's dispute gave way, and the milestone is back where it was before
    party.refresh_from_db()
    m.refresh_from_db()
    assert (party.state, party.resolution) == (DisputeState.RESOLVED, "superseded")
    assert m.state == MilestoneState.FUNDED and ledger.held(m.pk) == 4_000_000


def test_a_failed_payment_tells_the_buyer_once(sim: SimulatedGateway, db: None, client: Client) -> None:
    # given
    ew = build_escrow_world(sim)
    record = actions.fund_milestone(ew.w.buyer, ew.milestone.pk, sim)
    intent = sim.retrieve_payment_intent(str(record.payment_intent_id))
    event = make_event(
        "payment_intent.payment_failed",
        {
            "id": intent.id,
            "object": "payment_intent",
            "status": "requires_payment_method",
            "metadata": intent.metadata,
            "last_payment_error": {"message": "Your card was declined."},
        },
    )
    # when it arrives twice
    ok(client, event)
    ok(client, event)
    # then
    notes = list(
        Notification.objects.filter(kind="escrow_payment_failed").values_list("user__username", "body")
    )
    assert notes == [("buyer", "Your card was declined.")]
    assert not LedgerEntry.objects.exists()


def test_events_of_payments_and_transfers_that_are_not_ours_change_nothing(
    sim: SimulatedGateway, db: None, client: Client
) -> None:
    # given
    ew = build_escrow_world(sim)
    foreign = {
        "id": "pi_foreign",
        "object": "payment_intent",
        "status": "succeeded",
        "amount_received": 5,
        "currency": "krw",
        "metadata": {},
    }
    # when
    ok(client, make_event("payment_intent.succeeded", foreign))
    ok(
        client,
        make_event(
            "transfer.created", {"id": "tr_x", "object": "transfer", "metadata": {"operation": "nope"}}
        ),
    )
    ok(
        client,
        make_event(
            "charge.dispute.created",
            {"id": "dp_x", "object": "dispute", "payment_intent": "pi_foreign", "amount": 5},
        ),
    )
    # then
    assert not LedgerEntry.objects.exists() and not Dispute.objects.exists()
    assert Milestone.objects.get(pk=ew.milestone.pk).state == MilestoneState.PENDING
