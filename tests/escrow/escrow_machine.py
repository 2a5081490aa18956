"""A driver for the property-based proof of the payment escrow (tests/escrow/test_escrow_properties.py and
`make proof-escrow`, scripts/proof_escrow.py).

One generated case is one deal in KRW or USD with one or two milestones, none to two brokers with random
shares, a random commission and platform fee, and a random history of steps: the buyer funds (the
PaymentIntent) and the card payment succeeds at the gateway; delivery, acceptance, partial releases and
refunds (sometimes more than is held, sometimes nothing), cancellation of the deal, a party's dispute and an
operator's resolution (release, refund, split), card disputes opened and closed won or lost at the gateway,
the end of the inspection period, the sweep of pending gateway operations, reconciliation, one-shot gateway
faults (a call that fails before it happens, or after it happened with its answer lost), and the deliveries
of the gateway's events: a random subset now and the rest later, shuffled, some several times, some
replayed long after. Each after-commit hook that runs the gateway calls is run or dropped at random (dropped:
the process died after its commit), so the sweep and reconciliation have to catch up.

Everything runs against real PostgreSQL (every case inside a savepoint of the test's transaction, rolled
back afterwards; the zero-sum trigger is switched to IMMEDIATE by `ledger.post`, so it checks each posting)
and the stateful gateway simulator (a Redis namespace of its own per case), whose calls are validated by
stripe-mock in a sample of the cases. Events are delivered either through the real /webhooks/stripe/
endpoint with a valid signature (Django's test client: the signature check, the event-id dedupe and the
handler) or by calling the registered handler directly, bypassing the event-id dedupe, so that the handlers'
own idempotency is under test too.

After every step (`check_step`):

- S1 every ledger transaction of the case sums to zero per currency, in its milestone's currency, and has
  the shape of its kind (a funding moves buyer funding to held; a release moves held to the payables and
  the fee; a refund, held to refunded; a chargeback, held (or the platform's funds) to refunded);
- S2 per milestone: held >= 0, payables and refunded >= 0, funded (the buyer-funding debit) is 0 or the
  milestone's amount and then what the gateway received, one funding at most, and released + refunded out
  of what was held <= funded;
- S3 no ledger key twice;
- S4 every release transaction has exactly its set of transfer operations (one per payee, the amounts of its
  postings) and every refund transaction exactly one refund operation: one booking, one set of transfers;
- S5 nothing paid twice or unbooked: at the gateway every transfer and refund names an operation of ours
  with the same amount and payee, no operation key was executed twice (the simulator's `calls()`), and no
  payee received more than the ledger released to it;
- S6 an operation marked succeeded is at the gateway, one marked failed is not;
- S7 states agree with the ledger: pending means unfunded, released or refunded means nothing held, released
  means a release was booked, refunded means none was, disputed means an open dispute (at most one);
- S8 every action answers what a model of the rules predicts from the state before it (done, or refused
  with exactly this code: FROZEN, NOT_FUNDED, ALREADY_RELEASED, INVALID_STATE, AMOUNT_EXCEEDS_HELD, INVALID,
  ALREADY_FUNDED, DISPUTE_OPEN, NO_OPEN_DISPUTE, GATEWAY_ERROR when a fault was injected), a refusal wrote
  nothing (ledger, operations, intents, disputes), a release or refund that was done moved exactly its
  amount out of what was held, and an acceptance left the milestone released with nothing held.

At the end (`finish`): every event still undelivered is delivered (shuffled, some twice), then the sweep and
reconciliation with repair run until nothing is pending, and (`check_final`), per milestone paid at the
gateway:

- F1 funded in the ledger == received at the gateway;
- F2 refunds booked - refund operations the gateway refused == refunded at the gateway;
- F3 chargebacks booked <= lost in card disputes at the gateway; where less was booked nothing is held,
  and the difference is either a refund of ours that the gateway refused (the buyer got that money through
  the card network instead: `final.chargeback_settled_a_refused_refund`) or money the card network took back
  after it was paid out, which the ledger does not book today (`final.chargeback_after_payout_not_booked`;
  a case failure with ESCROW_PROOF_STRICT_CHARGEBACKS=1, see the test module's
  test_a_chargeback_lost_after_the_payout_is_booked).
  So "funded - chargebacks == received - lost" holds exactly when neither happened;
- F4 per payee: seller / broker payables booked - transfers the gateway refused == transferred to that
  payee at the gateway (`transferred_to`); the transfer group's total likewise;
- F5 nothing is pending, every operation succeeded or was refused by the gateway for a reason a card dispute
  explains (funds withheld by an open or lost dispute, a disputed charge cannot be refunded);
- F6 a second reconciliation finds no drift but those refused operations (`operation_failed`).
"""

import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, cast

from django.db import connection, transaction
from django.test import Client, TestCase, override_settings
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from escrow import ledger
from escrow.error_codes import EscrowErrorCode as Code
from escrow.models import (
    ConnectedAccount,
    Dispute,
    DisputeState,
    EscrowMilestone,
    GatewayOperation,
    LedgerAccount,
    OperationKind,
    OperationStatus,
)
from escrow.payments import actions, operations
from escrow.payments.gateway import Gateway
from escrow.payments.reconcile import Report, reconcile
from escrow.payments.simulated import SimulatedGateway
from escrow.payments.stripe_gateway import StripeGateway
from escrow.payments.webhook_registry import HANDLERS, load_handlers
from escrow.tasks import run_release_after_inspection
from marketplace.error_codes import ActionError
from marketplace.models import Deal, DealBroker, DealState, Milestone, MilestoneState
from tests.escrow.stripe_events import deliver
from tests.marketplace.factories import World, build_world

A = LedgerAccount
Event = dict[str, Any]
PAYABLE = (A.SELLER_PAYABLE, A.BROKER_PAYABLE)
CLOSED = (MilestoneState.RELEASED, MilestoneState.REFUNDED)
# How the simulator words the refusals a card dispute explains (it raises GatewayError(message, code);
# the operation keeps the message).
DISPUTE_REFUSALS = {
    OperationKind.TRANSFER: ("Insufficient funds in transfer group",),
    OperationKind.REFUND: ("has been charged back", "is greater than unrefunded amount"),
}
# Set ESCROW_PROOF_STRICT_CHARGEBACKS=1 once a chargeback lost after the payout is booked (see the test
# module's test_a_chargeback_lost_after_the_payout_is_booked): such a case then fails, not only counted.
STRICT_CHARGEBACKS = os.environ.get("ESCROW_PROOF_STRICT_CHARGEBACKS", "") == "1"
PROLOGUE = ("booked", "booked", "booked", "paid", "intent", "nothing")
WRITE_FAULTS = ("create_transfer", "create_refund", "create_payment_intent")
READ_FAULTS = ("retrieve_payment_intent", "list_transfers", "list_refunds")

# Steps and their weights (a name repeated is drawn more often; the first shrinks best).
STEPS: tuple[str, ...] = (
    ("execute",) * 4  # first: the cheapest, what Hypothesis shrinks towards
    + ("events",) * 12
    + ("fund",) * 2
    + ("accept",) * 7
    + ("partial_release",) * 7
    + ("refund",) * 7
    + ("pay",) * 5
    + ("deliver",) * 5
    + ("resolve",) * 5
    + ("fault",) * 4
    + ("open_dispute",) * 4
    + ("card_dispute",) * 3
    + ("close_card_dispute",) * 3
    + ("replay",) * 3
    + ("inspection_ends",) * 2
    + ("reconcile",) * 2
    + ("cancel",)
)

# --- the gateway the code under test reaches through get_gateway() ------------------------------------

_current: SimulatedGateway | None = None


def current_gateway() -> SimulatedGateway:
    """settings.ESCROW_GATEWAY while a case runs: code that takes no gateway argument (a refund scheduled by
    a late payment's event) reaches the case's simulator."""
    if _current is None:
        raise RuntimeError("no escrow case is running")
    return _current


# --- counts ---------------------------------------------------------------------------------------------


@dataclass
class Stats:
    """Counters of everything a run did, by dotted name ("step.accept.ok", "delivery.http", ...)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, *parts: str, n: int = 1) -> None:
        self.counts[".".join(parts)] += n

    def merge(self, other: dict[str, int]) -> None:
        self.counts.update(other)

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class CountingValidator:
    """The `validate_with` of a sampled case's simulator: each gateway call is first sent to stripe-mock
    (a StripeGateway), which checks it against Stripe's API specification; counted per method."""

    def __init__(self, stats: Stats) -> None:
        self._gateway = StripeGateway()
        self._stats = stats

    def __getattr__(self, name: str) -> Callable[..., object]:
        method = getattr(self._gateway, name)

        def call(*args: object, **kwargs: object) -> object:
            self._stats.add("validated_calls", name)
            return cast(Callable[..., object], method)(*args, **kwargs)

        return call


# --- the world every case shares ------------------------------------------------------------------------


@dataclass
class PropertyWorld:
    w: World
    seller_account: ConnectedAccount
    broker_accounts: dict[int, ConnectedAccount]  # by broker user id


def build_property_world() -> PropertyWorld:
    """Users, organisations and a published listing (tests/marketplace/factories.py) with payout accounts
    ready for the seller and two brokers. Each case gives them fresh ids at its own simulator."""
    w = build_world()
    seller = ConnectedAccount.objects.create(
        organization=w.seller_org,
        provider_account_id="acct_seller",
        details_submitted=True,
        payouts_enabled=True,
    )
    brokers = {
        user.pk: ConnectedAccount.objects.create(
            broker=user,
            provider_account_id=f"acct_{user.username}",
            details_submitted=True,
            payouts_enabled=True,
        )
        for user in (w.broker, w.co_broker)
    }
    return PropertyWorld(w=w, seller_account=seller, broker_accounts=brokers)


# --- one case -------------------------------------------------------------------------------------------


@dataclass
class GatewayDispute:
    id: str
    milestone: int  # index into Case.milestones
    amount: int
    status: str = "needs_response"


class CaseFailure(AssertionError):
    pass


def _amounts(currency: str) -> st.SearchStrategy[int]:
    # Tiny amounts stress the rounding of fee and commissions; large ones the arithmetic.
    top = 5_000_000_000 if currency == "KRW" else 50_000_000
    return st.one_of(st.integers(1, 12), st.integers(1, top), st.sampled_from([100, 10_000, 1_000_003]))


class Case:
    """One generated history against one deal. `run` draws and performs it, checking after each step."""

    def __init__(
        self,
        pw: PropertyWorld,
        data: DataObject,
        stats: Stats,
        *,
        redis_url: str,
        validate: bool,
        max_steps: int,
        http_share: float = 0.5,
    ) -> None:
        self.pw, self.w, self.data, self.stats = pw, pw.w, data, stats
        namespace = f"h5-prop-{uuid.uuid4().hex}"
        validator = cast(Gateway, CountingValidator(stats)) if validate else None
        self.sim = SimulatedGateway(redis_url=redis_url, namespace=namespace, validate_with=validator)
        # The checks read the same state without stripe-mock (never while a read fault is armed).
        self.view = SimulatedGateway(redis_url=redis_url, namespace=namespace)
        self.max_steps = max_steps
        self.http_share = http_share
        self.client = Client()
        self.pending: list[Event] = []  # emitted by the gateway, not delivered yet
        self.delivered: list[Event] = []
        self.seen_events = 0
        self.disputes: list[GatewayDispute] = []
        self.milestones: list[Milestone] = []
        self.deal: Deal
        self.destinations: dict[tuple[str, int | None], str] = {}  # (account, broker) -> provider id
        self.last = Snapshot([], [], {}, {}, Counter(), [], {}, [])  # what the latest check saw

    # --- drawing ----------------------------------------------------------------------------------------

    def draw(self, strategy: st.SearchStrategy[Any], label: str | None = None) -> Any:
        return self.data.draw(strategy, label=label)

    def pick(self) -> Milestone:
        return cast(Milestone, self.milestones[self.draw(st.integers(0, len(self.milestones) - 1))])

    # --- running ----------------------------------------------------------------------------------------

    def run(self) -> None:
        global _current
        _current = self.sim
        sid = transaction.savepoint()
        try:
            fee_bp = self.draw(st.sampled_from([300, 0, 1, 1250, 5000]), "fee_bp")
            with override_settings(
                ESCROW_PLATFORM_FEE_BP=fee_bp, ESCROW_GATEWAY="tests.escrow.escrow_machine.current_gateway"
            ):
                with self.timed("setup"):
                    self.setup()
                steps = self.draw(st.integers(1, self.max_steps), "steps")
                for _ in range(steps):
                    name = self.draw(st.sampled_from(self.applicable()))
                    self.stats.add("steps")
                    with self.timed(f"step_{name}"):
                        getattr(self, f"step_{name}")()
                    with self.timed("check_step"):
                        self.check_step()
                with self.timed("finish"):
                    self.finish()
                with self.timed("check_final"):
                    self.check_final()
            self.stats.add("cases")
        except Exception:
            self.stats.add("failures")
            raise
        except BaseException as stop:
            # Hypothesis stops a case whose draws overran its buffer; it does not count as a case.
            self.stats.add("cases_abandoned_by_hypothesis")
            self.stats.add("abandoned", type(stop).__name__)
            raise
        finally:
            transaction.savepoint_rollback(sid)
            _current = None
            self.sim.reset()

    def setup(self) -> None:
        w = self.w
        currency = self.draw(st.sampled_from(["KRW", "USD"]), "currency")
        brokers = [w.broker, w.co_broker][: self.draw(st.integers(0, 2), "brokers")]
        shares = [10_000] if len(brokers) == 1 else []
        if len(brokers) == 2:
            first = self.draw(st.one_of(st.integers(1, 9_999), st.sampled_from([5_000, 7_000, 1, 9_999])))
            shares = [first, 10_000 - first]
        commission = self.draw(st.one_of(st.sampled_from([1_000, 0, 5_000, 1]), st.integers(0, 5_000)))
        amounts = self.draw(st.lists(_amounts(currency), min_size=1, max_size=2), "amounts")
        # The deal is written directly (the marketplace's negotiation is not under test here): agreed, with
        # the brokers' shares and the milestones as the marketplace's actions would have left them.
        self.deal = Deal.objects.create(
            listing=w.listing,
            buyer=w.buyer_org,
            created_by=w.buyer,
            state=DealState.AGREED,
            broker_commission_bp=commission,
        )
        DealBroker.objects.bulk_create(
            DealBroker(deal=self.deal, broker=b, share_bp=s, is_lead=i == 0)
            for i, (b, s) in enumerate(zip(brokers, shares, strict=True))
        )
        self.milestones = [
            Milestone.objects.create(
                deal=self.deal,
                sequence=i,
                title=f"Milestone {i}",
                amount=amount,
                currency=currency,
                inspection_days=self.draw(st.integers(0, 14)),
            )
            for i, amount in enumerate(amounts, 1)
        ]
        accounts = [(A.SELLER_PAYABLE, None, self.pw.seller_account)] + [
            (A.BROKER_PAYABLE, b.pk, self.pw.broker_accounts[b.pk]) for b in (w.broker, w.co_broker)
        ]
        for account, broker_id, row in accounts:
            created = self.view.create_account(country="KR", email="", idempotency_key=f"acct-{row.pk}")
            self.view.complete_onboarding(created.id)
            ConnectedAccount.objects.filter(pk=row.pk).update(provider_account_id=created.id)
            self.destinations[(account, broker_id)] = created.id
        self.seen_events = len(self.view.events())  # the accounts' own events are not part of the history
        # Most histories start with the milestones paid (else most steps are refused as unfunded): each is
        # paid and its event delivered, or paid with the event still in flight, or has an unpaid intent,
        # or nothing yet.
        for m in self.milestones:
            start = self.draw(st.sampled_from(PROLOGUE), "start")
            if start == "nothing":
                continue
            if (
                self.act("fund", partial(actions.fund_milestone, self.w.buyer, m.pk, self.sim), None)
                is not None
            ):
                continue
            if start in ("paid", "booked"):
                self.step_pay(m)
            if start == "booked":
                self.deliver_all(self.pending)  # once: duplicates and disorder come in the steps
                self.pending = []
        self.stats.add("milestones", n=len(amounts))
        self.stats.add("currency", currency)
        self.stats.add("brokers", str(len(brokers)))
        self.check_step()  # also what the next step's model starts from

    # --- helpers ----------------------------------------------------------------------------------------

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Adds the block's wall time to `ms.<name>` (where a case spends its time, for tuning)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stats.add("ms", name, n=round((time.perf_counter() - started) * 1000))

    def applicable(self) -> list[str]:
        """The steps that can do something now (the others would only spend the case's draws)."""
        self.collect()
        skip = set()
        if not self.pending:
            skip.add("events")
        if not self.delivered:
            skip.add("replay")
        if not any(d.status == "needs_response" for d in self.disputes):
            skip.add("close_card_dispute")
        if not any(self.last.open_disputes.values()):
            skip.add("resolve")
        return [name for name in STEPS if name not in skip]

    def rnd(self) -> random.Random:
        """A generator seeded by one draw: a shuffle costs Hypothesis one choice, not one per element (the
        many choices of long permutations made Hypothesis cut cases short)."""
        return random.Random(self.draw(st.integers(0, 2**32 - 1)))  # noqa: S311 -- a test's order

    def shuffled(self, events: list[Event]) -> list[Event]:
        events = list(events)
        self.rnd().shuffle(events)
        return events

    @property
    def milestone_ids(self) -> list[int]:
        return [m.pk for m in self.milestones]

    def intent_id(self, m: Milestone) -> str:
        return str(
            EscrowMilestone.objects.filter(milestone=m).values_list("payment_intent_id", flat=True).first()
            or ""
        )

    def footprint(self) -> tuple[int, ...]:
        """What a refused action must not change: bookings, operations, intents, open disputes."""
        with connection.cursor() as cursor:
            cursor.execute(_FOOTPRINT_SQL, [self.milestone_ids] * 4)
            return tuple(cursor.fetchone())

    def fault_armed(self, method: str) -> bool:
        return bool(self.view._redis.exists(self.view._key("fault", method)))

    def hooks(self, callbacks: Iterable[Callable[[], object]], label: str) -> None:
        """The after-commit hooks an action registered: run them, or drop them as a crash would."""
        callbacks = list(callbacks)
        if not callbacks:
            return
        if self.draw(st.booleans(), f"run {label} hooks"):
            self.stats.add("hooks.run", n=len(callbacks))
            for callback in callbacks:
                callback()
        else:
            self.stats.add("hooks.dropped", n=len(callbacks))

    def act(self, step: str, call: Callable[[], object], expected: Code | set[Code] | None) -> str | None:
        """Performs an action: None when done, else the code it was refused with. `expected` is what the
        model predicts from the state before the step (a code, or None for done), or for the steps it does
        not model the set of codes they may be refused with. A refusal must have written nothing."""
        before = self.footprint()
        try:
            with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
                call()
        except ActionError as error:
            code = str(error.code)
            self.stats.add("step", step, "refused", code)
            wrong = error.code not in expected if isinstance(expected, set) else error.code != expected
            if wrong:
                raise CaseFailure(
                    f"{step} refused with {code} ({error.message}), expected {expected}"
                ) from error
            if self.footprint() != before:
                raise CaseFailure(
                    f"{step} was refused ({code}) but wrote: {before} -> {self.footprint()}"
                ) from error
            return code
        if not isinstance(expected, set) and expected is not None:
            raise CaseFailure(f"{step} was done, expected a refusal with {expected}")
        self.stats.add("step", step, "ok")
        self.hooks(callbacks, step)
        return None

    # --- the model of refusals: what each action must answer, from the state before it ---------------------

    def state_of(self, m: Milestone) -> tuple[str, bool, int]:
        """(state, frozen, held) as the last check saw them (nothing changed since)."""
        held = sum(r[9] for r in self.last.entries if r[5] == m.pk and r[7] == A.HELD)
        state = self.last.states[m.pk]
        return state, state == MilestoneState.DISPUTED or self.last.open_disputes[m.pk] > 0, held

    def holding_refusal(self, m: Milestone, frozen_first: bool = True) -> Code | None:
        """What the freeze and the holding checks answer (accept, release, refund, delivery)."""
        state, frozen, _ = self.state_of(m)
        if frozen and frozen_first:
            return Code.FROZEN
        if state == MilestoneState.PENDING:
            return Code.NOT_FUNDED
        if state == MilestoneState.RELEASED:
            return Code.ALREADY_RELEASED
        if state not in (MilestoneState.FUNDED, MilestoneState.DELIVERED, MilestoneState.ACCEPTED):
            return Code.INVALID_STATE
        return None

    def expect_release(self, m: Milestone, amount: int) -> Code | None:
        refusal = self.holding_refusal(m)
        held = self.state_of(m)[2]
        if refusal is None and amount <= 0:
            return Code.INVALID
        if refusal is None and amount > held:
            return Code.AMOUNT_EXCEEDS_HELD
        return refusal

    def expect_refund(self, m: Milestone, amount: int | None) -> Code | None:
        refusal = self.holding_refusal(m)
        held = self.state_of(m)[2]
        amount = held if amount is None else amount
        if refusal is None and amount <= 0:
            return Code.NOT_FUNDED if held == 0 else Code.INVALID
        if refusal is None and amount > held:
            return Code.AMOUNT_EXCEEDS_HELD
        return refusal

    def expect_delivery(self, m: Milestone) -> Code | None:
        refusal = self.holding_refusal(m)
        if refusal is None and self.last.states[m.pk] != MilestoneState.FUNDED:
            return Code.INVALID_STATE
        return refusal

    def expect_dispute(self, m: Milestone) -> Code | None:
        if self.last.open_disputes[m.pk]:
            return Code.DISPUTE_OPEN
        refusal = self.holding_refusal(m, frozen_first=False)
        if refusal is None and self.state_of(m)[2] <= 0:
            return Code.NOT_FUNDED
        return refusal

    def expect_funding(self, m: Milestone, armed: bool) -> Code | None:
        self.deal.refresh_from_db(fields=["state"])
        if self.deal.state not in (DealState.AGREED, DealState.IN_ESCROW):
            return Code.INVALID_STATE
        if self.last.states[m.pk] != MilestoneState.PENDING:
            return Code.ALREADY_FUNDED
        if self.last.records.get(m.pk):
            return None  # the intent exists: the same one is returned, the gateway is not called
        return Code.GATEWAY_ERROR if armed else None

    def expect_cancel(self) -> Code | None:
        self.deal.refresh_from_db(fields=["state"])
        if self.deal.state not in (DealState.AGREED, DealState.IN_ESCROW):
            return Code.INVALID_STATE
        if any(self.state_of(m)[1] for m in self.milestones):
            return Code.FROZEN
        return None

    def collect(self) -> None:
        """Picks up the events the gateway emitted since the last look."""
        events = self.view.events()
        new = events[self.seen_events :]
        self.seen_events = len(events)
        self.pending.extend(new)
        self.stats.add("events.emitted", n=len(new))

    def deliver(self, event: Event) -> None:
        via_http = self.draw(st.integers(0, 99)) < self.http_share * 100
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            if via_http:
                response = deliver(self.client, event)
                if response.status_code != 200:
                    raise CaseFailure(
                        f"webhook {event['type']} answered {response.status_code}: {response.content!r}"
                    )
                self.stats.add("delivery.http")
            else:
                handler = _handlers().get(event["type"])
                if handler is not None:
                    with transaction.atomic():
                        handler(event)
                self.stats.add("delivery.direct_handler")
        self.hooks(callbacks, "webhook")

    def deliver_all(self, events: list[Event]) -> None:
        seen = {e["id"] for e in self.delivered}
        for event in events:
            if event["id"] in seen:
                self.stats.add("delivery.duplicate")
            seen.add(event["id"])
            self.deliver(event)
            if event not in self.delivered:
                self.delivered.append(event)

    # --- steps ------------------------------------------------------------------------------------------

    def step_fund(self) -> None:
        m = self.pick()
        expected = self.expect_funding(m, self.fault_armed("create_payment_intent"))
        refused = self.act("fund", partial(actions.fund_milestone, self.w.buyer, m.pk, self.sim), expected)
        if refused == Code.GATEWAY_ERROR and self.fault_armed("create_payment_intent"):
            raise CaseFailure("funding failed at the gateway without taking the injected fault")
        if refused is None and self.draw(st.booleans(), "pays at once"):
            self.step_pay(m)

    def step_pay(self, m: Milestone | None = None) -> None:
        """The buyer's card payment succeeds at the gateway (its event is not delivered yet)."""
        m = m or self.pick()
        intent = self.intent_id(m)
        if not intent or self.view.retrieve_payment_intent(intent).status != "requires_payment_method":
            self.stats.add("step.pay.nothing_to_pay")
            return
        self.sim.succeed_payment(intent)
        self.stats.add("step.pay.ok")
        self.collect()

    def step_deliver(self) -> None:
        m = self.pick()
        brokers = list(self.deal.brokers.values_list("broker", flat=True))
        actor = self.w.seller if not brokers or self.draw(st.booleans()) else self.w.broker
        self.act("deliver", partial(actions.confirm_delivery, actor, m.pk), self.expect_delivery(m))

    def step_accept(self) -> None:
        m = self.pick()
        held = self.state_of(m)[2]
        accept = partial(actions.accept_milestone, self.w.buyer, m.pk, self.sim)
        if self.act("accept", accept, self.holding_refusal(m)) is None:
            m.refresh_from_db()
            if m.state != MilestoneState.RELEASED or ledger.held(m.pk) != 0:
                raise CaseFailure(f"accepted with {held} held, now {m.state} holding {ledger.held(m.pk)}")

    def draw_amount(self, held: int, allow_none: bool = False) -> int | None:
        modes = ["part", "all", "over", "one", "zero"] + (["none"] if allow_none else [])
        mode = self.draw(st.sampled_from(modes), "amount")
        if mode == "none":
            return None
        if mode == "all":
            return held
        if mode == "one":
            return 1
        if mode == "zero":
            return 0
        if mode == "over":
            return held + cast(int, self.draw(st.integers(1, 1_000)))
        return cast(int, self.draw(st.integers(1, max(1, held - 1))))

    def step_partial_release(self) -> None:
        m = self.pick()
        held = self.state_of(m)[2]
        amount = self.draw_amount(held) or 0
        actor = self.w.buyer if self.draw(st.booleans()) else self.w.operator
        release = partial(actions.partial_release, actor, m.pk, amount, self.sim)
        done = self.act("partial_release", release, self.expect_release(m, amount)) is None
        if done and ledger.held(m.pk) != held - amount:
            raise CaseFailure(f"released {amount} of {held}, {ledger.held(m.pk)} held")

    def step_refund(self) -> None:
        m = self.pick()
        held = self.state_of(m)[2]
        amount = self.draw_amount(held, allow_none=True)
        actor = self.w.operator if self.draw(st.booleans()) else self.w.seller
        refund = partial(actions.refund_milestone, actor, m.pk, amount, self.sim)
        done = self.act("refund", refund, self.expect_refund(m, amount)) is None
        if done and ledger.held(m.pk) != held - (held if amount is None else amount):
            raise CaseFailure(f"refunded {amount} of {held}, {ledger.held(m.pk)} held")

    def step_cancel(self) -> None:
        actor = self.w.operator if self.draw(st.booleans()) else self.w.seller
        cancel = partial(actions.cancel_funded_deal, actor, self.deal.pk, "The buyer withdrew.", self.sim)
        self.act("cancel", cancel, self.expect_cancel())
        self.deal.refresh_from_db()

    def step_open_dispute(self) -> None:
        m = self.pick()
        actor = self.w.buyer if self.draw(st.booleans()) else self.w.seller
        dispute = partial(actions.open_dispute, actor, m.pk, "Not what was agreed.")
        self.act("open_dispute", dispute, self.expect_dispute(m))

    def step_resolve(self) -> None:
        ids = list(
            Dispute.objects.filter(milestone_id__in=self.milestone_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            self.stats.add("step.resolve.no_dispute")
            return
        dispute_id = self.draw(st.sampled_from(ids))
        state, card, milestone_id = (
            Dispute.objects.filter(pk=dispute_id)
            .values_list("state", "provider_dispute_id", "milestone_id")
            .get()
        )
        held = sum(r[9] for r in self.last.entries if r[5] == milestone_id and r[7] == A.HELD)
        resolution = self.draw(st.sampled_from(["release", "refund", "split"]))
        amount = self.draw_amount(held) if resolution == "split" else None
        expected: Code | None = None
        if state != DisputeState.OPEN:
            expected = Code.NO_OPEN_DISPUTE
        elif card:
            expected = Code.INVALID_STATE
        elif held <= 0:
            expected = Code.NOT_FUNDED
        elif amount is not None and amount <= 0:
            expected = Code.INVALID
        elif amount is not None and amount > held:
            expected = Code.AMOUNT_EXCEEDS_HELD
        resolve = partial(actions.resolve_dispute, self.w.operator, dispute_id, resolution, amount, self.sim)
        self.act("resolve", resolve, expected)

    def step_card_dispute(self) -> None:
        """The buyer's bank opens a chargeback (one per charge, as at Stripe)."""
        m = self.pick()
        index = self.milestones.index(m)
        intent = self.intent_id(m)
        if not intent or self.view.received(intent) == 0 or any(d.milestone == index for d in self.disputes):
            self.stats.add("step.card_dispute.not_possible")
            return
        amount = self.draw(st.one_of(st.just(m.amount), st.integers(1, m.amount)))
        created = self.sim.dispute(intent, amount)
        self.disputes.append(GatewayDispute(created["data"]["object"]["id"], index, amount))
        self.stats.add("step.card_dispute.ok")
        self.collect()

    def step_close_card_dispute(self) -> None:
        open_ = [d for d in self.disputes if d.status == "needs_response"]
        if not open_:
            self.stats.add("step.close_card_dispute.none_open")
            return
        dispute = self.draw(st.sampled_from(open_))
        dispute.status = self.draw(st.sampled_from(["lost", "won"]))
        self.sim.close_dispute(dispute.id, dispute.status)
        self.stats.add("step.close_card_dispute", dispute.status)
        self.collect()

    def step_execute(self) -> None:
        counts = operations.execute_pending(gateway=self.sim)
        for name, n in counts.items():
            self.stats.add("sweep", name, n=n)
        self.collect()

    def step_fault(self) -> None:
        method = self.draw(st.sampled_from(WRITE_FAULTS))
        when = self.draw(st.sampled_from(["before", "after"]))
        self.sim.fail_next(method, when)
        self.stats.add("fault", method, when)

    def step_events(self) -> None:
        """A random subset of what the gateway sent arrives now, shuffled, some copies twice or thrice."""
        self.collect()
        if not self.pending:
            self.stats.add("step.events.nothing_pending")
            return
        chosen = self.draw(st.sets(st.integers(0, len(self.pending) - 1), min_size=1))
        batch: list[Event] = []
        for i in sorted(chosen):
            batch += [self.pending[i]] * self.draw(st.integers(1, 3))
        self.pending = [e for i, e in enumerate(self.pending) if i not in chosen]
        self.deliver_all(self.shuffled(batch))
        self.collect()

    def step_replay(self) -> None:
        """An event delivered before arrives again, long after."""
        if not self.delivered:
            self.stats.add("step.replay.nothing_delivered")
            return
        self.deliver_all([self.draw(st.sampled_from(self.delivered))])

    def step_inspection_ends(self) -> None:
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            counts = run_release_after_inspection(timezone.now() + timedelta(days=15), gateway=self.sim)
        self.stats.add("inspection.released", n=counts["released"])
        self.stats.add("inspection.refused", n=counts["refused"])
        self.hooks(callbacks, "inspection")

    def step_reconcile(self) -> None:
        read_fault = self.draw(st.sampled_from((None, *READ_FAULTS)))
        if read_fault:
            self.sim.fail_next(read_fault, "before")
            self.stats.add("fault", read_fault, "before")
        repair = self.draw(st.booleans())
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            report = reconcile(repair=repair, gateway=self.sim)
        if read_fault:  # not taken when the case has nothing to look up: the checks read the same state
            self.view._redis.delete(self.view._key("fault", read_fault))
        self.count_drifts(report, "reconcile")
        self.hooks(callbacks, "reconcile")
        self.collect()

    def count_drifts(self, report: Report, label: str) -> None:
        for drift in report.drifts:
            self.stats.add(label, "drift", drift.kind, "repaired" if drift.repaired else "left")

    # --- the end of a history ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Everything still in flight arrives (shuffled, some twice); the sweep and reconciliation repair
        until nothing is pending."""
        for _ in range(4):
            self.collect()
            # every one once, and a random half of them twice
            rnd = self.rnd()
            batch = self.pending + [e for e in self.pending if rnd.random() < 0.5]
            self.pending = []
            self.deliver_all(self.shuffled(batch))
            with TestCase.captureOnCommitCallbacks(execute=True):
                operations.execute_pending(gateway=self.sim)
                report = reconcile(repair=True, gateway=self.sim)
            self.count_drifts(report, "finish")
            self.collect()
            waiting = GatewayOperation.objects.filter(
                milestone_id__in=self.milestone_ids, status=OperationStatus.PENDING
            ).exists()
            if not self.pending and not waiting and not any(d.kind in _REPAIRABLE for d in report.drifts):
                return
        raise CaseFailure("the sweep and reconciliation did not converge in four rounds")

    # --- invariants -------------------------------------------------------------------------------------

    def snapshot(self) -> "Snapshot":
        ids = self.milestone_ids
        with connection.cursor() as cursor:
            cursor.execute(_ENTRIES_SQL, [ids, ids])
            entries = cursor.fetchall()
            cursor.execute(_OPERATIONS_SQL, [ids, list(DISPUTE_REFUSALS)])
            ops = cursor.fetchall()
            cursor.execute(_MILESTONES_SQL, [ids])
            milestones = cursor.fetchall()
        records = {pk: intent for pk, _, intent, _ in milestones}
        transfers = self.view.list_transfers(transfer_group=operations.transfer_group(self.deal.pk))
        refunds = {pk: self.view.list_refunds(payment_intent_id=pi) for pk, pi in records.items() if pi}
        return Snapshot(
            entries=entries,
            ops=ops,
            records=records,
            states={pk: state for pk, state, _, _ in milestones},
            open_disputes=Counter({pk: n for pk, _, _, n in milestones}),
            transfers=transfers,
            refunds=refunds,
            calls=self.view.calls(),
        )

    def check_step(self) -> None:
        snap = self.snapshot()
        by_milestone = {m.pk: m for m in self.milestones}
        txns: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in snap.entries:
            txns[row[0]].append(row)
        # S1, S3: balanced transactions in the milestone's currency; keys unique
        keys: Counter[str] = Counter()
        kinds: dict[int, Counter[str]] = defaultdict(Counter)
        for rows in txns.values():
            _, key, kind, txn_currency, txn_milestone = rows[0][:5]
            keys[key] += 1
            kinds[txn_milestone][kind] += 1
            sums: Counter[str] = Counter()
            for row in rows:
                sums[row[6]] += row[9]
                if (
                    row[5] != txn_milestone
                    or row[6] != txn_currency
                    or row[6] != by_milestone[row[5]].currency
                ):
                    raise CaseFailure(f"transaction {key} mixes milestones or currencies: {rows}")
            if any(sums.values()):
                raise CaseFailure(f"transaction {key} does not balance: {dict(sums)}")
            # ... and has the shape of its kind: money moves only along the allowed paths
            signed = {(row[7], row[9] > 0) for row in rows}
            if not signed <= _SHAPES.get(kind, set()):
                raise CaseFailure(f"transaction {key} ({kind}) moves money along {sorted(signed)}")
        if [k for k, n in keys.items() if n > 1]:
            raise CaseFailure(f"ledger keys booked twice: {keys}")
        # S2: balances per milestone. Released and refunded are counted out of what was held (a booking
        # that takes a chargeback from the platform's own funds, once there is one, is not out of the held)
        balance: dict[int, Counter[str]] = defaultdict(Counter)
        out_of_held: Counter[int] = Counter()
        payable: Counter[str] = Counter()  # by payee's provider account
        for row in snap.entries:
            balance[row[5]][row[7]] += row[9]
            if row[7] == A.HELD and row[9] < 0:
                out_of_held[row[5]] -= row[9]
            if row[7] in PAYABLE:
                payable[self.destinations[(row[7], row[8])]] += row[9]
        for pk, m in by_milestone.items():
            b = balance[pk]
            funded = -b[A.BUYER_FUNDING]
            if b[A.HELD] < 0 or min(b[A.SELLER_PAYABLE], b[A.BROKER_PAYABLE], b[A.REFUNDED]) < 0:
                raise CaseFailure(f"milestone {m.sequence} has a negative balance: {dict(b)}")
            if kinds[pk]["fund"] > 1 or funded not in (0, m.amount) or out_of_held[pk] > funded:
                raise CaseFailure(
                    f"milestone {m.sequence}: funded {funded} of {m.amount}, {out_of_held[pk]} released or "
                    f"refunded: {dict(b)}, {kinds[pk]}"
                )
            intent = snap.records.get(pk) or ""
            if funded and (not intent or self.view.received(intent) != funded):
                raise CaseFailure(f"milestone {m.sequence} booked {funded}, the gateway received otherwise")
            # S7: states agree with the ledger
            state, held = snap.states[pk], b[A.HELD]
            if state == MilestoneState.PENDING and funded:
                raise CaseFailure(f"milestone {m.sequence} is pending with {funded} funded")
            if state in CLOSED and held:
                raise CaseFailure(f"milestone {m.sequence} is {state} with {held} held")
            if state == MilestoneState.RELEASED and not kinds[pk]["release"]:
                raise CaseFailure(f"milestone {m.sequence} is released, no release booked")
            if state == MilestoneState.REFUNDED and kinds[pk]["release"]:
                raise CaseFailure(f"milestone {m.sequence} is refunded after a release")
            disputes_open = snap.open_disputes[pk]
            if (state == MilestoneState.DISPUTED and not disputes_open) or (
                disputes_open and state not in (MilestoneState.DISPUTED, *CLOSED)
            ):
                raise CaseFailure(f"milestone {m.sequence} is {state} with {disputes_open} open disputes")
            if snap.open_disputes[pk] > 1:
                raise CaseFailure(f"milestone {m.sequence} has {snap.open_disputes[pk]} open disputes")
        # S4: each booking has exactly its operations
        ops_by_txn: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for _, kind, destination, amount, _, txn_id, _, _ in snap.ops:
            ops_by_txn[txn_id].append((destination if kind == OperationKind.TRANSFER else "buyer", amount))
        for txn_id, rows in txns.items():
            kind = rows[0][2]
            expected: list[tuple[str, int]] = []
            if kind == "release":
                expected = [(self.destinations[(r[7], r[8])], r[9]) for r in rows if r[7] in PAYABLE]
            elif kind == "refund":
                expected = [("buyer", r[9]) for r in rows if r[7] == A.REFUNDED]
            if sorted(ops_by_txn.pop(txn_id, [])) != sorted(expected):
                raise CaseFailure(
                    f"{rows[0][1]} has operations {ops_by_txn.get(txn_id)}, expected {expected}"
                )
        if ops_by_txn:
            raise CaseFailure(f"operations without a booking: {dict(ops_by_txn)}")
        # S5, S6: the gateway paid only what was booked, once
        ops = {row[0]: row for row in snap.ops}
        for method, kind in (
            ("create_transfer", OperationKind.TRANSFER),
            ("create_refund", OperationKind.REFUND),
        ):
            called = Counter(key for m_, key in snap.calls if m_ == method)
            twice = [k for k, n in called.items() if n > 1]
            strays = [k for k in called if k not in ops or ops[k][1] != kind]
            if twice or strays:
                raise CaseFailure(f"{method}: executed twice {twice}, unknown {strays}")
        at_gateway: dict[str, int] = {}
        paid: Counter[str] = Counter()
        for t in snap.transfers:
            key = t.metadata.get("operation", "")
            op = ops.get(key)
            if op is None or key in at_gateway or (op[2], op[3]) != (t.destination, t.amount):
                raise CaseFailure(f"transfer {t} is not exactly one of our operations")
            at_gateway[key] = t.amount
            paid[t.destination] += t.amount
        for destination, amount in paid.items():
            if amount > payable[destination]:
                raise CaseFailure(
                    f"{destination} was paid {amount}, the ledger released {payable[destination]}"
                )
        for pk, refunds in snap.refunds.items():
            refunded = 0
            for r in refunds:
                key = r.metadata.get("operation", "")
                op = ops.get(key)
                if op is None or key in at_gateway or op[3] != r.amount or op[6] != pk:
                    raise CaseFailure(f"refund {r} is not exactly one of our operations")
                at_gateway[key] = r.amount
                refunded += r.amount
            booked = sum(
                row[9] for row in snap.entries if row[5] == pk and row[2] == "refund" and row[7] == A.REFUNDED
            )
            if refunded > booked:
                raise CaseFailure(
                    f"milestone {by_milestone[pk].sequence}: {refunded} refunded, {booked} booked"
                )
        for key, (_, _, _, _, status, _, _, _) in ops.items():
            if (status == OperationStatus.SUCCEEDED) != (
                key in at_gateway
            ) and status != OperationStatus.PENDING:
                raise CaseFailure(f"operation {key} is {status}; at the gateway: {key in at_gateway}")
        self.stats.add("invariant_checks")
        self.last = snap

    def check_final(self) -> None:
        self.check_step()
        snap = self.last
        failed = [row for row in snap.ops if row[4] == OperationStatus.FAILED]
        if any(row[4] == OperationStatus.PENDING for row in snap.ops):
            raise CaseFailure("operations still pending after the finish")
        # F5: refusals a card dispute explains
        for key, kind, _, _, _, _, milestone_id, error in failed:
            index = self.milestone_ids.index(milestone_id)
            disputed = (
                any(d.milestone == index for d in self.disputes)
                if kind == OperationKind.REFUND
                else bool(self.disputes)
            )
            if not disputed or not any(s in error for s in DISPUTE_REFUSALS[OperationKind(kind)]):
                raise CaseFailure(f"operation {key} failed without a card dispute to explain it: {error}")
            self.stats.add("final.failed_operation", kind)
        failed_out: Counter[str] = Counter()
        for _, kind, destination, amount, _, _, milestone_id, _ in failed:
            failed_out[destination if kind == OperationKind.TRANSFER else f"refund:{milestone_id}"] += amount
        # F4: per payee, booked - refused == transferred
        booked: Counter[str] = Counter()
        for row in snap.entries:
            if row[7] in PAYABLE:
                booked[self.destinations[(row[7], row[8])]] += row[9]
        for destination in set(self.destinations.values()):
            if booked[destination] - failed_out[destination] != self.view.transferred_to(destination):
                raise CaseFailure(
                    f"{destination}: booked {booked[destination]}, refused {failed_out[destination]}, "
                    f"transferred {self.view.transferred_to(destination)}"
                )
        group = self.view.transfers_in_group(operations.transfer_group(self.deal.pk))
        if group != sum(booked.values()) - sum(
            v for k, v in failed_out.items() if not k.startswith("refund:")
        ):
            raise CaseFailure(f"the transfer group paid out {group}, the ledger {sum(booked.values())}")
        for m in self.milestones:
            intent = snap.records.get(m.pk) or ""
            rows = [row for row in snap.entries if row[5] == m.pk]
            funded = -sum(r[9] for r in rows if r[7] == A.BUYER_FUNDING)
            refunds = sum(r[9] for r in rows if r[2] == "refund" and r[7] == A.REFUNDED)
            chargebacks = sum(r[9] for r in rows if r[2] == "chargeback" and r[7] == A.REFUNDED)
            held = sum(r[9] for r in rows if r[7] == A.HELD)
            received = self.view.received(intent) if intent else 0
            # F1
            if funded != received:
                raise CaseFailure(f"milestone {m.sequence}: funded {funded}, the gateway received {received}")
            # F2
            if refunds - failed_out[f"refund:{m.pk}"] != (self.view.refunded(intent) if intent else 0):
                raise CaseFailure(
                    f"milestone {m.sequence}: {refunds} refunds booked, gateway {self.view.refunded(intent)}"
                )
            # F3
            lost = self.view.charged_back(intent) if intent else 0
            shortfall = lost - chargebacks
            if shortfall < 0 or (shortfall > 0 and held != 0):
                raise CaseFailure(
                    f"milestone {m.sequence}: chargebacks {chargebacks} booked, {lost} lost, {held} held"
                )
            if lost:
                self.stats.add("final.chargeback_lost")
            # What the ledger could not take from what was held: the buyer's own refund that the gateway
            # refused (the chargeback paid it instead), and beyond that money already paid out.
            instead_of_refund = min(shortfall, failed_out[f"refund:{m.pk}"])
            if instead_of_refund:
                self.stats.add("final.chargeback_settled_a_refused_refund")
            if shortfall - instead_of_refund:
                self.stats.add("final.chargeback_after_payout_not_booked")
                if STRICT_CHARGEBACKS:
                    raise CaseFailure(
                        f"milestone {m.sequence}: {shortfall - instead_of_refund} taken back by the card "
                        "network"
                        "after it was paid out is not in the ledger"
                    )
        # F6: a second reconciliation finds only the refused operations
        report = reconcile(repair=False, gateway=self.sim)
        left = sorted((d.kind, d.reference) for d in report.drifts)
        if left != sorted(("operation_failed", row[0]) for row in failed):
            raise CaseFailure(f"a second reconciliation found {left}")
        self.stats.add("final_checks")


# The checks' queries, one round trip each: the case's rows are few, the cases many.
_FOOTPRINT_SQL = """
SELECT (SELECT count(*) FROM escrow_ledgertransaction WHERE milestone_id = ANY(%s)),
       (SELECT count(*) FROM escrow_gatewayoperation WHERE milestone_id = ANY(%s)),
       (SELECT count(*) FROM escrow_escrowmilestone
         WHERE milestone_id = ANY(%s) AND payment_intent_id IS NOT NULL),
       (SELECT count(*) FROM escrow_dispute WHERE milestone_id = ANY(%s) AND state = 'open')
"""
# transaction id, key, kind, currency, milestone; the entry's milestone, currency, account, broker, amount
_ENTRIES_SQL = """
SELECT t.id, t.key, t.kind, t.currency, t.milestone_id, e.milestone_id, e.currency, e.account, e.broker_id,
       e.amount
  FROM escrow_ledgerentry e JOIN escrow_ledgertransaction t ON t.id = e.transaction_id
 WHERE e.milestone_id = ANY(%s) OR t.milestone_id = ANY(%s)
"""
_OPERATIONS_SQL = """
SELECT idempotency_key, kind, destination, amount, status, ledger_transaction_id, milestone_id, error
  FROM escrow_gatewayoperation WHERE milestone_id = ANY(%s) AND kind = ANY(%s)
"""
_MILESTONES_SQL = """
SELECT m.id, m.state, r.payment_intent_id,
       (SELECT count(*) FROM escrow_dispute d WHERE d.milestone_id = m.id AND d.state = 'open')
  FROM marketplace_milestone m LEFT JOIN escrow_escrowmilestone r ON r.milestone_id = m.id
 WHERE m.id = ANY(%s)
"""

# The accounts each kind of transaction may debit (False) and credit (True).
_SHAPES: dict[str, set[tuple[str, bool]]] = {
    "fund": {(A.BUYER_FUNDING, False), (A.HELD, True)},
    "release": {(A.HELD, False), (A.SELLER_PAYABLE, True), (A.BROKER_PAYABLE, True), (A.PLATFORM_FEE, True)},
    "refund": {(A.HELD, False), (A.REFUNDED, True)},
    # a lost card dispute: what was held goes back to the buyer (and, once a loss beyond what was held
    # is booked, from the platform's own funds)
    "chargeback": {(A.HELD, False), (A.PLATFORM_FEE, False), (A.REFUNDED, True)},
}

_REPAIRABLE = {"funding_not_posted", "operation_not_marked", "operation_not_executed", "gateway_unavailable"}


@dataclass
class Snapshot:
    entries: Sequence[tuple[Any, ...]]
    ops: Sequence[tuple[Any, ...]]
    records: dict[int, str | None]
    states: dict[int, str]
    open_disputes: Counter[int]
    transfers: list[Any]
    refunds: dict[int, list[Any]]
    calls: list[tuple[str, str]]


_loaded = False


def _handlers() -> dict[str, Callable[[Event], None]]:
    global _loaded
    if not _loaded:
        load_handlers()
        _loaded = True
    return HANDLERS
