"""Root GraphQL schema. Domain sub-packages contribute their Query and Mutation classes here."""

import graphene
from django.conf import settings
from graphene import relay

from backend.api.escrow.mutations import EscrowMutations
from backend.api.escrow.queries import EscrowQueries
from backend.api.marketplace.accounts import AccountQueries
from backend.api.marketplace.brokers import BrokerQueries
from backend.api.marketplace.deals import DealQueries
from backend.api.marketplace.demands import DemandQueries
from backend.api.marketplace.listings import ListingQueries
from backend.api.marketplace.market import MarketQueries
from backend.api.marketplace.mutations.accounts import AccountMutations
from backend.api.marketplace.mutations.deals import DealMutations
from backend.api.marketplace.mutations.demands import DemandMutations
from backend.api.marketplace.mutations.listings import ListingMutations
from backend.api.marketplace.mutations.organisations import OrganizationMutations
from backend.api.marketplace.mutations.rooms import RoomMutations
from backend.api.marketplace.organisations import OrganizationQueries
from backend.api.marketplace.patents import PatentQueries
from backend.api.marketplace.rooms import RoomQueries
from backend.api.marketplace.subscriptions import RoomSubscriptions
from backend.api.matching.recommendations import RecommendationQueries
from backend.api.matching.saved_searches import SavedSearchMutations, SavedSearchQueries
from backend.api.matching.search import SearchQueries


class ServerInfo(graphene.ObjectType):
    """Facts about this deployment that a client may show or branch on."""

    version = graphene.String(required=True, description="Version of the backend.")
    debug = graphene.Boolean(required=True, description="Whether the server runs in debug mode.")


class Query(
    AccountQueries,
    OrganizationQueries,
    PatentQueries,
    ListingQueries,
    MarketQueries,
    DemandQueries,
    BrokerQueries,
    DealQueries,
    RoomQueries,
    SearchQueries,
    RecommendationQueries,
    SavedSearchQueries,
    EscrowQueries,
    graphene.ObjectType,
):
    node = relay.Node.Field(description="Any object you may see, by its global id.")
    server_info = graphene.Field(ServerInfo, required=True, description="About this server.")

    @staticmethod
    def resolve_server_info(root: object, info: graphene.ResolveInfo) -> ServerInfo:
        return ServerInfo(version="0.1.0", debug=settings.DEBUG)


class Mutation(
    AccountMutations,
    OrganizationMutations,
    ListingMutations,
    DemandMutations,
    DealMutations,
    RoomMutations,
    SavedSearchMutations,
    EscrowMutations,
    graphene.ObjectType,
):
    pass


class Subscription(RoomSubscriptions, graphene.ObjectType):
    """Live events over the graphql-transport-ws socket at /graphql/."""


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
