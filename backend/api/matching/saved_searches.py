"""GraphQL saved searches (being built)."""

import graphene


class SavedSearchQueries(graphene.ObjectType):
    pass


class SavedSearchMutations(graphene.ObjectType):
    pass
