"""`generate_demo_data`: generated records are marked, reach every deal state through the actions, and can
be regenerated or removed without touching the real patents and their holders."""

from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Sum

from marketplace import actions
from marketplace.actions.deals import agreed_offer, nda_hash
from marketplace.demo.records import generated_users
from marketplace.demo.reset import reset
from marketplace.demo.sectors import group_key, ipc_codes, ipc_sector
from marketplace.models import (
    AuditEntry,
    Bookmark,
    BrokerProfile,
    Deal,
    DealState,
    Demand,
    Listing,
    ListingStatus,
    ListingView,
    NdaTemplate,
    Offer,
    Organization,
    Patent,
)

pytestmark = pytest.mark.django_db

KR_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "kr_university_patents_inu.csv"
DEMO_DOMAINS = ("@example.com", ".example.com", "@example.kr", ".example.kr")
LIVE_STATES = ["inquiry", "nda_pending", "nda_signed", "negotiating", "agreed"]
KR_PATENTS = [  # (IPC, Korean title, English title), as KIPRIS records them
    ("H01G 11/86", "그래핀 전극의 제조방법", "METHOD OF MAKING A GRAPHENE ELECTRODE"),
    ("H01G 11/32", "슈퍼커패시터용 탄소 전극", "CARBON ELECTRODE FOR SUPERCAPACITOR"),
    ("H01M 4/36", "리튬이차전지용 양극활물질", "CATHODE ACTIVE MATERIAL FOR LITHIUM SECONDARY BATTERY"),
    ("H01M 10/052", "수계 이차전지", "AQUEOUS SECONDARY BATTERY"),
    ("H01L 29/786", "산화물 박막 트랜지스터", "OXIDE THIN FILM TRANSISTOR"),
    ("H01L 21/02", "반도체 박막 증착 방법", "METHOD OF DEPOSITING A SEMICONDUCTOR FILM"),
    ("H01Q 9/04 H01Q 1/42", "광대역 패치 안테나", "BROADBAND PATCH ANTENNA"),
    ("A61K 9/51", "약물전달용 나노입자", "NANOPARTICLES FOR DRUG DELIVERY"),
    ("G06N 3/08", "신경망 학습 방법", "METHOD OF TRAINING A NEURAL NETWORK"),
    ("C01B 3/04", "수소 생산용 촉매", "CATALYST FOR HYDROGEN PRODUCTION"),
    ("B64C 39/02", "무인 비행체", "UNMANNED AERIAL VEHICLE"),
    ("G06Q 50/28", "물류 관리 시스템", "LOGISTICS MANAGEMENT SYSTEM"),
]
US_PATENTS = [  # (category, title)
    ("aeronautics", "Wing flap noise reduction device"),
    ("aeronautics", "Laminar flow control system"),
    ("sensors", "Flexible thin metal film thermal sensing system"),
    ("sensors", "Hydrogen leak detector"),
    ("health medicine and biotechnology", "Three-dimensional tissue culture process"),
    ("communications", "Ultrawideband asynchronous tracking system"),
    ("propulsion", "Hall thruster discharge chamber"),
    ("materials and coatings", "Corrosion-resistant coating"),
]


@pytest.fixture
def holders() -> list[Organization]:
    """Two real holders (as the importers create them) with live patents, plus patents never to be listed."""
    kr = Organization.objects.create(name="인천대학교 산학협력단", kind="university", country="KR")
    us = Organization.objects.create(
        name="National Aeronautics and Space Administration", kind="public_institution", country="US"
    )
    for i, (ipc, ko, en) in enumerate(KR_PATENTS):
        Patent.objects.create(
            office="KR",
            application_number=f"10201600{i:05d}",
            titles={"ko": ko, "en": en},
            abstracts={"ko": f"본 발명은 {ko}에 관한 것이다. 성능이 우수하다."},
            ipc_codes=[ipc],
            applicants=[kr.name],
            legal_status="registered" if i % 3 else "pending",
            owner=kr,
        )
    for i, (category, title) in enumerate(US_PATENTS):
        Patent.objects.create(
            office="US",
            application_number=f"1184{i:04d}",
            titles={"en": title},
            abstracts={"en": f"A {title.lower()} is provided. It works in space."},
            applicants=[us.name],
            legal_status="registered",
            extra={"category": category},
            owner=us,
        )
    Patent.objects.create(office="KR", application_number="1019990000001", legal_status="expired", owner=kr)
    Patent.objects.create(office="KR", application_number="1019990000002", legal_status="registered")
    return [kr, us]


def _generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_demo_data", *args, stdout=out, stderr=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "organisations": Organization.objects.count(),
        "brokers": BrokerProfile.objects.count(),
        "listings": Listing.objects.count(),
        "demands": Demand.objects.count(),
        "deals": Deal.objects.count(),
        "offers": Offer.objects.count(),
        "bookmarks": Bookmark.objects.count(),
        "views": ListingView.objects.count(),
        "audit": AuditEntry.objects.count(),
        "nda templates": NdaTemplate.objects.count(),
    }


def _fingerprint() -> list[object]:
    """What a seed decides: packages, prices, deal pairs, broker splits, offer amounts."""
    listings = [
        (item.title, item.status, item.price_amount, item.trl, item.sector, list(item.transaction_types))
        for item in Listing.objects.order_by("title")
    ]
    deals = [
        (
            deal.listing.title,
            deal.buyer.name,
            deal.state,
            sorted((b.broker.email, b.share_bp, b.is_lead) for b in deal.brokers.all()),
            [(o.version, o.upfront_amount, o.currency) for o in deal.offers.all()],
        )
        for deal in Deal.objects.order_by("listing__title", "buyer__name")
    ]
    return [listings, deals]


def _real_rows() -> list[tuple[object, ...]]:
    patents = Patent.objects.order_by("pk").values_list(
        "pk", "owner_id", "titles", "legal_status", "updated_at"
    )
    orgs = Organization.objects.filter(is_generated=False).order_by("pk").values_list("pk", "name", "kind")
    return [*patents, *orgs]


def test_generated_records_are_marked_and_every_deal_state_is_reached(holders: list[Organization]) -> None:
    output = _generate("--seed", "3")

    assert "Demo data generated" in output and "ipmarket-demo" in output
    users = list(User.objects.all())
    assert users and all(u.email.endswith(DEMO_DOMAINS) and u.username == u.email for u in users)
    assert generated_users().count() == len(users)
    assert [u.email for u in users if u.is_staff] == ["operator@demo-platform.example.com"]
    real = Organization.objects.filter(is_generated=False)
    assert set(real.values_list("pk", flat=True)) == {h.pk for h in holders}
    assert Organization.objects.filter(is_generated=True).count() == 10
    for model in (BrokerProfile, Listing, Demand, Deal):
        assert model._default_manager.exists()
        assert not model._default_manager.filter(is_generated=False).exists()
    assert BrokerProfile.objects.count() == 5
    assert all(p.sectors and p.bio for p in BrokerProfile.objects.all())
    assert Demand.objects.count() == 15
    korean = [any("가" <= c <= "힣" for c in d.title + d.description) for d in Demand.objects.all()]
    assert any(korean) and not all(korean)
    assert all(d.keywords and d.ipc_interests for d in Demand.objects.all())

    states = set(Deal.objects.values_list("state", flat=True))
    assert states == {*LIVE_STATES, "cancelled"}
    assert Bookmark.objects.exists() and ListingView.objects.exists()
    template = NdaTemplate.objects.get()
    assert template.text_sha256 == nda_hash(template.text)


def test_deals_have_brokers_offers_milestones_and_an_audit_trail(holders: list[Organization]) -> None:
    _generate()

    for deal in Deal.objects.all():
        brokers = list(deal.brokers.all())
        assert sum(b.share_bp for b in brokers) == 10_000
        assert sum(b.is_lead for b in brokers) == 1
        transitions = list(
            AuditEntry.objects.filter(object_type="deal", object_id=deal.pk)
            .exclude(from_state=F("to_state"))
            .values_list("from_state", "to_state")
        )
        assert transitions[0] == ("", "inquiry")
        assert all(a[1] == b[0] for a, b in pairwise(transitions))
        assert transitions[-1][1] == deal.state
        if deal.state == DealState.CANCELLED:
            assert deal.cancellation_reason
        if deal.state == DealState.AGREED:
            offer = agreed_offer(deal)
            assert offer is not None
            assert deal.milestones.aggregate(total=Sum("amount"))["total"] == offer.upfront_amount
            assert set(deal.milestones.values_list("currency", flat=True)) == {offer.currency}
    assert Offer.objects.filter(counters__isnull=False).exists()
    assert Deal.objects.filter(state="negotiating", offers__version=3).exists()


def test_listings_package_only_live_patents_of_their_seller(holders: list[Organization]) -> None:
    _generate()

    listings = list(Listing.objects.prefetch_related("patents"))
    assert 8 <= len(listings) <= len(KR_PATENTS) + len(US_PATENTS)
    statuses = {item.status for item in listings}
    assert ListingStatus.DRAFT in statuses and ListingStatus.PUBLISHED in statuses
    for item in listings:
        patents = list(item.patents.all())
        assert 1 <= len(patents) <= 3
        assert {p.owner_id for p in patents} == {item.seller_id}
        assert {p.legal_status for p in patents} <= {"registered", "pending"}
        assert len({group_key(p) for p in patents}) == 1  # related: one IPC subclass or category
        first = patents[0]
        assert item.title.startswith(first.titles.get("ko") or first.titles["en"])
        if item.price_amount is not None:
            assert item.price_currency == ("KRW" if first.office == "KR" else "USD")
        else:
            assert item.price_negotiable
        assert item.trl is not None and 1 <= item.trl <= 9
    assert {h.pk for h in holders} == {item.seller_id for item in listings}


def test_a_second_run_changes_nothing_and_reset_regenerates_the_same(holders: list[Organization]) -> None:
    real = _real_rows()
    _generate()
    counts, fingerprint = _counts(), _fingerprint()

    assert "already generated" in _generate()
    assert _counts() == counts

    output = _generate("--reset")
    assert "Removed generated records" in output and "Demo data generated" in output
    assert _counts() == counts
    assert _fingerprint() == fingerprint
    assert _real_rows() == real
    assert not Organization.objects.filter(pk__in=[h.pk for h in holders], is_generated=True).exists()


def test_reset_deletes_only_generated_records(holders: list[Organization]) -> None:
    real = _real_rows()
    _generate()

    reset()

    assert _real_rows() == real
    assert Organization.objects.filter(verified_at__isnull=False).count() == 0  # the demo verified them
    for model in (User, BrokerProfile, Listing, Demand, Deal, Offer, Bookmark, ListingView, AuditEntry):
        assert model._default_manager.count() == 0, model
    assert NdaTemplate.objects.count() == 1  # platform text, kept for the real deals to come


def test_reset_refuses_when_a_real_record_depends_on_a_generated_one(holders: list[Organization]) -> None:
    _generate()
    person = User.objects.create_user("real@buyer.test")
    org = actions.create_organization(person, "Real Buyer", "sme", "KR")
    listing = Listing.objects.filter(status="published").first()
    assert listing is not None
    actions.open_inquiry(person, listing.pk, org.pk)
    counts = _counts()

    with pytest.raises(CommandError, match="depend on generated"):
        _generate("--reset")

    assert _counts() == counts


def test_nothing_is_generated_while_no_organisation_holds_a_patent() -> None:
    Patent.objects.create(office="KR", application_number="1020200000001", legal_status="registered")

    output = _generate()

    assert "Nothing generated" in output
    assert not User.objects.exists() and not Organization.objects.exists()


def test_a_weak_demo_password_is_refused_and_nothing_is_written(
    holders: list[Organization], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "1234")
    before = _counts()

    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        _generate()

    assert _counts() == before


@pytest.mark.parametrize(
    ("codes", "sector"),
    [
        (["H01M 10/052"], "secondary_batteries"),
        (["H01L 29/786"], "semiconductors"),
        (["C01B 3/04"], "hydrogen"),
        (["C01B 33/02"], "other"),  # silicon, not hydrogen
        (["G06Q 50/28 H04W 4/00"], "next_gen_communications"),
        (["F02K 9/00"], "aerospace_marine"),
        (["C12N 5/09"], "advanced_biotech"),
        ([], "other"),
    ],
)
def test_sectors_are_guessed_from_ipc_codes(codes: list[str], sector: str) -> None:
    assert ipc_sector(ipc_codes(codes)) == sector


@pytest.mark.skipif(not KR_FILE.is_file(), reason="the real data is not beside the checkout")
def test_on_the_real_korean_file_listings_use_the_real_titles() -> None:
    call_command("import_patents", "--format", "kipris-csv", str(KR_FILE), "--no-progress", stdout=StringIO())
    if not Organization.objects.filter(patents__isnull=False).exists():
        # Until the importer links patents to their first applicant's organisation, do it here.
        holder = Organization.objects.create(name="인천대학교 산학협력단", kind="university", country="KR")
        Patent.objects.filter(applicants__0=holder.name).update(owner=holder)
    patents_before = Patent.objects.count()

    _generate()

    assert Patent.objects.count() == patents_before == 979
    listings = list(Listing.objects.prefetch_related("patents"))
    assert len(listings) >= 25
    for item in listings:
        patents = list(item.patents.all())
        assert item.title.startswith(patents[0].titles["ko"][:100])
        assert {p.owner_id for p in patents} == {item.seller_id}
        assert item.price_currency in ("KRW", "")
    assert set(Deal.objects.values_list("state", flat=True)) == {*LIVE_STATES, "cancelled"}
