"""A deal-room participant for tests: a real `gql` websocket client against the running server."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import connect as raw_connect
from websockets.exceptions import ConnectionClosed

EVENTS = gql(
    """
    subscription Room($dealId: ID!, $after: Int) {
      dealRoomEvents(dealId: $dealId, afterSequence: $after) {
        type sequence readSequence online thread
        participant { name role isYou }
        message { id sequence kind thread authorName authorRole isYou body masked event data hidden
                  sourceSequence createdAt }
      }
    }
    """
)
SEND = gql(
    """
    mutation Send($dealId: ID!, $body: String, $thread: DealRoomThread, $clientId: String) {
      sendMessage(dealId: $dealId, body: $body, thread: $thread, clientMessageId: $clientId) {
        message { id sequence body authorName }
        errors { code field message }
      }
    }
    """
)


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/graphql/"


class Participant:
    """Connects with an API token, subscribes to one room from `after`, and keeps every event."""

    def __init__(self, url: str, token: str, deal_id: str) -> None:
        self.url, self.token, self.deal_id = url, token, deal_id
        self.events: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self._task: asyncio.Task[None] | None = None
        self._session: Any = None
        self._client: Client | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [e["message"] for e in self.events if e["type"] == "MESSAGE"]

    @property
    def last_sequence(self) -> int:
        return max((m["sequence"] for m in self.messages), default=0)

    @property
    def listening(self) -> bool:
        """False once the subscription ended (the socket died, or the server refused it)."""
        return self._task is not None and not self._task.done()

    def signals(self, kind: str) -> list[dict[str, Any]]:
        """The ephemeral events of one type (TYPING, READ, PRESENCE), oldest first."""
        return [e for e in self.events if e["type"] == kind]

    async def connect(self, after: int = 0) -> "Participant":
        transport = WebsocketsTransport(url=ws_url(self.url), init_payload={"token": self.token})
        self._client = Client(transport=transport, fetch_schema_from_transport=False)
        self._session = await self._client.connect_async(reconnecting=False)  # type: ignore[no-untyped-call]
        self._task = asyncio.create_task(self._listen(after))
        return self

    async def _listen(self, after: int) -> None:
        try:
            variables = {"dealId": self.deal_id, "after": after}
            async for result in self._session.subscribe(EVENTS, variable_values=variables):
                self.events.append(result["dealRoomEvents"])
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.errors.append(error)

    async def send(self, body: str, thread: str = "ALL", client_id: str | None = None) -> dict[str, Any]:
        variables = {"dealId": self.deal_id, "body": body, "thread": thread, "clientId": client_id}
        result = await self._session.execute(SEND, variable_values=variables)
        return dict(result["sendMessage"])

    async def execute(self, document: str, **variables: Any) -> dict[str, Any]:
        return dict(await self._session.execute(gql(document), variable_values=variables))

    async def wait_for(self, predicate: Callable[["Participant"], bool], timeout: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self):
            if self.errors:
                raise AssertionError(f"subscription failed: {self.errors[0]!r}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events so far: {self.events}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close_async()  # type: ignore[no-untyped-call]


async def init_refusal(http_url: str, init_payload: dict[str, Any], timeout: float = 10) -> tuple[int, str]:
    """Open a raw graphql-transport-ws socket, send `connection_init`, and answer the close code and
    reason the server ends it with (gql hides those behind its own exceptions)."""
    async with raw_connect(ws_url(http_url), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": init_payload}))
        try:
            reply = await asyncio.wait_for(socket.recv(), timeout)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError(f"the server answered instead of closing: {reply!r}")


__all__ = ["Participant", "TransportQueryError", "init_refusal", "ws_url"]
