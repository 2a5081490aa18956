"""Release of deposits, only on a recorded condition.

(a) milestone_paid: recorded by the payment release step itself, in its own transaction, so materials
    and money move together (`release_for_milestone`);
(b) insolvency and (c) court_order: recorded by one operator with evidence, executed when a second,
    different operator approves (four eyes; the database's check constraint backs the rule);
(d) mutual_agreement: executed once a member of the depositor and a member of the beneficiary consent.

Every action locks the deposit row first (then its request), so two approvals or consents racing for
one deposit run one after the other and the second sees the first's outcome. Every step is logged.
"""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from escrow.canonical import sha256_hex
from escrow.error_codes import EscrowErrorCode
from escrow.models import (
    Deposit,
    DepositPurpose,
    DepositState,
    ReleaseCondition,
    ReleaseRequest,
    ReleaseRequestState,
)
from escrow.vault import access, log
from marketplace.access import is_operator
from marketplace.error_codes import ActionError
from marketplace.models import Milestone

OPERATOR_CONDITIONS = (ReleaseCondition.INSOLVENCY, ReleaseCondition.COURT_ORDER)


def _execute(deposit: Deposit, request: ReleaseRequest, actor: User | None) -> None:
    now = timezone.now()
    request.state = ReleaseRequestState.EXECUTED
    request.decided_at = now
    request.save(
        update_fields=["state", "decided_at", "approved_by", "depositor_consent_by", "beneficiary_consent_by"]
    )
    deposit.state = DepositState.RELEASED
    deposit.released_at = now
    deposit.save(update_fields=["state", "released_at"])
    # Any other open request on this deposit has nothing left to decide.
    ReleaseRequest.objects.filter(deposit=deposit, state=ReleaseRequestState.PENDING).exclude(
        pk=request.pk
    ).update(state=ReleaseRequestState.REJECTED, decided_at=now)
    log.append(
        log.LogKind.RELEASE,
        {
            "request_id": request.pk,
            "condition": request.condition,
            "beneficiary_id": deposit.beneficiary_id,
            "evidence_sha256": request.evidence_sha256,
        },
        deposit=deposit,
        actor=actor,
    )


def release_for_milestone(milestone: Milestone, actor: User | None) -> list[Deposit]:
    """Release every sealed deposit of this milestone (its deliverables). Call inside the payment
    release step's transaction: the funds and the materials are released together or not at all.
    Idempotent: deposits already released are skipped. `actor` is None when the platform releases on
    its own (the inspection period ran out)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("release_for_milestone runs inside the payment release transaction")
    released: list[Deposit] = []
    sealed = (
        Deposit.objects.select_for_update()
        .filter(milestone=milestone, purpose=DepositPurpose.MILESTONE, state=DepositState.SEALED)
        .order_by("pk")  # a fixed lock order
    )
    for deposit in sealed:
        # A pending request of another condition is superseded by the payment (closed by _execute).
        request = ReleaseRequest.objects.create(
            deposit=deposit,
            condition=ReleaseCondition.MILESTONE_PAID,
            state=ReleaseRequestState.EXECUTED,
            recorded_by=actor,
            evidence=f"milestone {milestone.pk} of deal {milestone.deal_id} paid",
            decided_at=timezone.now(),
        )
        _execute(deposit, request, actor)
        released.append(deposit)
    return released


def _locked_deposit(user: User, deposit_id: int) -> Deposit:
    deposit = access.visible_deposit(user, deposit_id, lock=True)
    if deposit.state == DepositState.RELEASED:
        raise ActionError(EscrowErrorCode.ALREADY_RELEASED, "The deposit is already released.", "deposit_id")
    if deposit.beneficiary_id is None:
        raise ActionError(
            EscrowErrorCode.INVALID_STATE, "This deposit has no beneficiary to release it to.", "deposit_id"
        )
    return deposit


@transaction.atomic
def request_release(user: User, deposit_id: int, condition: str, evidence: str) -> ReleaseRequest:
    """Record a release condition: insolvency or a court order by an operator (with evidence), or a
    mutual agreement proposed by a member of either side (counting as that side's consent)."""
    deposit = _locked_deposit(user, deposit_id)
    evidence = evidence.strip()
    request = ReleaseRequest(deposit=deposit, condition=condition, recorded_by=user, evidence=evidence)
    if evidence:
        request.evidence_sha256 = sha256_hex(evidence.encode())
    if condition in OPERATOR_CONDITIONS:
        if not is_operator(user):
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED, "Operators record insolvency and court orders."
            )
        if not evidence:
            raise ActionError(EscrowErrorCode.INVALID, "Record the evidence.", "evidence")
    elif condition == ReleaseCondition.MUTUAL_AGREEMENT:
        if access.is_depositor_member(user, deposit):
            request.depositor_consent_by = user
        elif access.is_beneficiary_member(user, deposit):
            request.beneficiary_consent_by = user
        else:
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED, "Only the depositor and the beneficiary agree a release."
            )
    elif condition == ReleaseCondition.MILESTONE_PAID:
        raise ActionError(
            EscrowErrorCode.INVALID, "A milestone's deposits are released by its payment.", "condition"
        )
    else:
        raise ActionError(EscrowErrorCode.INVALID, f"Unknown condition {condition!r}.", "condition")
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as exc:
        # The partial unique constraint decides, not a prior read: one open request per deposit.
        raise ActionError(
            EscrowErrorCode.INVALID_STATE, "A release request for this deposit is already pending."
        ) from exc
    log.append(
        log.LogKind.RELEASE_REQUESTED,
        {
            "request_id": request.pk,
            "condition": condition,
            "evidence_sha256": request.evidence_sha256,
            "consent": _consent_side(request),
        },
        deposit=deposit,
        actor=user,
    )
    return request


def _consent_side(request: ReleaseRequest) -> str | None:
    if request.depositor_consent_by_id is not None:
        return "depositor"
    if request.beneficiary_consent_by_id is not None:
        return "beneficiary"
    return None


def _locked_request(user: User, request_id: int) -> tuple[Deposit, ReleaseRequest]:
    deposit_id = ReleaseRequest.objects.filter(pk=request_id).values_list("deposit_id", flat=True).first()
    if deposit_id is None:
        raise ActionError(EscrowErrorCode.NOT_FOUND, "No such release request.", "request_id")
    try:
        deposit = access.visible_deposit(user, deposit_id, lock=True)  # the deposit first, then its request
    except ActionError as exc:
        raise ActionError(EscrowErrorCode.NOT_FOUND, "No such release request.", "request_id") from exc
    request = ReleaseRequest.objects.select_for_update().get(pk=request_id)
    if request.state != ReleaseRequestState.PENDING:
        raise ActionError(EscrowErrorCode.INVALID_STATE, f"The request is {request.state}.", "request_id")
    if deposit.state == DepositState.RELEASED:
        raise ActionError(EscrowErrorCode.ALREADY_RELEASED, "The deposit is already released.", "request_id")
    return deposit, request


@transaction.atomic
def approve_release(user: User, request_id: int) -> ReleaseRequest:
    """A second operator approves a recorded insolvency or court order, which releases the deposit."""
    deposit, request = _locked_request(user, request_id)
    if not is_operator(user):
        raise ActionError(EscrowErrorCode.PERMISSION_DENIED, "Operators approve releases.")
    if request.condition not in OPERATOR_CONDITIONS:
        raise ActionError(
            EscrowErrorCode.INVALID, "The parties' consent decides a mutual agreement.", "request_id"
        )
    if request.recorded_by_id == user.pk:
        raise ActionError(
            EscrowErrorCode.SAME_OPERATOR, "A second operator must approve what one has recorded."
        )
    request.approved_by = user
    log.append(
        log.LogKind.RELEASE_APPROVED,
        {"request_id": request.pk, "condition": request.condition},
        deposit=deposit,
        actor=user,
    )
    try:
        with transaction.atomic():
            _execute(deposit, request, user)
    except IntegrityError as exc:  # release_four_eyes: should the check above ever be bypassed
        raise ActionError(EscrowErrorCode.SAME_OPERATOR, "A second operator must approve.") from exc
    return request


@transaction.atomic
def consent_release(user: User, request_id: int) -> ReleaseRequest:
    """The other side consents to a mutual-agreement release; with both consents it is executed."""
    deposit, request = _locked_request(user, request_id)
    if request.condition != ReleaseCondition.MUTUAL_AGREEMENT:
        raise ActionError(EscrowErrorCode.INVALID, "Only a mutual agreement takes consent.", "request_id")
    if access.is_depositor_member(user, deposit) and request.depositor_consent_by_id is None:
        request.depositor_consent_by = user
        side = "depositor"
    elif access.is_beneficiary_member(user, deposit) and request.beneficiary_consent_by_id is None:
        request.beneficiary_consent_by = user
        side = "beneficiary"
    elif access.is_depositor_member(user, deposit) or access.is_beneficiary_member(user, deposit):
        raise ActionError(EscrowErrorCode.INVALID_STATE, "Your side has already consented.", "request_id")
    else:
        raise ActionError(
            EscrowErrorCode.PERMISSION_DENIED, "Only the depositor and the beneficiary agree a release."
        )
    log.append(log.LogKind.CONSENT, {"request_id": request.pk, "side": side}, deposit=deposit, actor=user)
    if request.depositor_consent_by_id is not None and request.beneficiary_consent_by_id is not None:
        _execute(deposit, request, user)
    else:
        request.save(update_fields=["depositor_consent_by", "beneficiary_consent_by"])
    return request


@transaction.atomic
def reject_release(user: User, request_id: int, reason: str) -> ReleaseRequest:
    """Close a pending request without releasing: an operator (evidence found wanting), or for a mutual
    agreement a member of either side (declining or withdrawing)."""
    deposit, request = _locked_request(user, request_id)
    party = access.is_depositor_member(user, deposit) or access.is_beneficiary_member(user, deposit)
    if not (is_operator(user) or (party and request.condition == ReleaseCondition.MUTUAL_AGREEMENT)):
        raise ActionError(EscrowErrorCode.PERMISSION_DENIED, "You may not reject this request.")
    if not reason.strip():
        raise ActionError(EscrowErrorCode.INVALID, "Say why.", "reason")
    request.state = ReleaseRequestState.REJECTED
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_at"])
    log.append(
        log.LogKind.RELEASE_REJECTED,
        {"request_id": request.pk, "reason_sha256": sha256_hex(reason.strip().encode())},
        deposit=deposit,
        actor=user,
    )
    return request
