"""`dealRoomEvents`: replay what the client missed after its last sequence, then stream live.

The socket's consumer (backend/realtime/rooms.py) joins the room's channel-layer group and hands this
generator each wake-up. A wake-up carries the committed entry, so the next entry in order is rendered
without a database round trip; any gap (a wake-up lost while Redis was down, a queue overflow) is filled
from the log, and the log is also read every REFRESH seconds in case wake-ups stopped altogether.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import graphene
from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError

from backend.api.core.errors import ApiErrorCode
from backend.api.core.ids import decode_id
from backend.api.marketplace.rooms import RoomMessage, RoomParticipant, RoomThreadEnum
from marketplace.error_codes import ActionError
from marketplace.rooms import ephemeral
from marketplace.rooms.entries import Entry, rows_after
from marketplace.rooms.view import Rendered, Viewer, author_label, load_viewer, render

BATCH = 200
# System events after which what a viewer sees changes (names revealed, brokers added or removed).
VIEW_CHANGES = {"nda_signed", "nda_completed", "brokers_assigned", "deal_cancelled"}

DealRoomEventType = graphene.Enum(
    "DealRoomEventType",
    [("MESSAGE", "message"), ("TYPING", "typing"), ("READ", "read"), ("PRESENCE", "presence")],
)


class DealRoomEvent(graphene.ObjectType):
    """A message (kept, with a sequence) or an ephemeral signal: typing, a read receipt, presence."""

    type = graphene.Field(DealRoomEventType, required=True)
    sequence = graphene.Int(description="A message's sequence; remember the last for afterSequence.")
    message = graphene.Field(RoomMessage)
    participant = graphene.Field(RoomParticipant, description="Who is typing, reading, arriving or leaving.")
    read_sequence = graphene.Int(description="READ: how far they have read.")
    online = graphene.Boolean(description="PRESENCE: whether they are now connected.")
    thread = graphene.Field(RoomThreadEnum, description="TYPING: where they are typing.")


def _message_event(rendered: Rendered) -> DealRoomEvent:
    return DealRoomEvent(type="message", sequence=rendered.entry.sequence, message=rendered)


def _signal_event(viewer: Viewer, signal: dict[str, Any]) -> DealRoomEvent | None:
    kind = signal.get("event")
    if kind == "typing" and (signal["user_id"] == viewer.user_id or not viewer.sees_thread(signal["thread"])):
        return None
    participant = RoomParticipant(
        name=author_label(viewer, signal["role"], signal["user_id"], signal["name"]),
        role=signal["role"],
        is_you=signal["user_id"] == viewer.user_id,
        online=bool(signal.get("online", True)),
        typing=kind == "typing",
        last_read_sequence=int(signal.get("sequence", 0)),
    )
    return DealRoomEvent(
        type=kind,
        participant=participant,
        read_sequence=signal.get("sequence") if kind == "read" else None,
        online=signal.get("online") if kind == "presence" else None,
        thread=signal.get("thread") if kind == "typing" else None,
    )


class _Stream:
    """One subscriber's position in the log and its current view of the room."""

    def __init__(self, user: Any, viewer: Viewer, after: int) -> None:
        self.user, self.viewer, self.last = user, viewer, after

    async def catch_up(self) -> list[DealRoomEvent]:
        events: list[DealRoomEvent] = []
        while True:
            batch = await database_sync_to_async(rows_after, thread_sensitive=False)(
                self.viewer.deal_id, self.last, BATCH
            )
            events.extend(await self.take(batch))
            if len(batch) < BATCH:
                return events

    async def take(self, entries: list[Entry]) -> list[DealRoomEvent]:
        events = []
        for entry in entries:
            self.last = entry.sequence
            if entry.event in VIEW_CHANGES:
                # ActionError (access lost: a broker removed) ends the subscription with NOT_FOUND.
                self.viewer = await database_sync_to_async(load_viewer, thread_sensitive=False)(
                    self.user, self.viewer.deal_id
                )
            rendered = render(self.viewer, entry)
            if rendered is not None:
                events.append(_message_event(rendered))
        return events

    async def on_wake(self, message: dict[str, Any]) -> list[DealRoomEvent]:
        if message.get("type") != "room.entry":
            signal = _signal_event(self.viewer, message)
            return [signal] if signal is not None else []
        entry = Entry.from_payload(message["entry"])
        if entry.sequence <= self.last:
            return []  # already delivered (replay overlapped the live stream)
        if entry.sequence == self.last + 1:
            return await self.take([entry])
        return await self.catch_up()


def _refused(error: ActionError) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": str(error.code).upper()})


async def _admit(info: graphene.ResolveInfo, deal_id: str) -> Viewer:
    """Checked when the client subscribes, so a refusal is the subscribe's `error`, not a broken stream."""
    user = info.context.user
    if not user.is_authenticated:
        raise GraphQLError("Sign in first.", extensions={"code": ApiErrorCode.NOT_AUTHENTICATED})
    try:
        pk = decode_id(deal_id, "Deal", "deal_id")
        viewer: Viewer = await database_sync_to_async(load_viewer, thread_sensitive=False)(user, pk)
    except ActionError as error:
        raise _refused(error) from error
    return viewer


async def deal_room_events(
    info: graphene.ResolveInfo, viewer: Viewer, after: int
) -> AsyncIterator[DealRoomEvent]:
    context = info.context
    user, pk = context.user, viewer.deal_id
    refresh = float(getattr(settings, "REALTIME_KEEPALIVE", 15))
    feed = await context.consumer.open_room_feed(pk)
    stream = _Stream(user, viewer, max(0, after))
    try:
        if await ephemeral.mark_present(pk, user.pk, feed.key):
            await feed.announce(user, viewer.role, online=True)
        for event in await stream.catch_up():
            yield event
        while True:
            try:
                message = await asyncio.wait_for(feed.queue.get(), timeout=refresh)
            except TimeoutError:
                await ephemeral.mark_present(pk, user.pk, feed.key)
                events = await stream.catch_up()
            else:
                events = await stream.on_wake(message) if not feed.overflowed() else await stream.catch_up()
            for event in events:
                yield event
    except ActionError as error:
        raise _refused(error) from error
    finally:
        await feed.close()
        if await ephemeral.mark_absent(pk, user.pk, feed.key):
            await feed.announce(user, viewer.role, online=False)


class RoomSubscriptions(graphene.ObjectType):
    deal_room_events = graphene.Field(
        DealRoomEvent,
        required=True,
        deal_id=graphene.ID(required=True),
        after_sequence=graphene.Int(default_value=0, description="The last sequence you saw; 0 for all."),
        description="A deal room's messages after afterSequence, then live ones, typing, receipts, presence.",
    )

    @staticmethod
    async def subscribe_deal_room_events(
        root: Any, info: graphene.ResolveInfo, deal_id: str, after_sequence: int = 0
    ) -> AsyncIterator[DealRoomEvent]:
        viewer = await _admit(info, deal_id)
        return deal_room_events(info, viewer, after_sequence or 0)

    @staticmethod
    def resolve_deal_room_events(event: DealRoomEvent, info: graphene.ResolveInfo, **kwargs: Any) -> Any:
        return event
