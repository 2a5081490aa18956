"""Deal rooms end to end: real `gql` websocket clients, the running ASGI server, Redis and PostgreSQL."""

from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from graphql_relay import to_global_id

from marketplace import actions
from marketplace.actions.accounts import create_api_token
from marketplace.models import Deal, DealState, RoomEntry
from tests.marketplace.factories import World, build_world, open_deal
from tests.realtime.rooms_client import Participant, TransportQueryError

pytestmark = pytest.mark.django_db(transaction=True)  # the server process sees only committed rows


class Room:
    def __init__(self, world: World, deal: Deal, tokens: dict[str, str]) -> None:
        self.world, self.deal, self.tokens = world, deal, tokens
        self.deal_id = to_global_id("Deal", deal.pk)


def _room(until: DealState = DealState.INQUIRY) -> Room:
    world = build_world()
    deal = open_deal(world, until)
    tokens = {}
    for name in ("seller", "buyer", "broker", "other_buyer", "operator"):
        tokens[name] = create_api_token(getattr(world, name), "rooms")[1]
    return Room(world, deal, tokens)


@pytest.fixture
async def room() -> Room:
    return await sync_to_async(_room)()


async def _join(url: str, room: Room, *names: str, after: int = 0) -> list[Participant]:
    return [await Participant(url, room.tokens[n], room.deal_id).connect(after) for n in names]


def _texts(p: Participant) -> list[str]:
    return [m["body"] for m in p.messages if m["kind"] in ("TEXT", "FORWARD")]


async def test_three_participants_converse(live_server_url: str, room: Room) -> None:
    seller, buyer, broker = await _join(live_server_url, room, "seller", "buyer", "broker")
    try:
        # given: the inquiry's own system message and first words are replayed to each
        for p in (seller, buyer, broker):
            await p.wait_for(lambda p: "We make supercapacitors." in _texts(p))

        # when: each writes once
        sent = [
            await seller.send("Our electrode keeps 95% capacity after 10,000 cycles."),
            await buyer.send("What cell format did you test?"),
            await broker.send("I will share the test report once the NDA is signed."),
        ]

        # then: all three see all three, in one order, with increasing sequences
        assert [s["errors"] for s in sent] == [[], [], []]
        bodies = [s["message"]["body"] for s in sent]
        for p in (seller, buyer, broker):
            await p.wait_for(lambda p: all(b in _texts(p) for b in bodies))
            sequences = [m["sequence"] for m in p.messages]
            assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
            assert _texts(p)[-3:] == bodies
            # times are ISO 8601 with their offset, in sending order
            times = [datetime.fromisoformat(m["createdAt"]) for m in p.messages]
            assert all(t.tzinfo is not None for t in times) and times == sorted(times)
        # aliases before the NDA: the seller sees the buyer as "Buyer A", the buyer the seller as "Seller"
        by_seller = {m["body"]: m["authorName"] for m in seller.messages}
        by_buyer = {m["body"]: m["authorName"] for m in buyer.messages}
        assert by_seller[bodies[1]] == "Buyer A" and by_buyer[bodies[0]] == "Seller"
        assert by_seller[bodies[0]] == "seller" and by_buyer[bodies[1]] == "buyer"
        assert by_seller[bodies[2]] == by_buyer[bodies[2]] == "broker"
    finally:
        for p in (seller, buyer, broker):
            await p.close()


CONTACT = "Mail me at kim@hctech.co.kr, call 010-1234-5678 or see https://hctech.example.com/specs"


async def test_relay_masking_holds_before_the_nda_and_lifts_after(live_server_url: str, room: Room) -> None:
    seller, buyer, broker = await _join(live_server_url, room, "seller", "buyer", "broker")
    try:
        await buyer.send(CONTACT)
        await seller.wait_for(lambda p: any("Mail me" in b for b in _texts(p)))
        await broker.wait_for(lambda p: CONTACT in _texts(p))
        masked = next(m for m in seller.messages if m["body"].startswith("Mail me"))
        assert masked["body"] == "Mail me at [email hidden], call [phone hidden] or see [link hidden]"
        assert sorted(masked["masked"]) == ["email", "link", "phone"]
        assert CONTACT in _texts(buyer)  # the author's own side reads it as written

        # the broker forwards the seller's private-thread words to the buyer: still masked for the buyer
        private = await seller.send("Ask them: lee@snu.ac.kr", thread="SELLER")
        await broker.wait_for(lambda p: "Ask them: lee@snu.ac.kr" in _texts(p))
        assert "Ask them" not in " ".join(_texts(buyer))  # the seller's private thread is not the buyer's
        forwarded = await broker.execute(
            'mutation($id: ID!) { forwardMessage(messageId: $id, toThread: BUYER, note: "from the seller") '
            "{ errors { code } message { sequence } } }",
            id=private["message"]["id"],
        )
        assert forwarded["forwardMessage"]["errors"] == []
        await buyer.wait_for(lambda p: "Ask them: [email hidden]" in _texts(p))

        # when: both sides sign the NDA (the deal reveals identities by default)
        await sync_to_async(_sign_nda)(room)

        # then: a fresh read shows everything unmasked and named
        await buyer.wait_for(lambda p: any(m["event"] == "nda_completed" for m in p.messages))
        later = await Participant(live_server_url, room.tokens["seller"], room.deal_id).connect()
        try:
            await later.wait_for(lambda p: CONTACT in _texts(p))
            unmasked = next(m for m in later.messages if m["body"] == CONTACT)
            assert unmasked["masked"] == [] and unmasked["authorName"] == "buyer"
        finally:
            await later.close()
        await buyer.send("Now: kim@hctech.co.kr")
        await seller.wait_for(lambda p: "Now: kim@hctech.co.kr" in _texts(p))
    finally:
        for p in (seller, buyer, broker):
            await p.close()


def _sign_nda(room: Room) -> None:
    w = room.world
    actions.request_nda(w.broker, room.deal.pk)
    actions.sign_nda(w.seller, room.deal.pk, w.nda_sha256)
    actions.sign_nda(w.buyer, room.deal.pk, w.nda_sha256)


async def test_a_client_that_reconnects_with_its_last_sequence_misses_nothing(
    live_server_url: str, room: Room
) -> None:
    seller, buyer = await _join(live_server_url, room, "seller", "buyer")
    try:
        await seller.send("one")
        await buyer.wait_for(lambda p: "one" in _texts(p))
        last = buyer.last_sequence
        await buyer.close()  # the buyer drops

        for text in ("two", "three", "four"):
            await seller.send(text)

        again = await Participant(live_server_url, room.tokens["buyer"], room.deal_id).connect(after=last)
        try:
            await again.wait_for(lambda p: _texts(p)[-3:] == ["two", "three", "four"])
            assert all(m["sequence"] > last for m in again.messages)  # nothing twice
        finally:
            await again.close()
    finally:
        await seller.close()


async def test_a_non_participant_is_refused(live_server_url: str, room: Room) -> None:
    outsider = await Participant(live_server_url, room.tokens["other_buyer"], room.deal_id).connect()
    try:
        await outsider.wait_for(lambda p: bool(p.errors), timeout=10)
    except AssertionError as failure:
        assert "subscription failed" in str(failure)
    finally:
        await outsider.close()
    error = outsider.errors[0]
    assert isinstance(error, TransportQueryError)
    assert error.errors is not None and error.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert outsider.events == []


async def test_the_rate_limit_answers_its_code(live_server_url: str, room: Room) -> None:
    (buyer,) = await _join(live_server_url, room, "buyer")
    try:
        limit = 30  # the server's DEAL_ROOM_RATE_LIMIT default: 30 messages a minute
        # The window is a fixed minute: sends that straddle its end get a fresh allowance, so keep sending
        # (at most two windows' worth) until the server refuses.
        codes: list[str] = []
        while "RATE_LIMITED" not in codes and len(codes) < 2 * limit + 2:
            answer = await buyer.send(f"message {len(codes)}")
            codes.append(answer["errors"][0]["code"] if answer["errors"] else "OK")
        assert codes[-1] == "RATE_LIMITED"
        assert limit <= codes.count("OK") <= 2 * limit
        stored = await sync_to_async(RoomEntry.objects.filter(author=room.world.buyer, kind="text").count)()
        assert stored == codes.count("OK") + 1  # + the inquiry's first words; the refused one is not stored
    finally:
        await buyer.close()


async def test_a_message_resent_with_its_client_id_is_stored_once(live_server_url: str, room: Room) -> None:
    (buyer,) = await _join(live_server_url, room, "buyer")
    try:
        first = await buyer.send("only once", client_id="c-1")
        second = await buyer.send("only once", client_id="c-1")
        assert first["message"]["sequence"] == second["message"]["sequence"]
        count = await sync_to_async(RoomEntry.objects.filter(body="only once").count)()
        assert count == 1
    finally:
        await buyer.close()
