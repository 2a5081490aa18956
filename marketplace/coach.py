"""The listing-quality coach: what a seller can do to make a listing easier to find, judge and buy.

`assess_listing` is pure: the caller passes the listing's patents (the API feeds them from a DataLoader),
and nothing here touches the database. Score = 100 minus the weights of the hints, floored at 0.

Weights (per patent where marked; a listing of several patents can lose them several times):
| hint | weight | when |
|---|---|---|
| PATENT_LAPSED_OR_EXPIRED | 30 per patent | status lapsed/expired, or past its expiry date |
| PATENT_WITHDRAWN | 30 per patent | the application was withdrawn |
| MISSING_SUMMARY | 20 | no public summary |
| PATENT_EXPIRING_SOON | 15 per patent | expires within 365 days |
| PATENT_LAPSING_SOON | 10 per patent | renewal fee due within 90 days (or overdue) |
| SHORT_SUMMARY | 10 | summary under 200 characters |
| NO_QUANTIFIED_BENEFIT | 10 | no measurable benefit stated |
| NO_KNOW_HOW | 10 | no know-how packaged with the patents |
| NO_TRL | 10 | technology readiness level not given |
| PATENT_WITHOUT_ABSTRACT | 5 per patent | the patent record has no abstract in any language |
| NO_PRICE | 5 | price only "negotiable" |
| SECTOR_NOT_SET | 5 | strategic sector left at "other" |
| ONE_TRANSACTION_TYPE | 5 | a single transaction type offered |
Hints come heaviest first; equal weights keep the order of the table.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from marketplace.models import Listing, Patent, Sector, TransactionType
from marketplace.patent_life import LifeAlert, LifeWarning, fee_name, patent_label, patent_life

MIN_SUMMARY_CHARS = 200
# What to suggest next to a single transaction type, most widely acceptable first.
SUGGESTED_TYPES = (
    TransactionType.NON_EXCLUSIVE_LICENCE,
    TransactionType.EXCLUSIVE_LICENCE,
    TransactionType.OPTION,
)


class QualityHint(StrEnum):
    PATENT_LAPSED_OR_EXPIRED = "patent_lapsed_or_expired"
    PATENT_WITHDRAWN = "patent_withdrawn"
    MISSING_SUMMARY = "missing_summary"
    PATENT_EXPIRING_SOON = "patent_expiring_soon"
    PATENT_LAPSING_SOON = "patent_lapsing_soon"
    SHORT_SUMMARY = "short_summary"
    NO_QUANTIFIED_BENEFIT = "no_quantified_benefit"
    NO_KNOW_HOW = "no_know_how"
    NO_TRL = "no_trl"
    PATENT_WITHOUT_ABSTRACT = "patent_without_abstract"
    NO_PRICE = "no_price"
    SECTOR_NOT_SET = "sector_not_set"
    ONE_TRANSACTION_TYPE = "one_transaction_type"


WEIGHTS: dict[QualityHint, int] = {
    QualityHint.PATENT_LAPSED_OR_EXPIRED: 30,
    QualityHint.PATENT_WITHDRAWN: 30,
    QualityHint.MISSING_SUMMARY: 20,
    QualityHint.PATENT_EXPIRING_SOON: 15,
    QualityHint.PATENT_LAPSING_SOON: 10,
    QualityHint.SHORT_SUMMARY: 10,
    QualityHint.NO_QUANTIFIED_BENEFIT: 10,
    QualityHint.NO_KNOW_HOW: 10,
    QualityHint.NO_TRL: 10,
    QualityHint.PATENT_WITHOUT_ABSTRACT: 5,
    QualityHint.NO_PRICE: 5,
    QualityHint.SECTOR_NOT_SET: 5,
    QualityHint.ONE_TRANSACTION_TYPE: 5,
}
_ORDER = list(QualityHint)


@dataclass(frozen=True)
class Hint:
    code: QualityHint
    field: str  # the listing field to change ("patents" for hints about one patent)
    message: str  # English, concrete: names the patent, the date, the number of days
    weight: int
    patent_id: int | None = None


@dataclass(frozen=True)
class ListingQuality:
    score: int  # 0..100
    hints: tuple[Hint, ...]


def _hint(code: QualityHint, field: str, message: str, patent_id: int | None = None) -> Hint:
    return Hint(code, field, message, WEIGHTS[code], patent_id)


def _patent_hints(patent: Patent, today: date) -> Iterable[Hint]:
    label, pid = patent_label(patent), patent.pk
    if not any(text.strip() for text in patent.abstracts.values()):
        yield _hint(
            QualityHint.PATENT_WITHOUT_ABSTRACT,
            "patents",
            f"Patent {label} ({patent.title}) has no abstract: buyers search and compare on it, so add one.",
            pid,
        )
    for alert in patent_life(patent, today).warnings:
        code, message = _life_hint(patent, alert)
        yield _hint(code, "patents", message, pid)


def _life_hint(patent: Patent, alert: LifeAlert) -> tuple[QualityHint, str]:
    label, day = patent_label(patent), alert.date_text
    if alert.code == LifeWarning.WITHDRAWN:
        return (
            QualityHint.PATENT_WITHDRAWN,
            f"Application {label} was withdrawn: it will not be granted; remove it from the listing.",
        )
    if alert.code == LifeWarning.EXPIRING_SOON:
        return (
            QualityHint.PATENT_EXPIRING_SOON,
            f"Patent {label} expires {alert.when} ({day}): buyers will discount it.",
        )
    if alert.code == LifeWarning.FEE_DUE_SOON:
        return (
            QualityHint.PATENT_LAPSING_SOON,
            f"The {fee_name(patent)} of patent {label} is due {alert.when} ({day}): unpaid, the patent "
            "lapses; pay it and say so in the listing.",
        )
    on_day = f" on {day}" if day else ""
    return (
        QualityHint.PATENT_LAPSED_OR_EXPIRED,
        f"Patent {label} {alert.code.value}{on_day}: it grants no rights any more; remove it from the "
        "listing or offer its know-how on its own.",
    )


def _listing_hints(listing: Listing) -> Iterable[Hint]:
    summary = listing.summary.strip()
    if not summary:
        yield _hint(
            QualityHint.MISSING_SUMMARY,
            "summary",
            "Add a public summary: the problem solved, how, and for which products.",
        )
    elif len(summary) < MIN_SUMMARY_CHARS:
        yield _hint(
            QualityHint.SHORT_SUMMARY,
            "summary",
            f"The summary has {len(summary)} characters; give at least {MIN_SUMMARY_CHARS}: "
            "the problem solved, how, and for which products.",
        )
    if not listing.quantified_benefit.strip():
        yield _hint(
            QualityHint.NO_QUANTIFIED_BENEFIT,
            "quantified_benefit",
            "State one measurable benefit (e.g. '30% higher capacitance than activated carbon').",
        )
    if not listing.know_how.strip():
        yield _hint(
            QualityHint.NO_KNOW_HOW,
            "know_how",
            "Describe the know-how that comes with the patents; only buyers who sign the NDA see it.",
        )
    if listing.trl is None:
        yield _hint(QualityHint.NO_TRL, "trl", "Give the technology readiness level (TRL 1 to 9).")
    if listing.price_amount is None:
        yield _hint(
            QualityHint.NO_PRICE,
            "price_amount",
            "The price is only 'negotiable': an asking price or range helps buyers budget.",
        )
    if listing.sector == Sector.OTHER:
        yield _hint(QualityHint.SECTOR_NOT_SET, "sector", "Choose a strategic sector instead of 'other'.")
    if len(listing.transaction_types) == 1:
        offered = listing.transaction_types[0]
        labels = {value: str(label).lower() for value, label in TransactionType.choices}
        others = [labels[t] for t in SUGGESTED_TYPES if t != offered][:2]
        yield _hint(
            QualityHint.ONE_TRANSACTION_TYPE,
            "transaction_types",
            f"Only {labels.get(offered, offered)} is offered: also offering "
            f"{' or '.join(others)} reaches buyers who cannot take that one.",
        )


def assess_listing(listing: Listing, patents: Iterable[Patent], today: date) -> ListingQuality:
    """Score and hints for one listing; `patents` are the listing's patents, loaded by the caller."""
    hints = list(_listing_hints(listing))
    for patent in patents:
        hints.extend(_patent_hints(patent, today))
    hints.sort(key=lambda hint: (-hint.weight, _ORDER.index(hint.code)))
    return ListingQuality(max(0, 100 - sum(hint.weight for hint in hints)), tuple(hints))
