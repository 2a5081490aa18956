"""Who may read what in the vault.

- Metadata and the certificate: the depositor's members, the beneficiary's members, operators, and for a
  data-room document the deal's parties and brokers.
- Content of a deposit: the depositor's members always; the beneficiary's members once it is released;
  nobody else (operators see metadata, never content).
- Content of a data-room document: the depositor's members always; the deal's parties and brokers once
  the NDA is signed.

Someone with no tie to a deposit is told NOT_FOUND, not PERMISSION_DENIED, so they do not learn that it
exists; operators, who see the metadata anyway, are told PERMISSION_DENIED.
"""

from django.contrib.auth.models import User

from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, DepositPurpose, DepositState
from marketplace.access import SIGNED_STATES, deal_side, is_deal_broker, is_member, is_operator
from marketplace.error_codes import ActionError


def not_found() -> ActionError:
    return ActionError(EscrowErrorCode.NOT_FOUND, "No such deposit.", "deposit_id")


def load(deposit_id: int, *, lock: bool = False) -> Deposit | None:
    queryset = Deposit.objects.select_related("depositor", "deal__listing")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.filter(pk=deposit_id).first()


def is_depositor_member(user: User, deposit: Deposit) -> bool:
    return is_member(user, deposit.depositor_id)


def is_beneficiary_member(user: User, deposit: Deposit) -> bool:
    return deposit.beneficiary_id is not None and is_member(user, deposit.beneficiary_id)


def is_data_room_party(user: User, deposit: Deposit) -> bool:
    """A party's member or a broker of the deal a data-room document belongs to (NDA not considered)."""
    if deposit.purpose != DepositPurpose.DATA_ROOM or deposit.deal is None or not user.is_authenticated:
        return False
    return deal_side(user, deposit.deal) is not None or is_deal_broker(user, deposit.deal)


def is_milestone_broker(user: User, deposit: Deposit) -> bool:
    """A broker of the deal whose milestone deliverables these are: they mediate, so they see what was
    deposited (metadata and certificate), never the content."""
    if deposit.purpose != DepositPurpose.MILESTONE or deposit.deal is None or not user.is_authenticated:
        return False
    return is_deal_broker(user, deposit.deal)


def can_see_deposit(user: User, deposit: Deposit) -> bool:
    return (
        is_operator(user)
        or is_depositor_member(user, deposit)
        or is_beneficiary_member(user, deposit)
        or is_data_room_party(user, deposit)
        or is_milestone_broker(user, deposit)
    )


def visible_deposit(user: User, deposit_id: int, *, lock: bool = False) -> Deposit:
    deposit = load(deposit_id, lock=lock)
    if deposit is None or not can_see_deposit(user, deposit):
        raise not_found()
    return deposit


def content_refusal(user: User, deposit: Deposit | None) -> ActionError | None:
    """Why `user` may not read this deposit's files (None: they may). Not for data-room documents."""
    if deposit is None or deposit.purpose == DepositPurpose.DATA_ROOM:
        return not_found()
    if is_depositor_member(user, deposit):
        return None
    if is_beneficiary_member(user, deposit):
        if deposit.state == DepositState.RELEASED:
            return None
        return ActionError(EscrowErrorCode.NOT_RELEASED, "The deposit has not been released.", "deposit_id")
    if is_operator(user):
        return ActionError(
            EscrowErrorCode.PERMISSION_DENIED, "Operators see a deposit's metadata, not its content."
        )
    return not_found()


def data_room_refusal(user: User, deposit: Deposit | None) -> ActionError | None:
    """Why `user` may not view this data-room document (None: they may)."""
    if deposit is None or deposit.purpose != DepositPurpose.DATA_ROOM or deposit.deal is None:
        return not_found()
    if is_depositor_member(user, deposit):
        return None
    if not is_data_room_party(user, deposit):
        if is_operator(user):
            return ActionError(
                EscrowErrorCode.PERMISSION_DENIED, "Only the deal's parties and brokers view its data room."
            )
        return not_found()
    if deposit.deal.state not in SIGNED_STATES:
        return ActionError(EscrowErrorCode.NDA_REQUIRED, "The data room opens once the NDA is signed.")
    return None
