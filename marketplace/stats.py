"""Market figures for the landing page: what is on offer (published listings by sector and by IPC
section) and how much trade there is (deals opened per month). Aggregates only: no listing, party or
price is exposed, so anyone may read them."""

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from marketplace.models import Deal, Listing, ListingStatus


@dataclass(frozen=True)
class MarketStats:
    published_listings: int
    by_sector: list[tuple[str, int]]
    by_ipc_section: list[tuple[str, int]]
    deals_per_month: list[tuple[str, int]]


def _months_back(today: date, months: int) -> list[date]:
    """The first day of each of the last `months` months, oldest first, this month included."""
    firsts = []
    year, month = today.year, today.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _by_ipc_section() -> list[tuple[str, int]]:
    # A listing counts once in every section its patents span (a package may cross sections).
    listing = Listing._meta.db_table
    through = Listing.patents.through._meta.db_table
    patent = Listing.patents.field.related_model._meta.db_table
    # Table names come from the models, never from input; the one value is a parameter.
    sql = f"""
        SELECT upper(left(code, 1)) AS section, count(DISTINCT l.id)
        FROM {listing} l
        JOIN {through} lp ON lp.listing_id = l.id
        JOIN {patent} p ON p.id = lp.patent_id
        CROSS JOIN LATERAL unnest(p.ipc_codes) AS code
        WHERE l.status = %s AND upper(left(code, 1)) BETWEEN 'A' AND 'H'
        GROUP BY 1 ORDER BY 1
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [ListingStatus.PUBLISHED])
        return [(section, count) for section, count in cursor.fetchall()]


def market_stats(months: int) -> MarketStats:
    published = Listing.objects.filter(status=ListingStatus.PUBLISHED)
    by_sector = [
        (row["sector"], row["n"])
        for row in published.values("sector").annotate(n=Count("id")).order_by("-n", "sector")
    ]
    firsts = _months_back(timezone.localdate(), months)
    opened = (
        Deal.objects.filter(created_at__date__gte=firsts[0])
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"))
    )
    counts = {row["month"].date().replace(day=1): row["n"] for row in opened}
    return MarketStats(
        published_listings=published.count(),
        by_sector=by_sector,
        by_ipc_section=_by_ipc_section(),
        deals_per_month=[(first.strftime("%Y-%m"), counts.get(first, 0)) for first in firsts],
    )
