"""Escrow types: deposits (metadata and certificates, never content), the log's tree head, and the escrow
status of a milestone with amounts derived from the ledger."""

from typing import cast

import graphene
from django.db.models import Q, QuerySet
from django.urls import reverse
from graphene import relay
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from backend.api.core.loaders import loaders_of
from backend.api.core.types import BigInt, CountedConnection, Money, money, viewer_of
from backend.api.escrow.loaders import (
    BalancesByMilestoneIdLoader,
    DepositOrganizationByIdLoader,
    EscrowByMilestoneIdLoader,
    FilesByDepositIdLoader,
    OpenDisputeByMilestoneIdLoader,
    OperationsByMilestoneIdLoader,
    ReleaseRequestsByDepositIdLoader,
    VisibleDepositsByMilestoneIdLoader,
)
from backend.api.marketplace.deals import participation
from escrow.models import (
    ConnectedAccount,
    Deposit,
    DepositFile,
    DepositPurpose,
    DepositState,
    Dispute,
    GatewayOperation,
    ReleaseCondition,
    ReleaseRequest,
    ReleaseRequestState,
)
from marketplace.access import SIGNED_STATES
from marketplace.models import Deal, Milestone, Organization

DepositPurposeEnum = graphene.Enum.from_enum(DepositPurpose, description="Why materials were deposited.")
DepositStateEnum = graphene.Enum.from_enum(
    DepositState, description="Sealed, or released to its beneficiary."
)
ReleaseConditionEnum = graphene.Enum.from_enum(ReleaseCondition, description="Why a deposit may be released.")
ReleaseRequestStateEnum = graphene.Enum.from_enum(ReleaseRequestState, description="Where a request stands.")


def deposit_visibility(info: graphene.ResolveInfo) -> Q:
    """Depositor and beneficiary members and operators see a deposit's metadata; a deal's parties and
    brokers see its milestone materials, and its data-room documents once the NDA is signed."""
    viewer = viewer_of(info)
    if viewer.is_operator:
        return Q()
    deals = Deal.objects.filter(participation(info))
    return (
        Q(depositor_id__in=viewer.org_ids)
        | Q(beneficiary_id__in=viewer.org_ids)
        | Q(purpose=DepositPurpose.MILESTONE, deal_id__in=deals.values("pk"))
        | Q(purpose=DepositPurpose.DATA_ROOM, deal_id__in=deals.filter(state__in=SIGNED_STATES).values("pk"))
    )


class DepositFileType(graphene.ObjectType):
    """One deposited file: what it is and its plaintext hash; its content is only streamed over HTTP."""

    class Meta:
        name = "DepositFile"

    position = graphene.Int(required=True, description="Its place in the deposit, from 0.")
    name = graphene.String(required=True, description="The file name given at upload.")
    size = graphene.Float(required=True, description="Bytes of plaintext.")
    sha256 = graphene.String(required=True, description="SHA-256 of the plaintext, as in the manifest.")
    content_type = graphene.String(required=True, description="The media type given at upload.")
    download_url = graphene.String(
        required=True,
        description="GET streams the decrypted file to those allowed; every download is logged.",
    )

    @staticmethod
    def resolve_download_url(row: DepositFile, info: graphene.ResolveInfo) -> str:
        return reverse("escrow:deposit-file", args=[row.deposit_id, row.position])


class ReleaseRequestType(graphene.ObjectType):
    """A recorded release condition: who recorded it, who approved or consented, and when."""

    class Meta:
        name = "ReleaseRequest"

    id = graphene.ID(required=True, description="Global id (ReleaseRequest).")
    condition = graphene.Field(ReleaseConditionEnum, required=True, description="The recorded condition.")
    state = graphene.Field(ReleaseRequestStateEnum, required=True, description="Pending, executed, rejected.")
    evidence_sha256 = graphene.String(required=True, description="SHA-256 of the evidence text recorded.")
    approved = graphene.Boolean(required=True, description="A second operator has approved it.")
    depositor_consented = graphene.Boolean(required=True, description="The depositor's side agreed.")
    beneficiary_consented = graphene.Boolean(required=True, description="The beneficiary's side agreed.")
    created_at = graphene.DateTime(required=True, description="When it was recorded.")
    decided_at = graphene.DateTime(description="When it was executed or rejected.")

    @staticmethod
    def resolve_id(row: ReleaseRequest, info: graphene.ResolveInfo) -> str:
        return to_global_id("ReleaseRequest", row.pk)

    @staticmethod
    def resolve_approved(row: ReleaseRequest, info: graphene.ResolveInfo) -> bool:
        return row.approved_by_id is not None

    @staticmethod
    def resolve_depositor_consented(row: ReleaseRequest, info: graphene.ResolveInfo) -> bool:
        return row.depositor_consent_by_id is not None

    @staticmethod
    def resolve_beneficiary_consented(row: ReleaseRequest, info: graphene.ResolveInfo) -> bool:
        return row.beneficiary_consent_by_id is not None


class DepositNode(DjangoObjectType):
    """Technical materials sealed in the vault, with the signed certificate proving what and when."""

    purpose = graphene.Field(DepositPurposeEnum, required=True)
    state = graphene.Field(DepositStateEnum, required=True)
    depositor = graphene.Field("backend.api.marketplace.organisations.OrganizationNode", required=True)
    beneficiary = graphene.Field(
        "backend.api.marketplace.organisations.OrganizationNode",
        description="Who receives the materials on release; null for proof of existence.",
    )
    files = graphene.List(graphene.NonNull(DepositFileType), required=True, description="The manifest.")
    certificate = graphene.JSONString(
        description="The signed deposit certificate; verify it offline with `python -m escrow.verify`."
    )
    certificate_url = graphene.String(required=True, description="GET downloads the certificate as JSON.")
    release_requests = graphene.List(
        graphene.NonNull(ReleaseRequestType), required=True, description="Newest first."
    )
    # Declared, not converted: graphene-django would map these BigIntegerFields to graphene's own BigInt,
    # and the first type named BigInt to reach the schema is the one every argument gets, so ours (which
    # refuses 1.5 instead of truncating it) would be replaced across the whole API.
    total_size = BigInt(required=True, description="Bytes of plaintext, all files together.")
    log_index = BigInt(description="Its index in the transparency log.")

    class Meta:
        model = Deposit
        name = "Deposit"
        interfaces = (relay.Node,)
        fields = (
            "title",
            "description",
            "manifest_sha256",
            "total_size",
            "log_index",
            "created_at",
            "released_at",
        )
        connection_class = CountedConnection

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Deposit], info: graphene.ResolveInfo) -> QuerySet[Deposit]:
        return queryset.filter(deposit_visibility(info))

    @staticmethod
    def resolve_purpose(deposit: Deposit, info: graphene.ResolveInfo) -> str:
        return deposit.purpose

    @staticmethod
    def resolve_state(deposit: Deposit, info: graphene.ResolveInfo) -> str:
        return deposit.state

    @staticmethod
    def resolve_depositor(deposit: Deposit, info: graphene.ResolveInfo) -> Organization | None:
        return loaders_of(info).get(DepositOrganizationByIdLoader).load(deposit.depositor_id)

    @staticmethod
    def resolve_beneficiary(deposit: Deposit, info: graphene.ResolveInfo) -> Organization | None:
        if deposit.beneficiary_id is None:
            return None
        return loaders_of(info).get(DepositOrganizationByIdLoader).load(deposit.beneficiary_id)

    @staticmethod
    def resolve_files(deposit: Deposit, info: graphene.ResolveInfo) -> list[DepositFile]:
        return loaders_of(info).get(FilesByDepositIdLoader).load(deposit.pk)

    @staticmethod
    def resolve_certificate_url(deposit: Deposit, info: graphene.ResolveInfo) -> str:
        return reverse("escrow:deposit-certificate", args=[deposit.pk])

    @staticmethod
    def resolve_release_requests(deposit: Deposit, info: graphene.ResolveInfo) -> list[ReleaseRequest]:
        return loaders_of(info).get(ReleaseRequestsByDepositIdLoader).load(deposit.pk)


class DisputeType(graphene.ObjectType):
    """A dispute over a milestone: it freezes the money until an operator resolves it."""

    class Meta:
        name = "Dispute"

    id = graphene.ID(required=True, description="Global id (Dispute).")
    reason = graphene.String(required=True, description="Why it was opened.")
    from_gateway = graphene.Boolean(
        required=True, description="Opened by a chargeback at the payment gateway."
    )
    state = graphene.String(required=True, description="open or resolved.")
    resolution = graphene.String(required=True, description="release, refund or split, once resolved.")
    opened_at = graphene.DateTime(required=True, description="When it was opened.")
    resolved_at = graphene.DateTime(description="When an operator resolved it.")

    @staticmethod
    def resolve_id(row: Dispute, info: graphene.ResolveInfo) -> str:
        return to_global_id("Dispute", row.pk)

    @staticmethod
    def resolve_from_gateway(row: Dispute, info: graphene.ResolveInfo) -> bool:
        return bool(row.provider_dispute_id)


class PayoutType(graphene.ObjectType):
    """A transfer to a payee or a refund to the buyer that the release or refund requires."""

    class Meta:
        name = "Payout"

    kind = graphene.String(required=True, description="transfer or refund.")
    amount = graphene.Field(Money, required=True, description="What moves.")
    status = graphene.String(required=True, description="pending, succeeded or failed at the gateway.")

    @staticmethod
    def resolve_amount(row: GatewayOperation, info: graphene.ResolveInfo) -> Money | None:
        return money(row.amount, row.currency)


class MilestoneEscrowType(graphene.ObjectType):
    """The trust deposit of one milestone. Amounts are sums of the ledger, per account."""

    class Meta:
        name = "MilestoneEscrow"

    held = graphene.Field(Money, required=True, description="Held in trust now.")
    funded = graphene.Field(Money, required=True, description="Paid in by the buyer.")
    released = graphene.Field(Money, required=True, description="Released to the seller, brokers and fee.")
    refunded = graphene.Field(Money, required=True, description="Returned to the buyer.")
    funded_at = graphene.DateTime(description="When the payment arrived.")
    delivered_at = graphene.DateTime(description="When the seller confirmed delivery.")
    inspection_ends_at = graphene.DateTime(description="Released automatically then unless disputed.")
    accepted_at = graphene.DateTime(description="When the buyer accepted.")
    hold_expires_at = graphene.DateTime(description="The end of the maximum holding period.")
    released_at = graphene.DateTime(description="When money and materials were released.")
    open_dispute = graphene.Field(DisputeType, description="The dispute freezing it, if any.")
    payouts = graphene.List(graphene.NonNull(PayoutType), required=True, description="Transfers and refunds.")
    materials = graphene.List(
        graphene.NonNull(DepositNode), required=True, description="Deposits released with the money."
    )


class EscrowStatus:
    """What MilestoneEscrowType resolves from: the milestone and its loaded balances."""

    def __init__(self, milestone: Milestone, info: graphene.ResolveInfo) -> None:
        loaders = loaders_of(info)
        balances = loaders.get(BalancesByMilestoneIdLoader).load(milestone.pk)
        record = loaders.get(EscrowByMilestoneIdLoader).load(milestone.pk)
        currency = milestone.currency
        released = sum(balances.get(a, 0) for a in ("seller_payable", "broker_payable", "platform_fee"))
        self.held = money(balances.get("held", 0), currency)
        self.funded = money(-balances.get("buyer_funding", 0), currency)
        self.released = money(released, currency)
        self.refunded = money(balances.get("refunded", 0), currency)
        for name in (
            "funded_at",
            "delivered_at",
            "inspection_ends_at",
            "accepted_at",
            "hold_expires_at",
            "released_at",
        ):
            setattr(self, name, getattr(record, name) if record else None)
        self.open_dispute = loaders.get(OpenDisputeByMilestoneIdLoader).load(milestone.pk)
        self.payouts = loaders.get(OperationsByMilestoneIdLoader).load(milestone.pk)
        self.materials = visible_materials(info).load(milestone.pk)


def visible_materials(info: graphene.ResolveInfo) -> VisibleDepositsByMilestoneIdLoader:
    """The request's loader of milestone deposits, filtered by what this viewer may see."""
    loaders = loaders_of(info)
    loader = cast(VisibleDepositsByMilestoneIdLoader, loaders.get(VisibleDepositsByMilestoneIdLoader))
    if loader.visibility is None:
        loader.visibility = deposit_visibility(info)
    return loader


def escrow_status(milestone: Milestone, info: graphene.ResolveInfo) -> EscrowStatus:
    return EscrowStatus(milestone, info)


class PayeeAccountType(graphene.ObjectType):
    """A payee's account at the payment gateway (sellers and brokers are paid through it)."""

    class Meta:
        name = "PayeeAccount"

    id = graphene.ID(required=True, description="Global id (PayeeAccount).")
    details_submitted = graphene.Boolean(required=True, description="Onboarding forms completed.")
    payouts_enabled = graphene.Boolean(required=True, description="The gateway pays out to it.")

    @staticmethod
    def resolve_id(row: ConnectedAccount, info: graphene.ResolveInfo) -> str:
        return to_global_id("PayeeAccount", row.pk)


class TreeHeadType(graphene.ObjectType):
    """A signed tree head of the transparency log (RFC 6962): its size and root, signed by the platform."""

    class Meta:
        name = "TreeHead"

    tree_size = graphene.Float(required=True, description="Entries in the log.")
    root_hash = graphene.String(required=True, description="Merkle tree hash, hex.")
    timestamp_ms = graphene.Float(required=True, description="Milliseconds since the epoch.")
    key_id = graphene.String(required=True, description="SHA-256 of the signing public key, hex.")
    signature = graphene.String(required=True, description="Ed25519 signature, base64.")


class PublicKeyType(graphene.ObjectType):
    """The key certificates and tree heads are signed with: publish it; trust no key inside a certificate."""

    class Meta:
        name = "EscrowPublicKey"

    algorithm = graphene.String(required=True, description="Always Ed25519.")
    key_id = graphene.String(required=True, description="SHA-256 of the raw public key, hex.")
    public_key = graphene.String(required=True, description="The raw 32-byte public key, base64.")


class CertificateCheckType(graphene.ObjectType):
    """The result of checking a certificate with the platform's public key."""

    class Meta:
        name = "CertificateCheck"

    valid = graphene.Boolean(required=True, description="Every check passed.")
    problems = graphene.List(graphene.NonNull(graphene.String), required=True, description="What failed.")
