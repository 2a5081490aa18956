"""Release conditions: a paid milestone, insolvency or a court order (four eyes), mutual agreement."""

import json
import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, LogEntry, ReleaseRequest
from escrow.vault import deposits, releases
from marketplace.error_codes import ActionError
from marketplace.models import Milestone
from tests.escrow.vault_fixtures import (
    agreed_deal,
    seal,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World, build_world

pytestmark = pytest.mark.django_db


def _code(call: object) -> EscrowErrorCode:
    with pytest.raises(ActionError) as info:
        call()  # type: ignore[operator]
    return info.value.code  # type: ignore[return-value]


def _deliverables(w: World, milestone: Milestone, title: str = "Know-how") -> Deposit:
    return deposits.create_deposit(
        w.seller,
        w.seller_org.pk,
        "milestone",
        title,
        seal({"f.txt": title.encode()}),
        milestone_id=milestone.pk,
    )


def _kinds(since: int = 0) -> list[str]:
    return list(LogEntry.objects.filter(index__gte=since).order_by("index").values_list("kind", flat=True))


def _state(deposit: Deposit) -> str:
    deposit.refresh_from_db()
    return deposit.state


def test_paying_a_milestone_releases_its_deliverables_once(world: World, vault: Path) -> None:
    # given two deposits for the first milestone and one for the second
    _, (first, second) = agreed_deal(world)
    a, b = _deliverables(world, first, "A"), _deliverables(world, first, "B")
    c = _deliverables(world, second, "C")
    mark = LogEntry.objects.count()

    # when the payment release step releases the first milestone, twice (a retry)
    with transaction.atomic():
        released = releases.release_for_milestone(first, world.buyer)
    with transaction.atomic():
        again = releases.release_for_milestone(first, world.buyer)

    # then exactly its deposits are released, once, on the record
    assert [d.pk for d in released] == [a.pk, b.pk] and again == []
    assert (_state(a), _state(b), _state(c)) == ("released", "released", "sealed")
    assert list(
        ReleaseRequest.objects.order_by("pk").values_list(
            "deposit_id", "condition", "state", "recorded_by_id"
        )
    ) == [
        (a.pk, "milestone_paid", "executed", world.buyer.pk),
        (b.pk, "milestone_paid", "executed", world.buyer.pk),
    ]
    assert _kinds(mark) == ["release", "release"]
    leaf = json.loads(bytes(LogEntry.objects.get(index=mark).leaf))
    assert (leaf["deposit_id"], leaf["condition"], leaf["beneficiary_id"]) == (
        a.pk,
        "milestone_paid",
        world.buyer_org.pk,
    )
    # a milestone paid out (as the payment step leaves it) takes no more deliverables
    Milestone.objects.filter(pk=first.pk).update(state="released")
    assert _code(lambda: _deliverables(world, first)) == EscrowErrorCode.INVALID_STATE


def test_insolvency_needs_a_second_operator(world: World, vault: Path) -> None:
    # given deliverables and a second operator
    _, (first, _) = agreed_deal(world)
    deposit = _deliverables(world, first)
    second_operator = User.objects.create_user("operator-2", is_staff=True)
    mark = LogEntry.objects.count()

    # when one operator records the insolvency with evidence and tries to approve it too
    request = releases.request_release(
        world.operator, deposit.pk, "insolvency", "Seoul District Court, 2026하합123"
    )
    same = _code(lambda: releases.approve_release(world.operator, request.pk))

    # then SAME_OPERATOR, and the deposit stays sealed
    assert same == EscrowErrorCode.SAME_OPERATOR
    assert _state(deposit) == "sealed"

    # when a second operator approves, the deposit is released
    releases.approve_release(second_operator, request.pk)
    request.refresh_from_db()
    assert (request.state, request.recorded_by_id, request.approved_by_id) == (
        "executed",
        world.operator.pk,
        second_operator.pk,
    )
    assert len(request.evidence_sha256) == 64
    assert _state(deposit) == "released"
    assert _kinds(mark) == ["release_requested", "release_approved", "release"]
    # and the beneficiary can now read it
    assert b"".join(deposits.open_file(world.buyer, deposit.pk, 0)[1]) == b"Know-how"


def test_the_database_backs_the_four_eyes_rule(world: World, vault: Path) -> None:
    _, (first, _) = agreed_deal(world)
    request = releases.request_release(
        world.operator, _deliverables(world, first).pk, "court_order", "Order 7"
    )

    with pytest.raises(IntegrityError, match="release_four_eyes"), transaction.atomic():
        ReleaseRequest.objects.filter(pk=request.pk).update(approved_by=world.operator)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no_evidence", EscrowErrorCode.INVALID),
        ("not_an_operator", EscrowErrorCode.PERMISSION_DENIED),
        ("outsider", EscrowErrorCode.NOT_FOUND),
        ("milestone_paid_by_hand", EscrowErrorCode.INVALID),
        ("unknown_condition", EscrowErrorCode.INVALID),
        ("no_beneficiary", EscrowErrorCode.INVALID_STATE),
        ("second_pending_request", EscrowErrorCode.INVALID_STATE),
    ],
)
def test_release_requests_are_refused_with_their_code_and_nothing_recorded(
    world: World, vault: Path, case: str, code: EscrowErrorCode
) -> None:
    _, (first, _) = agreed_deal(world)
    deposit = _deliverables(world, first)
    proof = deposits.create_deposit(
        world.seller, world.seller_org.pk, "proof_of_existence", "P", seal({"p": b"p"})
    )
    if case == "second_pending_request":
        releases.request_release(world.operator, deposit.pk, "court_order", "Order 1")
    before = (ReleaseRequest.objects.count(), LogEntry.objects.count())
    w = world
    calls = {
        "no_evidence": lambda: releases.request_release(w.operator, deposit.pk, "insolvency", "  "),
        "not_an_operator": lambda: releases.request_release(w.buyer, deposit.pk, "court_order", "Order"),
        "outsider": lambda: releases.request_release(w.other_buyer, deposit.pk, "mutual_agreement", ""),
        "milestone_paid_by_hand": lambda: releases.request_release(
            w.operator, deposit.pk, "milestone_paid", "x"
        ),
        "unknown_condition": lambda: releases.request_release(w.operator, deposit.pk, "whim", "x"),
        "no_beneficiary": lambda: releases.request_release(w.operator, proof.pk, "court_order", "Order"),
        "second_pending_request": lambda: releases.request_release(
            w.operator, deposit.pk, "insolvency", "Filing"
        ),
    }

    assert _code(calls[case]) == code
    assert (ReleaseRequest.objects.count(), LogEntry.objects.count()) == before
    assert _state(deposit) == "sealed"


def test_mutual_agreement_needs_both_sides(world: World, vault: Path) -> None:
    # given deliverables, and the seller (depositor) proposing a release by agreement
    _, (first, _) = agreed_deal(world)
    deposit = _deliverables(world, first)
    request = releases.request_release(world.seller, deposit.pk, "mutual_agreement", "Settled out of escrow")

    # then one side is not enough: the seller cannot consent twice, outsiders and operators cannot
    assert _code(lambda: releases.consent_release(world.seller, request.pk)) == EscrowErrorCode.INVALID_STATE
    assert _code(lambda: releases.consent_release(world.other_buyer, request.pk)) == EscrowErrorCode.NOT_FOUND
    assert (
        _code(lambda: releases.consent_release(world.operator, request.pk))
        == EscrowErrorCode.PERMISSION_DENIED
    )
    assert _code(lambda: releases.approve_release(world.operator, request.pk)) == EscrowErrorCode.INVALID
    assert _state(deposit) == "sealed"

    # when the buyer (beneficiary) consents, it is executed
    releases.consent_release(world.buyer, request.pk)
    request.refresh_from_db()
    assert (request.state, request.depositor_consent_by_id, request.beneficiary_consent_by_id) == (
        "executed",
        world.seller.pk,
        world.buyer.pk,
    )
    assert _state(deposit) == "released"
    assert _kinds()[-3:] == ["release_requested", "consent", "release"]
    # and nothing more can be decided on it
    assert _code(lambda: releases.consent_release(world.buyer, request.pk)) == EscrowErrorCode.INVALID_STATE
    assert (
        _code(lambda: releases.request_release(world.buyer, deposit.pk, "mutual_agreement", ""))
        == EscrowErrorCode.ALREADY_RELEASED
    )


def test_a_pending_request_can_be_rejected_and_a_paid_milestone_closes_it(world: World, vault: Path) -> None:
    _, (first, _) = agreed_deal(world)
    deposit = _deliverables(world, first)
    rejected = releases.request_release(world.buyer, deposit.pk, "mutual_agreement", "")
    assert (
        _code(lambda: releases.reject_release(world.other_buyer, rejected.pk, "no"))
        == EscrowErrorCode.NOT_FOUND
    )
    releases.reject_release(world.seller, rejected.pk, "Not before delivery")
    pending = releases.request_release(world.operator, deposit.pk, "court_order", "Order 9")

    with transaction.atomic():
        releases.release_for_milestone(first, None)

    rejected.refresh_from_db()
    pending.refresh_from_db()
    assert (rejected.state, pending.state, _state(deposit)) == ("rejected", "rejected", "released")
    # The deal's broker sees the deposit (it mediates) but approves nothing; an outsider learns nothing.
    outsider = world.other_broker
    assert _code(lambda: releases.approve_release(outsider, pending.pk)) == EscrowErrorCode.NOT_FOUND
    second = User.objects.create_user("operator-2", is_staff=True)
    assert _code(lambda: releases.approve_release(second, pending.pk)) == EscrowErrorCode.INVALID_STATE


@pytest.mark.django_db(transaction=True)
def test_two_operators_approving_at_once_release_exactly_once(vault: Path) -> None:
    # given a recorded court order and two other operators
    world = build_world()
    _, (first, _) = agreed_deal(world)
    deposit = _deliverables(world, first)
    request = releases.request_release(world.operator, deposit.pk, "court_order", "Order 11")
    approvers = [User.objects.create_user(f"approver-{n}", is_staff=True) for n in range(2)]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def approve(user: User) -> None:
        try:
            start.wait()
            releases.approve_release(user, request.pk)
            outcomes.append("approved")
        except ActionError as error:
            outcomes.append(str(error.code))
        finally:
            connection.close()

    # when both approve at the same moment
    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then one approval executes, the other finds the request decided
    assert sorted(outcomes) == ["approved", "invalid_state"]
    assert _state(deposit) == "released"
    assert LogEntry.objects.filter(kind="release").count() == 1
    assert LogEntry.objects.filter(kind="release_approved").count() == 1
