"""Offline digests of deal rooms: one notification and one e-mail per away participant, rendered for them."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone
from graphql_relay import to_global_id
from pytest_django.fixtures import Settings

from backend.celery import app
from marketplace.models import Deal, DealRoom, Notification, RoomReadState
from marketplace.rooms import ephemeral
from marketplace.rooms.actions import hide_message, mark_read, send_message
from marketplace.rooms.digest import send_room_digests
from marketplace.tasks import send_room_digests as send_room_digests_task
from tests.marketplace.factories import World, build_world, open_deal

TITLE = "3D graphene supercapacitor electrodes"
Run = Callable[..., int]


@dataclass
class Room:
    world: World
    deal: Deal
    outbox: list[EmailMessage]
    since: int = 0  # notifications up to this id belong to the setup
    connections: list[tuple[int, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/deals/{to_global_id('Deal', self.deal.pk)}"

    def last_sequence(self) -> int:
        return DealRoom.objects.get(pk=self.deal.pk).last_sequence

    def digests(self) -> dict[str, tuple[str, str, dict[str, Any]]]:
        """username -> (title, body, data) of each user's latest digest since the setup."""
        notes = Notification.objects.filter(kind="deal_room_unread", pk__gt=self.since).order_by("pk")
        notes = notes.select_related("user")
        return {n.user.username: (n.title, n.body, n.data) for n in notes}

    def mails(self) -> dict[str, EmailMessage]:
        return {mail.to[0].split("@")[0]: mail for mail in self.outbox}

    def present(self, user: User) -> None:
        asyncio.run(ephemeral.mark_present(self.deal.pk, user.pk, "conn"))
        self.connections.append((user.pk, "conn"))

    def absent(self, user: User) -> None:
        asyncio.run(ephemeral.mark_absent(self.deal.pk, user.pk, "conn"))


def _world() -> World:
    world = build_world()
    for user in User.objects.all():
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return world


@pytest.fixture
def run(django_capture_on_commit_callbacks: Callable[..., Any], settings: Settings) -> Run:
    """The digest as the worker runs it (e-mails are sent on commit), with no quiet period unless set."""
    settings.DEAL_ROOM_DIGEST_DELAY = 0

    def digest(now: datetime | None = None) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_room_digests(now)

    return digest


@pytest.fixture
def fresh_room(db: None, mailoutbox: list[EmailMessage]) -> Iterator[Room]:
    """The buyer's inquiry, with its first entries (inquiry opened, first words, brokers assigned)."""
    world = _world()
    room = Room(world, open_deal(world), mailoutbox)
    yield room
    for user_id, conn in room.connections:
        asyncio.run(ephemeral.mark_absent(room.deal.pk, user_id, conn))


@pytest.fixture
def room(fresh_room: Room, run: Run) -> Room:
    """A fresh room whose opening entries were already digested: tests start from a quiet, told room."""
    assert run() == 3
    fresh_room.since = Notification.objects.order_by("-pk").values_list("pk", flat=True)[0]
    fresh_room.outbox.clear()
    return fresh_room


def test_each_away_participant_gets_one_digest_rendered_for_them(fresh_room: Room, run: Run) -> None:
    # given: the buyer writes an e-mail address before the NDA
    w = fresh_room.world
    send_message(w.buyer, fresh_room.deal.pk, "Mail me at kim@hctech.co.kr please")

    # when
    sent = run()

    # then: seller, buyer and broker each get one notification and one e-mail; nobody else
    assert sent == 3
    digests = fresh_room.digests()
    assert sorted(digests) == ["broker", "buyer", "seller"]
    assert sorted(fresh_room.mails()) == ["broker", "buyer", "seller"]
    assert len(fresh_room.outbox) == 3

    # the seller sees the buyer as "Buyer A" and the address masked; not their own "brokers assigned"
    title, body, data = digests["seller"]
    assert title == f"3 unread messages in “{TITLE}”"
    assert body == (
        "System: A buyer opened an inquiry.\n"
        "Buyer A: We make supercapacitors.\n"
        "Buyer A: Mail me at [email hidden] please"
    )
    assert data == {"deal_id": fresh_room.deal.pk, "from_sequence": 1, "to_sequence": 4}
    mail = fresh_room.mails()["seller"]
    assert mail.subject == f"3 unread messages in “{TITLE}”"
    assert mail.to == ["seller@example.org"]
    assert mail.body == (
        f"3 unread messages in “{TITLE}” while you were away.\n\n"
        "System: A buyer opened an inquiry.\n"
        "Buyer A: We make supercapacitors.\n"
        "Buyer A: Mail me at [email hidden] please\n\n"
        f"Read and reply: {fresh_room.path}\n"
    )
    # the buyer is not told of their own words
    assert digests["buyer"][:2] == (f"1 unread message in “{TITLE}”", "System: Brokers were assigned.")
    assert digests["buyer"][2] == {"deal_id": fresh_room.deal.pk, "from_sequence": 3, "to_sequence": 3}
    # the broker reads everything as written, under real names
    assert digests["broker"][1] == (
        "System: A buyer opened an inquiry.\n"
        "buyer: We make supercapacitors.\n"
        "System: Brokers were assigned.\n"
        "buyer: Mail me at kim@hctech.co.kr please"
    )
    assert Notification.objects.get(user=w.seller).dedupe_key == f"deal_room:{fresh_room.deal.pk}:4"
    states = RoomReadState.objects.filter(deal=fresh_room.deal).order_by("user_id")
    assert [(s.user.username, s.notified_sequence, s.last_read_sequence) for s in states] == [
        ("seller", 4, 0),
        ("buyer", 3, 0),
        ("broker", 4, 0),
    ]
    assert DealRoom.objects.get(pk=fresh_room.deal.pk).digest_sequence == 4


def test_running_again_sends_nothing_and_a_later_message_only_itself(room: Room, run: Run) -> None:
    w = room.world
    send_message(w.seller, room.deal.pk, "Our electrode keeps 95% capacity after 10,000 cycles.")
    assert run() == 2
    assert run() == 0
    assert len(room.outbox) == 2

    # when: a new message after the digest
    room.outbox.clear()
    send_message(w.broker, room.deal.pk, "I will share the test report once the NDA is signed.")
    assert run() == 2

    # then: the buyer hears of the new message only
    assert [(m.to[0], m.subject) for m in room.outbox] == [
        ("seller@example.org", f"1 unread message in “{TITLE}”"),
        ("buyer@example.org", f"1 unread message in “{TITLE}”"),
    ]
    _, body, data = room.digests()["buyer"]
    assert body == "broker: I will share the test report once the NDA is signed."
    assert data == {"deal_id": room.deal.pk, "from_sequence": 5, "to_sequence": 5}
    assert Notification.objects.filter(user=w.buyer, kind="deal_room_unread", pk__gt=room.since).count() == 2


def test_the_author_and_present_participants_get_nothing(room: Room, run: Run) -> None:
    # given: the seller is connected to the room; the buyer writes twice
    w = room.world
    room.present(w.seller)
    assert ephemeral.present_users(room.deal.pk) == {w.seller.pk}
    send_message(w.buyer, room.deal.pk, "What cell format did you test?")
    send_message(w.buyer, room.deal.pk, "And at what temperature?")

    # when
    assert run() == 1

    # then: only the broker is told; the seller saw it live, the buyer wrote it
    assert list(room.digests()) == ["broker"]
    assert room.digests()["broker"][0] == f"2 unread messages in “{TITLE}”"
    assert [m.to for m in room.outbox] == [["broker@example.org"]]

    # and: once the seller has left, a later digest does not repeat what they saw live
    room.absent(w.seller)
    send_message(w.broker, room.deal.pk, "Pouch cells, 25 °C.")
    assert run() == 2
    assert room.digests()["seller"][1] == "broker: Pouch cells, 25 °C."


def test_a_participant_who_read_to_the_end_gets_nothing(room: Room, run: Run) -> None:
    w = room.world
    send_message(w.buyer, room.deal.pk, "What cell format did you test?")
    assert mark_read(w.seller, room.deal.pk, room.last_sequence()) == 4  # three opening entries and this

    assert run() == 1
    assert list(room.digests()) == ["broker"]


def test_another_sides_private_thread_stays_out_of_a_partys_digest(room: Room, run: Run) -> None:
    w = room.world
    send_message(w.seller, room.deal.pk, "Our floor is 40M KRW; keep it between us.", thread="seller")
    send_message(w.seller, room.deal.pk, "Happy to answer questions.")

    assert run() == 2
    digests = room.digests()
    assert digests["buyer"][:2] == (f"1 unread message in “{TITLE}”", "Seller: Happy to answer questions.")
    assert digests["broker"][:2] == (
        f"2 unread messages in “{TITLE}”",
        "seller: Our floor is 40M KRW; keep it between us.\nseller: Happy to answer questions.",
    )
    assert "40M" not in room.mails()["buyer"].body


def test_hidden_messages_are_left_out_and_long_digests_quote_the_latest_five(room: Room, run: Run) -> None:
    w = room.world
    for n in range(1, 7):
        send_message(w.buyer, room.deal.pk, f"Question {n}: " + "x" * 300)
    spam = send_message(w.buyer, room.deal.pk, "Buy cheap watches")
    hide_message(w.operator, spam.pk, "spam")

    assert run() == 2
    title, body, _ = room.digests()["seller"]
    assert title == f"6 unread messages in “{TITLE}”"
    lines = body.split("\n")
    assert lines[0] == "The latest 5 of 6:"
    assert [line[: len("Buyer A: Question 2: ")] for line in lines[1:]] == [
        f"Buyer A: Question {n}: " for n in range(2, 7)
    ]
    assert all(len(line) == len("Buyer A: ") + 200 and line.endswith("x…") for line in lines[1:])
    assert "watches" not in body


def test_a_room_not_quiet_long_enough_waits(room: Room, run: Run, settings: Settings) -> None:
    settings.DEAL_ROOM_DIGEST_DELAY = 120
    send_message(room.world.buyer, room.deal.pk, "What cell format did you test?")

    assert run() == 0
    assert run(timezone.now() + timedelta(seconds=60)) == 0
    assert room.outbox == []

    assert run(timezone.now() + timedelta(seconds=121)) == 2
    assert sorted(room.mails()) == ["broker", "seller"]


def test_the_celery_task_and_its_schedule(room: Room, settings: Settings) -> None:
    settings.DEAL_ROOM_DIGEST_DELAY = 0
    send_message(room.world.buyer, room.deal.pk, "What cell format did you test?")

    assert send_room_digests_task.name == "marketplace.send_room_digests"
    assert send_room_digests_task.apply().get() == 2
    entry = app.conf.beat_schedule["deal-room-digests"]
    assert entry == {"task": "marketplace.send_room_digests", "schedule": 60.0, "options": {"expires": 55}}


@pytest.mark.django_db(transaction=True)
def test_a_room_locked_by_another_worker_is_passed_by(
    mailoutbox: list[EmailMessage], settings: Settings
) -> None:
    # given: another worker (a thread with its own connection) holds the room's row lock
    settings.DEAL_ROOM_DIGEST_DELAY = 0
    world = _world()
    deal = open_deal(world)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                DealRoom.objects.select_for_update().get(pk=deal.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        # when / then: this worker skips the room instead of waiting for it or sending it twice
        assert send_room_digests() == 0
        assert mailoutbox == []
    finally:
        release.set()
        thread.join(10)
    assert send_room_digests() == 3
    assert send_room_digests() == 0
    assert sorted(m.to[0] for m in mailoutbox) == [
        "broker@example.org",
        "buyer@example.org",
        "seller@example.org",
    ]
