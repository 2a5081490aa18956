"""Offline digests: participants who were away from a deal room hear once what they missed.

A room is digested once it has been quiet for DEAL_ROOM_DIGEST_DELAY seconds, so a burst of messages
becomes one notification and one e-mail, not one per message. Each room is handled in its own transaction
holding its row lock (skip_locked: a second worker passes it by), and `digest_sequence` records how far
the digest has looked, so a re-run, or two workers at once, send nothing twice. E-mails go out after
commit; the in-app notification is the record when mail fails.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from graphql_relay import to_global_id

from marketplace.models import Deal, DealRoom, EntryKind, Notification, RoomReadState
from marketplace.rooms import ephemeral
from marketplace.rooms.entries import Entry, rows_after
from marketplace.rooms.participants import participants
from marketplace.rooms.view import Rendered, Viewer, buyer_alias, is_relayed, render

logger = logging.getLogger(__name__)

NOTIFICATION_KIND = "deal_room_unread"
# Moderation entries are bookkeeping, not news.
DIGEST_KINDS = (EntryKind.TEXT, EntryKind.FILE, EntryKind.FORWARD, EntryKind.SYSTEM)
SHOWN = 5  # the latest messages quoted in a digest
LINE_CHARS = 200
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Digest:
    user: User
    unread: list[Rendered]  # oldest first, rendered for this user (aliases, masking)

    @property
    def from_sequence(self) -> int:
        return self.unread[0].entry.sequence

    @property
    def to_sequence(self) -> int:
        return self.unread[-1].entry.sequence


def digest_delay() -> int:
    return int(getattr(settings, "DEAL_ROOM_DIGEST_DELAY", 120))


def deal_path(deal_id: int) -> str:
    return f"/deals/{to_global_id('Deal', deal_id)}"


def dedupe_key(deal_id: int, to_sequence: int) -> str:
    return f"deal_room:{deal_id}:{to_sequence}"


def title_of(count: int, listing_title: str) -> str:
    return f"{count} unread message{'' if count == 1 else 's'} in “{listing_title}”"


def line_of(rendered: Rendered) -> str:
    """One line per message: '<author as this viewer sees them>: <words as this viewer may read them>'."""
    text = SPACES.sub(" ", rendered.body or "").strip()
    if rendered.attachment is not None:
        text = f"{text} [file: {rendered.attachment.name}]".strip()
    if len(text) > LINE_CHARS:
        text = text[: LINE_CHARS - 1] + "…"
    return f"{rendered.author_name}: {text}"


def summary_of(digest: Digest) -> str:
    shown = digest.unread[-SHOWN:]
    head = [f"The latest {len(shown)} of {len(digest.unread)}:"] if len(digest.unread) > len(shown) else []
    return "\n".join(head + [line_of(r) for r in shown])


def email_body(digest: Digest, title: str, deal_id: int) -> str:
    return f"{title} while you were away.\n\n{summary_of(digest)}\n\nRead and reply: {deal_path(deal_id)}\n"


def _send(messages: list[EmailMessage]) -> None:
    try:
        get_connection().send_messages(messages)
    except Exception:
        # The notifications are committed and are the record; a mail outage must not undo them.
        logger.exception("deal-room digest e-mails could not be sent (%d messages)", len(messages))


def _unread(viewer: Viewer, entries: list[Entry], after: int) -> list[Rendered]:
    unread = []
    for entry in entries:
        if entry.sequence <= after or entry.author_id == viewer.user_id:
            continue
        rendered = render(viewer, entry)  # None: another side's private thread
        if rendered is not None:
            unread.append(rendered)
    return unread


def _digests(room: DealRoom, deal: Deal) -> list[Digest]:
    present = ephemeral.present_users(deal.pk)  # they saw it live
    away = [(user, role) for user, role in participants(deal) if user.is_active and user.pk not in present]
    states = {s.user_id: s for s in RoomReadState.objects.filter(deal=deal)}
    # Entries up to digest_sequence were dealt with by an earlier run: told, read, or seen live.
    after: dict[int, int] = {}
    for user, _ in away:
        state = states.get(user.pk)
        marks = (state.last_read_sequence, state.notified_sequence) if state else (0, 0)
        after[user.pk] = max(room.digest_sequence, *marks)
    low = min(after.values(), default=room.last_sequence)
    if low >= room.last_sequence:
        return []
    entries = [
        entry
        for entry in rows_after(deal.pk, low, room.last_sequence - low)
        if entry.kind in DIGEST_KINDS and not entry.hidden
    ]
    relayed, alias = is_relayed(deal), buyer_alias(deal)
    digests = []
    for user, role in away:
        viewer = Viewer(user_id=user.pk, deal_id=deal.pk, role=role, relayed=relayed, buyer_alias=alias)
        unread = _unread(viewer, entries, after[user.pk])
        if unread:
            digests.append(Digest(user, unread))
    return digests


def _digest_room(room: DealRoom) -> int:
    """Runs inside the transaction holding the room's lock: no entry can be appended meanwhile."""
    deal = Deal.objects.select_related("listing").get(pk=room.deal_id)
    digests = _digests(room, deal)
    notifications = [
        Notification(
            user=d.user,
            kind=NOTIFICATION_KIND,
            title=title_of(len(d.unread), deal.listing.title),
            body=summary_of(d),
            data={"deal_id": deal.pk, "from_sequence": d.from_sequence, "to_sequence": d.to_sequence},
            dedupe_key=dedupe_key(deal.pk, d.to_sequence),
        )
        for d in digests
    ]
    # The unique (user, dedupe_key) keeps a digest single even if a marker was lost; the read before it
    # is exact because only this job writes these keys and it holds the room's lock.
    taken = set(
        Notification.objects.filter(
            user_id__in=[n.user_id for n in notifications],
            dedupe_key__in=[n.dedupe_key for n in notifications],
        ).values_list("user_id", "dedupe_key")
    )
    fresh = [n for n in notifications if (n.user_id, n.dedupe_key) not in taken]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    # Only this job moves notified_sequence, under the room's lock, always forward: an upsert suffices.
    RoomReadState.objects.bulk_create(
        [RoomReadState(deal=deal, user=d.user, notified_sequence=d.to_sequence) for d in digests],
        update_conflicts=True,
        unique_fields=["deal", "user"],
        update_fields=["notified_sequence"],
    )
    DealRoom.objects.filter(pk=room.pk).update(digest_sequence=room.last_sequence)
    fresh_users = {n.user_id for n in fresh}
    messages = [
        EmailMessage(n.title, email_body(d, n.title, deal.pk), settings.DEFAULT_FROM_EMAIL, [d.user.email])
        for d, n in zip(digests, notifications, strict=True)
        if d.user.pk in fresh_users and d.user.email
    ]
    if messages:
        transaction.on_commit(partial(_send, messages))
    return len(fresh)


def send_room_digests(now: datetime | None = None) -> int:
    """Digest every room with entries the digest has not looked at, quiet for the delay. Answers the
    number of digests (one notification, and an e-mail when the user has an address) sent."""
    quiet_before = (now or timezone.now()) - timedelta(seconds=digest_delay())
    due = DealRoom.objects.filter(last_sequence__gt=F("digest_sequence"), last_entry_at__lte=quiet_before)
    sent = 0
    for deal_id in list(due.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            # Re-checked under the lock: another worker may have done it, or a message just arrived.
            room = due.select_for_update(skip_locked=True).filter(pk=deal_id).first()
            if room is not None:
                sent += _digest_room(room)
    return sent
