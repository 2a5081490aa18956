"""Deal-room realtime benchmark (`make bench-realtime`): fan-out latency against raw Redis pub/sub, memory
per socket, and memory growth under connection churn, on one uvicorn worker.

    make bench-realtime                                   # services up, then this script
    make bench-realtime ARGS="--quick"                    # a fast trial: 30 rooms, 300 messages, 1,000 cycles
    .venv/bin/python scripts/bench_realtime.py --profile  # py-spy flame graph of the server during fan-out

Flags (defaults in brackets):
  --rooms N [300]             rooms of 3 participants (seller member, buyer member, broker), a socket each
  --messages N [2000]         fan-out messages, sent at --rate per second [50]
  --probe-messages N [100]    a light-load probe first, at --probe-rate per second [5]; 0 skips it
  --redis-messages N [2000]   baseline round trips, at --redis-rate per second [200]
  --cycles N [10000]          churn cycles measured, after --warmup-cycles N [500]
  --concurrency N [50]        churn cycles (and socket opens) at once
  --server-rate-limit N [30]  the server's DEAL_ROOM_RATE_MESSAGES per 60 s (the product's default); the
                              client spreads its sends so that no user exceeds it
  --no-compression            offer no permessage-deflate (browsers offer it, and so do we by default)
  --profile [fanout|churn]    `py-spy record` of the server during that phase [fanout], into
                              <output>-profile.<svg|txt|json> per --profile-format
                              [flamegraph|raw|speedscope]; needs `.venv/bin/pip install py-spy`
  --timeline                  per-message [s since start, fan-out ms, sendMessage ms] in the JSON
  --seed N, --output PATH [.bench/realtime.json]
  --quick                     30 rooms, 300 messages, 100 + 1,000 cycles (flags given explicitly win)
One run at a time: a second one exits at once (a PostgreSQL advisory lock on the bench database).

One run, in this order:

1. The bench database (BENCH_REALTIME_DATABASE_URL, default `ipmarket_bench_realtime` on the demo's
   server) is created and migrated; the rooms (listing, seller and buyer organisations with one member
   each, a lead broker, a deal in inquiry) are generated once and reused; API tokens are kept in
   .bench/realtime-tokens.json (tokens whose digest is gone are made again). Earlier runs' room messages
   are deleted, so every run starts from empty logs.
2. One uvicorn worker serves backend.asgi with DEBUG off, Redis DB 13 (BENCH_REDIS_URL) and channel-layer
   and realtime prefixes of its own (Redis pub/sub channels are global across DB numbers); its log goes to
   .bench/realtime-server.log. RSS is read once it is steady (the search warm-up loads its encoder).
3. Every participant opens a socket (graphql-transport-ws, raw `websockets`) and subscribes to its room
   from the room's last sequence; a subscription counts as live at its first event (presence).
   kb_per_connection = (RSS connected - RSS idle) / sockets.
4. Baseline, while the sockets are connected: Redis PUBLISH -> SUBSCRIBE round trips (redis.asyncio).
5. Fan-out: a random participant of a random room sends `sendMessage` over its own socket; latency runs
   from the send until all three participants (the sender too) have the MESSAGE event with that body;
   `lost` counts messages not received by all three within 10 s (refused sends included). The mutation's
   own round trip (send -> its `next`) is reported beside it. The light-load probe runs the same way
   first, as a diagnostic: the cost of one message without queueing.
6. Churn: the fan-out sockets close; 3 s later --warmup-cycles connect -> connection_init -> subscribe ->
   first event or 50 ms -> disconnect cycles, 3 s idle, RSS "start"; then --cycles more, 5 s idle, RSS
   "after"; rss_growth_ratio = after / start.
7. A table on stdout and .bench/realtime.json. The exit status is 0 even when goals are missed.
"""

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_db import ensure_database, exclusive, refuse_unless_bench, with_path  # noqa: E402

from backend.env import env  # noqa: E402 (needs the path above; imports no Django)

BENCH_DIR = ROOT / ".bench"
TOKENS_FILE = BENCH_DIR / "realtime-tokens.json"
SERVER_LOG = BENCH_DIR / "realtime-server.log"
DATABASE = "ipmarket_bench_realtime"
LOCK_KEY = 0x62656E6368  # pg advisory lock: one run at a time
REDIS_DB = 13
CHANNELS_PREFIX = "ipmarket-bench-rt:asgi"
REALTIME_PREFIX = "ipmarket-bench-rt:rt"
BASELINE_CHANNEL = "ipmarket-bench-rt:baseline"
NAME = "bench-rt"  # usernames, organisation names and listing titles of the generated world start with it
SUBPROTOCOL = "graphql-transport-ws"
MAX_FRAME = 65536
LOST_AFTER = 10.0  # seconds: a message not received by all of its room by then is lost
DRAIN = 180.0  # seconds the fan-out waits, at most, for the last messages to arrive
FIRST_EVENT_WAIT = 0.05  # seconds a churn cycle waits for its subscription's first event
RATE_WINDOW = 60  # seconds of the server's per-user message limit (DEAL_ROOM_RATE_WINDOW)
GOALS = {
    "fanout_p99_over_redis_p99": ("<=", 20.0),
    "lost": ("<=", 0),
    "rss_growth_ratio": ("<=", 1.1),
}
QUICK = {"rooms": 30, "messages": 300, "cycles": 1000, "warmup_cycles": 100}

SUBSCRIPTION = (
    "subscription($d: ID!, $a: Int) { dealRoomEvents(dealId: $d, afterSequence: $a) "
    "{ type sequence message { sequence body } } }"
)
MUTATION = (
    "mutation($d: ID!, $b: String, $c: String) { sendMessage(dealId: $d, body: $b, clientMessageId: $c) "
    "{ message { sequence } errors { code } } }"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile_ms(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 3) if values else None


def latency_summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_ms": percentile_ms(values, 50),
        "p90_ms": percentile_ms(values, 90),
        "p99_ms": percentile_ms(values, 99),
        "max_ms": percentile_ms(values, 100),
    }


# --- environment and database --------------------------------------------------------------------------


def configure() -> dict[str, str]:
    """The settings of this process and of the server (set before django.setup); returns them."""
    values = {
        "DATABASE_URL": os.environ.get("BENCH_REALTIME_DATABASE_URL")
        or with_path(env("DATABASE_URL"), f"/{DATABASE}"),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or with_path(env("REDIS_URL"), f"/{REDIS_DB}"),
        "CHANNELS_PREFIX": CHANNELS_PREFIX,
        "REALTIME_REDIS_PREFIX": REALTIME_PREFIX,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        # As deployed: no DEBUG, hence secrets from the environment (throw-away ones for this run).
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_" + secrets.token_hex(24),
        "ESCROW_DEV_KEK": os.environ.get("ESCROW_DEV_KEK") or base64.b64encode(os.urandom(32)).decode(),
        "ESCROW_SIGNING_KEY": os.environ.get("ESCROW_SIGNING_KEY")
        or base64.b64encode(os.urandom(32)).decode(),
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
    }
    refuse_unless_bench(values["DATABASE_URL"])
    os.environ.update(values)
    return values


@dataclass
class Participant:
    user_id: int
    role: str  # seller / buyer / broker
    token: str = ""


@dataclass
class Room:
    index: int
    deal_id: int
    global_id: str
    last_sequence: int
    participants: list[Participant]


def _username(role: str, index: int) -> str:
    return f"{NAME}-{role}-{index:04d}"


def _title(index: int) -> str:
    return f"{NAME} room {index:04d}"


def create_rooms(indices: Sequence[int]) -> None:
    """Seller and buyer organisations with one member each, a published listing, a deal in inquiry and its
    lead broker, per room; bulk inserts in one transaction (no signals: nothing is indexed or audited)."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from marketplace.models import (
        BrokerProfile,
        Deal,
        DealBroker,
        Listing,
        Membership,
        Organization,
    )

    with transaction.atomic():
        firm, _ = Organization.objects.get_or_create(
            name=f"{NAME} broker firm", kind="broker_firm", country="KR", defaults={"is_generated": True}
        )
        users = []
        for i in indices:
            for role in ("seller", "buyer", "broker"):
                user = User(username=_username(role, i), first_name=role.title(), last_name=f"{i:04d}")
                user.set_unusable_password()
                users.append(user)
        User.objects.bulk_create(users)
        by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
        sellers = Organization.objects.bulk_create(
            Organization(name=f"{NAME} seller {i:04d}", kind="university", country="KR", is_generated=True)
            for i in indices
        )
        buyers = Organization.objects.bulk_create(
            Organization(name=f"{NAME} buyer {i:04d}", kind="sme", country="KR", is_generated=True)
            for i in indices
        )
        Membership.objects.bulk_create(
            Membership(user=by_name[_username(role, i)], organization=org, role="admin")
            for i, s, b in zip(indices, sellers, buyers, strict=True)
            for role, org in (("seller", s), ("buyer", b))
        )
        BrokerProfile.objects.bulk_create(
            BrokerProfile(user=by_name[_username("broker", i)], firm=firm, is_generated=True) for i in indices
        )
        listings = Listing.objects.bulk_create(
            Listing(
                seller=s,
                created_by=by_name[_username("seller", i)],
                title=_title(i),
                summary="Generated for the realtime benchmark.",
                transaction_types=["exclusive_licence"],
                status="published",
                is_generated=True,
            )
            for i, s in zip(indices, sellers, strict=True)
        )
        deals = Deal.objects.bulk_create(
            Deal(listing=lst, buyer=b, created_by=by_name[_username("buyer", i)], is_generated=True)
            for i, lst, b in zip(indices, listings, buyers, strict=True)
        )
        DealBroker.objects.bulk_create(
            DealBroker(deal=d, broker=by_name[_username("broker", i)], is_lead=True, share_bp=10_000)
            for i, d in zip(indices, deals, strict=True)
        )


def reset_logs(deal_ids: Sequence[int]) -> int:
    """Earlier runs' messages, read markers and sequences: every run starts from empty room logs."""
    from django.db import transaction

    from marketplace.models import DealRoom, RoomEntry, RoomReadState

    with transaction.atomic():
        deleted, _ = RoomEntry.objects.filter(deal_id__in=deal_ids).delete()
        RoomReadState.objects.filter(deal_id__in=deal_ids).delete()
        DealRoom.objects.filter(deal_id__in=deal_ids).delete()
    return deleted


def ensure_tokens(participants: Sequence[Participant]) -> int:
    """Tokens from TOKENS_FILE where their digest is still active; new ones for the rest. Returns how many
    were made."""
    from marketplace.actions.accounts import TOKEN_PREFIX, token_digest
    from marketplace.models import ApiToken

    known: dict[str, str] = json.loads(TOKENS_FILE.read_text()) if TOKENS_FILE.exists() else {}
    active = set(
        ApiToken.objects.filter(
            user_id__in=[p.user_id for p in participants], revoked_at__isnull=True
        ).values_list("digest", flat=True)
    )
    fresh = []
    for p in participants:
        token = known.get(str(p.user_id), "")
        if not token or token_digest(token) not in active:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            known[str(p.user_id)] = token
            fresh.append(ApiToken(user_id=p.user_id, name=NAME, digest=token_digest(token)))
        p.token = token
    if fresh:
        ApiToken.objects.bulk_create(fresh)
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        TOKENS_FILE.write_text(json.dumps(known, indent=0, sort_keys=True) + "\n")
        TOKENS_FILE.chmod(0o600)
    return len(fresh)


def prepare(rooms: int) -> tuple[list[Room], dict[str, Any]]:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from graphql_relay import to_global_id

    from marketplace.models import Deal, DealRoom

    log("migrating the bench database")
    call_command("migrate", verbosity=0, interactive=False)
    have = set(
        Deal.objects.filter(listing__title__startswith=f"{NAME} room ").values_list(
            "listing__title", flat=True
        )
    )
    missing = [i for i in range(rooms) if _title(i) not in have]
    started = time.perf_counter()
    if missing:
        log(f"generating {len(missing)} rooms")
        create_rooms(missing)
    deals = {
        title: pk
        for pk, title in Deal.objects.filter(
            listing__title__in=[_title(i) for i in range(rooms)]
        ).values_list("pk", "listing__title")
    }
    users = dict(
        User.objects.filter(username__startswith=f"{NAME}-").values_list("username", "pk").iterator()
    )
    result = []
    for i in range(rooms):
        people = [Participant(users[_username(role, i)], role) for role in ("seller", "buyer", "broker")]
        deal = deals[_title(i)]
        result.append(Room(i, deal, to_global_id("Deal", deal), 0, people))
    deleted = reset_logs([r.deal_id for r in result])
    made = ensure_tokens([p for r in result for p in r.participants])
    last = dict(DealRoom.objects.filter(deal_id__in=deals.values()).values_list("deal_id", "last_sequence"))
    for room in result:
        room.last_sequence = last.get(room.deal_id, 0)
    info = {
        "rooms_generated": len(missing),
        "tokens_made": made,
        "old_messages_deleted": deleted,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result, info


async def clear_redis_namespace(url: str) -> int:
    """Presence, typing and rate-limit keys of earlier runs (only this benchmark's prefix)."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{REALTIME_PREFIX}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        return len(keys)
    finally:
        await client.aclose()


# --- the server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    rate_limit: int

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql/"

    def rss_mb(self) -> float:
        return rss_kb(self.pid) / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server so far (/proc/<pid>/stat, fields 14 and 15)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat; idle and iowait count as not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


class CpuMeter:
    """CPU seconds the server and this client spend between start and `read()`, per unit of work, and how
    busy the whole machine was (other processes on it skew every latency here)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.server_start, self.client_start = server.cpu_seconds(), time.process_time()
        self.machine_start = machine_ticks()
        self.wall_start = time.perf_counter()

    def read(self, units: int, unit: str) -> dict[str, Any]:
        server = self.server.cpu_seconds() - self.server_start
        client = time.process_time() - self.client_start
        wall = time.perf_counter() - self.wall_start
        busy, total = (now - then for now, then in zip(machine_ticks(), self.machine_start, strict=True))
        return {
            "server_cpu_s": round(server, 2),
            "client_cpu_s": round(client, 2),
            "wall_s": round(wall, 2),
            "server_cpu_share": round(server / wall, 2),  # of one core
            f"server_cpu_ms_per_{unit}": round(server * 1000 / max(units, 1), 2),
            "machine_busy_share": round(busy / max(total, 1), 2),  # of all cores
        }


def start_server(settings: dict[str, str], rate_limit: int) -> Server:
    port = free_port()
    server_env = dict(os.environ) | settings | {"DEAL_ROOM_RATE_MESSAGES": str(rate_limit)}
    for line in (ROOT / "scripts" / "defaults.env").read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#") and key not in server_env:
            server_env[key] = value
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "backend.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws-max-size",
        str(MAX_FRAME),
        # Per-connection INFO lines would time the log handler, not the server.
        "--log-level",
        "warning",
    ]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, port, rate_limit)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}; see {SERVER_LOG}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return server
        time.sleep(0.2)
    stop_server(server)
    sys.exit(f"the server did not answer on port {port} within 120 s; see {SERVER_LOG}")


async def steady_rss(server: Server, limit: float = 120.0) -> float:
    """RSS once it has stopped moving (within 1 MB over 5 s): the search warm-up loads its encoder in a
    background thread after start."""
    samples: deque[float] = deque(maxlen=6)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        samples.append(server.rss_mb())
        if len(samples) == samples.maxlen and max(samples) - min(samples) < 1.0:
            break
        await asyncio.sleep(1.0)
    return samples[-1]


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# --- the client ----------------------------------------------------------------------------------------


async def open_socket(url: str, compression: bool) -> ClientConnection:
    return await connect(
        url,
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        compression="deflate" if compression else None,
        ping_interval=None,  # the server pings (protocol and GraphQL pings); we answer
        max_size=MAX_FRAME,
        open_timeout=60,
        close_timeout=10,
    )


async def handshake(ws: ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message.get("type") == "connection_ack":
            return
        if message.get("type") == "ping":
            await ws.send('{"type":"pong"}')
            continue
        raise RuntimeError(f"unexpected answer to connection_init: {message}")


def subscribe_message(room: Room) -> str:
    variables = {"d": room.global_id, "a": room.last_sequence}
    return json.dumps(
        {"id": "s", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": variables}}
    )


@dataclass
class Sent:
    number: int
    body: str
    room: int
    started: float
    waiting: set[int]  # sockets of the room yet to receive it
    delivered_at: float | None = None
    reply_at: float | None = None
    error: str | None = None


class Tracker:
    """The messages in flight, by body; each socket reports the MESSAGE events it receives."""

    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.unexpected = 0

    def delivered(self, body: str, socket_id: int, at: float) -> None:
        item = self.sent.get(body)
        if item is None or socket_id not in item.waiting:
            self.unexpected += 1
            return
        item.waiting.discard(socket_id)
        if not item.waiting:
            item.delivered_at = at

    def in_flight(self) -> int:
        """Messages not yet received by all of their room, except refused ones (they never will be)."""
        return sum(1 for item in self.sent.values() if item.waiting and item.error is None)


class RoomSocket:
    """One participant's socket: subscribed to its room, answering pings, reporting MESSAGE events."""

    def __init__(self, socket_id: int, room: Room, who: Participant, tracker: Tracker) -> None:
        self.id, self.room, self.who, self.tracker = socket_id, room, who, tracker
        self.ws: ClientConnection | None = None
        self.live = asyncio.Event()  # the subscription's first event arrived
        self.ended: dict[str, Any] | None = None  # the subscription's error or complete, if any
        self.replies: dict[str, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def open(self, url: str, compression: bool) -> None:
        self.ws = await open_socket(url, compression)
        await handshake(self.ws, self.who.token)
        await self.ws.send(subscribe_message(self.room))
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind, op = message.get("type"), message.get("id")
                if kind == "ping":
                    await ws.send('{"type":"pong"}')
                elif op == "s":
                    if kind == "next":
                        self.live.set()
                        event = (message["payload"].get("data") or {}).get("dealRoomEvents") or {}
                        if event.get("type") == "MESSAGE":
                            self.tracker.delivered(event["message"]["body"], self.id, now)
                    else:
                        self.ended = message
                elif op in self.replies and kind in ("next", "error"):
                    future = self.replies.pop(op)
                    if not future.done():
                        future.set_result((now, message))
        except ConnectionClosed:
            pass
        finally:
            for future in self.replies.values():
                future.cancel()

    async def request(self, op: str, query: str, variables: dict[str, Any]) -> "asyncio.Future[Any]":
        assert self.ws is not None  # noqa: S101 (opened before use)
        future: asyncio.Future[tuple[float, dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self.replies[op] = future
        await self.ws.send(
            json.dumps({"id": op, "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        return future

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


async def bounded(jobs: Sequence[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    """Run the jobs, at most `concurrency` at a time; results (or exceptions) in order."""
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs), return_exceptions=True)


async def connect_all(
    server: Server, rooms: Sequence[Room], tracker: Tracker, compression: bool, concurrency: int
) -> tuple[list[RoomSocket], dict[str, Any]]:
    sockets = [
        RoomSocket(len(rooms[0].participants) * room.index + k, room, who, tracker)
        for room in rooms
        for k, who in enumerate(room.participants)
    ]
    started = time.perf_counter()
    outcomes = await bounded(
        [functools.partial(s.open, server.url, compression) for s in sockets], concurrency
    )
    opened = time.perf_counter() - started
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    waits = [asyncio.wait_for(s.live.wait(), 30) for s in sockets if s.ws is not None]
    live = await asyncio.gather(*waits, return_exceptions=True)
    confirmed = sum(1 for outcome in live if not isinstance(outcome, BaseException))
    return sockets, {
        "opened": len(sockets) - len(failed),
        "failed": len(failed),
        "failures": failed[:5],
        "live_confirmed": confirmed,
        "subscription_errors": [s.ended for s in sockets if s.ended is not None][:5],
        "connect_seconds": round(opened, 2),
        "live_seconds": round(time.perf_counter() - started, 2),
    }


# --- Redis baseline ------------------------------------------------------------------------------------


async def redis_round_trips(url: str, count: int, rate: float) -> list[float]:
    """PUBLISH on one connection, SUBSCRIBE on another, one message at a time, paced like the fan-out."""
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(BASELINE_CHANNEL)
    waiting: dict[int, asyncio.Future[float]] = {}

    async def read() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                future = waiting.pop(int(message["data"]), None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

    reader = asyncio.create_task(read())
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        warmup = 100
        started = time.perf_counter()
        for number in range(count + warmup):
            due = started + number / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            future: asyncio.Future[float] = loop.create_future()
            waiting[number] = future
            sent = time.perf_counter()
            await client.publish(BASELINE_CHANNEL, str(number))
            received = await asyncio.wait_for(future, 5)
            if number >= warmup:
                latencies.append(received - sent)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await pubsub.unsubscribe(BASELINE_CHANNEL)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await client.aclose()
    return latencies


# --- fan-out -------------------------------------------------------------------------------------------


class Senders:
    """Picks a random participant of a random room whose last RATE_WINDOW (+1 s) holds fewer than the
    server's limit of sends, so that no send is refused for the rate."""

    def __init__(self, rooms: Sequence[list[RoomSocket]], limit: int, rng: random.Random) -> None:
        self.rooms, self.limit, self.rng = rooms, limit, rng
        self.history: dict[int, deque[float]] = {}

    def pick(self) -> RoomSocket:
        now = time.monotonic()
        for _ in range(1000):
            room = self.rng.choice(self.rooms)
            sock = self.rng.choice(room)
            times = self.history.setdefault(sock.who.user_id, deque())
            while times and now - times[0] > RATE_WINDOW + 1:
                times.popleft()
            if len(times) < self.limit and sock.ended is None:
                times.append(now)
                return sock
        raise RuntimeError(
            "every participant is at the rate limit: lower --rate or raise --server-rate-limit"
        )


def _reply_recorder(item: Sent) -> Callable[["asyncio.Future[Any]"], None]:
    def record(future: "asyncio.Future[Any]") -> None:
        if future.cancelled():
            item.error = "SOCKET_CLOSED"
            return
        at, message = future.result()
        item.reply_at = at
        payload = message.get("payload")
        if message["type"] == "error" or not isinstance(payload, dict) or payload.get("errors"):
            item.error = "GRAPHQL_ERROR"
            return
        errors = payload["data"]["sendMessage"]["errors"]
        if errors:
            item.error = str(errors[0]["code"])

    return record


async def fan_out(
    sockets: Sequence[RoomSocket],
    tracker: Tracker,
    phase: str,
    count: int,
    rate: float,
    senders: Senders,
    with_timeline: bool = False,
) -> dict[str, Any]:
    """`count` sendMessage mutations at `rate` per second; then up to LOST_AFTER s for the last ones."""
    by_room: dict[int, list[RoomSocket]] = {}
    for sock in sockets:
        by_room.setdefault(sock.room.index, []).append(sock)
    tracker.sent, tracker.unexpected = {}, 0
    run = secrets.token_hex(3)
    started = time.perf_counter()
    for number in range(count):
        due = started + number / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        sock = senders.pick()
        body = f"rt-{run}-{phase}-{number}"
        item = Sent(number, body, sock.room.index, 0.0, {m.id for m in by_room[sock.room.index]})
        tracker.sent[body] = item
        item.started = time.perf_counter()
        variables = {"d": sock.room.global_id, "b": body, "c": body}
        future = await sock.request(f"{phase}{number}", MUTATION, variables)
        future.add_done_callback(_reply_recorder(item))
        if number and number % 500 == 0:
            log(f"  {number} sent, {tracker.in_flight()} in flight")
    sending = time.perf_counter() - started
    # Past LOST_AFTER a message counts as lost, but a backlog is still drained (up to DRAIN s), so that it
    # neither runs into the next phase nor leaves its latencies out.
    deadline = time.perf_counter() + max(LOST_AFTER, DRAIN)
    while tracker.in_flight() and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    items = list(tracker.sent.values())
    done = [i.delivered_at for i in items if i.delivered_at is not None]
    errors: dict[str, int] = {}
    for item in items:
        if item.error:
            errors[item.error] = errors.get(item.error, 0) + 1
    return {
        "messages": count,
        "rate": rate,
        "achieved_rate": round(count / sending, 1),
        # What the server sustained: messages delivered to all over the time from first send to last delivery.
        "served_per_s": round(len(done) / (max(done) - items[0].started), 1) if done else None,
        "fanout": latency_summary([i.delivered_at - i.started for i in items if i.delivered_at is not None]),
        "mutation": latency_summary([i.reply_at - i.started for i in items if i.reply_at is not None]),
        "lost": sum(1 for i in items if i.delivered_at is None or i.delivered_at - i.started > LOST_AFTER),
        "send_errors": errors,
        # perf_counter is CLOCK_MONOTONIC, one clock for every process here: the origin lets server-side
        # timestamps be laid over the timeline.
        **(
            {"timeline_origin": items[0].started, "timeline": timeline(items)}
            if with_timeline and items
            else {}
        ),
        "unexpected_events": tracker.unexpected,
    }


def timeline(items: Sequence[Sent]) -> list[list[float | None]]:
    """Per message: [seconds since the first send, fan-out ms, sendMessage ms] (None: never arrived), to
    tell steady latency from periodic stalls."""
    first = items[0].started if items else 0.0

    def ms(at: float | None, item: Sent) -> float | None:
        return round((at - item.started) * 1000, 2) if at is not None else None

    return [[round(i.started - first, 3), ms(i.delivered_at, i), ms(i.reply_at, i)] for i in items]


# --- churn ---------------------------------------------------------------------------------------------


@dataclass
class Churn:
    cycles: int = 0
    with_event: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    durations: list[float] = field(default_factory=list)  # whole cycles, connect to closed

    def summary(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles,
            "with_event": self.with_event,
            "errors": self.errors,
            "seconds": self.seconds,
            "rate_per_s": round(self.cycles / max(self.seconds, 0.1), 1),
            "cycle": latency_summary(self.durations),
        }


async def churn(
    url: str, pairs: Sequence[tuple[Room, Participant]], cycles: int, concurrency: int, compression: bool
) -> Churn:
    """connect -> connection_init -> subscribe -> first event or 50 ms -> disconnect, `cycles` times."""
    stats = Churn(cycles=cycles)
    numbers = iter(range(cycles))

    async def one(room: Room, who: Participant) -> None:
        async with await open_socket(url, compression) as ws:
            await handshake(ws, who.token)
            await ws.send(subscribe_message(room))
            deadline = time.perf_counter() + FIRST_EVENT_WAIT
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), left))
                except TimeoutError:
                    break
                if message.get("type") == "next":
                    stats.with_event += 1
                    break
                if message.get("type") == "error":
                    raise RuntimeError(f"subscription refused: {message.get('payload')}")

    async def worker() -> None:
        for number in numbers:
            room, who = pairs[number % len(pairs)]
            began = time.perf_counter()
            try:
                await one(room, who)
                stats.durations.append(time.perf_counter() - began)
            except (ConnectionClosed, InvalidHandshake, OSError, RuntimeError, TimeoutError) as error:
                name = type(error).__name__
                stats.errors[name] = stats.errors.get(name, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    stats.seconds = round(time.perf_counter() - started, 1)
    return stats


# --- profiling -----------------------------------------------------------------------------------------


class Profiler:
    """`py-spy record` of the server for one phase: started before it, stopped (SIGINT: py-spy then writes
    its output) after it."""

    def __init__(self, pid: int, fmt: str, beside: Path) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.output: Path | None = None
        spy = ROOT / ".venv" / "bin" / "py-spy"
        if not spy.exists():
            log("py-spy is not in the venv (.venv/bin/pip install py-spy); no profile")
            return
        ext = {"flamegraph": "svg", "raw": "txt", "speedscope": "json"}[fmt]
        self.output = beside.with_name(f"{beside.stem}-profile.{ext}")  # next to the JSON
        # --nonblocking: the server is never paused to be sampled, so the latencies stay its own.
        command = [str(spy), "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--threads"]
        command += ["--format", fmt, "--output", str(self.output)]
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stop(self) -> str | None:
        if self.process is None or self.output is None:
            return None
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return str(self.output) if self.output.exists() else None


# --- report --------------------------------------------------------------------------------------------


def met(name: str, value: float | None) -> bool:
    if value is None:
        return False
    op, goal = GOALS[name]
    return value <= goal if op == "<=" else value >= goal


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(OSError, StopIteration):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    return info


def print_report(result: dict[str, Any]) -> None:
    run, probe = result["fanout_run"], result.get("probe")
    print()
    print(
        f"Realtime benchmark: {result['rooms']} rooms, {result['sockets']} sockets, {result['messages']} "
        f"messages at {result['rate']}/s, one uvicorn worker ({result['machine']['cpus']} CPUs)"
    )
    print(f"{'latency (ms)':<48} {'p50':>8} {'p99':>8} {'max':>8}")
    rows = {
        f"fan-out at {run['rate']:g}/s, send -> all 3 participants": run["fanout"],
        f"sendMessage at {run['rate']:g}/s, send -> its next": run["mutation"],
    }
    if probe:
        rows[f"fan-out at {probe['rate']:g}/s (light-load probe)"] = probe["fanout"]
        rows[f"sendMessage at {probe['rate']:g}/s (light-load probe)"] = probe["mutation"]
    rows["Redis PUBLISH -> SUBSCRIBE (baseline)"] = result["redis"]
    rows["churn cycle, connect -> closed"] = result["churn"]["cycle"]
    for label, stats in rows.items():
        print(f"{label:<48} {stats['p50_ms']!s:>8} {stats['p99_ms']!s:>8} {stats['max_ms']!s:>8}")
    memory = {
        "server RSS idle (MB)": result["rss_idle_mb"],
        "server RSS with all sockets open (MB)": result["rss_connected_mb"],
        "kB per connection": result["kb_per_connection"],
        f"RSS at churn start (MB, {result['warmup_cycles']} warm-up cycles)": result["rss_start_mb"],
        f"RSS after {result['cycles']:,} cycles (MB)": result["rss_after_cycles_mb"],
    }
    print()
    print(f"{'memory':<48} {'value':>8}")
    for label, value in memory.items():
        print(f"{label:<48} {value:>8.1f}")
    print()
    print(f"{'goal':<28} {'value':>9} {'target':>9}  verdict")
    for name, (op, goal) in GOALS.items():
        value = result.get(name)
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        verdict = "PASS" if result["goals"][name] else "MISS"
        print(f"{name:<28} {shown:>9} {op + ' ' + str(goal):>9}  {verdict}")
    connected, churned = result["connect"], result["churn"]
    print()
    print(
        f"sockets live {connected['live_confirmed']}/{result['sockets']} (opened in "
        f"{connected['connect_seconds']} s); sent at {run['achieved_rate']}/s, served at "
        f"{run['served_per_s']}/s, refused: "
        f"{run['send_errors'] or 'none'}"
    )
    print(
        f"churn: {churned['cycles']:,} cycles in {churned['seconds']} s ({churned['rate_per_s']}/s), "
        f"{churned['with_event']:,} saw an event within 50 ms, errors: {churned['errors'] or 'none'}"
    )
    cpu, churn_cpu = run["cpu"], churned["cpu"]
    print(
        f"server CPU in the fan-out: {cpu['server_cpu_share']:.0%} of a core (machine "
        f"{cpu['machine_busy_share']:.0%} busy), "
        f"{cpu['server_cpu_ms_per_message']} ms per message (client: {cpu['client_cpu_s']} s in all); "
        f"in the churn: {churn_cpu['server_cpu_share']:.0%} (machine {churn_cpu['machine_busy_share']:.0%}), "
        f"{churn_cpu['server_cpu_ms_per_cycle']} ms per cycle"
    )
    print(f"rate limit: {result['rate_limit']}")
    if result.get("profile"):
        print(f"profile: {result['profile']}")
    print(f"written to {result['output']}")


# --- main ----------------------------------------------------------------------------------------------


async def connected_phase(
    args: argparse.Namespace, settings: dict[str, str], server: Server, rooms: list[Room], idle_mb: float
) -> dict[str, Any]:
    """Steps 3 to 5: every socket open, the Redis baseline, then the fan-out (after a light probe)."""
    result: dict[str, Any] = {}
    tracker = Tracker()
    sockets, result["connect"] = await connect_all(
        server, rooms, tracker, not args.no_compression, args.concurrency
    )
    try:
        await asyncio.sleep(2.0)  # presence announcements settle
        result["rss_connected_mb"] = rss_connected = server.rss_mb()
        opened = result["connect"]["opened"]
        result["kb_per_connection"] = round((rss_connected - idle_mb) * 1024 / max(opened, 1), 1)
        log(f"{opened} sockets open, {result['connect']['live_confirmed']} live; RSS {rss_connected:.1f} MB")

        log(f"Redis baseline: {args.redis_messages} round trips at {args.redis_rate}/s")
        meter = CpuMeter(server)  # the server idles meanwhile, but for its sockets' keepalive and refresh
        redis_times = await redis_round_trips(settings["REDIS_URL"], args.redis_messages, args.redis_rate)
        result["redis"] = latency_summary(redis_times) | {"server_cpu_idle": meter.read(opened, "socket")}

        ready = [s for s in sockets if s.ws is not None and s.ended is None]
        by_room: dict[int, list[RoomSocket]] = {}
        for sock in ready:
            by_room.setdefault(sock.room.index, []).append(sock)
        full = [members for members in by_room.values() if len(members) == len(members[0].room.participants)]
        rng = random.Random(args.seed)  # noqa: S311 (load generation, not secrets)
        senders = Senders(full, args.server_rate_limit, rng)
        if args.probe_messages:
            log(f"light-load probe: {args.probe_messages} messages at {args.probe_rate}/s")
            meter = CpuMeter(server)
            probe = await fan_out(ready, tracker, "p", args.probe_messages, args.probe_rate, senders)
            result["probe"] = probe | {"cpu": meter.read(args.probe_messages, "message")}
        log(f"fan-out: {args.messages} messages at {args.rate}/s")
        profiler = (
            Profiler(server.pid, args.profile_format, args.output) if args.profile == "fanout" else None
        )
        meter = CpuMeter(server)
        result["fanout_run"] = await fan_out(
            ready, tracker, "m", args.messages, args.rate, senders, args.timeline
        )
        result["fanout_run"]["cpu"] = meter.read(args.messages, "message")
        if profiler is not None:
            result["profile"] = profiler.stop()
        result["subscriptions_ended"] = sum(1 for s in sockets if s.ended is not None)
        result["rss_after_fanout_mb"] = server.rss_mb()
    finally:
        log("closing the fan-out sockets")
        await asyncio.gather(*(s.close() for s in sockets))
    return result


async def churn_phase(args: argparse.Namespace, server: Server, rooms: list[Room]) -> dict[str, Any]:
    """Step 6: warm-up cycles, RSS start, the measured cycles, RSS after."""
    compression = not args.no_compression
    rng = random.Random(args.seed + 1)  # noqa: S311 (load generation, not secrets)
    pairs = [(room, who) for room in rooms for who in room.participants]
    rng.shuffle(pairs)
    await asyncio.sleep(3.0)
    log(f"churn: {args.warmup_cycles} warm-up cycles, then {args.cycles} (concurrency {args.concurrency})")
    warm = await churn(server.url, pairs, args.warmup_cycles, args.concurrency, compression)
    await asyncio.sleep(3.0)
    rss_start = server.rss_mb()
    rng.shuffle(pairs)
    profiler = Profiler(server.pid, args.profile_format, args.output) if args.profile == "churn" else None
    meter = CpuMeter(server)
    churned = await churn(server.url, pairs, args.cycles, args.concurrency, compression)
    churn_cpu = meter.read(args.cycles, "cycle")
    result: dict[str, Any] = {"profile": profiler.stop()} if profiler is not None else {}
    await asyncio.sleep(5.0)
    rss_after = server.rss_mb()
    return result | {
        "rss_start_mb": round(rss_start, 1),
        "rss_after_cycles_mb": round(rss_after, 1),
        "rss_growth_ratio": round(rss_after / rss_start, 4),
        "churn": churned.summary() | {"cpu": churn_cpu},
        "churn_warmup": warm.summary(),
    }


async def measure(args: argparse.Namespace, settings: dict[str, str], rooms: list[Room]) -> dict[str, Any]:
    cleared = await clear_redis_namespace(settings["REDIS_URL"])
    log(f"starting the server (Redis keys of earlier runs cleared: {cleared})")
    server = start_server(settings, args.server_rate_limit)
    try:
        idle = round(await steady_rss(server), 1)
        result: dict[str, Any] = {"server_pid": server.pid, "rss_idle_mb": idle}
        log(f"server up on port {server.port}, RSS {idle} MB; {len(rooms) * 3} sockets to open")
        result |= await connected_phase(args, settings, server, rooms, idle)
        result |= await churn_phase(args, server, rooms)
    finally:
        stop_server(server)
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=300)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="fan-out messages per second")
    parser.add_argument("--probe-messages", type=int, default=100, help="light-load probe before; 0 skips")
    parser.add_argument("--probe-rate", type=float, default=5.0)
    parser.add_argument("--redis-messages", type=int, default=2000)
    parser.add_argument("--redis-rate", type=float, default=200.0, help="baseline round trips per second")
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--warmup-cycles", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50, help="churn cycles (and socket opens) at once")
    parser.add_argument("--server-rate-limit", type=int, default=30, help="DEAL_ROOM_RATE_MESSAGES per 60 s")
    parser.add_argument("--no-compression", action="store_true", help="offer no permessage-deflate")
    parser.add_argument(
        "--profile", nargs="?", const="fanout", choices=("fanout", "churn"), help="py-spy record of a phase"
    )
    parser.add_argument("--profile-format", choices=("flamegraph", "raw", "speedscope"), default="flamegraph")
    parser.add_argument("--timeline", action="store_true", help="per-message latencies into the JSON")
    parser.add_argument("--seed", type=int, default=20260611)
    parser.add_argument("--quick", action="store_true", help="fewer rooms, messages and cycles")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "realtime.json")
    args = parser.parse_args()
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    return args


def main() -> None:
    args = parse_args()
    settings = configure()
    ensure_database(settings["DATABASE_URL"], log)
    lock = exclusive(settings["DATABASE_URL"], LOCK_KEY, "bench_realtime")
    rooms, world = prepare(args.rooms)
    log(f"{len(rooms)} rooms ready ({world})")
    load_before = os.getloadavg()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        measured = runner.run(measure(args, settings, rooms))

    run = measured["fanout_run"]
    fanout_p99, redis_p99 = run["fanout"]["p99_ms"], measured["redis"]["p99_ms"]
    result: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(["scripts/bench_realtime.py", *sys.argv[1:]]),
        "rooms": len(rooms),
        "sockets": measured["connect"]["opened"],
        "messages": args.messages,
        "rate": args.rate,
        "fanout_p50_ms": run["fanout"]["p50_ms"],
        "fanout_p99_ms": fanout_p99,
        "redis_p50_ms": measured["redis"]["p50_ms"],
        "redis_p99_ms": redis_p99,
        "fanout_p99_over_redis_p99": round(fanout_p99 / redis_p99, 2) if fanout_p99 and redis_p99 else None,
        "lost": run["lost"],
        "mutation_p50_ms": run["mutation"]["p50_ms"],
        "mutation_p99_ms": run["mutation"]["p99_ms"],
        "kb_per_connection": measured["kb_per_connection"],
        "rss_start_mb": measured["rss_start_mb"],
        "rss_after_cycles_mb": measured["rss_after_cycles_mb"],
        "rss_growth_ratio": measured["rss_growth_ratio"],
        "rss_start_is": (
            f"server RSS 3 s after {args.warmup_cycles} warm-up churn cycles, which began 3 s after the "
            "fan-out sockets closed; 'after' is read 5 s after the last cycle"
        ),
        "cycles": args.cycles,
        "warmup_cycles": args.warmup_cycles,
        "goal_targets": {name: {"op": op, "goal": goal} for name, (op, goal) in GOALS.items()},
        "rate_limit": (
            f"server at DEAL_ROOM_RATE_MESSAGES={args.server_rate_limit} per {RATE_WINDOW} s; the client "
            f"picks senders with fewer than {args.server_rate_limit} sends in the last {RATE_WINDOW + 1} s"
        ),
        "compression": "none" if args.no_compression else "permessage-deflate offered (as browsers do)",
        "world": world,
        "machine": machine() | {"load_average_before": [round(x, 2) for x in load_before]},
    }
    result |= {key: value for key, value in measured.items() if key not in result}
    result["goals"] = {name: met(name, result.get(name)) for name in GOALS}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result["output"] = str(args.output)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_report(result)
    lock.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (as the server runs it): the client must not be the bottleneck."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    main()
