import pytest
from django.db.models import F

from marketplace import actions
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import AuditEntry, Deal, DealState, Listing, Patent
from tests.marketplace.factories import build_world

pytestmark = pytest.mark.django_db


def _codes(call) -> MarketplaceErrorCode:
    with pytest.raises(ActionError) as info:
        call()
    return info.value.code


def test_the_whole_deal_flow_reaches_agreement_with_milestones_and_an_audit_trail() -> None:
    w = build_world()
    # inquiry
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk, "We make supercapacitors.")
    actions.assign_brokers(
        w.seller, deal.pk, [BrokerShare(w.broker.pk, 7_000, is_lead=True), BrokerShare(w.co_broker.pk, 3_000)]
    )
    # NDA
    actions.request_nda(w.broker, deal.pk)
    actions.sign_nda(w.seller, deal.pk, w.nda_sha256)
    actions.sign_nda(w.buyer, deal.pk, w.nda_sha256)
    # offer, counter, accept the counter
    actions.make_offer(w.broker, deal.pk, Terms("exclusive_licence", 60_000_000, "KRW", royalty_bp=300))
    actions.make_offer(w.buyer, deal.pk, Terms("exclusive_licence", 45_000_000, "KRW", royalty_bp=300), 1)
    actions.accept_offer(w.buyer, deal.pk, 2)
    actions.accept_offer(w.seller, deal.pk, 2)
    actions.set_milestones(
        w.seller,
        deal.pk,
        [MilestoneInput("Know-how transfer", 15_000_000), MilestoneInput("Assignment", 30_000_000)],
    )

    deal.refresh_from_db()
    assert deal.state == DealState.AGREED
    assert [(m.sequence, m.amount, m.currency) for m in deal.milestones.all()] == [
        (1, 15_000_000, "KRW"),
        (2, 30_000_000, "KRW"),
    ]
    assert Listing.objects.get(pk=w.listing.pk).status == "under_negotiation"
    transitions = list(
        AuditEntry.objects.filter(object_type="deal", object_id=deal.pk)
        .exclude(from_state=F("to_state"))
        .values_list("from_state", "to_state")
    )
    assert transitions == [
        ("", "inquiry"),
        ("inquiry", "nda_pending"),
        ("nda_pending", "nda_signed"),
        ("nda_signed", "negotiating"),
        ("negotiating", "agreed"),
    ]


def test_outsiders_cannot_learn_that_a_deal_exists() -> None:
    w = build_world()
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)

    for outsider in (w.other_buyer, w.other_seller, w.other_broker):
        assert _codes(lambda u=outsider: actions.request_nda(u, deal.pk)) == MarketplaceErrorCode.NOT_FOUND
    assert Deal.objects.get(pk=deal.pk).state == DealState.INQUIRY


def test_a_superseded_offer_cannot_be_accepted_and_brokers_cannot_accept() -> None:
    w = build_world()
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)
    actions.assign_brokers(w.seller, deal.pk, [BrokerShare(w.broker.pk, 10_000, is_lead=True)])
    actions.request_nda(w.seller, deal.pk)
    actions.sign_nda(w.seller, deal.pk, w.nda_sha256)
    actions.sign_nda(w.buyer, deal.pk, w.nda_sha256)
    actions.make_offer(w.seller, deal.pk, Terms("assignment", 50_000_000, "KRW"))
    actions.make_offer(w.buyer, deal.pk, Terms("assignment", 40_000_000, "KRW"), 1)

    assert _codes(lambda: actions.accept_offer(w.seller, deal.pk, 1)) == MarketplaceErrorCode.OFFER_SUPERSEDED
    assert (
        _codes(lambda: actions.accept_offer(w.broker, deal.pk, 2)) == MarketplaceErrorCode.PERMISSION_DENIED
    )


@pytest.mark.parametrize(
    ("shares", "code"),
    [
        ([(0, 6_000, True), (1, 3_000, False)], MarketplaceErrorCode.SHARES_MUST_SUM_TO_100),
        ([(0, 5_000, True), (1, 5_000, True)], MarketplaceErrorCode.ONE_LEAD_BROKER),
        ([(0, 5_000, True), (2, 5_000, False)], MarketplaceErrorCode.NOT_A_BROKER),
    ],
)
def test_broker_shares_are_validated(shares, code) -> None:
    w = build_world()
    people = [w.broker, w.co_broker, w.buyer]
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)

    refused = _codes(
        lambda: actions.assign_brokers(
            w.seller, deal.pk, [BrokerShare(people[i].pk, bp, lead) for i, bp, lead in shares]
        )
    )

    assert refused == code
    assert deal.brokers.count() == 0


def test_a_second_inquiry_by_the_same_buyer_is_refused_and_milestones_must_match_the_offer() -> None:
    w = build_world()
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)
    assert (
        _codes(lambda: actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk))
        == MarketplaceErrorCode.DEAL_EXISTS
    )
    assert (
        _codes(lambda: actions.open_inquiry(w.seller, w.listing.pk, w.seller_org.pk))
        == MarketplaceErrorCode.OWN_LISTING
    )

    actions.request_nda(w.buyer, deal.pk)
    actions.sign_nda(w.seller, deal.pk, w.nda_sha256)
    assert (
        _codes(lambda: actions.sign_nda(w.seller, deal.pk, w.nda_sha256))
        == MarketplaceErrorCode.ALREADY_SIGNED
    )
    actions.sign_nda(w.buyer, deal.pk, w.nda_sha256)
    actions.make_offer(w.seller, deal.pk, Terms("assignment", 10_000_000, "KRW"))
    actions.accept_offer(w.seller, deal.pk, 1)
    actions.accept_offer(w.buyer, deal.pk, 1)

    code = _codes(lambda: actions.set_milestones(w.buyer, deal.pk, [MilestoneInput("All", 9_000_000)]))
    assert code == MarketplaceErrorCode.MILESTONES_DO_NOT_MATCH_OFFER
    assert deal.milestones.count() == 0


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [(0, "KRW", "upfront_amount"), (-5, "KRW", "upfront_amount"), (100, "XXX", "currency")],
)
def test_offer_amounts_and_currencies_are_validated(amount: int, currency: str, field: str) -> None:
    w = build_world()
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)
    actions.request_nda(w.buyer, deal.pk)
    actions.sign_nda(w.seller, deal.pk, w.nda_sha256)
    actions.sign_nda(w.buyer, deal.pk, w.nda_sha256)

    with pytest.raises(ActionError) as info:
        actions.make_offer(w.seller, deal.pk, Terms("assignment", amount, currency))

    assert (info.value.code, info.value.field) == (MarketplaceErrorCode.INVALID, field)
    assert deal.offers.count() == 0


def test_an_unverified_seller_cannot_publish() -> None:
    w = build_world()
    org = w.other_seller.memberships.get().organization
    patent_ids = list(w.listing.patents.values_list("pk", flat=True))
    assert (
        _codes(lambda: actions.create_listing(w.other_seller, org.pk, "Not theirs", patent_ids, ["option"]))
        == MarketplaceErrorCode.PATENT_NOT_OWNED
    )
    own = Patent.objects.create(office="KR", application_number="1020990000001", owner=org)
    listing = actions.create_listing(w.other_seller, org.pk, "Unverified", [own.pk], ["option"])

    assert (
        _codes(lambda: actions.publish_listing(w.other_seller, listing.pk))
        == MarketplaceErrorCode.ORGANIZATION_NOT_VERIFIED
    )
    assert _codes(lambda: actions.publish_listing(w.buyer, listing.pk)) == MarketplaceErrorCode.NOT_FOUND
