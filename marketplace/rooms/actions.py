"""What participants do in a deal room: write, forward (brokers), hide (operators), read, type.

Each action checks access with `load_viewer` (outsiders get NOT_FOUND), writes inside one transaction, and
wakes subscribers after commit (log.py).
"""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from marketplace import audit
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import AuthorRole, DealState, EntryKind, RoomEntry, RoomReadState
from marketplace.rooms import ephemeral
from marketplace.rooms.entries import display_name
from marketplace.rooms.log import append, last_sequence, publish
from marketplace.rooms.view import Viewer, load_viewer


def max_message_chars() -> int:
    return int(getattr(settings, "DEAL_ROOM_MAX_MESSAGE_CHARS", 4000))


def rate_limit() -> tuple[int, int]:
    """(messages, seconds) one user may send across all rooms."""
    messages, seconds = getattr(settings, "DEAL_ROOM_RATE_LIMIT", (30, 60))
    return int(messages), int(seconds)


def _writable_viewer(user: User, deal_id: int, viewer: Viewer | None = None) -> Viewer:
    viewer = viewer if viewer is not None and viewer.deal_id == deal_id else load_viewer(user, deal_id)
    # A cancelled deal's room stays readable, for the record, but takes no more messages.
    if viewer.deal_state == DealState.CANCELLED:
        raise ActionError(MarketplaceErrorCode.ROOM_CLOSED, "The deal was cancelled; its room is read-only.")
    return viewer


def _check_rate(user: User) -> None:
    limit, window = rate_limit()
    wait = ephemeral.hit_rate_limit(user.pk, limit, window)
    if wait:
        raise ActionError(
            MarketplaceErrorCode.RATE_LIMITED, f"At most {limit} messages per {window} s; retry in {wait} s."
        )


def _check_body(body: str, required: bool) -> str:
    body = body.strip()
    if len(body) > max_message_chars():
        raise ActionError(
            MarketplaceErrorCode.MESSAGE_TOO_LONG, f"At most {max_message_chars():,} characters.", "body"
        )
    if required and not body:
        raise ActionError(MarketplaceErrorCode.INVALID, "Write something, or attach a file.", "body")
    return body


def _check_attachment(user: User, deal_id: int, file_id: int) -> None:
    from escrow.models import DepositFile  # the vault sits above the marketplace; imported on use
    from escrow.vault.access import can_see_deposit

    file = DepositFile.objects.select_related("deposit").filter(pk=file_id).first()
    if file is None or file.deposit.deal_id != deal_id or not can_see_deposit(user, file.deposit):
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such document in this deal.", "attachment_id")


def send_message(
    user: User,
    deal_id: int,
    body: str,
    thread: str = "all",
    attachment_id: int | None = None,
    client_id: str = "",
    viewer: Viewer | None = None,
) -> RoomEntry:
    """`viewer`: the sender's, when the caller has loaded it already (the API, to render the answer)."""
    viewer = _writable_viewer(user, deal_id, viewer)
    if thread not in viewer.writable_threads():
        raise ActionError(
            MarketplaceErrorCode.PERMISSION_DENIED, "Parties write to the room or their own thread.", "thread"
        )
    body = _check_body(body, required=attachment_id is None)
    if len(client_id) > 64:
        raise ActionError(MarketplaceErrorCode.INVALID, "At most 64 characters.", "client_id")
    if client_id:
        earlier = RoomEntry.objects.filter(author=user, client_id=client_id).first()
        if earlier is not None:
            return earlier  # a resend after a dropped socket: stored once, not rate-limited again
    _check_rate(user)
    if attachment_id is not None:
        _check_attachment(user, deal_id, attachment_id)

    def write() -> RoomEntry:
        return append(
            deal_id,
            kind=EntryKind.FILE if attachment_id is not None else EntryKind.TEXT,
            author=user,
            author_role=viewer.role,
            thread=thread,
            body=body,
            attachment_id=attachment_id,
            client_id=client_id,
        )

    if not client_id:
        return write()
    try:
        with transaction.atomic():  # a savepoint, so a lost race on the client id leaves the caller usable
            return write()
    except IntegrityError:
        # Two concurrent sends with one client id: the constraint kept one; answer with it.
        return RoomEntry.objects.get(author=user, client_id=client_id)


@transaction.atomic
def forward_message(user: User, entry_id: int, to_thread: str, note: str = "") -> RoomEntry:
    """A broker relays an entry to another thread (the seller's words to the buyer, say). The forward
    keeps whose words they are, so masking still applies to them before the NDA."""
    source = RoomEntry.objects.filter(pk=entry_id).first()
    if source is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such message.", "entry_id")
    viewer = _writable_viewer(user, source.deal_id)
    if viewer.role != AuthorRole.BROKER:
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only the deal's brokers forward messages.")
    if source.kind not in (EntryKind.TEXT, EntryKind.FILE, EntryKind.FORWARD) or source.hidden_at:
        raise ActionError(MarketplaceErrorCode.INVALID, "This message cannot be forwarded.", "entry_id")
    if to_thread not in viewer.writable_threads() or to_thread == source.thread:
        raise ActionError(MarketplaceErrorCode.INVALID, "Forward to another thread.", "to_thread")
    note = _check_body(note, required=False)
    _check_rate(user)
    origin = source.data.get("from_role", source.author_role) if source.kind == EntryKind.FORWARD else None
    return append(
        source.deal_id,
        kind=EntryKind.FORWARD,
        author=user,
        author_role=AuthorRole.BROKER,
        thread=to_thread,
        body=source.body,
        data={"from_role": origin or source.author_role, "note": note},
        attachment_id=source.attachment_id,
        source=source,
    )


@transaction.atomic
def hide_message(user: User, entry_id: int, reason: str) -> RoomEntry:
    """Operators hide a message from the participants; it stays, with who hid it and why, for audit."""
    if not (user.is_authenticated and user.is_staff):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only operators hide messages.")
    target = RoomEntry.objects.select_for_update().filter(pk=entry_id).first()
    if target is None:
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such message.", "entry_id")
    if target.kind not in (EntryKind.TEXT, EntryKind.FILE, EntryKind.FORWARD):
        raise ActionError(MarketplaceErrorCode.INVALID, "Only messages can be hidden.", "entry_id")
    if target.hidden_at is not None:
        return target
    reason = reason.strip()[:300]
    if not reason:
        raise ActionError(MarketplaceErrorCode.INVALID, "Say why.", "reason")
    target.hidden_at, target.hidden_by, target.hidden_reason = timezone.now(), user, reason
    target.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    audit.record(user, target, "hide_message", "visible", "hidden", reason=reason)
    # The hide is itself an entry, so a client resuming from a later sequence still learns of it.
    append(
        target.deal_id,
        kind=EntryKind.MODERATION,
        author=user,
        author_role=AuthorRole.OPERATOR,
        thread=target.thread,
        event="message_hidden",
        data={"target_sequence": target.sequence},
        source=target,
    )
    return target


def mark_read(user: User, deal_id: int, sequence: int) -> int:
    """Move the user's read marker forward (never back); answers the marker. Others see a read receipt."""
    viewer = load_viewer(user, deal_id)
    sequence = max(0, min(sequence, last_sequence(deal_id)))
    with transaction.atomic():
        state, _ = RoomReadState.objects.get_or_create(deal_id=deal_id, user=user)
        RoomReadState.objects.filter(pk=state.pk).update(
            last_read_sequence=Greatest(F("last_read_sequence"), sequence), read_at=timezone.now()
        )
        state.refresh_from_db(fields=["last_read_sequence"])
    marker = state.last_read_sequence
    transaction.on_commit(
        lambda: publish(deal_id, _signal(deal_id, "read", user, viewer.role, sequence=marker))
    )
    return marker


def set_typing(user: User, deal_id: int, thread: str = "all") -> bool:
    viewer = load_viewer(user, deal_id)
    if thread not in viewer.writable_threads():
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Not your thread.", "thread")
    started = ephemeral.mark_typing(deal_id, user.pk)
    if started:
        publish(deal_id, _signal(deal_id, "typing", user, viewer.role, thread=thread))
    return started


def _signal(deal_id: int, event: str, user: User, role: str, **data: object) -> dict[str, object]:
    """An ephemeral wake-up (typing, read receipt): delivered to whoever is connected, never stored."""
    return {
        "type": "room.signal",
        "deal_id": deal_id,
        "event": event,
        "user_id": user.pk,
        "role": role,
        "name": display_name(user),
        **data,
    }
