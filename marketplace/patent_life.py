"""How long a patent still lives and when its next renewal fee falls due. Pure: no database access.

Every function takes `today` from the caller, so results are reproducible and testable.

Expiry (used only when the record has no stored `expiry_date`; a stored date always wins, because offices
add extensions that a bibliographic record cannot show):
- KR patents (application number `10…`): 20 years from the filing date (Korean Patent Act, art. 88(1)).
  Term extensions for permits (art. 89) and registration delays (art. 92-2) are not modelled.
- KR utility models (application number `20…`): 10 years from the filing date (Utility Model Act, art. 22).
- US utility patents: 20 years from the filing date (35 U.S.C. 154(a)(2)); for applications filed before
  8 June 1995, the longer of that and 17 years from grant (35 U.S.C. 154(c)(1)). Patent term adjustment
  (154(b)) and the filing date of a parent application are not in the record, so the computed date can be
  early: importers should store the office's own date when they have it.
- US design patents (application series `29/`): 15 years from grant for applications filed on or after
  13 May 2015, 14 years before (35 U.S.C. 173).
- Anything else (JP, CN, EP, WO, KR designs, records without the needed dates): unknown, None.
A day that does not exist in the target year (29 February) moves back to the last day of the month.

Renewal fees (a stored `next_annual_fee_due` always wins; otherwise, for granted rights):
- KR patents and utility models: the first three years are paid at registration; from the 4th year the
  annual fee is due each year on the anniversary of the registration date (Patent Act art. 79; Utility
  Model Act art. 16). It may still be paid within 6 months with a surcharge (art. 81); if not, the right
  lapses. The next due date is the first anniversary from the 3rd on that is today or later (we assume
  earlier years were paid: the record does not say).
- US utility patents: maintenance fees due 3.5, 7.5 and 11.5 years after grant (35 U.S.C. 41(b),
  37 CFR 1.362), payable with a surcharge in the 6 months after. Design patents have none.
- No fee falls due on or after the expiry date. Unknown otherwise: None.

Warnings: a legal status of lapsed, expired or withdrawn gives that warning whatever the dates say, and
nothing else (no fees or term remain). Otherwise EXPIRED once the expiry date has passed (the patent is in
force on its expiry day), EXPIRING_SOON when it is at most 365 days away, FEE_DUE_SOON when the next fee is
due in at most 90 days (a stored due date in the past is reported too: overdue, within the grace period
or lapsed without the office having recorded it yet).
"""

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from marketplace.models import LegalStatus, Patent, PatentOffice

EXPIRING_SOON_DAYS = 365
FEE_DUE_SOON_DAYS = 90
US_TERM_CHANGE = date(1995, 6, 8)  # Uruguay Round Agreements Act: 20 years from filing from this date
US_DESIGN_15_YEARS_FROM = date(2015, 5, 13)  # Patent Law Treaties Implementation Act
KR_FEE_FREE_YEARS = 3
US_MAINTENANCE_MONTHS = (42, 90, 138)  # 3.5, 7.5 and 11.5 years after grant


class LifeWarning(StrEnum):
    LAPSED = "lapsed"
    EXPIRED = "expired"
    EXPIRING_SOON = "expiring_soon"
    FEE_DUE_SOON = "fee_due_soon"
    WITHDRAWN = "withdrawn"


# A legal status that ends the right, and the warning it gives regardless of dates.
STATUS_WARNINGS: dict[str, LifeWarning] = {
    LegalStatus.LAPSED: LifeWarning.LAPSED,
    LegalStatus.EXPIRED: LifeWarning.EXPIRED,
    LegalStatus.WITHDRAWN: LifeWarning.WITHDRAWN,
}


Day = date  # the field below is called `date`, which shadows the type inside the class


@dataclass(frozen=True)
class LifeAlert:
    """One warning. `date` is the day it is about (expiry, fee due), None when the record has no date;
    `days` is `date - today` in days (negative when past), None without a date."""

    code: LifeWarning
    date: Day | None = None
    days: int | None = None

    @property
    def date_text(self) -> str:
        """'2036-10-24', or '' without a date."""
        return self.date.isoformat() if self.date else ""

    @property
    def when(self) -> str:
        """'in 212 days', 'today', '3 days ago', or '' without a date."""
        return in_days(self.days) if self.days is not None else ""


@dataclass(frozen=True)
class PatentLife:
    expiry_date: date | None
    expiry_computed: bool  # True when derived from office rules, False when stored or unknown
    remaining_days: int | None  # days of protection left: 0 once past or ended by status; None unknown
    next_fee_due: date | None
    fee_due_computed: bool
    warnings: tuple[LifeAlert, ...]

    @property
    def codes(self) -> tuple[LifeWarning, ...]:
        return tuple(alert.code for alert in self.warnings)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the last day of the month when that day does not exist."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _kr_kind(patent: Patent) -> str:
    """'patent', 'utility_model' or '' from the KIPO application number's right code."""
    digits = "".join(ch for ch in patent.application_number if ch.isdigit())
    return {"10": "patent", "20": "utility_model"}.get(digits[:2], "")


def _us_is_design(patent: Patent) -> bool:
    digits = "".join(ch for ch in patent.application_number if ch.isdigit())
    return patent.registration_number.upper().startswith("D") or (
        len(digits) == 8 and digits.startswith("29")
    )


def computed_expiry(patent: Patent) -> date | None:
    """Expiry from the office's term rule (see the module docstring), ignoring any stored date."""
    filed, granted = patent.application_date, patent.registration_date
    if patent.office == PatentOffice.KR and filed:
        years = {"patent": 20, "utility_model": 10}.get(_kr_kind(patent))
        return add_months(filed, 12 * years) if years else None
    if patent.office == PatentOffice.US:
        if _us_is_design(patent):
            if not granted:
                return None
            years = 15 if filed and filed >= US_DESIGN_15_YEARS_FROM else 14
            return add_months(granted, 12 * years)
        if not filed:
            return None
        twenty_from_filing = add_months(filed, 240)
        if filed < US_TERM_CHANGE and granted:
            return max(twenty_from_filing, add_months(granted, 17 * 12))
        return twenty_from_filing
    return None


def computed_next_fee_due(patent: Patent, today: date, expiry: date | None) -> date | None:
    """The next renewal fee date from the office's rule (see the module docstring), or None."""
    granted = patent.registration_date
    if not granted:
        return None
    if patent.office == PatentOffice.KR and _kr_kind(patent):
        years = max(KR_FEE_FREE_YEARS, today.year - granted.year - 1)
        due = add_months(granted, 12 * years)
        while due < today:
            years += 1
            due = add_months(granted, 12 * years)
    elif patent.office == PatentOffice.US and not _us_is_design(patent):
        upcoming = (add_months(granted, m) for m in US_MAINTENANCE_MONTHS)
        due_or_none = next((d for d in upcoming if d >= today), None)
        if due_or_none is None:
            return None
        due = due_or_none
    else:
        return None
    return due if expiry is None or due < expiry else None


def _alert(code: LifeWarning, day: date | None, today: date) -> LifeAlert:
    return LifeAlert(code, day, (day - today).days if day else None)


def patent_life(patent: Patent, today: date) -> PatentLife:
    """Expiry, days left, next fee date and warnings of one patent as of `today`."""
    expiry, expiry_computed = patent.expiry_date, False
    if expiry is None:
        expiry = computed_expiry(patent)
        expiry_computed = expiry is not None
    status_warning = STATUS_WARNINGS.get(patent.legal_status)
    if status_warning is not None:
        # The expiry date explains an "expired" status only when it has passed.
        day = expiry if status_warning == LifeWarning.EXPIRED and expiry and expiry <= today else None
        return PatentLife(expiry, expiry_computed, 0, None, False, (_alert(status_warning, day, today),))
    remaining = max(0, (expiry - today).days) if expiry else None
    if expiry and expiry < today:
        return PatentLife(
            expiry, expiry_computed, 0, None, False, (_alert(LifeWarning.EXPIRED, expiry, today),)
        )
    fee_due, fee_computed = patent.next_annual_fee_due, False
    if fee_due is None:
        fee_due = computed_next_fee_due(patent, today, expiry)
        fee_computed = fee_due is not None
    warnings: list[LifeAlert] = []
    if expiry and (expiry - today).days <= EXPIRING_SOON_DAYS:
        warnings.append(_alert(LifeWarning.EXPIRING_SOON, expiry, today))
    if fee_due and (fee_due - today).days <= FEE_DUE_SOON_DAYS:
        warnings.append(_alert(LifeWarning.FEE_DUE_SOON, fee_due, today))
    return PatentLife(expiry, expiry_computed, remaining, fee_due, fee_computed, tuple(warnings))


def listing_flags(lives: list[PatentLife]) -> list[str]:
    """The warning codes a listing carries over all its patents, in LifeWarning order, once each."""
    present = {alert.code for life in lives for alert in life.warnings}
    return [code.value for code in LifeWarning if code in present]


# Wording shared by the listing coach and the notifications.
def patent_label(patent: Patent) -> str:
    """'KR 1020160138184': how the office and buyers name a patent."""
    return f"{patent.office} {patent.application_number}"


def fee_name(patent: Patent) -> str:
    return "maintenance fee" if patent.office == PatentOffice.US else "annual fee"


def in_days(days: int) -> str:
    """'in 212 days', 'in 1 day', 'today', '3 days ago'."""
    if days == 0:
        return "today"
    count = f"{abs(days)} day{'' if abs(days) == 1 else 's'}"
    return f"in {count}" if days > 0 else f"{count} ago"
