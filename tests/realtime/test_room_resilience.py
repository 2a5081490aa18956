"""Deal rooms when things break (Redis restarted, the server restarted) and their features end to end:
moderation, typing, read receipts, presence, refusals with their codes.

Real `gql` clients against real uvicorn processes, PostgreSQL and Redis. The Redis-restart test runs its
own throwaway redis-server, never the project's.
"""

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from asgiref.sync import sync_to_async
from graphql_relay import from_global_id, to_global_id
from redis.backoff import NoBackoff
from redis.retry import Retry

from marketplace import actions
from marketplace.actions.accounts import create_api_token
from marketplace.models import AuditEntry, Deal, DealState, RoomEntry
from marketplace.rooms.actions import send_message
from tests.conftest import AsgiServer, _free_port
from tests.marketplace.factories import World, build_world, open_deal
from tests.realtime.rooms_client import Participant, init_refusal

pytestmark = pytest.mark.django_db(transaction=True)  # the server processes see only committed rows

REDIS_SERVER = "/usr/bin/redis-server"
KEEPALIVE = 2.0  # REALTIME_KEEPALIVE of the servers started here: how often a subscription reads the log
INQUIRY_ENTRIES = 3  # an opened deal's room: inquiry_opened, the buyer's first words, brokers_assigned

HIDE = """
mutation($id: ID!, $reason: String!) {
  hideMessage(messageId: $id, reason: $reason) {
    message { sequence body hidden hiddenReason }
    errors { code field }
  }
}
"""
READ_ROOM = """
query($dealId: ID!) {
  dealRoom(dealId: $dealId) {
    messages { sequence kind body hidden hiddenReason sourceSequence }
    participants { name role isYou online typing lastReadSequence }
  }
}
"""


# --- a room and its people ---


@dataclass
class Room:
    world: World
    deal: Deal
    tokens: dict[str, str]

    @property
    def deal_id(self) -> str:
        return to_global_id("Deal", self.deal.pk)

    async def join(self, url: str, name: str, after: int = 0) -> Participant:
        return await Participant(url, self.tokens[name], self.deal_id).connect(after)


def _room() -> Room:
    world = build_world()
    deal = open_deal(world, DealState.INQUIRY)
    names = ("seller", "buyer", "broker", "other_buyer", "operator")
    tokens = {name: create_api_token(getattr(world, name), "rooms")[1] for name in names}
    return Room(world, deal, tokens)


@pytest.fixture
async def room() -> Room:
    return await sync_to_async(_room)()


def _sequences(messages: list[dict[str, Any]]) -> list[int]:
    return [m["sequence"] for m in messages]


def _stored_sequences(deal: Deal) -> list[int]:
    return list(RoomEntry.objects.filter(deal=deal).order_by("sequence").values_list("sequence", flat=True))


async def _poll(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` came true within `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    assert await _poll(condition, timeout), f"timed out after {timeout} s waiting for {what}"


async def _close_all(*people: Participant) -> None:
    for p in people:
        await p.close()


# --- a Redis of the test's own ---


class PrivateRedis:
    """A throwaway redis-server (no persistence): stopping it never disturbs the project's Redis.
    `stop()` then `start()` restart it on the same port, empty, as a crashed Redis comes back."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "no"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"redis-server did not start:\n{(self.workdir / 'redis.log').read_text()}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_backed_server(
    django_db_setup: None, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsgiServer]:
    """The ASGI server on the private Redis, reading the log every KEEPALIVE seconds."""
    log = tmp_path_factory.mktemp("server-on-private-redis") / "uvicorn.log"
    server = AsgiServer(log, env={"REDIS_URL": private_redis.url, "REALTIME_KEEPALIVE": str(int(KEEPALIVE))})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_up(private_redis: PrivateRedis) -> PrivateRedis:
    """Each test begins with the private Redis running, whatever an earlier failure left behind."""
    if not private_redis.running:
        private_redis.start()
    return private_redis


# --- 1. Redis restarted mid-conversation ---


async def _settle(
    p: Participant, room: Room, url: str, name: str, last: int
) -> tuple[str, list[dict[str, Any]]]:
    """Every message up to `last` this participant got: on its live subscription ("live"), or, if that
    ended, on a new one resuming after the last sequence it saw ("resumed")."""
    if p.listening:
        await _wait(lambda: p.last_sequence >= last or not p.listening, 30, f"{name} to reach {last}")
    if p.listening:
        return "live", p.messages
    again = await room.join(url, name, after=p.last_sequence)
    try:
        await again.wait_for(lambda q: q.last_sequence >= last, timeout=30)
        return "resumed", p.messages + again.messages
    finally:
        await again.close()


async def test_a_redis_restart_mid_conversation_loses_nothing(
    redis_up: PrivateRedis, redis_backed_server: AsgiServer, room: Room
) -> None:
    url, names = redis_backed_server.url, ("seller", "buyer", "broker")
    people = {name: await room.join(url, name) for name in names}
    try:
        # given: a conversation under way, every wake-up arriving
        for p in people.values():
            await p.wait_for(lambda p: p.last_sequence == INQUIRY_ENTRIES)
        before = [await people[name].send(f"before the outage, from the {name}") for name in names]
        assert [answer["errors"] for answer in before] == [[], [], []]
        for p in people.values():
            await p.wait_for(lambda p: p.last_sequence == before[-1]["message"]["sequence"])

        # when: Redis dies, and everyone keeps writing
        redis_up.stop()
        during = [await people[name].send(f"while Redis is down, from the {name}") for name in names]

        # then: each message was stored (no wake-up can be published, and that is no error)
        assert [answer["errors"] for answer in during] == [[], [], []]
        during_sequences = [answer["message"]["sequence"] for answer in during]
        assert during_sequences == list(range(during_sequences[0], during_sequences[0] + 3))
        # and a live subscription reads them from the log (every KEEPALIVE s) unless its socket died
        for name, p in people.items():
            await _wait(
                lambda p=p: p.last_sequence >= during_sequences[-1] or not p.listening,  # type: ignore[misc]
                30,
                f"{name} to read the outage's messages from the log",
            )
        survived_outage = {name: p.listening for name, p in people.items()}

        # when: Redis is back, empty, on the same port, and the conversation goes on
        redis_up.start()
        after = [await people[name].send(f"after the restart, from the {name}") for name in names]
        assert [answer["errors"] for answer in after] == [[], [], []]
        last = after[-1]["message"]["sequence"]

        # then: everyone has every message exactly once, in sequence order
        stored = await sync_to_async(_stored_sequences)(room.deal)
        assert stored == list(range(1, last + 1)) and last == INQUIRY_ENTRIES + 9
        paths = {}
        for name, p in people.items():
            paths[name], received = await _settle(p, room, url, name, last)
            assert _sequences(received) == stored, name
            texts = [m["body"] for m in received if m["kind"] == "TEXT"][1:]  # after the inquiry's words
            assert texts == [a["message"]["body"] for a in (*before, *during, *after)], name
        # which way they got there: the sockets outlived the outage and the subscriptions stayed live
        assert survived_outage == {"seller": True, "buyer": True, "broker": True}
        assert paths == {"seller": "live", "buyer": "live", "broker": "live"}
    finally:
        await _close_all(*people.values())


async def test_wake_ups_resume_after_a_redis_restart(
    redis_up: PrivateRedis, redis_backed_server: AsgiServer, room: Room
) -> None:
    """Typing signals live only in the channel layer (never in the log): one arriving after a restart
    proves the server re-subscribed its room groups, not merely that the log is read."""
    url = redis_backed_server.url
    seller, buyer = await room.join(url, "seller"), await room.join(url, "buyer")
    typing = "mutation($dealId: ID!) { setTyping(dealId: $dealId) { announced errors { code } } }"
    try:
        await seller.wait_for(lambda p: p.last_sequence == INQUIRY_ENTRIES)

        redis_up.stop()
        redis_up.start()

        # A wake-up published before the server's subscriber reconnected is lost by design: keep typing
        # (a new spell is announced at most every 2 s) until one arrives.
        deadline = asyncio.get_running_loop().time() + 20
        while not seller.signals("TYPING"):
            assert asyncio.get_running_loop().time() < deadline, "no wake-up reached the seller after 20 s"
            answer = await buyer.execute(typing, dealId=room.deal_id)
            assert answer["setTyping"]["errors"] == []
            await _poll(lambda: bool(seller.signals("TYPING")), 2.5)
        assert seller.signals("TYPING")[0]["participant"]["name"] == "Buyer A"
        assert seller.listening and buyer.listening
    finally:
        await _close_all(seller, buyer)


# --- 2. the server restarted ---


@pytest.fixture
def own_server(django_db_setup: None, tmp_path: Path) -> Iterator[AsgiServer]:
    """A server of this test's own (on the project's Redis), so stopping it disturbs no other test."""
    server = AsgiServer(tmp_path / "uvicorn.log", env={"REALTIME_KEEPALIVE": str(int(KEEPALIVE))})
    server.start()
    yield server
    server.stop()


def _send_directly(room: Room, bodies: list[str]) -> list[int]:
    """Messages written while no server runs: the domain action, as a worker or the admin would."""
    w = room.world
    authors = [w.seller, w.buyer, w.broker]
    return [send_message(authors[i % 3], room.deal.pk, body).sequence for i, body in enumerate(bodies)]


async def test_clients_reconnecting_after_a_server_restart_get_exactly_what_they_missed(
    own_server: AsgiServer, room: Room
) -> None:
    seller, buyer = await room.join(own_server.url, "seller"), await room.join(own_server.url, "buyer")
    resumed: list[Participant] = []
    try:
        # given: both connected and up to date
        await buyer.send("Can you share the cycling data?")
        for p in (seller, buyer):
            await p.wait_for(lambda p: p.last_sequence == INQUIRY_ENTRIES + 1)

        # when: the server goes away (in a thread: the clients must answer its closing handshake) …
        await asyncio.to_thread(own_server.stop)
        await _wait(lambda: not seller.listening and not buyer.listening, 15, "the sockets to close")
        # … messages are written meanwhile, and the server comes back
        bodies = ["Here it is.", "Thanks, reading it now.", "I have flagged page 3."]
        missed = await sync_to_async(_send_directly)(room, bodies)
        await asyncio.to_thread(own_server.start)

        # then: each client, resuming from its last sequence, gets exactly the missed messages
        assert missed == [INQUIRY_ENTRIES + 2, INQUIRY_ENTRIES + 3, INQUIRY_ENTRIES + 4]
        for old, name in ((seller, "seller"), (buyer, "buyer")):
            again = await room.join(own_server.url, name, after=old.last_sequence)
            resumed.append(again)
            await again.wait_for(lambda p: p.last_sequence == missed[-1])
            assert _sequences(again.messages) == missed, name
            assert [m["body"] for m in again.messages] == bodies, name
            assert _sequences(old.messages) == list(range(1, INQUIRY_ENTRIES + 2)), name  # none of them twice
        # and the resumed subscriptions are live again
        sent = await resumed[0].send("Welcome back.")
        for p in resumed:
            await p.wait_for(lambda p: p.last_sequence == sent["message"]["sequence"])
    finally:
        await _close_all(seller, buyer, *resumed)


# --- 3. an operator hides a message ---


async def _read_over_http(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{url}/graphql/",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def _hide_audits(entry_pk: int) -> list[tuple[str | None, str, str, str, dict[str, Any]]]:
    rows = AuditEntry.objects.filter(object_type="roomentry", object_id=entry_pk).select_related("actor")
    return [(r.actor.username if r.actor else None, r.action, r.from_state, r.to_state, r.data) for r in rows]


async def test_an_operator_hides_a_message_and_every_reader_learns_of_it(
    live_server_url: str, room: Room
) -> None:
    names = ("seller", "buyer", "broker", "operator")
    people = {name: await room.join(live_server_url, name) for name in names}
    text, reason = "Call me tonight on 010-9876-5432, skip the broker.", "Contact details before the NDA."
    try:
        sent = await people["buyer"].send(text)
        target, target_id = sent["message"]["sequence"], sent["message"]["id"]
        entry_pk = int(from_global_id(target_id)[1])
        for p in people.values():
            await p.wait_for(lambda p: p.last_sequence == target)

        # a party may not hide it
        refused = await people["seller"].execute(HIDE, id=target_id, reason="I do not like it.")
        assert refused["hideMessage"] == {
            "message": None,
            "errors": [{"code": "PERMISSION_DENIED", "field": None}],
        }
        assert await sync_to_async(_hide_audits)(entry_pk) == []

        # when: the operator hides it
        hidden = await people["operator"].execute(HIDE, id=target_id, reason=reason)

        # then: it is hidden, the operator still reads it, and the hide is audited
        assert hidden["hideMessage"] == {
            "message": {"sequence": target, "body": text, "hidden": True, "hiddenReason": reason},
            "errors": [],
        }
        assert await sync_to_async(_hide_audits)(entry_pk) == [
            ("operator", "hide_message", "visible", "hidden", {"reason": reason})
        ]
        # every subscriber gets a MODERATION message pointing at it
        for name, p in people.items():
            await p.wait_for(lambda p: any(m["kind"] == "MODERATION" for m in p.messages))
            (moderation,) = [m for m in p.messages if m["kind"] == "MODERATION"]
            assert moderation["sequence"] == target + 1, name
            assert moderation["sourceSequence"] == target, name
            assert (moderation["event"], moderation["authorRole"], moderation["authorName"]) == (
                "message_hidden",
                "OPERATOR",
                "Operator",
            ), name
        # a fresh read: parties and brokers see no body; the operator sees body and reason
        for name in ("seller", "buyer", "broker"):
            read = await people[name].execute(READ_ROOM, dealId=room.deal_id)
            shown = {m["sequence"]: m for m in read["dealRoom"]["messages"]}
            assert shown[target] == {
                "sequence": target,
                "kind": "TEXT",
                "body": None,
                "hidden": True,
                "hiddenReason": None,
                "sourceSequence": None,
            }, name
        read = await _read_over_http(live_server_url, room.tokens["operator"], READ_ROOM, dealId=room.deal_id)
        shown = {m["sequence"]: m for m in read["dealRoom"]["messages"]}
        assert (shown[target]["body"], shown[target]["hidden"], shown[target]["hiddenReason"]) == (
            text,
            True,
            reason,
        )
        assert shown[target + 1]["sourceSequence"] == target
    finally:
        await _close_all(*people.values())


# --- 4. typing, read receipts, presence ---


async def _participants(p: Participant, room: Room) -> dict[str, dict[str, Any]]:
    read = await p.execute(READ_ROOM, dealId=room.deal_id)
    return {person["role"]: person for person in read["dealRoom"]["participants"]}


async def test_typing_read_receipts_and_presence_reach_the_others(live_server_url: str, room: Room) -> None:
    seller = await room.join(live_server_url, "seller")
    buyer: Participant | None = None
    try:
        await seller.wait_for(lambda p: p.last_sequence == INQUIRY_ENTRIES)

        # a participant connecting: the others see them come online, under their alias before the NDA
        buyer = await room.join(live_server_url, "buyer")
        await seller.wait_for(lambda p: any(not e["participant"]["isYou"] for e in p.signals("PRESENCE")))
        arrived = [e for e in seller.signals("PRESENCE") if not e["participant"]["isYou"]]
        assert [(e["participant"]["name"], e["participant"]["role"], e["online"]) for e in arrived] == [
            ("Buyer A", "BUYER", True)
        ]

        # typing: the seller is told who types and where; the typist is not told of themselves
        typed = await buyer.execute(
            "mutation($dealId: ID!) { setTyping(dealId: $dealId) { announced errors { code } } }",
            dealId=room.deal_id,
        )
        assert typed["setTyping"] == {"announced": True, "errors": []}
        await seller.wait_for(lambda p: bool(p.signals("TYPING")))
        (typing,) = seller.signals("TYPING")
        assert (typing["participant"]["name"], typing["participant"]["role"], typing["thread"]) == (
            "Buyer A",
            "BUYER",
            "ALL",
        )

        # a read receipt
        marked = await buyer.execute(
            "mutation($dealId: ID!, $seq: Int!) { markRead(dealId: $dealId, sequence: $seq) "
            "{ lastReadSequence errors { code } } }",
            dealId=room.deal_id,
            seq=INQUIRY_ENTRIES,
        )
        assert marked["markRead"] == {"lastReadSequence": INQUIRY_ENTRIES, "errors": []}
        await seller.wait_for(lambda p: bool(p.signals("READ")))
        (receipt,) = seller.signals("READ")
        assert (receipt["participant"]["name"], receipt["readSequence"]) == ("Buyer A", INQUIRY_ENTRIES)
        assert buyer.signals("TYPING") == []

        # the room's participant list says the same
        people = await _participants(seller, room)
        assert people["BUYER"] == {
            "name": "Buyer A",
            "role": "BUYER",
            "isYou": False,
            "online": True,
            "typing": True,
            "lastReadSequence": INQUIRY_ENTRIES,
        }
        assert (people["SELLER"]["isYou"], people["SELLER"]["online"]) == (True, True)
        assert (people["BROKER"]["online"], people["BROKER"]["lastReadSequence"]) == (False, 0)

        # a participant leaving: the others see them go offline
        await buyer.close()
        await seller.wait_for(lambda p: any(e["online"] is False for e in p.signals("PRESENCE")))
        left = [e for e in seller.signals("PRESENCE") if e["online"] is False]
        assert [(e["participant"]["name"], e["participant"]["isYou"]) for e in left] == [("Buyer A", False)]
        people = await _participants(seller, room)
        assert (people["BUYER"]["online"], people["BUYER"]["lastReadSequence"]) == (False, INQUIRY_ENTRIES)
    finally:
        await _close_all(seller, *([buyer] if buyer else []))


# --- 5. refusals with their codes ---


def _texts_stored(deal: Deal) -> list[str]:
    return list(
        RoomEntry.objects.filter(deal=deal, kind="text").order_by("sequence").values_list("body", flat=True)
    )


async def test_a_message_over_4000_characters_is_refused(live_server_url: str, room: Room) -> None:
    buyer = await room.join(live_server_url, "buyer")
    try:
        too_long = await buyer.send("x" * 4001)
        longest = await buyer.send("y" * 4000)

        assert too_long["message"] is None
        assert [(e["code"], e["field"]) for e in too_long["errors"]] == [("MESSAGE_TOO_LONG", "body")]
        assert longest["errors"] == [] and len(longest["message"]["body"]) == 4000
        assert await sync_to_async(_texts_stored)(room.deal) == ["We make supercapacitors.", "y" * 4000]
    finally:
        await buyer.close()


async def test_a_party_cannot_write_to_the_other_sides_thread(live_server_url: str, room: Room) -> None:
    buyer = await room.join(live_server_url, "buyer")
    try:
        answer = await buyer.send("What is their lowest price?", thread="SELLER")

        assert answer["message"] is None
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("PERMISSION_DENIED", "thread")]
        assert await sync_to_async(_texts_stored)(room.deal) == ["We make supercapacitors."]
        own = await buyer.send("A note for our broker.", thread="BUYER")
        assert own["errors"] == []
    finally:
        await buyer.close()


async def test_a_cancelled_deals_room_takes_no_more_messages(live_server_url: str, room: Room) -> None:
    buyer = await room.join(live_server_url, "buyer")
    try:
        await sync_to_async(actions.cancel_deal)(room.world.seller, room.deal.pk, "The patent was assigned.")
        await buyer.wait_for(lambda p: any(m["event"] == "deal_cancelled" for m in p.messages))

        answer = await buyer.send("Wait, we can raise the offer.")

        assert answer["message"] is None
        assert [e["code"] for e in answer["errors"]] == ["ROOM_CLOSED"]
        assert await sync_to_async(_texts_stored)(room.deal) == ["We make supercapacitors."]
        # the room stays readable, for the record
        read = await buyer.execute(READ_ROOM, dealId=room.deal_id)
        assert [m["kind"] for m in read["dealRoom"]["messages"]][-1] == "SYSTEM"
    finally:
        await buyer.close()


@pytest.mark.parametrize(
    ("init_payload", "closed_with"),
    [
        ({}, (4401, "NOT_AUTHENTICATED")),
        ({"token": "ipm_not-a-real-token"}, (4403, "INVALID_TOKEN")),
        ({"Authorization": "Bearer ipm_not-a-real-token"}, (4403, "INVALID_TOKEN")),
    ],
)
async def test_a_socket_without_a_valid_token_is_closed_with_its_code(
    live_server_url: str, init_payload: dict[str, str], closed_with: tuple[int, str]
) -> None:
    assert await init_refusal(live_server_url, init_payload) == closed_with
