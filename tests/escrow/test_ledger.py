"""The double-entry ledger: posting rules, idempotent keys, the split rule, and the database's own
guards (append-only tables, every transaction balanced)."""

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from escrow import ledger
from escrow.ledger import Posting
from escrow.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace import actions as market
from marketplace.actions.deals import MilestoneInput
from marketplace.models import DealState, Milestone
from tests.marketplace.factories import build_world, open_deal

pytestmark = pytest.mark.django_db

A = LedgerAccount


@pytest.fixture
def milestone() -> Milestone:
    w = build_world()
    deal = open_deal(w, DealState.AGREED)
    market.set_milestones(w.seller, deal.pk, [MilestoneInput("All of it", 50_000_000)])
    return deal.milestones.get()


def test_post_books_a_balanced_transaction_and_balances_are_sums(milestone: Milestone) -> None:
    # given a funding of 10,000 and a release of 4,000
    ledger.post("fund:t", "fund", milestone, [Posting(A.BUYER_FUNDING, -10_000), Posting(A.HELD, 10_000)])
    # when
    txn = ledger.post(
        "release:t:1",
        "release",
        milestone,
        [
            Posting(A.HELD, -4_000),
            Posting(A.SELLER_PAYABLE, 3_480),
            Posting(A.BROKER_PAYABLE, 400, broker_id=milestone.deal.brokers.get().broker_id),
            Posting(A.PLATFORM_FEE, 120),
        ],
    )
    # then
    assert txn is not None and txn.currency == "KRW" and txn.entries.count() == 4
    broker_id = milestone.deal.brokers.get().broker_id
    assert ledger.balances(milestone.pk) == {
        (A.BUYER_FUNDING, None): -10_000,
        (A.HELD, None): 6_000,
        (A.SELLER_PAYABLE, None): 3_480,
        (A.BROKER_PAYABLE, broker_id): 400,
        (A.PLATFORM_FEE, None): 120,
    }
    assert ledger.held(milestone.pk) == 6_000
    assert ledger.totals_by_currency() == {"KRW": 0}


def test_a_key_is_booked_once(milestone: Milestone) -> None:
    # given
    postings = [Posting(A.BUYER_FUNDING, -500), Posting(A.HELD, 500)]
    first = ledger.post("fund:once", "fund", milestone, postings)
    # when the same key is posted again (a retry, a duplicate event)
    second = ledger.post("fund:once", "fund", milestone, postings)
    # then the unique key refused it and nothing more was written
    assert first is not None and second is None
    assert LedgerTransaction.objects.count() == 1 and LedgerEntry.objects.count() == 2
    assert ledger.held(milestone.pk) == 500


@pytest.mark.parametrize(
    "postings",
    [
        [],
        [Posting(A.BUYER_FUNDING, -500), Posting(A.HELD, 499)],
        [Posting(A.BUYER_FUNDING, 0), Posting(A.HELD, 0)],
        [Posting(A.HELD, -5), Posting(A.SELLER_PAYABLE, 5, broker_id=1)],
        [Posting(A.HELD, -5), Posting(A.BROKER_PAYABLE, 5)],
    ],
    ids=["empty", "unbalanced", "zero", "broker-on-seller", "broker-payable-without-broker"],
)
def test_post_refuses_bad_postings_and_writes_nothing(milestone: Milestone, postings: list[Posting]) -> None:
    # when / then
    with pytest.raises(ValueError):
        ledger.post("bad", "fund", milestone, postings)
    assert not LedgerTransaction.objects.exists() and not LedgerEntry.objects.exists()


def test_update_and_delete_are_refused_by_the_database(milestone: Milestone) -> None:
    # given
    txn = ledger.post("fund:x", "fund", milestone, [Posting(A.BUYER_FUNDING, -7), Posting(A.HELD, 7)])
    assert txn is not None
    entry = txn.entries.first()
    assert entry is not None
    statements = [
        ("UPDATE escrow_ledgerentry SET amount = 8 WHERE id = %s", entry.pk),
        ("DELETE FROM escrow_ledgerentry WHERE id = %s", entry.pk),
        ("UPDATE escrow_ledgertransaction SET memo = 'edited' WHERE id = %s", txn.pk),
        ("DELETE FROM escrow_ledgertransaction WHERE id = %s", txn.pk),
    ]
    for sql, pk in statements:
        # when raw SQL tries to change history
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql, [pk])
    # then it is as it was
    assert ledger.balances(milestone.pk) == {(A.BUYER_FUNDING, None): -7, (A.HELD, None): 7}


def test_an_unbalanced_raw_insert_is_refused_by_the_database(milestone: Milestone) -> None:
    # given a transaction row inserted by hand
    txn = LedgerTransaction.objects.create(key="raw", kind="fund", milestone=milestone, currency="KRW")
    # when one unbalanced entry is inserted by raw SQL and the deferred check fires (as at COMMIT)
    with (
        pytest.raises(DatabaseError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(
            "INSERT INTO escrow_ledgerentry (transaction_id, milestone_id, account, currency, amount) "
            "VALUES (%s, %s, 'held', 'KRW', 100)",
            [txn.pk, milestone.pk],
        )
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # then
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_raw_insert_fails_at_commit() -> None:
    # given a committed milestone
    w = build_world()
    deal = open_deal(w, DealState.AGREED)
    market.set_milestones(w.seller, deal.pk, [MilestoneInput("All of it", 50_000_000)])
    milestone = deal.milestones.get()
    # when an unbalanced entry is inserted by raw SQL in a transaction of its own
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        txn = LedgerTransaction.objects.create(key="raw", kind="fund", milestone=milestone, currency="KRW")
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO escrow_ledgerentry (transaction_id, milestone_id, account, currency, amount) "
                "VALUES (%s, %s, 'held', 'KRW', 100)",
                [txn.pk, milestone.pk],
            )
    # then the commit was refused: neither row exists
    assert not LedgerTransaction.objects.exists() and not LedgerEntry.objects.exists()


def test_split_release_of_ten_million_won() -> None:
    # when 10,000,000 KRW is released with a 3% fee and 10% commission shared 70/30
    fee, commissions, seller = ledger.split_release(10_000_000, 300, 1_000, {11: 7_000, 12: 3_000})
    # then
    assert (fee, commissions, seller) == (300_000, {11: 700_000, 12: 300_000}, 8_700_000)


def test_split_release_gives_leftover_units_by_largest_remainder_then_broker_id() -> None:
    # when a pot of 10 is shared by three equal shares (3.33 each)
    fee, commissions, seller = ledger.split_release(100, 0, 1_000, {7: 3_334, 5: 3_333, 9: 3_333})
    # then the unit left over goes to the largest remainder (broker 7's 3.334)
    assert commissions == {7: 4, 5: 3, 9: 3} and seller == 90 and fee == 0
    # and with equal remainders, to the lowest broker id
    assert ledger.split_release(100, 0, 1_000, {9: 5_000, 5: 5_000, 6: 0})[1] == {9: 5, 5: 5}
    assert ledger.split_release(3, 0, 5_000, {9: 5_000, 5: 5_000})[1] == {9: 0, 5: 1}


def test_split_release_without_brokers_pays_no_commission() -> None:
    assert ledger.split_release(999, 300, 1_000, {}) == (29, {}, 970)


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    fee_bp=st.integers(min_value=0, max_value=5_000),
    commission_bp=st.integers(min_value=0, max_value=5_000),
    shares=st.lists(st.integers(min_value=1, max_value=10_000), min_size=0, max_size=6),
)
def test_split_release_parts_are_non_negative_and_sum_exactly(
    amount: int, fee_bp: int, commission_bp: int, shares: list[int]
) -> None:
    broker_shares = {100 + i: share for i, share in enumerate(shares)}
    fee, commissions, seller = ledger.split_release(amount, fee_bp, commission_bp, broker_shares)
    assert fee >= 0 and seller >= 0 and all(c >= 0 for c in commissions.values())
    assert fee + sum(commissions.values()) + seller == amount
    assert fee == amount * fee_bp // 10_000
    if shares:
        assert sum(commissions.values()) == amount * commission_bp // 10_000
        # no broker is more than one unit away from their exact share
        whole = sum(shares)
        pot = amount * commission_bp // 10_000
        for broker, share in broker_shares.items():
            assert abs(commissions[broker] - pot * share / whole) < 1
    else:
        assert commissions == {}
