"""GraphQL recommendations (being built)."""

import graphene


class RecommendationQueries(graphene.ObjectType):
    pass
