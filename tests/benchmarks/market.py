"""A marketplace big enough to fill a page of 50 of every list query, built with bulk_create.

The rows are what the actions would leave behind (verified sellers, listings of their own patents, deals
whose state matches their NDA signatures, offers, acceptances and milestones), written in bulk because
driving hundreds of actions one by one would make the benchmark slow without making it truer.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from marketplace.actions.accounts import create_api_token
from marketplace.actions.deals import nda_hash
from marketplace.models import (
    ApiToken,
    Bookmark,
    BrokerProfile,
    Deal,
    DealBroker,
    DealState,
    Demand,
    Listing,
    ListingStatus,
    Membership,
    Milestone,
    NdaSignature,
    NdaTemplate,
    Notification,
    Offer,
    OfferAcceptance,
    Organization,
    Patent,
    PatentEvent,
    PatentOwnershipChange,
)

ROWS = 55  # more than the largest page the benchmark asks for
NDA = "The receiving party keeps the disclosed technical information confidential for five years."


@dataclass
class Market:
    """API tokens of the viewers the benchmark asks as."""

    operator: str
    seller: str  # admin of every selling organisation: sees every listing's quality and every deal
    buyer: str  # admin of every buying organisation: bookmarks, signed NDAs, a deal on every listing
    few_orgs: str  # member of 5 organisations, with 10 notifications
    many_orgs: str  # member of 50 organisations, with 60 notifications


def _users(*names: str, staff: bool = False) -> list[User]:
    return User.objects.bulk_create(
        User(username=f"{name}@example.com", email=f"{name}@example.com", password="!", is_staff=staff)
        for name in names
    )


def _orgs(prefix: str, kind: str, count: int, verified: bool) -> list[Organization]:
    now = timezone.now() if verified else None
    return Organization.objects.bulk_create(
        Organization(
            name=f"{prefix} {i:02d}",
            kind=kind,
            country="KR",
            business_registration_number=f"{prefix[:3].upper()}-{i:04d}",
            verified_at=now,
        )
        for i in range(count)
    )


def _token(user: User) -> str:
    return create_api_token(user, "benchmark")[1]


def build_market() -> Market:
    now = timezone.now()
    [operator] = _users("operator", staff=True)
    seller, buyer, few, many = _users("seller", "buyer", "few-orgs", "many-orgs")
    brokers = _users(*(f"broker-{i:02d}" for i in range(ROWS)))

    firms = _orgs("Broker firm", "broker_firm", 11, verified=True)
    sellers = _orgs("University", "university", 5, verified=True)
    buyers = _orgs("Manufacturer", "sme", 5, verified=True)
    others = _orgs("Enterprise", "large_enterprise", 50, verified=False)
    Organization.objects.filter(pk__in=[o.pk for o in sellers]).update(verified_by=operator)
    Membership.objects.bulk_create(
        [Membership(user=seller, organization=org, role="admin") for org in sellers]
        + [Membership(user=buyer, organization=org, role="admin") for org in buyers]
        + [Membership(user=many, organization=org, role="admin") for org in others]
        + [Membership(user=few, organization=org, role="member") for org in others[:5]]
    )
    BrokerProfile.objects.bulk_create(
        BrokerProfile(user=user, firm=firms[i % len(firms)], sectors=["semiconductors"])
        for i, user in enumerate(brokers)
    )

    # Two patents per listing, held by the listing's seller; a few more held by nobody known.
    patents = Patent.objects.bulk_create(
        Patent(
            office="KR",
            application_number=f"10202000{i:05d}",
            # The unowned ones are the oldest, so that a page of 5 shows owners as a page of 50 does.
            application_date=date(2020, 1, 1) + timedelta(days=i if i < 2 * ROWS else -i),
            titles={"en": f"Electrode {i}", "ko": f"전극 {i}"},
            ipc_codes=["H01G 11/86"],
            legal_status="registered",
            owner=sellers[(i // 2) % len(sellers)] if i < 2 * ROWS else None,
        )
        for i in range(2 * ROWS + 10)
    )
    PatentEvent.objects.bulk_create(
        PatentEvent(patent=p, date=p.application_date + timedelta(days=d), kind=kind)
        for p in patents
        for d, kind in ((0, "filed"), (400, "registered"))
    )
    PatentOwnershipChange.objects.bulk_create(
        PatentOwnershipChange(patent=p, date=date(2023, 1, 1), from_owner="Inventor", to_owner="University")
        for p in patents[::3]
    )

    # Deal i is on listing i, by buyer i % 5: inquiry, NDA signed, or agreed with milestones set.
    states = [(DealState.INQUIRY, DealState.NDA_SIGNED, DealState.AGREED)[i % 3] for i in range(ROWS)]
    listings = Listing.objects.bulk_create(
        Listing(
            seller=sellers[i % len(sellers)],
            created_by=seller,
            title=f"Supercapacitor electrode package {i}",
            summary="Spray-dried 3D graphene electrodes",
            know_how="Nozzle temperature profile",
            quantified_benefit="30% lower electrode cost" if i % 2 else "",
            transaction_types=["exclusive_licence", "assignment"],
            price_amount=50_000_000 if i % 2 == 0 else None,
            price_currency="KRW" if i % 2 == 0 else "",
            price_negotiable=i % 2 == 1,
            trl=1 + i % 9,
            sector="secondary_batteries",
            status=ListingStatus.UNDER_NEGOTIATION
            if states[i] == DealState.AGREED
            else ListingStatus.PUBLISHED,
            published_at=now - timedelta(minutes=i),
        )
        for i in range(ROWS)
    )
    Listing.patents.through.objects.bulk_create(
        Listing.patents.through(listing=listing, patent=patent)
        for i, listing in enumerate(listings)
        for patent in patents[2 * i : 2 * i + 2]
    )
    Listing.brokers.through.objects.bulk_create(
        Listing.brokers.through(listing=listing, user=brokers[i]) for i, listing in enumerate(listings[::4])
    )
    Bookmark.objects.bulk_create(Bookmark(user=buyer, listing=listing) for listing in listings[::3])

    template = NdaTemplate.objects.create(version=1, text=NDA, text_sha256=nda_hash(NDA))
    deals = Deal.objects.bulk_create(
        Deal(listing=listing, buyer=buyers[i % len(buyers)], created_by=buyer, state=states[i], message="Hi")
        for i, listing in enumerate(listings)
    )
    DealBroker.objects.bulk_create(
        DealBroker(deal=deal, broker=brokers[(i + k) % ROWS], is_lead=k == 0, share_bp=(6_000, 4_000)[k])
        for i, deal in enumerate(deals)
        for k in range(2)
    )
    signed = [deal for deal, state in zip(deals, states, strict=True) if state != DealState.INQUIRY]
    NdaSignature.objects.bulk_create(
        NdaSignature(deal=deal, template=template, side=side, signer=user, text_sha256=template.text_sha256)
        for deal in signed
        for side, user in (("seller", seller), ("buyer", buyer))
    )
    agreed = [deal for deal, state in zip(deals, states, strict=True) if state == DealState.AGREED]
    first = Offer.objects.bulk_create(
        Offer(
            deal=deal,
            version=1,
            proposed_by=brokers[0],
            transaction_type="exclusive_licence",
            upfront_amount=50_000_000,
            currency="KRW",
        )
        for deal in agreed
    )
    counters = Offer.objects.bulk_create(
        Offer(
            deal=offer.deal,
            version=2,
            counters=offer,
            proposed_by=buyer,
            proposed_for="buyer",
            transaction_type="exclusive_licence",
            upfront_amount=40_000_000,
            currency="KRW",
        )
        for offer in first
    )
    OfferAcceptance.objects.bulk_create(
        OfferAcceptance(offer=offer, side=side, accepted_by=user)
        for offer in counters
        for side, user in (("seller", seller), ("buyer", buyer))
    )
    Milestone.objects.bulk_create(
        Milestone(deal=deal, sequence=n, title=f"Milestone {n}", amount=amount, currency="KRW")
        for deal in agreed
        for n, amount in ((1, 10_000_000), (2, 30_000_000))
    )

    Demand.objects.bulk_create(
        Demand(
            buyer=buyers[i % len(buyers)],
            created_by=buyer,
            title=f"Solid-state electrolyte wanted {i}",
            description="Looking for a licence",
            keywords=["electrolyte", "solid-state"],
            budget_amount=100_000_000 if i % 2 == 0 else None,
            budget_currency="KRW" if i % 2 == 0 else "",
            sector="secondary_batteries",
        )
        for i in range(ROWS)
    )
    Notification.objects.bulk_create(
        Notification(user=user, kind="deal_event", title=f"News {i}", dedupe_key=f"news-{i}")
        for user, count in ((few, 10), (many, 60))
        for i in range(count)
    )
    market = Market(
        operator=_token(operator),
        seller=_token(seller),
        buyer=_token(buyer),
        few_orgs=_token(few),
        many_orgs=_token(many),
    )
    # A token is stamped as used at most once a minute; stamp them now so no request of the benchmark
    # writes that stamp and the first request costs what the second does.
    ApiToken.objects.update(last_used_at=now)
    return market
