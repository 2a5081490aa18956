from collections.abc import Sequence
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from marketplace import audit
from marketplace.access import is_member, is_operator
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Demand, Sector, TransactionType
from marketplace.validation import check_money, check_text, check_words


@transaction.atomic
def post_demand(
    user: User,
    buyer_id: int,
    title: str,
    description: str,
    keywords: Sequence[str] = (),
    ipc_interests: Sequence[str] = (),
    budget_amount: int | None = None,
    budget_currency: str = "",
    transaction_type: str = "",
    sector: str = Sector.OTHER,
    reply_deadline: date | None = None,
) -> Demand:
    if not is_member(user, buyer_id):
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Post needs for your own organisation.", "buyer_id"
        )
    check_text(title, "title", 300)
    check_text(description, "description", 10_000)
    check_words(keywords, "keywords", 100, 30)
    check_words(ipc_interests, "ipc_interests", 32, 30)
    if budget_amount is not None:
        check_money(budget_amount, budget_currency, "budget_amount")
    if transaction_type and transaction_type not in TransactionType.values:
        raise ActionError(MarketplaceErrorCode.INVALID, "Unknown transaction type.", "transaction_type")
    if sector not in Sector.values:
        raise ActionError(MarketplaceErrorCode.INVALID, "Unknown sector.", "sector")
    if reply_deadline is not None and reply_deadline < timezone.localdate():
        raise ActionError(
            MarketplaceErrorCode.INVALID, "The reply deadline is in the past.", "reply_deadline"
        )
    demand = Demand.objects.create(
        buyer_id=buyer_id,
        created_by=user,
        title=title.strip(),
        description=description.strip(),
        keywords=[k.strip() for k in keywords if k.strip()],
        ipc_interests=[c.strip().upper() for c in ipc_interests if c.strip()],
        budget_amount=budget_amount,
        budget_currency=budget_currency.upper() if budget_amount is not None else "",
        transaction_type=transaction_type,
        sector=sector,
        reply_deadline=reply_deadline,
    )
    audit.record(user, demand, "post_demand", to_state="open")
    return demand


@transaction.atomic
def close_demand(user: User, demand_id: int) -> Demand:
    demand = Demand.objects.select_for_update().filter(pk=demand_id).first()
    allowed = demand is not None and (is_member(user, demand.buyer_id) or is_operator(user))
    # Closed demands are the buyer's business: to anyone else they do not exist, as in the API.
    if demand is None or not (demand.is_open or allowed):
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such demand.", "demand_id")
    if not allowed:
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only the buyer closes its demand.")
    if demand.is_open:
        demand.is_open = False
        demand.save(update_fields=["is_open"])
        audit.record(user, demand, "close_demand", "open", "closed")
    return demand
