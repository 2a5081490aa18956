"""Demands: post a technology need, close it."""

from typing import Any

import graphene

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.core.types import MoneyInput
from backend.api.marketplace.demands import DemandNode
from backend.api.marketplace.listings import SectorEnum, TransactionTypeEnum
from marketplace import actions
from marketplace.error_codes import MarketplaceErrorCode as Code
from marketplace.models import Demand


class DemandInput(graphene.InputObjectType):
    buyer_id = graphene.ID(required=True, description="Your organisation.")
    title = graphene.String(required=True, description="1 to 300 characters.")
    description = graphene.String(required=True, description="1 to 10,000 characters.")
    keywords = graphene.List(graphene.NonNull(graphene.String), description="Up to 30.")
    ipc_interests = graphene.List(graphene.NonNull(graphene.String), description="IPC codes or prefixes.")
    budget = graphene.Field(MoneyInput)
    transaction_type = graphene.Field(TransactionTypeEnum)
    sector = graphene.Field(SectorEnum)
    reply_deadline = graphene.Date(description="Not in the past.")


class PostDemand(BaseMutation):
    """Publish what technology your organisation is looking for."""

    class Arguments:
        input = DemandInput(required=True)
        idempotency_key = idempotency_key_argument()

    demand = graphene.Field(DemandNode)
    errors = errors_field("PostDemand", [Code.IDEMPOTENCY_KEY_REUSED])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, input: Any, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        buyer_id = decode_id(input.buyer_id, "Organization", "buyer_id")
        budget = input.budget

        def create() -> Demand:
            return actions.post_demand(
                user,
                buyer_id,
                input.title,
                input.description,
                keywords=list(input.keywords or []),
                ipc_interests=list(input.ipc_interests or []),
                budget_amount=budget.amount if budget else None,
                budget_currency=budget.currency if budget else "",
                transaction_type=input.transaction_type or "",
                sector=input.sector or "other",
                reply_deadline=input.reply_deadline,
            )

        return {"demand": idempotent(user, "post_demand", idempotency_key, dict(input), Demand, create)}


class CloseDemand(BaseMutation):
    """Close a demand once it is met."""

    class Arguments:
        id = graphene.ID(required=True)

    demand = graphene.Field(DemandNode)
    errors = errors_field("CloseDemand")

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, id: str) -> dict[str, Any]:
        return {"demand": actions.close_demand(user, decode_id(id, "Demand", "id"))}


class DemandMutations(graphene.ObjectType):
    post_demand = PostDemand.Field()
    close_demand = CloseDemand.Field()
