"""Escrow queries: deposits, the platform's public key, the log's signed tree head, certificate checks."""

from typing import Any

import graphene
from django.db.models import QuerySet

from backend.api.core.errors import ApiErrorCode, api_error
from backend.api.core.ids import pk_from_global_id
from backend.api.core.types import ConnectionField, viewer_of
from backend.api.escrow.types import (
    CertificateCheckType,
    DepositNode,
    DepositPurposeEnum,
    PublicKeyType,
    TreeHeadType,
)
from escrow.certificates import verify_certificate
from escrow.models import Deposit, TreeHead
from escrow.vault import keys


class EscrowQueries(graphene.ObjectType):
    deposit = graphene.relay.Node.Field(DepositNode, description="A deposit you may see, by its global id.")
    deposits = ConnectionField(
        DepositNode,
        purpose=DepositPurposeEnum(description="Only deposits made for this purpose."),
        deal_id=graphene.ID(description="Only deposits of this deal (milestone materials, data room)."),
        description="Deposits you may see (yours, your deals', or all for operators), newest first.",
    )
    escrow_public_key = graphene.Field(
        PublicKeyType, required=True, description="The key that signs certificates and tree heads."
    )
    transparency_log_head = graphene.Field(
        TreeHeadType, description="The latest signed tree head; null while the log is empty."
    )
    verify_certificate = graphene.Field(
        CertificateCheckType,
        required=True,
        certificate=graphene.JSONString(required=True, description="The certificate JSON, as downloaded."),
        description="Check a certificate's signatures, manifest and log inclusion with the platform's key. "
        "Anyone may ask; `python -m escrow.verify` does the same offline and also checks the files.",
    )

    @staticmethod
    def resolve_deposits(root: None, info: graphene.ResolveInfo, **filters: Any) -> QuerySet[Deposit]:
        if not viewer_of(info).user.is_authenticated:
            raise api_error(ApiErrorCode.NOT_AUTHENTICATED, "Sign in to see deposits.")
        queryset = Deposit.objects.order_by("-id")
        if filters.get("purpose"):
            queryset = queryset.filter(purpose=filters["purpose"])
        if filters.get("deal_id"):
            queryset = queryset.filter(deal_id=pk_from_global_id(filters["deal_id"], "Deal") or 0)
        return queryset

    @staticmethod
    def resolve_escrow_public_key(root: None, info: graphene.ResolveInfo) -> PublicKeyType:
        signer = keys.signer()
        return PublicKeyType(algorithm="Ed25519", key_id=signer.key_id, public_key=signer.public_key_b64)

    @staticmethod
    def resolve_transparency_log_head(root: None, info: graphene.ResolveInfo) -> TreeHead | None:
        return TreeHead.objects.order_by("-tree_size").first()

    @staticmethod
    def resolve_verify_certificate(
        root: None, info: graphene.ResolveInfo, certificate: Any
    ) -> CertificateCheckType:
        if not isinstance(certificate, dict):
            return CertificateCheckType(valid=False, problems=["the certificate is not a JSON object"])
        try:
            problems = verify_certificate(certificate, keys.signer().public_key_b64)
        except (KeyError, TypeError, ValueError) as exc:  # a malformed certificate is invalid, not a crash
            problems = [f"malformed certificate: {exc}"]
        return CertificateCheckType(valid=not problems, problems=problems)
