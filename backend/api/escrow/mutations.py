"""Escrow mutations: paying a milestone into trust and releasing, refunding or disputing it; recording
release conditions for deposits; payee accounts. Uploads are not here: files stream to
`POST /escrow/deposits/`, which encrypts them chunk by chunk as they arrive (GraphQL's JSON cannot)."""

from typing import Any

import graphene
from django.conf import settings

from backend.api.core.errors import errors_field
from backend.api.core.ids import decode_id
from backend.api.core.mutations import BaseMutation, idempotency_key_argument, idempotent
from backend.api.core.types import BigInt
from backend.api.escrow.types import DepositNode, PayeeAccountType, ReleaseConditionEnum, ReleaseRequestType
from backend.api.marketplace.deals import MilestoneType
from escrow.error_codes import EscrowErrorCode as Code
from escrow.models import Dispute, EscrowMilestone
from escrow.payments import accounts
from escrow.payments import actions as pay
from escrow.vault import releases
from marketplace.models import Milestone

MONEY_CODES = [Code.INVALID_STATE, Code.FROZEN, Code.IDEMPOTENCY_KEY_REUSED, Code.GATEWAY_ERROR]
RELEASE_MONEY_CODES = [Code.AMOUNT_EXCEEDS_HELD, Code.PAYEE_NOT_READY, *MONEY_CODES]


def _milestone_id(value: str) -> int:
    return decode_id(value, "Milestone", "milestone_id")


def _milestone(pk: int) -> Milestone:
    return Milestone.objects.get(pk=pk)


class MilestoneMutation(BaseMutation):
    class Meta:
        abstract = True

    milestone = graphene.Field(MilestoneType, description="The milestone, as it stands now.")


def _money_step(
    user: Any, name: str, milestone_id: str, key: str | None, request: dict[str, Any], step: Any
) -> dict[str, Any]:
    """Run a money step once per idempotency key: a retry with the same key returns the first result."""
    pk = _milestone_id(milestone_id)

    def run() -> Milestone:
        step(pk)
        return _milestone(pk)

    return {"milestone": idempotent(user, name, key, {"milestone": pk, **request}, Milestone, run)}


class FundMilestone(MilestoneMutation):
    """Pay a milestone into trust (buyer). Answers the PaymentIntent's client secret for Stripe.js; the
    money counts as held once the gateway confirms the payment (its webhook)."""

    class Arguments:
        milestone_id = graphene.ID(required=True)
        idempotency_key = idempotency_key_argument()

    client_secret = graphene.String(description="Confirm the payment with this in Stripe's Payment Element.")
    publishable_key = graphene.String(description="The Stripe publishable key for the Payment Element.")
    errors = errors_field("FundMilestone", [Code.PAYEE_NOT_READY, Code.ALREADY_FUNDED, *MONEY_CODES])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, milestone_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        result = _money_step(
            user, "fund_milestone", milestone_id, idempotency_key, {}, lambda pk: pay.fund_milestone(user, pk)
        )
        record = EscrowMilestone.objects.get(milestone=result["milestone"])
        return {
            **result,
            "client_secret": record.client_secret,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        }


class ConfirmDelivery(MilestoneMutation):
    """Say the milestone's deliverables are delivered (seller side or a deal broker): the buyer's
    inspection period starts; without a dispute the money is released when it ends."""

    class Arguments:
        milestone_id = graphene.ID(required=True)

    errors = errors_field(
        "ConfirmDelivery", [Code.INVALID_STATE, Code.FROZEN, Code.NOT_FUNDED, Code.ALREADY_RELEASED]
    )

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, milestone_id: str) -> dict[str, Any]:
        pk = _milestone_id(milestone_id)
        pay.confirm_delivery(user, pk)
        return {"milestone": _milestone(pk)}


class AcceptMilestone(MilestoneMutation):
    """Accept the deliverables (buyer side): the money held and the deposited materials are released in
    one step: transfers to the seller and brokers by share, the platform keeps its fee."""

    class Arguments:
        milestone_id = graphene.ID(required=True)
        idempotency_key = idempotency_key_argument()

    errors = errors_field(
        "AcceptMilestone", [Code.NOT_FUNDED, Code.ALREADY_RELEASED, Code.PAYEE_NOT_READY, *MONEY_CODES]
    )

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, milestone_id: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return _money_step(
            user,
            "accept_milestone",
            milestone_id,
            idempotency_key,
            {},
            lambda pk: pay.accept_milestone(user, pk),
        )


class ReleasePartOfMilestone(MilestoneMutation):
    """Release part of what is held (buyer side or an operator); the rest stays in trust."""

    class Arguments:
        milestone_id = graphene.ID(required=True)
        amount = BigInt(required=True, description="Minor units of the milestone's currency.")
        idempotency_key = idempotency_key_argument()

    errors = errors_field(
        "ReleasePartOfMilestone",
        [
            Code.NOT_FUNDED,
            Code.ALREADY_RELEASED,
            Code.AMOUNT_EXCEEDS_HELD,
            Code.PAYEE_NOT_READY,
            *MONEY_CODES,
        ],
    )

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        milestone_id: str,
        amount: int,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return _money_step(
            user,
            "partial_release",
            milestone_id,
            idempotency_key,
            {"amount": amount},
            lambda pk: pay.partial_release(user, pk, amount),
        )


class RefundMilestone(MilestoneMutation):
    """Refund what is held to the buyer, all or part (an operator, or the seller side of its own accord)."""

    class Arguments:
        milestone_id = graphene.ID(required=True)
        amount = BigInt(description="Minor units; everything held when omitted.")
        idempotency_key = idempotency_key_argument()

    errors = errors_field(
        "RefundMilestone", [Code.NOT_FUNDED, Code.ALREADY_RELEASED, Code.AMOUNT_EXCEEDS_HELD, *MONEY_CODES]
    )

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        milestone_id: str,
        amount: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return _money_step(
            user,
            "refund_milestone",
            milestone_id,
            idempotency_key,
            {"amount": amount},
            lambda pk: pay.refund_milestone(user, pk, amount),
        )


class OpenMilestoneDispute(MilestoneMutation):
    """Dispute a milestone (either side): its money is frozen until an operator resolves the dispute."""

    class Arguments:
        milestone_id = graphene.ID(required=True)
        reason = graphene.String(required=True, description="What is wrong, for the operator.")

    errors = errors_field(
        "OpenMilestoneDispute",
        [Code.NOT_FUNDED, Code.ALREADY_RELEASED, Code.DISPUTE_OPEN, Code.INVALID_STATE],
    )

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, milestone_id: str, reason: str) -> dict[str, Any]:
        pk = _milestone_id(milestone_id)
        pay.open_dispute(user, pk, reason)
        return {"milestone": _milestone(pk)}


class DisputeResolution(graphene.Enum):
    """How an operator settles a dispute."""

    RELEASE = "release"
    REFUND = "refund"
    SPLIT = "split"


class ResolveMilestoneDispute(MilestoneMutation):
    """Settle a dispute (operators): release everything held, refund it, or split it."""

    class Arguments:
        dispute_id = graphene.ID(required=True)
        resolution = DisputeResolution(required=True)
        release_amount = BigInt(
            description="For a split: what goes to the seller side; the rest is refunded."
        )
        idempotency_key = idempotency_key_argument()

    errors = errors_field(
        "ResolveMilestoneDispute",
        [Code.NO_OPEN_DISPUTE, Code.NOT_FUNDED, *RELEASE_MONEY_CODES],
    )

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        dispute_id: str,
        resolution: str,
        release_amount: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        pk = decode_id(dispute_id, "Dispute", "dispute_id")
        dispute = Dispute.objects.filter(pk=pk).first()
        milestone_pk = dispute.milestone_id if dispute else 0

        def run() -> Milestone:
            pay.resolve_dispute(user, pk, str(getattr(resolution, "value", resolution)), release_amount)
            return _milestone(milestone_pk)

        request = {"dispute": pk, "resolution": str(resolution), "amount": release_amount}
        return {"milestone": idempotent(user, "resolve_dispute", idempotency_key, request, Milestone, run)}


class DepositMutation(BaseMutation):
    class Meta:
        abstract = True

    deposit = graphene.Field(DepositNode, description="The deposit, as it stands now.")
    release_request = graphene.Field(ReleaseRequestType, description="The release request concerned.")


RELEASE_CODES = [Code.INVALID_STATE, Code.ALREADY_RELEASED, Code.SAME_OPERATOR]


class RequestDepositRelease(DepositMutation):
    """Record a release condition: insolvency or a court order (an operator, with evidence; a second
    operator must approve), or mutual agreement (a depositor or beneficiary member; the other side must
    consent)."""

    class Arguments:
        deposit_id = graphene.ID(required=True)
        condition = ReleaseConditionEnum(required=True)
        evidence = graphene.String(description="The evidence (court order reference, insolvency filing).")

    errors = errors_field("RequestDepositRelease", RELEASE_CODES)

    @classmethod
    def perform(
        cls,
        info: graphene.ResolveInfo,
        user: Any,
        deposit_id: str,
        condition: Any,
        evidence: str | None = None,
    ) -> dict[str, Any]:
        pk = decode_id(deposit_id, "Deposit", "deposit_id")
        value = str(getattr(condition, "value", condition))
        request = releases.request_release(user, pk, value, evidence or "")
        return {"deposit": request.deposit, "release_request": request}


class ApproveDepositRelease(DepositMutation):
    """Approve an insolvency or court-order release as the second operator: the deposit is released."""

    class Arguments:
        request_id = graphene.ID(required=True)

    errors = errors_field("ApproveDepositRelease", RELEASE_CODES)

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, request_id: str) -> dict[str, Any]:
        request = releases.approve_release(user, decode_id(request_id, "ReleaseRequest", "request_id"))
        request.refresh_from_db()
        return {"deposit": request.deposit, "release_request": request}


class ConsentToDepositRelease(DepositMutation):
    """Consent to a mutually agreed release for your side; with both consents the deposit is released."""

    class Arguments:
        request_id = graphene.ID(required=True)

    errors = errors_field("ConsentToDepositRelease", RELEASE_CODES)

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, request_id: str) -> dict[str, Any]:
        request = releases.consent_release(user, decode_id(request_id, "ReleaseRequest", "request_id"))
        request.refresh_from_db()
        return {"deposit": request.deposit, "release_request": request}


class RejectDepositRelease(DepositMutation):
    """Close a pending release request without releasing: an operator (the evidence falls short), or for
    a mutual agreement a member of either side (declining or withdrawing)."""

    class Arguments:
        request_id = graphene.ID(required=True)
        reason = graphene.String(required=True, description="Why; its SHA-256 goes into the log.")

    errors = errors_field("RejectDepositRelease", RELEASE_CODES)

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, request_id: str, reason: str) -> dict[str, Any]:
        pk = decode_id(request_id, "ReleaseRequest", "request_id")
        request = releases.reject_release(user, pk, reason)
        return {"deposit": request.deposit, "release_request": request}


class CreatePayeeAccount(BaseMutation):
    """Open (once) the gateway account your organisation (its admins) or you as a broker are paid into."""

    class Arguments:
        organization_id = graphene.ID(description="Your organisation; omit to open your own broker account.")

    account = graphene.Field(PayeeAccountType)
    errors = errors_field("CreatePayeeAccount", [Code.GATEWAY_ERROR])

    @classmethod
    def perform(
        cls, info: graphene.ResolveInfo, user: Any, organization_id: str | None = None
    ) -> dict[str, Any]:
        org = decode_id(organization_id, "Organization", "organization_id") if organization_id else None
        return {"account": accounts.ensure_payee_account(user, organization_id=org)}


class CreatePayeeOnboardingLink(BaseMutation):
    """A single-use link to the gateway's onboarding forms for a payee account you own."""

    class Arguments:
        account_id = graphene.ID(required=True)

    url = graphene.String()
    errors = errors_field("CreatePayeeOnboardingLink", [Code.GATEWAY_ERROR])

    @classmethod
    def perform(cls, info: graphene.ResolveInfo, user: Any, account_id: str) -> dict[str, Any]:
        pk = decode_id(account_id, "PayeeAccount", "account_id")
        return {"url": accounts.onboarding_link(user, pk)}


class EscrowMutations(graphene.ObjectType):
    fund_milestone = FundMilestone.Field()
    confirm_delivery = ConfirmDelivery.Field()
    accept_milestone = AcceptMilestone.Field()
    release_part_of_milestone = ReleasePartOfMilestone.Field()
    refund_milestone = RefundMilestone.Field()
    open_milestone_dispute = OpenMilestoneDispute.Field()
    resolve_milestone_dispute = ResolveMilestoneDispute.Field()
    request_deposit_release = RequestDepositRelease.Field()
    approve_deposit_release = ApproveDepositRelease.Field()
    consent_to_deposit_release = ConsentToDepositRelease.Field()
    reject_deposit_release = RejectDepositRelease.Field()
    create_payee_account = CreatePayeeAccount.Field()
    create_payee_onboarding_link = CreatePayeeOnboardingLink.Field()
