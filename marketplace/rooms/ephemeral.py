"""What a room knows only for a moment: who is connected, who is typing, how fast each user writes.

All of it lives in Redis with a time to live and none of it is kept: a Redis restart forgets presence
(subscribers re-announce themselves at their next refresh) and nothing durable is lost. Rate limits fall
back to a per-process counter while Redis is unreachable, so an outage never lifts them.
"""

import asyncio
import logging
import time
from collections import defaultdict

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

PRESENCE_TTL = 45.0  # seconds a connection counts as present without a refresh
TYPING_TTL = 6.0

_sync_client: redis.Redis | None = None
_async_clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
_local_counts: dict[str, int] = defaultdict(int)


def _prefix() -> str:
    return str(getattr(settings, "REALTIME_REDIS_PREFIX", "ipmarket:rt"))


def _sync() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _sync_client


def _async() -> aioredis.Redis:
    # redis.asyncio connections belong to one event loop.
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        _async_clients[loop] = client
    return client


def _user_of(member: object) -> int:
    """Presence members are `<user id>:<connection>`; typing members are the user id."""
    text = member.decode() if isinstance(member, bytes) else str(member)
    return int(text.split(":")[0])


def _presence_key(deal_id: int) -> str:
    return f"{_prefix()}:presence:{deal_id}"


def _typing_key(deal_id: int) -> str:
    return f"{_prefix()}:typing:{deal_id}"


async def mark_present(deal_id: int, user_id: int, connection: str) -> bool:
    """Record (or refresh) one connection's presence. True if the user was not present before."""
    client, key, now = _async(), _presence_key(deal_id), time.time()
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrangebyscore(key, now, "+inf")
            pipe.zadd(key, {f"{user_id}:{connection}": now + PRESENCE_TTL})
            pipe.expire(key, int(PRESENCE_TTL * 2))
            _, members, _, _ = await pipe.execute()
    except redis.RedisError:
        logger.warning("presence not recorded (Redis unavailable)", exc_info=True)
        return False
    return all(_user_of(member) != user_id for member in members)


async def mark_absent(deal_id: int, user_id: int, connection: str) -> bool:
    """Drop one connection. True if the user has no other connection to the room left."""
    client, key = _async(), _presence_key(deal_id)
    try:
        await client.zrem(key, f"{user_id}:{connection}")
        members = await client.zrangebyscore(key, time.time(), "+inf")
    except redis.RedisError:
        return False
    return all(_user_of(member) != user_id for member in members)


def present_users(deal_id: int) -> set[int]:
    try:
        members = _sync().zrangebyscore(_presence_key(deal_id), time.time(), "+inf")
    except redis.RedisError:
        logger.warning("presence unknown (Redis unavailable)", exc_info=True)
        return set()
    return {_user_of(member) for member in members}


def mark_typing(deal_id: int, user_id: int) -> bool:
    """True if this starts a typing spell (worth announcing); repeats within the TTL are not."""
    key, now = _typing_key(deal_id), time.time()
    try:
        before = _sync().zscore(key, str(user_id))
        pipe = _sync().pipeline(transaction=True)
        pipe.zadd(key, {str(user_id): now + TYPING_TTL})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.expire(key, int(TYPING_TTL * 2))
        pipe.execute()
    except redis.RedisError:
        return False
    return before is None or float(before) < now + TYPING_TTL - 2


def typing_users(deal_id: int) -> set[int]:
    try:
        members = _sync().zrangebyscore(_typing_key(deal_id), time.time(), "+inf")
    except redis.RedisError:
        return set()
    return {_user_of(member) for member in members}


def hit_rate_limit(user_id: int, limit: int, window: int) -> int:
    """Count one message; 0 if within `limit` per `window` seconds, else seconds until the next window."""
    now = time.time()
    start = int(now // window) * window
    key = f"{_prefix()}:rate:{user_id}:{window}:{start}"
    try:
        pipe = _sync().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        count = int(pipe.execute()[0])
    except redis.RedisError:
        _local_counts[key] += 1
        count = _local_counts[key]
        for stale in [k for k in _local_counts if not k.endswith(f":{start}")]:
            del _local_counts[stale]
    if count <= limit:
        return 0
    return max(1, int(start + window - now + 0.999))
