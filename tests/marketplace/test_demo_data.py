"""`generate_demo_data`: generated records are marked, reach every deal state through the actions (the
escrow's too), and can be regenerated or removed without touching the real patents and their holders."""

import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Sum

from escrow import ledger
from escrow.error_codes import EscrowErrorCode
from escrow.models import (
    ConnectedAccount,
    Deposit,
    DepositPurpose,
    DepositState,
    LedgerAccount,
    LedgerTransaction,
    LogEntry,
)
from escrow.payments.reconcile import reconcile
from escrow.payments.simulated import SimulatedGateway
from escrow.vault import log
from escrow.vault.deposits import create_deposit, open_file
from marketplace import actions
from marketplace.actions.deals import agreed_offer, nda_hash
from marketplace.demo import escrow as demo_escrow
from marketplace.demo.records import generated_users
from marketplace.demo.reset import reset
from marketplace.demo.sectors import group_key, ipc_codes, ipc_sector
from marketplace.error_codes import ActionError
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
    MemberRole,
    Membership,
    Milestone,
    NdaTemplate,
    Offer,
    Organization,
    OrgKind,
    Patent,
)
from tests.escrow.vault_fixtures import seal, stored_files, vault_fixture  # noqa: F401 -- the vault fixture

pytestmark = pytest.mark.django_db

KR_FILE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "kr_university_patents_inu.csv"
DEMO_DOMAINS = ("@example.com", ".example.com", "@example.kr", ".example.kr")
# The agreed deals go on into escrow (their milestones funded) when the gateway is the simulator.
LIVE_STATES = ["inquiry", "nda_pending", "nda_signed", "negotiating", "in_escrow"]
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


@pytest.fixture(autouse=True)
def sim(settings: Any, vault: Path) -> Iterator[SimulatedGateway]:
    """The demo's gateway, the simulator (validated against stripe-mock), in a namespace of this test's
    own in the tests' Redis database; deposits go to the test's own vault folder."""
    namespace = f"test-demo-{uuid.uuid4().hex}"
    settings.ESCROW_GATEWAY = demo_escrow.SIMULATOR
    settings.ESCROW_SIMULATOR_NAMESPACE = namespace
    settings.ESCROW_SIMULATOR_REDIS_URL = settings.CELERY_BROKER_URL
    gateway = SimulatedGateway(settings.CELERY_BROKER_URL, namespace=namespace)
    yield gateway
    gateway.reset()


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
        "payee accounts": ConnectedAccount.objects.count(),
        "deposits": Deposit.objects.count(),
        "ledger transactions": LedgerTransaction.objects.count(),
        "log entries": LogEntry.objects.count(),
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
    escrow = [
        (m.deal.listing.title, m.sequence, m.state, sorted(ledger.balances(m.pk).values()))
        for m in Milestone.objects.order_by("deal__listing__title", "sequence")
    ]
    deposits = sorted(
        (d.title, d.purpose, d.state, [(f.name, f.sha256) for f in d.files.order_by("position")])
        for d in Deposit.objects.all()
    )
    return [listings, deals, escrow, deposits]


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
    sellers = Membership.objects.filter(organization__in=real, user__in=generated_users())
    assert set(sellers.values_list("role", flat=True)) == {MemberRole.ADMIN}  # they manage payouts
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
        if deal.state in (DealState.AGREED, DealState.IN_ESCROW):
            offer = agreed_offer(deal)
            assert offer is not None
            assert deal.milestones.aggregate(total=Sum("amount"))["total"] == offer.upfront_amount
            assert set(deal.milestones.values_list("currency", flat=True)) == {offer.currency}
    assert Offer.objects.filter(counters__isnull=False).exists()
    assert Deal.objects.filter(state="negotiating", offers__version=3).exists()


@pytest.mark.django_db(transaction=True)
def test_the_agreed_deals_go_into_escrow_balanced_logged_and_agreeing_with_the_gateway(
    holders: list[Organization], sim: SimulatedGateway
) -> None:
    # when the command commits (the ledger's deferred zero-sum trigger and the foreign keys are checked)
    output = _generate("--seed", "3")

    # then the ledger balances per currency, the log verifies, the gateway has what the ledger says
    assert set(ledger.totals_by_currency().values()) == {0}
    assert log.check() == []
    drift = reconcile(repair=False, gateway=sim)
    assert (drift.milestones, drift.drifts) == (4, [])
    assert "ledger               6 transactions, balanced" in output
    # the two agreed deals, their milestones in every escrow state, each moved by an action
    deals = list(Deal.objects.filter(state=DealState.IN_ESCROW).order_by("pk"))
    assert [d.milestones.count() for d in deals] == [2, 3]
    states = [list(d.milestones.order_by("sequence").values_list("state", flat=True)) for d in deals]
    assert states == [["released", "delivered"], ["funded", "disputed", "pending"]]
    released, delivered = deals[0].milestones.order_by("sequence")
    partial, disputed, pending = deals[1].milestones.order_by("sequence")
    for m in (released, delivered, partial, disputed):
        assert ledger.balances(m.pk)[(LedgerAccount.BUYER_FUNDING, None)] == -m.amount
        assert sim.received(str(m.escrow.payment_intent_id)) == m.amount
    assert ledger.held(released.pk) == 0 and ledger.held(delivered.pk) == delivered.amount
    assert 0 < ledger.held(partial.pk) < partial.amount
    assert disputed.disputes.get().opened_by == deals[1].created_by  # the buyer
    assert not hasattr(Milestone.objects.get(pk=pending.pk), "escrow")
    for deal in deals:  # every payable was transferred at the gateway, and only that
        payables = sum(
            amount
            for m in deal.milestones.all()
            for (account, _), amount in ledger.balances(m.pk).items()
            if account in (LedgerAccount.SELLER_PAYABLE, LedgerAccount.BROKER_PAYABLE)
        )
        assert sim.transfers_in_group(f"deal_{deal.pk}") == payables
    assert AuditEntry.objects.filter(object_type="milestone", action="record_funding").count() == 4
    # deliverables of each first milestone, released with the accepted one; proofs by the university
    deliverables = Deposit.objects.filter(purpose=DepositPurpose.MILESTONE).order_by("pk")
    assert [(d.milestone_id, d.state) for d in deliverables] == [
        (released.pk, DepositState.RELEASED),
        (partial.pk, DepositState.SEALED),
    ]
    proofs = Deposit.objects.filter(purpose=DepositPurpose.PROOF_OF_EXISTENCE)
    assert proofs.count() == 2 and {d.depositor.kind for d in proofs} == {OrgKind.UNIVERSITY}
    # the buyer reads the released materials: marked generated, written from the real patents
    buyer = deals[0].created_by
    _, chunks = open_file(buyer, deliverables[0].pk, 0)
    summary = b"".join(chunks).decode()
    assert summary.startswith("GENERATED DEMO MATERIAL")
    assert all(p.titles["en"] in summary for p in deals[0].listing.patents.all())
    with pytest.raises(ActionError) as refused:
        open_file(deals[1].created_by, deliverables[1].pk, 0)
    assert refused.value.code == EscrowErrorCode.NOT_RELEASED


def test_with_a_stateless_gateway_the_agreed_deals_wait_outside_the_escrow(
    holders: list[Organization], settings: Any
) -> None:
    # given stripe-mock, which keeps no state (no payment ever succeeds there)
    settings.ESCROW_GATEWAY = "escrow.payments.stripe_gateway.StripeGateway"

    # when
    output = _generate()

    # then the escrow is left out, and the report says what it needs
    assert Deal.objects.filter(state=DealState.AGREED).count() == 2
    for model in apps.get_app_config("escrow").get_models():
        assert not model._default_manager.exists(), model
    assert f"nothing held: the demo's escrow needs ESCROW_GATEWAY={demo_escrow.SIMULATOR}" in output


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


def test_reset_deletes_only_generated_records(
    holders: list[Organization], vault: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    real = _real_rows()
    _generate()
    assert stored_files(vault) and LogEntry.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        removed = reset()

    assert _real_rows() == real
    assert Organization.objects.filter(verified_at__isnull=False).count() == 0  # the demo verified them
    for model in (User, BrokerProfile, Listing, Demand, Deal, Offer, Bookmark, ListingView, AuditEntry):
        assert model._default_manager.count() == 0, model
    assert NdaTemplate.objects.count() == 1  # platform text, kept for the real deals to come
    # the escrow is emptied whole (the ledger and the log refuse DELETE), ciphertext included
    for escrow_model in apps.get_app_config("escrow").get_models():
        assert not escrow_model._default_manager.exists(), escrow_model
    assert stored_files(vault) == []
    assert removed["escrow deposits"] == 4 and removed["log entries"] == 5


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


def test_reset_refuses_while_the_escrow_holds_a_record_the_demo_did_not_make(
    holders: list[Organization],
) -> None:
    # given a real person's proof of existence, beside the demo's escrow
    _generate()
    person = User.objects.create_user("real@inventor.test")
    org = actions.create_organization(person, "Real Inventor", "sme", "KR")
    deposit = create_deposit(
        person, org.pk, DepositPurpose.PROOF_OF_EXISTENCE, "Lab notes", seal({"notes.txt": b"real notes"})
    )
    counts = _counts()

    # when
    with pytest.raises(CommandError, match=f"Not the demo's: Deposit #{deposit.pk}"):
        _generate("--reset")

    # then: nothing went, the log (which cannot lose single entries) included
    assert _counts() == counts
    assert log.check() == []


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
