"""Root GraphQL schema. Domain sub-packages contribute their Query and Mutation classes here."""

import graphene
from django.conf import settings
from graphene import relay

from backend.api.marketplace.patents import PatentQueries


class ServerInfo(graphene.ObjectType):
    """Facts about this deployment that a client may show or branch on."""

    version = graphene.String(required=True, description="Version of the backend.")
    debug = graphene.Boolean(required=True, description="Whether the server runs in debug mode.")


class Query(PatentQueries, graphene.ObjectType):
    node = relay.Node.Field(description="Any object by its global id.")
    server_info = graphene.Field(ServerInfo, required=True, description="About this server.")

    @staticmethod
    def resolve_server_info(root: object, info: graphene.ResolveInfo) -> ServerInfo:
        return ServerInfo(version="0.1.0", debug=settings.DEBUG)


schema = graphene.Schema(query=Query)
