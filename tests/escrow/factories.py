"""An escrow world: the marketplace world (tests/marketplace/factories.py) with an agreed deal split into
milestones, two brokers sharing the commission 70/30, and every payee's connected account ready at a
SimulatedGateway of the test's own (a fresh Redis namespace per test)."""

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from escrow.models import ConnectedAccount, LedgerEntry
from escrow.payments import actions
from escrow.payments.accounts import ensure_payee_account
from escrow.payments.simulated import SimulatedGateway
from escrow.payments.stripe_gateway import StripeGateway
from marketplace import actions as market
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms
from marketplace.models import Deal, DealState, Milestone
from tests.marketplace.factories import World, build_world, open_deal

# The gateway get_gateway() returns while a test runs (settings.ESCROW_GATEWAY names `current_gateway`):
# code that does not take a gateway argument (payee accounts, the reconcile command) reaches the same one.
_current: SimulatedGateway | None = None


def current_gateway() -> SimulatedGateway:
    if _current is None:
        raise RuntimeError("no simulated gateway: use the `sim` fixture")
    return _current


def simulator(settings_fixture: Any, validate: bool = False) -> Iterator[SimulatedGateway]:
    """Body of a test's `sim` fixture: a SimulatedGateway in a fresh namespace of the test's Redis
    database, installed as settings.ESCROW_GATEWAY, forgotten afterwards. With `validate`, every call is
    also checked by stripe-mock against Stripe's API specification."""
    global _current
    gateway = SimulatedGateway(
        redis_url=settings.CELERY_BROKER_URL,
        namespace=f"h4-{uuid.uuid4().hex}",
        validate_with=StripeGateway() if validate else None,
    )
    _current = gateway
    settings_fixture.ESCROW_GATEWAY = "tests.escrow.factories.current_gateway"
    try:
        yield gateway
    finally:
        _current = None
        gateway.reset()


@dataclass
class EscrowWorld:
    w: World
    deal: Deal
    milestones: list[Milestone]
    gateway: SimulatedGateway
    seller_account: str
    broker_account: str
    co_broker_account: str

    @property
    def milestone(self) -> Milestone:
        return self.milestones[0]


def ready_payee(gateway: SimulatedGateway, user: User, organization_id: int | None = None) -> str:
    """The payee's connected account, created through the real action and onboarded at the gateway."""
    account = ensure_payee_account(user, organization_id=organization_id)
    gateway.complete_onboarding(account.provider_account_id)
    ConnectedAccount.objects.filter(pk=account.pk).update(details_submitted=True, payouts_enabled=True)
    return account.provider_account_id


def build_escrow_world(
    gateway: SimulatedGateway,
    amounts: Sequence[int] = (10_000_000,),
    currency: str = "KRW",
    shares: Sequence[int] = (7_000, 3_000),
    inspection_days: int = 14,
    ready: bool = True,
) -> EscrowWorld:
    """An agreed deal on the world's listing for sum(amounts) in `currency`, split into one milestone per
    amount; `broker` (lead) and `co_broker` share the commission by `shares` (one share: `broker` only)."""
    w = build_world()
    deal = open_deal(w, DealState.NEGOTIATING)
    market.make_offer(
        w.broker, deal.pk, Terms("exclusive_licence", sum(amounts), currency), counters_version=1
    )
    market.accept_offer(w.seller, deal.pk, 2)
    market.accept_offer(w.buyer, deal.pk, 2)
    brokers = [w.broker, w.co_broker][: len(shares)]
    market.assign_brokers(
        w.seller,
        deal.pk,
        [
            BrokerShare(b.pk, share, is_lead=i == 0)
            for i, (b, share) in enumerate(zip(brokers, shares, strict=True))
        ],
    )
    market.set_milestones(
        w.seller,
        deal.pk,
        [
            MilestoneInput(f"Milestone {i}", amount, inspection_days=inspection_days)
            for i, amount in enumerate(amounts, 1)
        ],
    )
    accounts = ["", "", ""]
    if ready:
        accounts = [
            ready_payee(gateway, w.seller, w.seller_org.pk),
            ready_payee(gateway, w.broker),
            ready_payee(gateway, w.co_broker),
        ]
    deal.refresh_from_db()
    return EscrowWorld(
        w=w,
        deal=deal,
        milestones=list(deal.milestones.order_by("sequence")),
        gateway=gateway,
        seller_account=accounts[0],
        broker_account=accounts[1],
        co_broker_account=accounts[2],
    )


def pay(ew: EscrowWorld, milestone: Milestone) -> dict[str, Any]:
    """The buyer funds the milestone and the card payment succeeds; returns payment_intent.succeeded
    (not yet delivered to us)."""
    record = actions.fund_milestone(ew.w.buyer, milestone.pk, ew.gateway)
    return ew.gateway.succeed_payment(str(record.payment_intent_id))


def fund(ew: EscrowWorld, milestone: Milestone) -> Milestone:
    """Funded and booked: as if the payment's webhook had arrived."""
    event = pay(ew, milestone)
    actions.record_funding(event["data"]["object"])
    milestone.refresh_from_db()
    return milestone


def ledger_rows() -> list[tuple[str, int, str, int | None, int]]:
    """Every entry as (transaction key, milestone, account, broker, amount), sorted: the ledger's content
    without ids or times, to compare two histories."""
    return sorted(
        LedgerEntry.objects.values_list(
            "transaction__key", "milestone_id", "account", "broker_id", "amount"
        ).order_by()
    )
