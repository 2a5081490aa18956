"""Market figures in the API (the landing page's charts): public aggregates, see marketplace/stats.py."""

import graphene

from backend.api.core.errors import ApiErrorCode, api_error
from marketplace.stats import market_stats


class MarketCount(graphene.ObjectType):
    """How many published listings fall under one key."""

    key = graphene.String(
        required=True,
        description="A sector in lower case (as search facets give it), or an IPC section A to H.",
    )
    count = graphene.Int(required=True)


class MonthCount(graphene.ObjectType):
    """Deals opened (inquiries) in one calendar month."""

    month = graphene.String(required=True, description="YYYY-MM.")
    deals = graphene.Int(required=True)


class MarketStats(graphene.ObjectType):
    """What is on offer and how much trade there is; anyone may read it."""

    published_listings = graphene.Int(required=True)
    listings_by_sector = graphene.List(graphene.NonNull(MarketCount), required=True)
    listings_by_ipc_section = graphene.List(
        graphene.NonNull(MarketCount),
        required=True,
        description="A listing counts in every section its patents span.",
    )
    deals_per_month = graphene.List(
        graphene.NonNull(MonthCount), required=True, description="Oldest first, this month last."
    )


MAX_MONTHS = 36


class MarketQueries(graphene.ObjectType):
    market_stats = graphene.Field(
        MarketStats,
        required=True,
        months=graphene.Int(default_value=12, description="Months of deal history, 1 to 36."),
        description="Market figures: published listings by sector and IPC section, deals per month.",
    )

    @staticmethod
    def resolve_market_stats(root: None, info: graphene.ResolveInfo, months: int) -> MarketStats:
        if not 1 <= months <= MAX_MONTHS:
            raise api_error(ApiErrorCode.INVALID_ARGUMENT, f"months must be 1 to {MAX_MONTHS}.")
        stats = market_stats(months)
        return MarketStats(
            published_listings=stats.published_listings,
            listings_by_sector=[MarketCount(key=k, count=n) for k, n in stats.by_sector],
            listings_by_ipc_section=[MarketCount(key=k, count=n) for k, n in stats.by_ipc_section],
            deals_per_month=[MonthCount(month=m, deals=n) for m, n in stats.deals_per_month],
        )
