"""The graphql-transport-ws consumer, against a toy schema (and once against the real server)."""

# asgiref.testing has no type hints.
# mypy: disable-error-code="no-untyped-call"

import asyncio
import json
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import graphene
import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connections
from django.test import override_settings
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLError

from backend.realtime.origin import BrowserOriginValidator
from backend.realtime.protocol import GraphQLTransportWSConsumer
from marketplace.actions.accounts import create_api_token, revoke_api_token

pytestmark = pytest.mark.django_db(transaction=True)

STOPPED: list[str] = []  # tags of `forever` subscriptions whose generator was closed


class Nest(graphene.ObjectType):
    value = graphene.Int()
    child = graphene.Field(lambda: Nest)

    @staticmethod
    def resolve_child(root: Any, info: Any) -> "Nest":
        return Nest(value=1)


class Query(graphene.ObjectType):
    hello = graphene.String(name=graphene.String(default_value="world"))
    me = graphene.String()
    consumer = graphene.String()
    nest = graphene.Field(Nest)

    @staticmethod
    def resolve_hello(root: Any, info: Any, name: str) -> str:
        return f"hello {name}"

    @staticmethod
    def resolve_me(root: Any, info: Any) -> str:
        return str(info.context.user.username)

    @staticmethod
    def resolve_consumer(root: Any, info: Any) -> str:
        return type(info.context.consumer).__name__

    @staticmethod
    def resolve_nest(root: Any, info: Any) -> Nest:
        return Nest(value=0)


class Echo(graphene.Mutation):
    class Arguments:
        text = graphene.String(required=True)

    text = graphene.String()

    @staticmethod
    def mutate(root: Any, info: Any, text: str) -> "Echo":
        return Echo(text=text)


class Mutation(graphene.ObjectType):
    echo = Echo.Field()


class Subscription(graphene.ObjectType):
    count = graphene.Int(up_to=graphene.Int(required=True))
    forever = graphene.Int(tag=graphene.String(required=True))
    boom = graphene.Int()
    denied = graphene.Int()

    @staticmethod
    async def subscribe_count(root: Any, info: Any, up_to: int) -> AsyncGenerator[int, None]:
        for i in range(1, up_to + 1):
            yield i

    @staticmethod
    async def subscribe_forever(root: Any, info: Any, tag: str) -> AsyncGenerator[int, None]:
        try:
            yield 1
            await asyncio.Event().wait()
            yield 2  # never reached
        finally:
            STOPPED.append(tag)

    @staticmethod
    async def subscribe_boom(root: Any, info: Any) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("the event source broke")

    @staticmethod
    def subscribe_denied(root: Any, info: Any) -> None:
        raise GraphQLError("You may not watch this.", extensions={"code": "PERMISSION_DENIED"})


class ToyConsumer(GraphQLTransportWSConsumer):
    schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
    events: list[str] = []

    async def on_authenticated(self) -> None:
        assert self.user is not None
        self.events.append(f"authenticated {self.user.username}")

    async def on_closed(self) -> None:
        self.events.append("closed")


PROTOCOL = "graphql-transport-ws"


class WebsocketCommunicator(ApplicationCommunicator):
    """channels.testing's WebsocketCommunicator, minus its package's import of daphne (not installed):
    the same method names, so swapping it in later is an import change."""

    def __init__(
        self,
        application: Any,
        path: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": headers or [],
            "subprotocols": subprotocols or [],
        }
        super().__init__(application, scope)

    async def connect(self) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        reply = await self.receive_output(timeout=1)
        if reply["type"] == "websocket.accept":
            return True, reply.get("subprotocol")
        return False, reply.get("code", 1000)

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = {"text": text_data} if text_data is not None else {"bytes": bytes_data}
        await self.send_input({"type": "websocket.receive", **frame})

    async def receive_from(self, timeout: float = 1) -> str:
        output = await self.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        return output["text"]  # type: ignore[no-any-return]

    async def disconnect(self, code: int = 1000) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(1)


@pytest.fixture
def user() -> User:
    return User.objects.create_user("ws-user")


@pytest.fixture
def token(user: User) -> str:
    return create_api_token(user, "websocket tests")[1]


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    STOPPED.clear()
    ToyConsumer.events.clear()
    # Operations run on the event loop's worker threads; connections kept there past a call would still be
    # open when the test database is dropped. (A server keeps them, up to CONN_MAX_AGE, like any worker.)
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    yield


async def _socket(subprotocols: list[str] | None = None, user: User | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        ToyConsumer.as_asgi(), "/graphql/", subprotocols=[PROTOCOL] if subprotocols is None else subprotocols
    )
    if user is not None:
        communicator.scope["user"] = user  # what AuthMiddlewareStack puts there for a session
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _send(communicator: WebsocketCommunicator, message: dict[str, Any]) -> None:
    await communicator.send_to(text_data=json.dumps(message))


async def _receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return json.loads(await communicator.receive_from(timeout=2))  # type: ignore[no-any-return]


async def _closed(communicator: WebsocketCommunicator) -> tuple[int, str]:
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"], output.get("reason", "")


async def _acked(token: str) -> WebsocketCommunicator:
    communicator = await _socket()
    await _send(communicator, {"type": "connection_init", "payload": {"token": token}})
    assert await _receive(communicator) == {"type": "connection_ack"}
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, op_id: str, query: str, **extra: Any) -> None:
    await _send(communicator, {"id": op_id, "type": "subscribe", "payload": {"query": query, **extra}})


# --- handshake and authentication ---


async def test_a_token_in_connection_init_is_acknowledged_and_names_the_user(token: str) -> None:
    communicator = await _acked(token)

    await _subscribe(communicator, "1", "{ me }")

    assert await _receive(communicator) == {"id": "1", "type": "next", "payload": {"data": {"me": "ws-user"}}}
    assert await _receive(communicator) == {"id": "1", "type": "complete"}
    assert ToyConsumer.events == ["authenticated ws-user"]
    await communicator.disconnect()
    assert ToyConsumer.events == ["authenticated ws-user", "closed"]


async def test_an_authorization_bearer_entry_is_a_token_too(token: str) -> None:
    communicator = await _socket()
    await _send(communicator, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})

    assert await _receive(communicator) == {"type": "connection_ack"}
    await communicator.disconnect()


async def test_the_session_user_is_acknowledged_without_a_token(user: User) -> None:
    communicator = await _socket(user=user)
    await _send(communicator, {"type": "connection_init"})

    assert await _receive(communicator) == {"type": "connection_ack"}
    await communicator.disconnect()


async def test_no_session_and_no_token_closes_4401() -> None:
    communicator = await _socket()
    await _send(communicator, {"type": "connection_init", "payload": {}})

    assert await _closed(communicator) == (4401, "NOT_AUTHENTICATED")
    assert ToyConsumer.events == []


@pytest.mark.parametrize("revoked", [False, True])
async def test_an_unknown_or_revoked_token_closes_4403(user: User, revoked: bool) -> None:
    row, secret = await database_sync_to_async(create_api_token)(user, "soon gone")
    if revoked:
        await database_sync_to_async(revoke_api_token)(user, row.pk)
    token = secret if revoked else secret + "x"
    communicator = await _socket(user=user)  # a token, even beside a session, must be valid
    await _send(communicator, {"type": "connection_init", "payload": {"token": token}})

    assert await _closed(communicator) == (4403, "INVALID_TOKEN")


@pytest.mark.parametrize("offered", [[], ["graphql-ws"]])
async def test_a_client_not_offering_the_subprotocol_is_closed_4406(offered: list[str]) -> None:
    communicator = await _socket(subprotocols=offered)

    assert await _closed(communicator) == (4406, "Subprotocol not acceptable")


@override_settings(REALTIME_INIT_TIMEOUT=0.1)
async def test_no_connection_init_in_time_closes_4408() -> None:
    communicator = await _socket()

    assert await _closed(communicator) == (4408, "Connection initialisation timeout")


async def test_a_second_connection_init_closes_4429(token: str) -> None:
    communicator = await _acked(token)
    await _send(communicator, {"type": "connection_init", "payload": {"token": token}})

    assert await _closed(communicator) == (4429, "Too many initialisation requests")


async def test_subscribing_before_the_ack_closes_4401() -> None:
    communicator = await _socket()
    await _subscribe(communicator, "1", "{ hello }")

    assert await _closed(communicator) == (4401, "Unauthorized")


# --- malformed input ---


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{not json", "Invalid JSON"),
        ('["a", "list"]', "Unknown message type"),
        ('{"type": "start", "id": "1"}', "Unknown message type"),
        ('{"type": "subscribe", "payload": {"query": "{ hello }"}}', "The message needs an id"),
        ('{"type": "subscribe", "id": "1", "payload": {}}', "The subscribe payload needs a query"),
        ('{"type": "complete"}', "The message needs an id"),
    ],
)
async def test_a_malformed_message_closes_4400(token: str, frame: str, reason: str) -> None:
    communicator = await _acked(token)
    await communicator.send_to(text_data=frame)

    assert await _closed(communicator) == (4400, reason)


async def test_a_binary_frame_closes_4400(token: str) -> None:
    communicator = await _acked(token)
    await communicator.send_to(bytes_data=b'{"type": "ping"}')

    assert await _closed(communicator) == (4400, "Binary frames are not supported")


@override_settings(REALTIME_MAX_FRAME_BYTES=100)
async def test_a_frame_over_the_byte_limit_closes_4400(token: str) -> None:
    communicator = await _acked(token)
    await _send(communicator, {"type": "ping", "payload": {"note": "x" * 50}})  # 81 bytes: fine
    assert await _receive(communicator) == {"type": "pong"}

    await communicator.send_to(text_data=json.dumps({"type": "ping", "note": "특" * 30}, ensure_ascii=False))

    # 30 characters but 90 bytes of them: the limit counts bytes
    assert await _closed(communicator) == (4400, "MESSAGE_TOO_LARGE")


# --- operations ---


async def test_a_query_sends_next_then_complete(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(
        communicator,
        "q",
        "query Q($name: String) { hello(name: $name) consumer }",
        variables={"name": "특허"},
        operationName="Q",
    )

    assert await _receive(communicator) == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"hello": "hello 특허", "consumer": "ToyConsumer"}},
    }
    assert await _receive(communicator) == {"id": "q", "type": "complete"}
    await communicator.disconnect()


async def test_a_mutation_sends_next_then_complete(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "m", 'mutation { echo(text: "hi") { text } }')

    assert await _receive(communicator) == {
        "id": "m",
        "type": "next",
        "payload": {"data": {"echo": {"text": "hi"}}},
    }
    assert await _receive(communicator) == {"id": "m", "type": "complete"}
    await communicator.disconnect()


async def test_a_subscription_streams_every_event_then_completes(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "s", "subscription { count(upTo: 3) }")

    for i in (1, 2, 3):
        assert await _receive(communicator) == {"id": "s", "type": "next", "payload": {"data": {"count": i}}}
    assert await _receive(communicator) == {"id": "s", "type": "complete"}
    await communicator.disconnect()


async def test_complete_from_the_client_stops_a_subscription(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "s", 'subscription { forever(tag: "a") }')
    assert await _receive(communicator) == {"id": "s", "type": "next", "payload": {"data": {"forever": 1}}}

    await _send(communicator, {"id": "s", "type": "complete"})

    assert await communicator.receive_nothing(timeout=0.3)
    assert STOPPED == ["a"]  # the generator was closed, not left waiting
    await _send(communicator, {"type": "ping"})  # the socket lives on
    assert await _receive(communicator) == {"type": "pong"}
    await communicator.disconnect()


async def test_disconnecting_stops_every_subscription(token: str) -> None:
    communicator = await _acked(token)
    for tag in ("a", "b"):
        await _subscribe(communicator, tag, f'subscription {{ forever(tag: "{tag}") }}')
        assert (await _receive(communicator))["id"] == tag

    await communicator.disconnect()

    assert sorted(STOPPED) == ["a", "b"]
    assert ToyConsumer.events == ["authenticated ws-user", "closed"]


async def test_a_live_operation_id_used_again_closes_4409(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "s", 'subscription { forever(tag: "a") }')
    assert (await _receive(communicator))["type"] == "next"

    await _subscribe(communicator, "s", "{ hello }")

    assert await _closed(communicator) == (4409, "Subscriber for this id already exists")
    assert STOPPED == ["a"]


async def test_an_id_may_be_reused_once_its_operation_completed(token: str) -> None:
    communicator = await _acked(token)
    for _ in range(2):
        await _subscribe(communicator, "q", "{ hello }")
        assert (await _receive(communicator))["type"] == "next"
        assert await _receive(communicator) == {"id": "q", "type": "complete"}
    await communicator.disconnect()


async def test_invalid_documents_get_an_error_message(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "v", "{ nope }")
    await _subscribe(communicator, "x", "{ hello ")

    replies = {reply["id"]: reply for reply in [await _receive(communicator), await _receive(communicator)]}

    assert replies["v"]["type"] == "error"
    assert [e["message"] for e in replies["v"]["payload"]] == ["Cannot query field 'nope' on type 'Query'."]
    assert replies["x"]["type"] == "error"
    assert replies["x"]["payload"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."
    assert await communicator.receive_nothing()  # no `complete` after an `error`
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "The document holds several operations: name one in operationName."),
        ({"operationName": "C"}, "Unknown operation named 'C'."),
    ],
)
async def test_an_operation_that_cannot_be_chosen_gets_an_error(
    token: str, extra: dict[str, str], message: str
) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "o", "query A { hello } query B { hello }", **extra)

    assert await _receive(communicator) == {"id": "o", "type": "error", "payload": [{"message": message}]}
    await communicator.disconnect()


async def test_the_query_limits_apply_with_their_codes(token: str) -> None:
    communicator = await _acked(token)
    deep = "{ nest " + "{ child " * 10 + "{ value }" + " }" * 11

    await _subscribe(communicator, "d", deep)

    reply = await _receive(communicator)
    assert reply["id"] == "d"
    assert reply["type"] == "error"
    assert [e["extensions"]["code"] for e in reply["payload"]] == ["QUERY_TOO_DEEP"]
    await communicator.disconnect()


async def test_a_refused_subscription_gets_the_resolvers_error(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "s", "subscription { denied }")

    reply = await _receive(communicator)

    assert reply["type"] == "error"
    assert [(e["message"], e["extensions"]["code"]) for e in reply["payload"]] == [
        ("You may not watch this.", "PERMISSION_DENIED")
    ]
    await communicator.disconnect()


async def test_an_exception_in_an_operation_becomes_an_internal_error(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "b", "subscription { boom }")

    assert await _receive(communicator) == {"id": "b", "type": "next", "payload": {"data": {"boom": 1}}}
    assert await _receive(communicator) == {
        "id": "b",
        "type": "error",
        "payload": [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_ERROR"}}],
    }
    await _send(communicator, {"type": "ping"})
    assert await _receive(communicator) == {"type": "pong"}
    await communicator.disconnect()


@override_settings(REALTIME_MAX_OPERATIONS=2)
async def test_operations_beyond_the_cap_are_refused(token: str) -> None:
    communicator = await _acked(token)
    for tag in ("a", "b"):
        await _subscribe(communicator, tag, f'subscription {{ forever(tag: "{tag}") }}')
        assert (await _receive(communicator))["type"] == "next"

    await _subscribe(communicator, "c", "{ hello }")

    assert await _receive(communicator) == {
        "id": "c",
        "type": "error",
        "payload": [{"message": "Too many live operations.", "extensions": {"code": "TOO_MANY_OPERATIONS"}}],
    }
    # once one ends, there is room again
    await _send(communicator, {"id": "a", "type": "complete"})
    await _subscribe(communicator, "c", "{ hello }")
    assert await _receive(communicator) == {
        "id": "c",
        "type": "next",
        "payload": {"data": {"hello": "hello world"}},
    }
    await communicator.disconnect()


# --- keepalive and cleanup ---


async def test_a_ping_is_answered_with_a_pong(token: str) -> None:
    communicator = await _acked(token)
    await _send(communicator, {"type": "ping"})

    assert await _receive(communicator) == {"type": "pong"}
    await communicator.disconnect()


@override_settings(REALTIME_KEEPALIVE=0.1)
async def test_the_server_pings(token: str) -> None:
    communicator = await _acked(token)

    assert await _receive(communicator) == {"type": "ping"}
    assert await _receive(communicator) == {"type": "ping"}
    await communicator.disconnect()


@override_settings(REALTIME_KEEPALIVE=0.1, REALTIME_IDLE_TIMEOUT=0.4)
async def test_a_silent_client_is_closed_4000_while_one_answering_pings_stays(token: str) -> None:
    communicator = await _acked(token)
    loop = asyncio.get_running_loop()
    until = loop.time() + 1.0  # well past the idle timeout, answering every ping
    while loop.time() < until:
        assert await _receive(communicator) == {"type": "ping"}
        await _send(communicator, {"type": "pong"})

    # then the client falls silent: pings go unanswered until the idle timeout
    while (output := await communicator.receive_output(timeout=2))["type"] == "websocket.send":
        assert json.loads(output["text"]) == {"type": "ping"}
    assert (output["code"], output["reason"]) == (4000, "IDLE_TIMEOUT")


@override_settings(REALTIME_UNUSED_TIMEOUT=0.3)
async def test_a_connection_without_live_operations_is_closed_4000(token: str) -> None:
    communicator = await _acked(token)
    await _subscribe(communicator, "s", 'subscription { forever(tag: "a") }')
    assert (await _receive(communicator))["type"] == "next"
    assert await communicator.receive_nothing(timeout=0.5)  # a live subscription keeps it

    await _send(communicator, {"id": "s", "type": "complete"})

    assert await _closed(communicator) == (4000, "UNUSED_CONNECTION")


# --- origin ---


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [(None, True), (b"http://127.0.0.1:8000", True), (b"http://evil.example", False), (b"null", False)],
)
async def test_browsers_need_an_allowed_origin_others_none(origin: bytes | None, accepted: bool) -> None:
    headers = [(b"origin", origin)] if origin is not None else []
    app = BrowserOriginValidator(ToyConsumer.as_asgi())
    communicator = WebsocketCommunicator(app, "/graphql/", headers=headers, subprotocols=[PROTOCOL])

    connected, _ = await communicator.connect()

    assert connected is accepted
    if connected:
        await communicator.disconnect()


# --- the real server ---


async def test_gql_queries_the_real_server_over_the_socket(live_server_url: str, token: str) -> None:
    url = live_server_url.replace("http://", "ws://") + "/graphql/"
    transport = WebsocketsTransport(url=url, init_payload={"token": token})

    async with Client(transport=transport) as session:
        result = await session.execute(gql("{ serverInfo { version } }"))

    assert result == {"serverInfo": {"version": "0.1.0"}}
    assert transport.subprotocol == PROTOCOL
