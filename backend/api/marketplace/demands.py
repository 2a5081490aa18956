"""Demands (buyers' technology needs) in the API: open demands are public so sellers and brokers can
answer them; closed ones stay with the buyer."""

from typing import Any

import graphene
from django.db.models import Q, QuerySet
from graphene import relay
from graphene_django import DjangoObjectType

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection, Money, money, viewer_of
from backend.api.marketplace.listings import SectorEnum, TransactionTypeEnum
from backend.api.marketplace.loaders import OrganizationByIdLoader
from marketplace.models import Demand, Organization


def demand_visibility(info: graphene.ResolveInfo) -> Q:
    viewer = viewer_of(info)
    return Q() if viewer.is_operator else Q(is_open=True) | Q(buyer_id__in=viewer.org_ids)


class DemandNode(DjangoObjectType):
    """A buyer's technology need."""

    buyer = graphene.Field("backend.api.marketplace.organisations.OrganizationNode", required=True)
    budget = graphene.Field(Money, description="Budget, when the buyer gave one.")
    transaction_type = graphene.Field(TransactionTypeEnum, description="Wanted transaction type, if any.")
    sector = graphene.Field(SectorEnum, required=True)
    keywords = graphene.List(graphene.NonNull(graphene.String), required=True)
    ipc_interests = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = Demand
        name = "Demand"
        interfaces = (relay.Node,)
        fields = ("title", "description", "reply_deadline", "is_open", "is_generated", "created_at")
        connection_class = CountedConnection

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Demand], info: graphene.ResolveInfo) -> QuerySet[Demand]:
        return queryset.filter(demand_visibility(info))

    @staticmethod
    def resolve_buyer(demand: Demand, info: graphene.ResolveInfo) -> Organization | None:
        return loaders_of(info).get(OrganizationByIdLoader).load(demand.buyer_id)

    @staticmethod
    def resolve_budget(demand: Demand, info: graphene.ResolveInfo) -> Money | None:
        return money(demand.budget_amount, demand.budget_currency)

    @staticmethod
    def resolve_transaction_type(demand: Demand, info: graphene.ResolveInfo) -> str | None:
        return demand.transaction_type or None

    @staticmethod
    def resolve_sector(demand: Demand, info: graphene.ResolveInfo) -> str:
        return demand.sector

    @staticmethod
    def resolve_keywords(demand: Demand, info: graphene.ResolveInfo) -> list[str]:
        return list(demand.keywords)

    @staticmethod
    def resolve_ipc_interests(demand: Demand, info: graphene.ResolveInfo) -> list[str]:
        return list(demand.ipc_interests)


class DemandQueries(graphene.ObjectType):
    demand = relay.Node.Field(DemandNode, description="One demand by its global id.")
    demands = ConnectionField(
        DemandNode,
        sector=graphene.Argument(SectorEnum, description="Only this sector."),
        open=graphene.Boolean(description="Open (true, the default) or closed (false; your own)."),
        mine=graphene.Boolean(description="Only your organisations' demands."),
        description="Demands you may see, newest first.",
    )

    @staticmethod
    def resolve_demands(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[Demand]:
        viewer = viewer_of(info)
        demands = Demand.objects.filter(demand_visibility(info)).order_by("-id")
        if filters.get("mine"):
            if not viewer.user.is_authenticated:
                raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see your demands.")
            demands = demands.filter(buyer_id__in=viewer.org_ids)
        demands = demands.filter(is_open=filters.get("open", True) is not False)
        if filters.get("sector"):
            demands = demands.filter(sector=filters["sector"])
        return demands
