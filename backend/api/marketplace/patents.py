"""Patents in the API: public bibliographic data, Relay nodes, a filtered cursor connection."""

from typing import Any

import graphene
from django.db.models import QuerySet
from django.utils import timezone
from graphene import relay
from graphene_django import DjangoObjectType

from backend.api.core.ids import pk_from_global_id
from backend.api.core.loaders import loaders_of
from backend.api.core.types import ConnectionField, CountedConnection
from backend.api.marketplace.loaders import (
    EventsByPatentIdLoader,
    OrganizationByIdLoader,
    OwnershipChangesByPatentIdLoader,
)
from marketplace.models import (
    LegalStatus,
    Organization,
    OrgKind,
    Patent,
    PatentEvent,
    PatentOffice,
    PatentOwnershipChange,
)
from marketplace.patent_life import PatentLife, patent_life


class LocalizedText(graphene.ObjectType):
    """A text in one language."""

    language = graphene.String(required=True, description="BCP 47 language code, e.g. ko or en.")
    text = graphene.String(required=True, description="The text.")


def _localized(values: dict[str, str]) -> list[LocalizedText]:
    return [LocalizedText(language=lang, text=text) for lang, text in sorted(values.items())]


class LifeAlertType(graphene.ObjectType):
    """A warning about a patent's remaining protection."""

    class Meta:
        name = "LifeAlert"

    code = graphene.String(
        required=True, description="lapsed, expired, expiring_soon, fee_due_soon, withdrawn."
    )
    date = graphene.Date(description="The day it is about (expiry, fee due), when known.")
    days = graphene.Int(description="Days from today to that date; negative when past.")


class PatentLifeType(graphene.ObjectType):
    """How long the patent protects, and what is due."""

    class Meta:
        name = "PatentLife"

    expiry_date = graphene.Date(description="End of the term: recorded, else computed from office rules.")
    expiry_computed = graphene.Boolean(required=True, description="The expiry was computed, not recorded.")
    remaining_days = graphene.Int(description="Days of protection left (0 once ended); null when unknown.")
    next_fee_due = graphene.Date(description="Next annual or maintenance fee due date, when known.")
    warnings = graphene.List(graphene.NonNull(LifeAlertType), required=True, description="Warnings, if any.")


class PatentEventType(graphene.ObjectType):
    """One step of the legal history."""

    class Meta:
        name = "PatentEvent"

    date = graphene.Date(required=True, description="When it happened.")
    kind = graphene.String(required=True, description="filed, published, registered, fee_paid, lapsed…")
    description = graphene.String(required=True, description="As recorded.")


class OwnershipChangeType(graphene.ObjectType):
    """A recorded change of holder."""

    class Meta:
        name = "OwnershipChange"

    date = graphene.Date(required=True, description="Recorded on.")
    from_owner = graphene.String(required=True, description="Previous holder.")
    to_owner = graphene.String(required=True, description="New holder.")


class PatentNode(DjangoObjectType):
    """A patent or patent application as recorded by its office."""

    titles = graphene.List(graphene.NonNull(LocalizedText), required=True, description="Title per language.")
    abstracts = graphene.List(
        graphene.NonNull(LocalizedText), required=True, description="Abstract per language."
    )
    title = graphene.String(required=True, description="The title in English when there is one, else any.")
    claims = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Claim texts, in order."
    )
    owner = graphene.Field(
        "backend.api.marketplace.organisations.OrganizationNode",
        description="The organisation holding the patent, when known.",
    )
    life = graphene.Field(PatentLifeType, required=True, description="Remaining term, fees and warnings.")
    events = graphene.List(graphene.NonNull(PatentEventType), required=True, description="Legal history.")
    ownership_changes = graphene.List(
        graphene.NonNull(OwnershipChangeType), required=True, description="Changes of holder."
    )

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
            "cpc_codes",
            "applicants",
            "inventors",
            "legal_status",
            "expiry_date",
            "next_annual_fee_due",
            "family_id",
            "source",
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

    @staticmethod
    def resolve_claims(patent: Patent, info: graphene.ResolveInfo) -> list[str]:
        return [str(claim) for claim in patent.claims]

    @staticmethod
    def resolve_owner(patent: Patent, info: graphene.ResolveInfo) -> Organization | None:
        if patent.owner_id is None:
            return None
        return loaders_of(info).get(OrganizationByIdLoader).load(patent.owner_id)

    @staticmethod
    def resolve_life(patent: Patent, info: graphene.ResolveInfo) -> PatentLife:
        return patent_life(patent, timezone.localdate())

    @staticmethod
    def resolve_events(patent: Patent, info: graphene.ResolveInfo) -> list[PatentEvent]:
        return loaders_of(info).get(EventsByPatentIdLoader).load(patent.pk)

    @staticmethod
    def resolve_ownership_changes(patent: Patent, info: graphene.ResolveInfo) -> list[PatentOwnershipChange]:
        return loaders_of(info).get(OwnershipChangesByPatentIdLoader).load(patent.pk)


class PatentQueries(graphene.ObjectType):
    patent = relay.Node.Field(PatentNode, description="One patent by its global id.")
    patents = ConnectionField(
        PatentNode,
        office=graphene.String(description="Office code: " + ", ".join(PatentOffice.values)),
        ipc_prefix=graphene.String(
            description="IPC prefix: section (H), class (H01), subclass (H01G), group."
        ),
        legal_status=graphene.String(description="One of: " + ", ".join(LegalStatus.values)),
        application_number=graphene.String(description="Exact application number."),
        owner_kind=graphene.String(
            description="Kind of the holding organisation: " + ", ".join(OrgKind.values)
        ),
        owner=graphene.ID(description="Global id of the holding organisation."),
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
        if filters.get("owner_kind"):
            patents = patents.filter(owner__kind=filters["owner_kind"])
        if filters.get("owner"):
            patents = patents.filter(owner_id=pk_from_global_id(filters["owner"], "Organization"))
        if filters.get("ipc_prefix"):
            # Array element prefix match: one code of the patent starts with the prefix.
            patents = patents.extra(  # parameterised: the prefix is a bound value
                where=["exists (select 1 from unnest(ipc_codes) c where c like %s)"],
                params=[filters["ipc_prefix"].upper().replace("%", "") + "%"],
            )
        return patents
