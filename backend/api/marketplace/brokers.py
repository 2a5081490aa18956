"""Brokers in the API: a public directory of certified technology-transfer brokers."""

from typing import Any

import graphene
from django.db.models import QuerySet
from graphene import relay
from graphene_django import DjangoObjectType

from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection
from backend.api.marketplace.listings import SectorEnum
from backend.api.marketplace.loaders import OrganizationByIdLoader
from backend.api.marketplace.organisations import display_name
from marketplace.models import BrokerProfile, Organization


class BrokerNode(DjangoObjectType):
    """A certified broker working for a broker firm."""

    display_name = graphene.String(required=True, description="The broker's name.")
    firm = graphene.Field("backend.api.marketplace.organisations.OrganizationNode", required=True)
    sectors = graphene.List(graphene.NonNull(graphene.String), required=True, description="Sectors served.")

    class Meta:
        model = BrokerProfile
        name = "Broker"
        interfaces = (relay.Node,)
        fields = ("certification_number", "bio", "is_generated")
        connection_class = CountedConnection

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[BrokerProfile], info: graphene.ResolveInfo
    ) -> QuerySet[BrokerProfile]:
        return queryset.select_related("user")

    @staticmethod
    def resolve_display_name(profile: BrokerProfile, info: graphene.ResolveInfo) -> str:
        return display_name(profile.user)

    @staticmethod
    def resolve_firm(profile: BrokerProfile, info: graphene.ResolveInfo) -> Organization | None:
        return loaders_of(info).get(OrganizationByIdLoader).load(profile.firm_id)

    @staticmethod
    def resolve_sectors(profile: BrokerProfile, info: graphene.ResolveInfo) -> list[str]:
        return [str(sector) for sector in profile.sectors]


class BrokerQueries(graphene.ObjectType):
    broker = relay.Node.Field(BrokerNode, description="One broker by global id.")
    brokers = ConnectionField(
        BrokerNode,
        sector=graphene.Argument(SectorEnum, description="Serving this sector."),
        description="Brokers, by name.",
    )

    @staticmethod
    def resolve_brokers(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[BrokerProfile]:
        brokers = BrokerProfile.objects.select_related("user").order_by(
            "user__last_name", "user__first_name", "id"
        )
        if filters.get("sector"):
            brokers = brokers.filter(sectors__contains=[filters["sector"]])
        return brokers
