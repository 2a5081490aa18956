"""Deposits: seal an uploaded batch as a deposit with its certificate; read certificates and contents.

A deposit is written in one transaction: the row (its id is the wrapping context of the data key), the
wrapped key, the file rows, the "deposit" log leaf, a signed tree head and the certificate proving the
leaf's inclusion under that head. A refused or failed deposit deletes the ciphertext already stored.

Reading content: the checks are in `access`; every open and every refusal is written to the
transparency log in a transaction of its own that commits before the bytes flow (or the error is raised),
so the record survives whatever happens to the download. Before a single plaintext byte is sent, the
stored ciphertext is checked against its SHA-256 and fully authenticated (a first pass decrypts and
discards); the second pass, which streams, authenticates again (the storage could change in between).
"""

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from escrow.certificates import manifest_sha256, sign_certificate
from escrow.crypto import TamperedError, decrypt_stream
from escrow.error_codes import EscrowErrorCode
from escrow.models import Deposit, DepositFile, DepositPurpose
from escrow.vault import access, keys, log, storage
from escrow.vault.upload import SealedBatch, aad_for_stored
from marketplace.access import is_member
from marketplace.error_codes import ActionError
from marketplace.models import Listing, Milestone, MilestoneState

CERTIFICATE_FORMAT = "ipmarket-deposit-certificate/1"
# Milestones whose deliverables can still be deposited: not yet paid out or refunded.
OPEN_MILESTONE_STATES = (
    MilestoneState.PENDING,
    MilestoneState.FUNDED,
    MilestoneState.DELIVERED,
    MilestoneState.ACCEPTED,
    MilestoneState.DISPUTED,
)


def _invalid(message: str, field: str | None = None) -> ActionError:
    return ActionError(EscrowErrorCode.INVALID, message, field)


def check_batch(batch: SealedBatch) -> None:
    """The limits again, for batches that did not come through the upload handler."""
    if not batch.files:
        raise ActionError(EscrowErrorCode.EMPTY_DEPOSIT, "A deposit needs at least one file.", "files")
    if len(batch.files) > settings.ESCROW_MAX_FILES_PER_DEPOSIT:
        raise ActionError(
            EscrowErrorCode.TOO_MANY_FILES,
            f"A deposit holds at most {settings.ESCROW_MAX_FILES_PER_DEPOSIT} files.",
            "files",
        )
    if batch.total_size > settings.ESCROW_MAX_DEPOSIT_BYTES:
        raise ActionError(
            EscrowErrorCode.TOO_LARGE,
            f"A deposit holds at most {settings.ESCROW_MAX_DEPOSIT_BYTES} bytes.",
            "files",
        )


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > 200:
        raise _invalid("Give the deposit a title of at most 200 characters.", "title")
    return title


def seal(
    user: User,
    batch: SealedBatch,
    *,
    depositor_id: int,
    purpose: DepositPurpose,
    title: str,
    description: str = "",
    listing: Listing | None = None,
    deal_id: int | None = None,
    milestone: Milestone | None = None,
    beneficiary_id: int | None = None,
) -> Deposit:
    """Write a deposit whose access rules the caller has checked. Inside the caller's transaction."""
    check_batch(batch)
    manifest = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in batch.files]
    deposit = Deposit.objects.create(
        depositor_id=depositor_id,
        created_by=user,
        purpose=purpose,
        title=_clean_title(title),
        description=description.strip(),
        listing=listing,
        deal_id=deal_id,
        milestone=milestone,
        beneficiary_id=beneficiary_id,
        wrapped_key=b"",
        kek_id="",
        manifest_sha256=manifest_sha256(manifest),
        total_size=batch.total_size,
    )
    # The wrapping names the deposit id, which exists only now: same transaction, so never half-written.
    deposit.kek_id, deposit.wrapped_key = keys.keyring().wrap(
        batch.data_key, keys.deposit_context(deposit.pk)
    )
    DepositFile.objects.bulk_create(
        DepositFile(
            deposit=deposit,
            position=position,
            name=f.name,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            ciphertext_sha256=f.ciphertext_sha256,
            storage_name=f.storage_name,
        )
        for position, f in enumerate(batch.files)
    )
    created_at = log.iso(deposit.created_at)
    entry = log.append(
        log.LogKind.DEPOSIT,
        {
            "deposit_id": deposit.pk,
            "depositor_id": depositor_id,
            "manifest_sha256": deposit.manifest_sha256,
            "created_at": created_at,
        },
        deposit=deposit,
        actor=user,
    )
    head = log.sign_tree_head()
    body = {
        "format": CERTIFICATE_FORMAT,
        "deposit": {
            "id": deposit.pk,
            "depositor": {"id": depositor_id, "name": deposit.depositor.name},
            "purpose": str(purpose),
            "title": deposit.title,
            "created_at": created_at,
            "manifest": manifest,
            "manifest_sha256": deposit.manifest_sha256,
        },
        "log": {
            "index": entry.index,
            "leaf": base64.b64encode(bytes(entry.leaf)).decode(),
            "inclusion_proof": log.inclusion_proof_for(entry.index, head.tree_size),
            "tree_head": log.tree_head_json(head),
        },
    }
    deposit.certificate = sign_certificate(body, keys.signer())
    deposit.log_index = entry.index
    deposit.save(update_fields=["kek_id", "wrapped_key", "certificate", "log_index"])
    return deposit


@contextmanager
def sealing(batch: SealedBatch) -> Iterator[None]:
    """A transaction that, if it fails (a refusal or the commit itself), also deletes the batch's
    ciphertext: a refused deposit leaves nothing behind."""
    try:
        with transaction.atomic():
            yield
    except BaseException:
        batch.discard()
        raise


def create_deposit(
    user: User,
    organization_id: int,
    purpose: str,
    title: str,
    batch: SealedBatch,
    *,
    description: str = "",
    listing_id: int | None = None,
    deal_id: int | None = None,
    milestone_id: int | None = None,
) -> Deposit:
    """Deposit an uploaded batch for the user's organisation.

    - proof_of_existence: no listing, deal or milestone;
    - listing: the organisation's own listing;
    - milestone: the deliverables of a milestone of a deal in which the organisation sells; the deal's
      buyer is the beneficiary, and the deposit is released with the milestone's payment.
    Data-room documents go through `data_room.add_document`."""
    with sealing(batch):
        if not is_member(user, organization_id):
            raise ActionError(
                EscrowErrorCode.PERMISSION_DENIED, "Deposit for your own organisation.", "organization_id"
            )
        if purpose not in DepositPurpose.values:
            raise _invalid(f"Unknown purpose {purpose!r}.", "purpose")
        kind = DepositPurpose(purpose)
        listing: Listing | None = None
        milestone: Milestone | None = None
        if kind == DepositPurpose.DATA_ROOM:
            raise _invalid("Data-room documents are added to the deal's data room.", "purpose")
        if kind == DepositPurpose.PROOF_OF_EXISTENCE:
            if listing_id is not None or deal_id is not None or milestone_id is not None:
                raise _invalid("A proof of existence stands alone: no listing, deal or milestone.", "purpose")
            return seal(
                user, batch, depositor_id=organization_id, purpose=kind, title=title, description=description
            )
        if kind == DepositPurpose.LISTING:
            if listing_id is None:
                raise _invalid("Name the listing.", "listing_id")
            if deal_id is not None or milestone_id is not None:
                raise _invalid("Listing materials belong to the listing alone.", "deal_id")
            listing = Listing.objects.filter(pk=listing_id).first()
            if listing is None or listing.seller_id != organization_id:
                raise ActionError(
                    EscrowErrorCode.NOT_FOUND, "No such listing of your organisation.", "listing_id"
                )
            return seal(
                user,
                batch,
                depositor_id=organization_id,
                purpose=kind,
                title=title,
                description=description,
                listing=listing,
            )
        # A milestone's deliverables.
        if milestone_id is None:
            raise _invalid("Name the milestone.", "milestone_id")
        milestone = (
            (Milestone.objects.select_related("deal__listing").select_for_update(of=("self",)))
            .filter(pk=milestone_id)
            .first()
        )
        if milestone is None or milestone.deal.listing.seller_id != organization_id:
            raise ActionError(
                EscrowErrorCode.NOT_FOUND, "No such milestone on your side of a deal.", "milestone_id"
            )
        if (deal_id is not None and deal_id != milestone.deal_id) or (
            listing_id is not None and listing_id != milestone.deal.listing_id
        ):
            raise _invalid("The milestone belongs to another deal.", "deal_id")
        if milestone.state not in OPEN_MILESTONE_STATES:
            raise ActionError(
                EscrowErrorCode.INVALID_STATE, f"The milestone is {milestone.state}.", "milestone_id"
            )
        return seal(
            user,
            batch,
            depositor_id=organization_id,
            purpose=kind,
            title=title,
            description=description,
            listing=milestone.deal.listing,
            deal_id=milestone.deal_id,
            milestone=milestone,
            beneficiary_id=milestone.deal.buyer_id,
        )


def certificate_for(user: User, deposit_id: int) -> dict[str, Any]:
    deposit = access.visible_deposit(user, deposit_id)
    return dict(deposit.certificate or {})  # written in the transaction that created the deposit


def log_refusal(
    user: User, deposit_id: int, position: int, deposit: Deposit | None, error: ActionError
) -> None:
    """Record a refused read in a transaction of its own: the refusal stays on record although the
    action fails. Durable: it must not ride in a caller's transaction that could roll it back."""
    with transaction.atomic(durable=True):
        log.append(
            log.LogKind.DOWNLOAD_REFUSED,
            {"requested_deposit_id": deposit_id, "position": position, "reason": str(error.code)},
            deposit=deposit,
            actor=user,
        )


def _plaintext(deposit: Deposit, row: DepositFile) -> Iterator[bytes]:
    """The file's plaintext, authenticated chunk by chunk (TamperedError on any change)."""
    data_key = keys.keyring().unwrap(
        deposit.kek_id, bytes(deposit.wrapped_key), keys.deposit_context(deposit.pk)
    )
    return decrypt_stream(
        data_key, aad_for_stored(row.storage_name, row.position), storage.read_chunks(row.storage_name)
    )


def _verify(deposit: Deposit, row: DepositFile) -> None:
    """Raise TamperedError unless the stored ciphertext matches its hash and authenticates in full."""
    if storage.sha256_of(row.storage_name) != row.ciphertext_sha256:
        raise TamperedError("the stored ciphertext does not match its SHA-256")
    for _ in _plaintext(deposit, row):
        pass


def _stream(deposit: Deposit, row: DepositFile) -> Iterator[bytes]:
    try:
        yield from _plaintext(deposit, row)
    except TamperedError as exc:  # changed between the check and the read: the client must discard
        raise ActionError(EscrowErrorCode.TAMPERED, "The stored file has been tampered with.") from exc


def deliver(
    user: User, deposit: Deposit, position: int, kind: log.LogKind, data: dict[str, Any] | None = None
) -> tuple[DepositFile, Iterator[bytes]]:
    """Check, log (committed) and stream one file of a deposit whose access the caller has decided."""
    row = deposit.files.filter(position=position).first()
    if row is None:
        error = ActionError(EscrowErrorCode.NOT_FOUND, "No such file in this deposit.", "position")
        log_refusal(user, deposit.pk, position, deposit, error)
        raise error
    try:
        _verify(deposit, row)
    except (TamperedError, FileNotFoundError) as exc:
        error = ActionError(EscrowErrorCode.TAMPERED, "The stored file has been tampered with.", "position")
        log_refusal(user, deposit.pk, position, deposit, error)
        raise error from exc
    with transaction.atomic(durable=True):
        log.append(
            kind,
            {"position": position, "sha256": row.sha256, **(data or {})},
            deposit=deposit,
            actor=user,
        )
    return row, _stream(deposit, row)


def open_file(user: User, deposit_id: int, position: int) -> tuple[DepositFile, Iterator[bytes]]:
    """One file's plaintext, for the depositor's members always and the beneficiary's members once the
    deposit is released. Do not call inside a transaction: the log entries must commit on their own."""
    deposit = access.load(deposit_id)
    if deposit is not None and deposit.purpose == DepositPurpose.DATA_ROOM:
        from escrow.vault import data_room  # data_room builds on this module

        return data_room.view_document(user, deposit_id, position)
    refusal = access.content_refusal(user, deposit)
    if refusal is not None or deposit is None:
        refusal = refusal or access.not_found()
        log_refusal(user, deposit_id, position, deposit, refusal)
        raise refusal
    return deliver(user, deposit, position, log.LogKind.DOWNLOAD)
