"""The deal data room: NDA-gated deal documents kept in the vault, every upload and view on the log.

A document is a deposit of purpose data_room: encrypted and certified like any other, its depositor the
uploader's side (the seller or the buyer organisation; a broker's firm for a broker). The deal's parties
and brokers may add and view documents once both sides have signed the NDA.
"""

from collections.abc import Iterator

from django.contrib.auth.models import User

from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, DepositFile, DepositPurpose
from escrow.vault import access, deposits, log
from escrow.vault.upload import SealedBatch
from marketplace.access import SIGNED_STATES, access_deal, deal_side, is_deal_broker
from marketplace.error_codes import ActionError
from marketplace.models import BrokerProfile, Side


def add_document(user: User, deal_id: int, title: str, batch: SealedBatch) -> Deposit:
    with deposits.sealing(batch):
        try:
            deal = access_deal(user, deal_id, lock=True)
        except ActionError as exc:
            raise ActionError(EscrowErrorCode.NOT_FOUND, "No such deal.", "deal_id") from exc
        side = deal_side(user, deal)
        if side == Side.SELLER:
            depositor_id = deal.listing.seller_id
        elif side == Side.BUYER:
            depositor_id = deal.buyer_id
        elif is_deal_broker(user, deal):
            profile = BrokerProfile.objects.filter(user=user).first()
            if profile is None:
                raise ActionError(EscrowErrorCode.PERMISSION_DENIED, "Brokers deposit for their firm.")
            depositor_id = profile.firm_id
        else:  # an operator, who may see the deal but is no party to it
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED, "Only the deal's parties and brokers add documents."
            )
        if deal.state not in SIGNED_STATES:
            raise ActionError(EscrowErrorCode.NDA_REQUIRED, "The data room opens once the NDA is signed.")
        deposit = deposits.seal(
            user,
            batch,
            depositor_id=depositor_id,
            purpose=DepositPurpose.DATA_ROOM,
            title=title,
            listing=deal.listing,
            deal_id=deal.pk,
        )
        log.append(
            log.LogKind.DATA_ROOM_UPLOAD,
            {"deal_id": deal.pk, "side": str(side or "broker"), "files": len(batch.files)},
            deposit=deposit,
            actor=user,
        )
        return deposit


def view_document(user: User, deposit_id: int, position: int) -> tuple[DepositFile, Iterator[bytes]]:
    """One data-room file's plaintext; the view (who, when, which file) is logged before it is served,
    a refusal as download_refused. Do not call inside a transaction."""
    deposit = access.load(deposit_id)
    refusal = access.data_room_refusal(user, deposit)
    if refusal is not None or deposit is None:
        refusal = refusal or access.not_found()
        deposits.log_refusal(user, deposit_id, position, deposit, refusal)
        raise refusal
    return deposits.deliver(user, deposit, position, log.LogKind.DATA_ROOM_VIEW, {"deal_id": deposit.deal_id})


def documents(user: User, deal_id: int) -> list[Deposit]:
    """The deal's data-room documents, for those who may view them (NDA_REQUIRED before the NDA)."""
    try:
        deal = access_deal(user, deal_id)
    except ActionError as exc:
        raise ActionError(EscrowErrorCode.NOT_FOUND, "No such deal.", "deal_id") from exc
    if deal_side(user, deal) is None and not is_deal_broker(user, deal):
        raise ActionError(
            EscrowErrorCode.PERMISSION_DENIED, "Only the deal's parties and brokers view its data room."
        )
    if deal.state not in SIGNED_STATES:
        raise ActionError(EscrowErrorCode.NDA_REQUIRED, "The data room opens once the NDA is signed.")
    return list(Deposit.objects.filter(deal=deal, purpose=DepositPurpose.DATA_ROOM).order_by("pk"))
