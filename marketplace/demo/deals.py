"""Deals in every state the workflow reaches before escrow, each driven step by step through the actions."""

import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from marketplace import actions
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms
from marketplace.demo.cast import Broker
from marketplace.models import (
    AuthorRole,
    Deal,
    DealState,
    EntryKind,
    Listing,
    Organization,
    Thread,
    TransactionType,
)
from marketplace.rooms.log import append

D = DealState
SHARE_SPLITS: tuple[tuple[int, ...], ...] = ((10_000,), (7_000, 3_000), (6_000, 4_000), (5_000, 3_000, 2_000))
DEFAULT_PRICE = {"KRW": 60_000_000, "USD": 6_000_000}  # minor units, when the listing is negotiable
ROUNDING = {"KRW": 1_000_000, "USD": 100_000}  # a million won; a thousand dollars


@dataclass(frozen=True)
class Scenario:
    """Where a deal ends up: the last state reached, how many offer versions, and for cancelled deals
    who cancels and why."""

    reach: DealState
    offers: int = 0
    seller_signed_only: bool = False
    milestones: int = 0
    cancel_by_buyer: bool = False
    reason: str = ""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(D.INQUIRY),
    Scenario(D.INQUIRY),
    Scenario(D.NDA_PENDING),
    Scenario(D.NDA_PENDING, seller_signed_only=True),
    Scenario(D.NDA_SIGNED),
    Scenario(D.NEGOTIATING, offers=1),
    Scenario(D.NEGOTIATING, offers=2),
    Scenario(D.NEGOTIATING, offers=3),
    Scenario(D.AGREED, offers=2, milestones=2),
    Scenario(D.AGREED, offers=1, milestones=3),
    Scenario(
        D.NEGOTIATING,
        offers=2,
        cancel_by_buyer=True,
        reason="예산 재배정으로 올해 도입이 어렵습니다. (Budget reallocated; no purchase this year.)",
    ),
    Scenario(
        D.NDA_PENDING,
        reason="The seller granted an exclusive licence in this field of use to another party.",
    ),
)
MILESTONES = (
    (
        "계약 체결 및 기술자료 이전 (Signing and technical data transfer)",
        "Signed contract, technical data package",
    ),
    ("현장 기술지도 완료 (On-site training completed)", "Two days of training at the buyer's site"),
    ("권리 이전·실시권 등록 (Rights recorded at the patent office)", "Registration certificate"),
)
ORDER = (D.INQUIRY, D.NDA_PENDING, D.NDA_SIGNED, D.NEGOTIATING, D.AGREED)


@dataclass(frozen=True)
class Party:
    org: Organization
    user: User
    sectors: tuple[str, ...]
    korean: bool


@dataclass(frozen=True)
class BrokerUser:
    user: User
    spec: Broker


def pick_listing(
    rng: random.Random, buyer: Party, listings: Sequence[Listing], taken: set[tuple[int, int]]
) -> Listing | None:
    """A listing the buyer may inquire about, in its sectors if possible, least-dealt-with first."""
    free = [item for item in listings if (item.pk, buyer.org.pk) not in taken]
    if not free:
        return None
    matching = [item for item in free if item.sector in buyer.sectors] or free
    load = {item.pk: sum(1 for pk, _ in taken if pk == item.pk) for item in matching}
    least = min(load.values())
    return rng.choice([item for item in matching if load[item.pk] == least])


def broker_shares(rng: random.Random, listing: Listing, brokers: Sequence[BrokerUser]) -> list[BrokerShare]:
    experts = [b for b in brokers if listing.sector in b.spec.sectors] or list(brokers)
    lead = rng.choice(experts)
    split = rng.choice([s for s in SHARE_SPLITS if len(s) <= len(brokers)])
    others = rng.sample([b for b in brokers if b is not lead], len(split) - 1)
    return [
        BrokerShare(b.user.pk, share, is_lead=i == 0)
        for i, (b, share) in enumerate(zip([lead, *others], split, strict=True))
    ]


def _round(amount: float, currency: str) -> int:
    step = ROUNDING.get(currency, 1)
    return max(step, round(amount / step) * step)


def _terms(listing: Listing, version: int) -> Terms:
    currency = listing.price_currency or ("KRW" if listing.seller.country == "KR" else "USD")
    base = listing.price_amount or DEFAULT_PRICE.get(currency, 6_000_000)
    kind = listing.transaction_types[0]
    licence = kind in (TransactionType.EXCLUSIVE_LICENCE, TransactionType.NON_EXCLUSIVE_LICENCE)
    # opening terms, the buyer's counter (less upfront, more royalty), the seller's meeting halfway
    factor, royalty, note = (
        (1.0, 300, "Opening terms proposed by the broker as mediator."),
        (0.7, 450, "Counter-offer: lower upfront payment against a higher running royalty."),
        (0.85, 400, "Seller meets the buyer halfway."),
    )[min(version, 3) - 1]
    return Terms(
        transaction_type=kind,
        upfront_amount=_round(base * factor, currency),
        currency=currency,
        royalty_bp=royalty if licence else 0,
        term_months=120 if licence else None,
        territory="Republic of Korea" if currency == "KRW" else "Worldwide",
        exclusive=kind in (TransactionType.EXCLUSIVE_LICENCE, TransactionType.ASSIGNMENT),
        note=note,
    )


def _milestones(total: int, count: int, currency: str) -> list[MilestoneInput]:
    """`count` milestones adding up to `total`: 30% each, the last one taking the rest."""
    amounts = [_round(total * 0.3, currency) for _ in range(count - 1)]
    amounts.append(total - sum(amounts))
    if amounts[-1] <= 0:
        amounts = [total]
    return [
        MilestoneInput(title, amount, deliverables)
        for (title, deliverables), amount in zip(MILESTONES, amounts, strict=False)
    ]


def _message(buyer: Party, listing: Listing) -> str:
    if buyer.korean:
        return (
            f"{buyer.org.name}입니다. '{listing.title[:60]}' 기술의 당사 제품 적용 가능성을 "
            "검토하고자 합니다."
        )
    return f"{buyer.org.name} would like to evaluate '{listing.title[:60]}' for its product line."


# A broker's opening relay before the NDA: greeting the room, a private word with the seller, the seller's
# answer forwarded to the buyer. Written to the room's log directly: the demo is a bulk load, not a user
# the per-user message rate limit should slow down.
RELAY_KO = (
    "안녕하세요, 본 거래를 중개하는 브로커입니다. NDA 체결 전까지는 양측 정보가 익명으로 표시됩니다.",
    "구매 희망 기업이 시제품 적용 일정을 문의합니다. 기술 이전 후 지원 범위를 알려주실 수 있을까요?",
    "NDA 체결 후 3개월간 기술 지원이 가능합니다.",
)
RELAY_EN = (
    "Hello, I am brokering this deal. Until the NDA is signed, both sides appear under aliases.",
    "The buyer asks about a prototype timeline. What support can you offer after the transfer?",
    "We can support the transfer for three months after the NDA.",
)


def _relay(deal: Deal, seller: User, buyer: Party, lead: User) -> None:
    greeting, question, answer = RELAY_KO if buyer.korean else RELAY_EN
    append(deal.pk, kind=EntryKind.TEXT, author=lead, author_role=AuthorRole.BROKER, body=greeting)
    append(
        deal.pk,
        kind=EntryKind.TEXT,
        author=lead,
        author_role=AuthorRole.BROKER,
        thread=Thread.SELLER,
        body=question,
    )
    said = append(
        deal.pk,
        kind=EntryKind.TEXT,
        author=seller,
        author_role=AuthorRole.SELLER,
        thread=Thread.SELLER,
        body=answer,
    )
    append(
        deal.pk,
        kind=EntryKind.FORWARD,
        author=lead,
        author_role=AuthorRole.BROKER,
        thread=Thread.BUYER,
        body=answer,
        data={"from_role": AuthorRole.SELLER, "note": ""},
        source=said,
    )


def run(
    rng: random.Random,
    scenario: Scenario,
    listing: Listing,
    seller: User,
    buyer: Party,
    brokers: Sequence[BrokerUser],
    nda_sha256: str,
) -> Deal:
    """Open the deal and take it to the scenario's state, each step by the person who would take it."""
    reached = ORDER.index(scenario.reach)
    deal = actions.open_inquiry(buyer.user, listing.pk, buyer.org.pk, _message(buyer, listing))
    shares = broker_shares(rng, listing, brokers)
    actions.assign_brokers(seller, deal.pk, shares)
    lead = next(b.user for b in brokers if b.user.pk == shares[0].broker_id)
    _relay(deal, seller, buyer, lead)
    if reached >= ORDER.index(D.NDA_PENDING):
        actions.request_nda(rng.choice((lead, buyer.user)), deal.pk)
        if scenario.seller_signed_only:
            actions.sign_nda(seller, deal.pk, nda_sha256)
    if reached >= ORDER.index(D.NDA_SIGNED):
        actions.sign_nda(seller, deal.pk, nda_sha256)
        actions.sign_nda(buyer.user, deal.pk, nda_sha256)
    proposers = (lead, buyer.user, seller)  # mediator's opening, buyer's counter, seller's answer
    for version in range(1, scenario.offers + 1):
        counters = version - 1 if version > 1 else None
        actions.make_offer(proposers[(version - 1) % 3], deal.pk, _terms(listing, version), counters)
    if reached >= ORDER.index(D.AGREED):
        latest = scenario.offers
        actions.accept_offer(buyer.user, deal.pk, latest)
        actions.accept_offer(seller, deal.pk, latest)
        terms = _terms(listing, latest)
        actions.set_milestones(
            lead, deal.pk, _milestones(terms.upfront_amount, scenario.milestones, terms.currency)
        )
    if scenario.reason:
        actions.cancel_deal(buyer.user if scenario.cancel_by_buyer else seller, deal.pk, scenario.reason)
    return deal
