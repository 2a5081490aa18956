"""Random sequences of deal actions by random actors never reach an invalid state or lose audit entries."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace import actions
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms, agreed_offer
from marketplace.error_codes import ActionError
from marketplace.models import AuditEntry, Deal, DealState, NdaSignature
from tests.marketplace.factories import World, build_world

ACTORS = ("seller", "buyer", "other_buyer", "broker", "other_broker", "operator")
ACTIONS = (
    "request_nda",
    "sign_nda",
    "assign",
    "offer",
    "counter",
    "accept_latest",
    "accept_first",
    "milestones",
    "cancel",
)

step = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ACTORS), st.integers(min_value=1, max_value=5))


def _do(w: World, deal_id: int, action: str, actor_name: str, n: int) -> None:
    actor = getattr(w, actor_name)
    deal = Deal.objects.get(pk=deal_id)
    latest = deal.offers.order_by("-version").first()
    if action == "request_nda":
        actions.request_nda(actor, deal_id)
    elif action == "sign_nda":
        actions.sign_nda(actor, deal_id, w.nda_sha256)
    elif action == "assign":
        actions.assign_brokers(actor, deal_id, [BrokerShare(w.broker.pk, 10_000, is_lead=True)])
    elif action in ("offer", "counter"):
        counters = latest.version if (action == "counter" and latest) else None
        actions.make_offer(actor, deal_id, Terms("assignment", n * 1_000_000, "KRW"), counters)
    elif action == "accept_latest":
        actions.accept_offer(actor, deal_id, latest.version if latest else 1)
    elif action == "accept_first":
        actions.accept_offer(actor, deal_id, 1)
    elif action == "milestones":
        offer = agreed_offer(deal)
        total = offer.upfront_amount if offer else n * 1_000_000
        actions.set_milestones(
            actor, deal_id, [MilestoneInput("First", total - total // 2), MilestoneInput("Rest", total // 2)]
        )
    elif action == "cancel":
        actions.cancel_deal(actor, deal_id, "changed plans")


def _check_invariants(deal: Deal) -> None:
    signatures = NdaSignature.objects.filter(deal=deal).count()
    after_nda = {DealState.NDA_SIGNED, DealState.NEGOTIATING, DealState.AGREED}
    if deal.state in after_nda:
        assert signatures == 2
    if deal.state == DealState.NEGOTIATING:
        assert deal.offers.exists()
    offer = agreed_offer(deal)
    if deal.state == DealState.AGREED:
        assert offer is not None
    milestones = list(deal.milestones.all())
    if milestones:
        assert offer is not None
        assert sum(m.amount for m in milestones) == offer.upfront_amount
    shares = [b.share_bp for b in deal.brokers.all()]
    assert shares == [] or sum(shares) == 10_000
    versions = list(deal.offers.values_list("version", flat=True))
    assert versions == list(range(1, len(versions) + 1))


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_random_action_sequences_keep_the_deal_valid_and_audited(steps) -> None:
    with transaction.atomic():
        w = build_world()
        deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)
        states = [deal.state]
        for action, actor, n in steps:
            audit_before = AuditEntry.objects.count()
            state_before = Deal.objects.get(pk=deal.pk).state
            try:
                _do(w, deal.pk, action, actor, n)
            except ActionError:
                # a refused action writes nothing: no state change, no audit entry
                assert AuditEntry.objects.count() == audit_before
                assert Deal.objects.get(pk=deal.pk).state == state_before
                continue
            assert AuditEntry.objects.count() > audit_before
            current = Deal.objects.get(pk=deal.pk)
            _check_invariants(current)
            if current.state != states[-1]:
                states.append(current.state)

        # every state the deal went through has exactly one audit entry, in order
        audited = list(
            AuditEntry.objects.filter(object_type="deal", object_id=deal.pk)
            .exclude(from_state="", to_state="")
            .values_list("from_state", "to_state")
        )
        changes = [(f, t) for f, t in audited if f != t]
        assert [t for _, t in changes] == states
        transaction.set_rollback(True)
