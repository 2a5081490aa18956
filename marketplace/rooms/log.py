"""Appending to a room's log, and waking its subscribers once the entry is committed.

Persist first, then publish: the entry and its sequence are written in the caller's transaction; the
wake-up goes out after commit and may be lost (Redis down, restarted) without losing the entry, because
subscribers read the log from the last sequence they saw.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.db import connection, transaction

from marketplace.models import DealRoom, EntryKind, RoomEntry, Thread
from marketplace.rooms.entries import entry_of

logger = logging.getLogger(__name__)


def room_group(deal_id: int) -> str:
    return f"dealroom.{deal_id}"


def last_sequence(deal_id: int) -> int:
    """The room's latest sequence; 0 before its first entry."""
    return DealRoom.objects.filter(pk=deal_id).values_list("last_sequence", flat=True).first() or 0


def _next_sequence(deal_id: int) -> int:
    """One statement takes the room row's lock and the next number; the lock is held to commit, so
    numbers commit in order (see DealRoom)."""
    table = DealRoom._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (deal_id, last_sequence, digest_sequence, last_entry_at) "  # noqa: S608
            "VALUES (%s, 1, 0, now()) ON CONFLICT (deal_id) DO UPDATE "
            f"SET last_sequence = {table}.last_sequence + 1, last_entry_at = now() RETURNING last_sequence",
            [deal_id],
        )
        return int(cursor.fetchone()[0])


def append(
    deal_id: int,
    *,
    kind: EntryKind,
    author: User | None,
    author_role: str,
    thread: str = Thread.ALL,
    body: str = "",
    event: str = "",
    data: dict[str, Any] | None = None,
    attachment_id: int | None = None,
    source: RoomEntry | None = None,
    client_id: str = "",
) -> RoomEntry:
    # Inside the change's own transaction (no savepoint: a failure fails the change), so the entry and the
    # change commit together; on its own, a transaction of its own.
    with transaction.atomic(savepoint=False):
        created = RoomEntry.objects.create(
            deal_id=deal_id,
            sequence=_next_sequence(deal_id),
            kind=kind,
            thread=thread,
            author=author,
            author_role=author_role,
            body=body,
            event=event,
            data=data or {},
            attachment_id=attachment_id,
            source=source,
            client_id=client_id,
        )
    # The author and source instances are on the row already; only a file needs its row read.
    payload = entry_of(created).to_payload()
    transaction.on_commit(lambda: publish(deal_id, {"type": "room.entry", "entry": payload}))
    return created


def publish(deal_id: int, message: dict[str, Any]) -> None:
    """Wake the room's subscribers. A failure is logged, never raised: the log already has the entry."""
    try:
        async_to_sync(get_channel_layer().group_send)(room_group(deal_id), message)
    except Exception:
        logger.warning("deal room %s: wake-up not published", deal_id, exc_info=True)
