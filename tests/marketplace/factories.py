"""Builders for a small marketplace: a verified seller with a published listing, buyers, brokers."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User

from marketplace import actions
from marketplace.actions.deals import nda_hash
from marketplace.models import BrokerProfile, Listing, NdaTemplate, Organization, Patent

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
