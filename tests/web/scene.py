"""The browser journey's world, built from the real patent files: the Korean universities' and NASA's
imported patents, a university's technology-transfer officer (seller), a buyer company, a broker, an
operator, some published packages to search among, the NDA text and payees ready to be paid."""

import io
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count

from escrow.payments.accounts import ensure_payee_account
from escrow.payments.simulated import SimulatedGateway
from marketplace import actions
from marketplace.actions.deals import nda_hash
from marketplace.models import BrokerProfile, Listing, Membership, NdaTemplate, Organization, Patent

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
PASSWORD = "journey-pass-2026"
NDA_TEXT = "The receiving party keeps the disclosed technical information confidential for five years."
# Sectors of the packages already on the market (the journey's seller adds one more).
SECTORS = ("secondary_batteries", "semiconductors", "advanced_biotech", "ai", "displays", "hydrogen")


@dataclass
class Account:
    email: str
    user: User


@dataclass
class Scene:
    seller: Account
    seller_org: Organization
    buyer: Account
    buyer_org: Organization
    broker: Account
    operator: Account
    nasa_org: Organization
    free_patents: list[Patent]  # the seller's patents in no listing yet, for the wizard


def _account(email: str, name: str) -> Account:
    return Account(email, actions.register_user(email, PASSWORD, name))


def _package(
    seller: User, org: Organization, patents: list[Patent], sector: str, price: int, cur: str
) -> None:
    titles = patents[0].titles
    title = titles.get("ko") or titles.get("en") or patents[0].application_number
    listing = actions.create_listing(
        seller,
        org.pk,
        title[:280],
        [p.pk for p in patents],
        ["exclusive_licence", "non_exclusive_licence"],
        summary=(patents[0].abstracts.get("ko") or patents[0].abstracts.get("en") or title)[:1500],
        know_how="Process parameters and test data from the lab's prototypes.",
        price_amount=price,
        price_currency=cur,
        sector=sector,
        trl=5,
    )
    actions.publish_listing(seller, listing.pk)


def build_scene(gateway: SimulatedGateway) -> Scene:
    for fmt, name in (
        ("kipris-csv", "kr_university_patents_inu.csv"),
        ("nasa-csv", "us_nasa_licensable_patents_2014.csv"),
    ):
        call_command("import_patents", str(DATA / name), format=fmt, no_progress=True, stdout=io.StringIO())
    operator = _account("operator@journey.example.com", "Operator Oh")
    User.objects.filter(pk=operator.user.pk).update(is_staff=True, is_superuser=True)
    operator.user.refresh_from_db()

    # The Korean university holding the most imported patents sells; NASA sells too.
    kr = Organization.objects.filter(patents__office="KR").annotate(n=Count("patents")).order_by("-n").first()
    nasa = Organization.objects.filter(patents__office="US").distinct().first()
    assert kr is not None and nasa is not None
    seller = _account("tto@university.example.kr", "김지원")
    nasa_officer = _account("licensing@nasa.example.gov", "Alex Morgan")
    Membership.objects.create(user=seller.user, organization=kr, role="admin")
    Membership.objects.create(user=nasa_officer.user, organization=nasa, role="admin")
    buyer = _account("cto@hcteck.example.kr", "박서준")
    buyer_org = actions.create_organization(buyer.user, "에이치씨테크(주)", "sme", "KR", "987-65-43210")
    for org in (kr, nasa, buyer_org):
        actions.verify_organization(operator.user, org.pk)

    broker = _account("broker@techbridge.example.kr", "이몽룡")
    firm = Organization.objects.create(name="테크브릿지 파트너스", kind="broker_firm", country="KR")
    BrokerProfile.objects.create(user=broker.user, firm=firm, certification_number="TB-2026-001")
    NdaTemplate.objects.create(version=1, text=NDA_TEXT, text_sha256=nda_hash(NDA_TEXT))

    registered = Patent.objects.filter(owner=kr, legal_status="registered")
    kr_patents = list(registered.order_by("application_number"))
    us_patents = list(Patent.objects.filter(owner=nasa).order_by("application_number"))
    for i, sector in enumerate(SECTORS):
        _package(seller.user, kr, kr_patents[2 * i : 2 * i + 2], sector, (i + 1) * 50_000_000, "KRW")
        _package(nasa_officer.user, nasa, us_patents[i : i + 1], sector, (i + 1) * 2_500_000, "USD")
    in_listings = set(Listing.patents.through.objects.values_list("patent_id", flat=True))

    # Payees onboarded at the simulator the server uses, so releases can pay out.
    for user, org in ((seller.user, kr.pk), (broker.user, None)):
        account = ensure_payee_account(user, organization_id=org)
        gateway.complete_onboarding(account.provider_account_id)
        type(account).objects.filter(pk=account.pk).update(details_submitted=True, payouts_enabled=True)
    return Scene(
        seller=seller,
        seller_org=kr,
        buyer=buyer,
        buyer_org=buyer_org,
        broker=broker,
        operator=operator,
        nasa_org=nasa,
        free_patents=[p for p in kr_patents if p.pk not in in_listings],
    )
