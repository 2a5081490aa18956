"""Property-based proof of the payment escrow: random histories of funding, releases, refunds, disputes,
gateway faults and late, shuffled, duplicated webhook deliveries keep the ledger balanced, never pay twice,
and end with the ledger's balances equal to the gateway's. The driver and the exact invariants are in
tests/escrow/escrow_machine.py.

`make test` runs the `escrow-ci` profile (150 cases, derandomised: the same cases every run).
`make proof-escrow` (scripts/proof_escrow.py) runs this test with the `escrow-proof` profile and
ESCROW_PROOF_CASES cases per process, and collects the counts each process writes to ESCROW_PROOF_STATS.

Environment: ESCROW_HYPOTHESIS_PROFILE (escrow-ci | escrow-proof), ESCROW_PROOF_CASES (overrides the
profile's number of cases), ESCROW_PROOF_MAX_STEPS (steps per case at most, 12), ESCROW_PROOF_VALIDATE_EVERY
(every n-th case's gateway calls are also validated by stripe-mock; 0: never; 10 by default),
ESCROW_PROOF_HTTP_SHARE (the share of deliveries through the signed HTTP endpoint, 0.5), ESCROW_PROOF_STATS
(a JSON file for the counts).
"""

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from escrow import ledger
from escrow.models import EscrowMilestone, LedgerAccount
from escrow.payments import actions
from escrow.payments.simulated import SimulatedGateway
from tests.escrow.escrow_machine import Case, Stats, build_property_world
from tests.escrow.factories import build_escrow_world, fund, simulator
from tests.escrow.stripe_events import deliver

_QUIET = list(HealthCheck)  # one case is slow by nature (a database and a gateway); the draws are many
settings.register_profile(
    "escrow-ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "escrow-proof",
    max_examples=10_000,
    deadline=None,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)

PROFILE = os.environ.get("ESCROW_HYPOTHESIS_PROFILE", "escrow-ci")
CASES = int(os.environ.get("ESCROW_PROOF_CASES") or 0)
MAX_STEPS = int(os.environ.get("ESCROW_PROOF_MAX_STEPS") or 12)
VALIDATE_EVERY = int(os.environ.get("ESCROW_PROOF_VALIDATE_EVERY") or 10)
HTTP_SHARE = float(os.environ.get("ESCROW_PROOF_HTTP_SHARE") or 0.5)
STATS_PATH = os.environ.get("ESCROW_PROOF_STATS", "")


@pytest.mark.django_db
def test_random_histories_keep_the_ledger_balanced_and_equal_to_the_gateway() -> None:
    # given one marketplace world shared by every case (each case's deal lives in a savepoint)
    world = build_property_world()
    stats = Stats()
    base = settings.get_profile(PROFILE)
    profile = settings(base, max_examples=CASES or base.max_examples)
    runs = 0
    started = time.monotonic()

    @profile
    @given(data=st.data())
    def one_history(data: DataObject) -> None:
        nonlocal runs
        runs += 1
        validate = VALIDATE_EVERY > 0 and runs % VALIDATE_EVERY == 1
        stats.add("cases_validated_by_stripe_mock", n=int(validate))
        Case(
            world,
            data,
            stats,
            redis_url=django_settings.CELERY_BROKER_URL,
            validate=validate,
            max_steps=MAX_STEPS,
            http_share=HTTP_SHARE,
        ).run()

    # when random histories run, then every step's and every end's invariants held (Case raises otherwise)
    try:
        one_history()
    finally:
        if STATS_PATH:
            counts = stats.as_dict() | {"elapsed_ms": int((time.monotonic() - started) * 1000)}
            Path(STATS_PATH).write_text(json.dumps(counts, indent=2, sort_keys=True))
    assert stats.counts["failures"] == 0
    assert stats.counts["cases"] + stats.counts["cases_abandoned_by_hypothesis"] == runs
    assert stats.counts["final_checks"] == stats.counts["cases"] >= (CASES or 100) * 0.9


# --- what the proof found -------------------------------------------------------------------------------


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


@pytest.mark.xfail(
    strict=True,
    reason="a chargeback lost after the payout is not booked: actions.apply_chargeback books only what "
    "is still held (reported with a fix); then drop this marker, set ESCROW_PROOF_STRICT_CHARGEBACKS",
)
@pytest.mark.django_db
def test_a_chargeback_lost_after_the_payout_is_booked(
    sim: SimulatedGateway, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given a 4,000,000 KRW milestone accepted and paid out (fee 120,000 kept, 3,880,000 transferred)
    ew = build_escrow_world(sim, amounts=(4_000_000,))
    m = fund(ew, ew.milestone)
    with django_capture_on_commit_callbacks(execute=True):
        actions.accept_milestone(ew.w.buyer, m.pk, sim)
    intent = str(EscrowMilestone.objects.get(milestone=m).payment_intent_id)
    assert sim.transfers_in_group(f"deal_{ew.deal.pk}") == 3_880_000
    # when the buyer's bank then takes all of it back in a card dispute the platform loses
    created = sim.dispute(intent, 4_000_000)
    assert deliver(client, created).status_code == 200
    assert deliver(client, sim.close_dispute(created["data"]["object"]["id"], "lost")).status_code == 200
    # then the ledger says what the gateway says: 4,000,000 went back to the buyer (today nothing is booked:
    # the platform's loss of 4,000,000 - 120,000 is in no account, and reconciliation reports no drift)
    assert sim.charged_back(intent) == 4_000_000
    assert ledger.balances(m.pk).get((LedgerAccount.REFUNDED, None), 0) == 4_000_000
    assert ledger.totals_by_currency() == {"KRW": 0}
