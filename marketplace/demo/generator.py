"""Builds the demo world on top of the real patents, through the marketplace actions.

Everything goes through the verb-named actions, so access checks, invariants and the audit log are the
real ones (the escrow too: see `escrow`); the only direct writes are the `is_generated` marks (the actions
do not take it), the operator's staff flag, broker profiles (no action creates them yet) and the NDA text
when none exists.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Model
from django.utils import timezone

from marketplace import actions
from marketplace.actions.deals import nda_hash
from marketplace.demo import catalogue, deals
from marketplace.demo import escrow as demo_escrow
from marketplace.demo.cast import (
    BROKER_FIRMS,
    BUYERS,
    OPERATOR_EMAIL,
    OPERATOR_NAME,
    Person,
    seller_person,
)
from marketplace.demo.demands import DEMANDS
from marketplace.demo.records import real_holders
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import (
    BrokerProfile,
    Deal,
    Demand,
    Listing,
    MemberRole,
    NdaTemplate,
    Organization,
    OrgKind,
    Patent,
)
from marketplace.validation import CURRENCY_EXPONENTS

TOTAL_LISTINGS = 30
DRAFT_SHARE = 10  # one listing in ten stays a draft
VIEWS_PER_USER = 5
BOOKMARKS_PER_USER = 2
NDA_TEXT = (
    "비밀유지계약 (Non-disclosure agreement)\n"
    "1. 수령 당사자는 거래 협상 중 공개된 기술정보와 노하우를 협상 목적으로만 사용하고, 공개일로부터 5년간 "
    "제3자에게 누설하지 않는다. The receiving party uses technical information and know-how disclosed "
    "during the negotiation only to evaluate the transaction and keeps it confidential for five years.\n"
    "2. 공지의 정보, 독자적으로 개발한 정보, 법령에 따라 공개가 요구되는 정보는 예외로 한다. "
    "Information that "
    "is public, independently developed or required by law to be disclosed is excluded.\n"
    "3. 협상이 종료되면 수령 당사자는 요청에 따라 자료를 반환하거나 파기한다. When talks end, the receiving "
    "party returns or destroys the materials on request."
)


class DemoDataError(Exception):
    """The demo cannot be generated (weak DEMO_PASSWORD, real rows depending on generated ones, …)."""


@dataclass(frozen=True)
class Seller:
    org: Organization
    user: User
    patents: list[Patent]


def already_generated() -> bool:
    return User.objects.filter(username=OPERATOR_EMAIL).exists()


def _mark(model: type[Model], pk: int) -> None:
    model._default_manager.filter(pk=pk).update(is_generated=True)


def _register(person: Person, password: str) -> User:
    try:
        return actions.register_user(person.email, password, person.name)
    except ActionError as exc:
        if exc.code == MarketplaceErrorCode.WEAK_PASSWORD:
            raise DemoDataError(f"DEMO_PASSWORD is refused: {exc.message}") from exc
        raise


def _nda_sha256() -> str:
    template = NdaTemplate.objects.order_by("-version").first()
    if template is None:
        template = NdaTemplate.objects.create(version=1, text=NDA_TEXT, text_sha256=nda_hash(NDA_TEXT))
    return template.text_sha256


def _operator(password: str) -> User:
    operator = _register(Person(OPERATOR_NAME, OPERATOR_EMAIL), password)
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    return operator


def _sellers(operator: User, password: str, holders: Sequence[Organization]) -> list[Seller]:
    """Each real holder gets one generated member (its admin), and the operator verifies it so it can
    publish."""
    sellers = []
    per_country: dict[str, int] = {}
    for org in holders:
        index = per_country.get(org.country, 0)
        per_country[org.country] = index + 1
        user = _register(seller_person(org.country, index), password)
        # Its admin: the payee account (payouts) of an organisation is managed by its admins.
        actions.add_member(operator, org.pk, user, MemberRole.ADMIN)
        actions.verify_organization(operator, org.pk)
        patents = list(
            org.patents.filter(legal_status__in=catalogue.LISTED_STATUSES).order_by(
                "office", "application_number"
            )
        )
        sellers.append(Seller(org, user, patents))
    return sellers


def _buyers(operator: User, password: str) -> list[deals.Party]:
    parties = []
    for spec in BUYERS:
        admin, *others = (_register(person, password) for person in spec.people)
        org = actions.create_organization(admin, spec.name, spec.kind, spec.country)
        _mark(Organization, org.pk)
        actions.verify_organization(operator, org.pk)
        for user in others:
            actions.add_member(admin, org.pk, user)
        parties.append(deals.Party(org, admin, tuple(spec.sectors), korean=spec.country == "KR"))
    return parties


def _brokers(operator: User, password: str) -> list[deals.BrokerUser]:
    brokers = []
    for firm in BROKER_FIRMS:
        users = [_register(b.person, password) for b in firm.brokers]
        org = actions.create_organization(users[0], firm.name, OrgKind.BROKER_FIRM, firm.country)
        _mark(Organization, org.pk)
        actions.verify_organization(operator, org.pk)
        for number, (user, spec) in enumerate(zip(users, firm.brokers, strict=True), start=1):
            if number > 1:
                actions.add_member(users[0], org.pk, user)
            BrokerProfile.objects.create(
                user=user,
                firm=org,
                certification_number=f"DEMO-{firm.country}-{number:04d}",
                sectors=list(spec.sectors),
                bio=spec.bio,
                is_generated=True,
            )
            brokers.append(deals.BrokerUser(user, spec))
    return brokers


def _listings(rng: random.Random, sellers: Sequence[Seller]) -> list[Listing]:
    """About TOTAL_LISTINGS packages over the holders; one in ten stays a draft, the rest are published."""
    quotas = catalogue.allocate([len(s.patents) for s in sellers], TOTAL_LISTINGS)
    made: list[tuple[Seller, Listing]] = []
    for seller, quota in zip(sellers, quotas, strict=True):
        for package in catalogue.packages(rng, seller.patents, quota):
            plan = catalogue.plan(rng, package)
            listing = actions.create_listing(
                seller.user,
                seller.org.pk,
                plan.title,
                [p.pk for p in plan.patents],
                list(plan.transaction_types),
                summary=plan.summary,
                know_how=plan.know_how,
                price_amount=plan.price_amount,
                price_currency=plan.price_currency,
                sector=plan.sector,
                trl=plan.trl,
            )
            _mark(Listing, listing.pk)
            made.append((seller, listing))
    drafts = set(rng.sample(range(len(made)), len(made) // DRAFT_SHARE))
    published = []
    for i, (seller, listing) in enumerate(made):
        if i not in drafts:
            published.append(actions.publish_listing(seller.user, listing.pk))
    return published


def _demands(buyers: Sequence[deals.Party]) -> None:
    today = timezone.localdate()
    for spec in DEMANDS:
        buyer = buyers[spec.buyer]
        currency = BUYERS[spec.buyer].currency
        demand = actions.post_demand(
            buyer.user,
            buyer.org.pk,
            spec.title,
            spec.description,
            keywords=spec.keywords,
            ipc_interests=spec.ipc_interests,
            budget_amount=None if spec.budget is None else spec.budget * 10 ** CURRENCY_EXPONENTS[currency],
            budget_currency=currency,
            transaction_type=spec.transaction_type,
            sector=spec.sector,
            reply_deadline=today + timedelta(days=spec.deadline_days),
        )
        _mark(Demand, demand.pk)
        if spec.closed:
            actions.close_demand(buyer.user, demand.pk)


def _deals(
    rng: random.Random,
    listings: Sequence[Listing],
    sellers: Sequence[Seller],
    buyers: Sequence[deals.Party],
    brokers: Sequence[deals.BrokerUser],
    nda_sha256: str,
) -> None:
    seller_users = {s.org.pk: s.user for s in sellers}
    taken: set[tuple[int, int]] = set()
    for i, scenario in enumerate(deals.SCENARIOS):
        buyer = buyers[i % len(buyers)]
        listing = deals.pick_listing(rng, buyer, listings, taken)
        if listing is None:
            continue
        taken.add((listing.pk, buyer.org.pk))
        deal = deals.run(rng, scenario, listing, seller_users[listing.seller_id], buyer, brokers, nda_sha256)
        _mark(Deal, deal.pk)


def _activity(
    rng: random.Random,
    listings: Sequence[Listing],
    buyers: Sequence[deals.Party],
    brokers: Sequence[deals.BrokerUser],
) -> None:
    """Views and bookmarks, so recommendations and "popular" lists have behaviour to work from."""
    people = [b.user for b in buyers] + [b.user for b in brokers]
    for n, user in enumerate(people):
        seen = rng.sample(list(listings), min(VIEWS_PER_USER, len(listings)))
        for listing in seen:
            actions.record_view(user, listing.pk)
        if n < len(buyers):
            for listing in seen[:BOOKMARKS_PER_USER]:
                actions.bookmark_listing(user, listing.pk)


def generate(seed: int, password: str) -> bool:
    """Generate the demo world; False (and nothing written) when no real organisation holds a patent.

    Deterministic for a seed and the same real data. The caller runs it in a transaction."""
    holders = real_holders()
    if not holders:
        return False
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    operator = _operator(password)
    nda_sha256 = _nda_sha256()
    sellers = _sellers(operator, password, holders)
    buyers = _buyers(operator, password)
    brokers = _brokers(operator, password)
    listings = _listings(rng, sellers)
    _demands(buyers)
    _deals(rng, listings, sellers, buyers, brokers, nda_sha256)
    _activity(rng, listings, buyers, brokers)
    demo_escrow.generate(rng)  # last: it funds and releases the agreed deals' milestones
    return True
