"""The GraphQL socket with deal-room feeds: the bridge from channel-layer wake-ups to subscriptions.

A socket joins a room's group once, however many subscriptions it has on that room, and hands each
wake-up to every feed of that room. A feed's queue is bounded: a client too slow to keep up loses
wake-ups, never messages, because its subscription then reads the log from its last sequence.
"""

import asyncio
import logging
import uuid
from typing import Any

from django.contrib.auth.models import User

from backend.realtime.protocol import GraphQLTransportWSConsumer
from marketplace.rooms.entries import display_name
from marketplace.rooms.log import room_group

FEED_QUEUE = 256
logger = logging.getLogger(__name__)


class RoomFeed:
    def __init__(self, consumer: "DealRoomConsumer", deal_id: int) -> None:
        self.consumer, self.deal_id = consumer, deal_id
        self.key = uuid.uuid4().hex[:16]  # this connection's presence in the room
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=FEED_QUEUE)
        self._overflowed = False

    def push(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflowed = True

    def overflowed(self) -> bool:
        """True once after wake-ups were dropped: the subscriber should read the log instead."""
        if not self._overflowed:
            return False
        self._overflowed = False
        while not self.queue.empty():
            self.queue.get_nowait()
        return True

    async def announce(self, user: User, role: str, online: bool) -> None:
        message = {
            "type": "room.signal",
            "event": "presence",
            "deal_id": self.deal_id,
            "user_id": user.pk,
            "role": role,
            "name": display_name(user),
            "online": online,
        }
        try:
            await self.consumer.channel_layer.group_send(room_group(self.deal_id), message)
        except Exception:
            logger.warning("presence in deal room %s not announced", self.deal_id, exc_info=True)

    async def close(self) -> None:
        await self.consumer.close_room_feed(self)


class DealRoomConsumer(GraphQLTransportWSConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.room_feeds: dict[int, set[RoomFeed]] = {}

    async def open_room_feed(self, deal_id: int) -> RoomFeed:
        feed = RoomFeed(self, deal_id)
        if deal_id not in self.room_feeds:
            self.room_feeds[deal_id] = set()
            await self.channel_layer.group_add(room_group(deal_id), self.channel_name)
        self.room_feeds[deal_id].add(feed)
        return feed

    async def close_room_feed(self, feed: RoomFeed) -> None:
        feeds = self.room_feeds.get(feed.deal_id)
        if feeds is None:
            return
        feeds.discard(feed)
        if not feeds:
            del self.room_feeds[feed.deal_id]
            try:
                await self.channel_layer.group_discard(room_group(feed.deal_id), self.channel_name)
            except Exception:
                logger.warning("deal room %s: group not left", feed.deal_id, exc_info=True)

    def _deliver(self, deal_id: int, message: dict[str, Any]) -> None:
        for feed in self.room_feeds.get(deal_id, ()):
            feed.push(message)

    # Channel-layer handlers (message "type" room.entry -> room_entry).
    async def room_entry(self, message: dict[str, Any]) -> None:
        self._deliver(int(message["entry"]["deal_id"]), message)

    async def room_signal(self, message: dict[str, Any]) -> None:
        self._deliver(int(message["deal_id"]), message)
