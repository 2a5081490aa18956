"""Patents in the API: public bibliographic data, Relay nodes, a filtered cursor connection."""

from typing import Any

import graphene
from django.db.models import QuerySet
from graphene import relay
from graphene_django import DjangoConnectionField, DjangoObjectType

from marketplace.models import LegalStatus, Patent, PatentOffice


class LocalizedText(graphene.ObjectType):
    """A text in one language."""

    language = graphene.String(required=True, description="BCP 47 language code, e.g. ko or en.")
    text = graphene.String(required=True, description="The text.")


def _localized(values: dict[str, str]) -> list[LocalizedText]:
    return [LocalizedText(language=lang, text=text) for lang, text in sorted(values.items())]


class CountedConnection(relay.Connection):
    """A cursor connection that also tells how many items match."""

    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of patents matching the filters.")

    @staticmethod
    def resolve_total_count(root: Any, info: graphene.ResolveInfo) -> int:
        return int(root.length)


class PatentNode(DjangoObjectType):
    """A patent or patent application as recorded by its office."""

    titles = graphene.List(graphene.NonNull(LocalizedText), required=True, description="Title per language.")
    abstracts = graphene.List(
        graphene.NonNull(LocalizedText), required=True, description="Abstract per language."
    )
    title = graphene.String(required=True, description="The title in English when there is one, else any.")

    class Meta:
        model = Patent
        name = "Patent"
        interfaces = (relay.Node,)
        fields = (
            "office",
            "application_number",
            "application_date",
            "registration_number",
            "registration_date",
            "publication_number",
            "publication_date",
            "ipc_codes",
            "applicants",
            "inventors",
            "legal_status",
            "expiry_date",
        )
        convert_choices_to_enum = False
        connection_class = CountedConnection

    @staticmethod
    def resolve_titles(patent: Patent, info: graphene.ResolveInfo) -> list[LocalizedText]:
        return _localized(patent.titles)

    @staticmethod
    def resolve_abstracts(patent: Patent, info: graphene.ResolveInfo) -> list[LocalizedText]:
        return _localized(patent.abstracts)

    @staticmethod
    def resolve_title(patent: Patent, info: graphene.ResolveInfo) -> str:
        return patent.title


class PatentQueries(graphene.ObjectType):
    patent = relay.Node.Field(PatentNode, description="One patent by its global id.")
    patents = DjangoConnectionField(
        PatentNode,
        office=graphene.String(description="Office code: " + ", ".join(PatentOffice.values)),
        ipc_prefix=graphene.String(
            description="IPC prefix: section (H), class (H01), subclass (H01G), group."
        ),
        legal_status=graphene.String(description="One of: " + ", ".join(LegalStatus.values)),
        application_number=graphene.String(description="Exact application number."),
        description="Patents, newest application first.",
    )

    @staticmethod
    def resolve_patents(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[Patent]:
        patents = Patent.objects.order_by("-application_date", "-id")
        if filters.get("office"):
            patents = patents.filter(office=filters["office"].upper())
        if filters.get("legal_status"):
            patents = patents.filter(legal_status=filters["legal_status"])
        if filters.get("application_number"):
            patents = patents.filter(application_number=filters["application_number"])
        if filters.get("ipc_prefix"):
            # Array element prefix match: one code of the patent starts with the prefix.
            patents = patents.extra(  # parameterised: the prefix is a bound value
                where=["exists (select 1 from unnest(ipc_codes) c where c like %s)"],
                params=[filters["ipc_prefix"].upper().replace("%", "") + "%"],
            )
        return patents
