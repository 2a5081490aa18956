"""Builders for a small marketplace: a verified seller with a published listing, buyers, brokers."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User

from marketplace import actions
from marketplace.actions.deals import BrokerShare, Terms, nda_hash
from marketplace.models import BrokerProfile, Deal, DealState, Listing, NdaTemplate, Organization, Patent

NDA_TEXT = "The receiving party keeps the disclosed technical information confidential for five years."


@dataclass
class World:
    seller: User
    seller_org: Organization
    other_seller: User
    buyer: User
    buyer_org: Organization
    other_buyer: User
    other_buyer_org: Organization
    broker: User
    co_broker: User
    other_broker: User
    operator: User
    listing: Listing
    nda_sha256: str


def build_world() -> World:
    operator = User.objects.create_user("operator", is_staff=True)
    seller = User.objects.create_user("seller")
    seller_org = actions.create_organization(seller, "인천대학교 산학협력단", "university", "KR")
    actions.verify_organization(operator, seller_org.pk)
    other_seller = User.objects.create_user("other-seller")
    actions.create_organization(other_seller, "Other University", "university", "KR")
    buyer = User.objects.create_user("buyer")
    buyer_org = actions.create_organization(buyer, "에이치씨테크(주)", "sme", "KR")
    other_buyer = User.objects.create_user("other-buyer")
    other_buyer_org = actions.create_organization(other_buyer, "Other Buyer Inc.", "large_enterprise", "US")
    firm = Organization.objects.create(name="Tech Bridge Partners", kind="broker_firm", country="KR")
    brokers = []
    for name in ("broker", "co-broker", "other-broker"):
        user = User.objects.create_user(name)
        BrokerProfile.objects.create(user=user, firm=firm)
        brokers.append(user)
    patent = Patent.objects.create(
        office="KR",
        application_number="1020160138184",
        application_date=date(2016, 10, 24),
        titles={"ko": "그래핀 전극", "en": "GRAPHENE ELECTRODE"},
        ipc_codes=["H01G 11/86"],
        owner=seller_org,
    )
    listing = actions.create_listing(
        seller,
        seller_org.pk,
        "3D graphene supercapacitor electrodes",
        [patent.pk],
        ["exclusive_licence", "assignment"],
        summary="Spray-dried 3D graphene electrodes",
        know_how="Nozzle temperature profile and RGO concentration window",
        price_amount=50_000_000,
        price_currency="KRW",
    )
    actions.publish_listing(seller, listing.pk)
    template = NdaTemplate.objects.create(version=1, text=NDA_TEXT, text_sha256=nda_hash(NDA_TEXT))
    return World(
        seller=seller,
        seller_org=seller_org,
        other_seller=other_seller,
        buyer=buyer,
        buyer_org=buyer_org,
        other_buyer=other_buyer,
        other_buyer_org=other_buyer_org,
        broker=brokers[0],
        co_broker=brokers[1],
        other_broker=brokers[2],
        operator=operator,
        listing=listing,
        nda_sha256=template.text_sha256,
    )


# The states `open_deal` can take a deal to, in the order the workflow reaches them.
DEAL_PATH = (
    DealState.INQUIRY,
    DealState.NDA_PENDING,
    DealState.NDA_SIGNED,
    DealState.NEGOTIATING,
    DealState.AGREED,
)


def open_deal(w: World, until: DealState = DealState.INQUIRY) -> Deal:
    """The buyer's deal on the world's listing, with `broker` assigned as lead (all of the commission) by
    the seller, taken up to `until`: the broker requests the NDA, both sides sign it, the broker offers
    50,000,000 KRW (version 1) and both sides accept it."""
    reached = DEAL_PATH.index(until)  # ValueError for a state off the path
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk, "We make supercapacitors.")
    actions.assign_brokers(w.seller, deal.pk, [BrokerShare(w.broker.pk, 10_000, is_lead=True)])
    if reached >= DEAL_PATH.index(DealState.NDA_PENDING):
        actions.request_nda(w.broker, deal.pk)
    if reached >= DEAL_PATH.index(DealState.NDA_SIGNED):
        actions.sign_nda(w.seller, deal.pk, w.nda_sha256)
        actions.sign_nda(w.buyer, deal.pk, w.nda_sha256)
    if reached >= DEAL_PATH.index(DealState.NEGOTIATING):
        actions.make_offer(w.broker, deal.pk, Terms("exclusive_licence", 50_000_000, "KRW"))
    if reached >= DEAL_PATH.index(DealState.AGREED):
        actions.accept_offer(w.seller, deal.pk, 1)
        actions.accept_offer(w.buyer, deal.pk, 1)
    deal.refresh_from_db()
    return deal
