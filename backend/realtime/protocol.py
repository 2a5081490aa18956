"""GraphQL over websockets: the `graphql-transport-ws` protocol (the `graphql-ws` JS client's, gql's).

Generic over any graphene schema; the deal rooms add their `Subscription` type to the API schema and get
the transport for free. Close codes are the protocol's: 4400 bad message, 4401 unauthorised, 4403
forbidden, 4406 subprotocol, 4408 init timeout, 4409 duplicate id, 4429 duplicate init. 4000 is ours: an
idle or unused connection, closed to spare the server.

Every operation runs in a task of its own, so a slow query or an endless subscription never stops the
socket from reading `ping` and `complete`. One timer task per connection handles every deadline.
"""

import asyncio
import json
import logging
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLSchema,
    OperationType,
    execute_sync,
    get_operation_ast,
    subscribe,
)

from backend.api.core.limits import check_limits
from backend.api.core.loaders import Loaders, see_handed_out
from backend.api.core.view import _parsed_and_validated
from marketplace.actions.accounts import user_for_token

if TYPE_CHECKING:
    import graphene

logger = logging.getLogger(__name__)

SUBPROTOCOL = "graphql-transport-ws"
INTERNAL_ERROR = {"message": "Internal server error.", "extensions": {"code": "INTERNAL_ERROR"}}


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


class OperationContext:
    """`info.context` of one operation: what resolvers read from an HttpRequest, and the consumer."""

    def __init__(self, consumer: "GraphQLTransportWSConsumer") -> None:
        self.consumer = consumer
        self.user = consumer.user
        self.scope = consumer.scope
        self.META: dict[str, Any] = {}
        self.COOKIES: dict[str, str] = {}
        self.method = "WS"
        self.loaders = Loaders(cast(HttpRequest, self))  # Loaders reads only `.user`


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if result.data is not None:
        payload["data"] = result.data
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return payload


def _token_of(payload: dict[str, Any]) -> str | None:
    """The API token in a connection_init payload: `{"token": ...}` or `{"Authorization": "Bearer ..."}`.
    An unusable value counts as a wrong token (""), not as none at all."""
    token = payload.get("token")
    header = payload.get("Authorization", payload.get("authorization"))
    if token is None and header is not None:
        scheme, _, token = str(header).partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    if token is None:
        return None
    return token if isinstance(token, str) else ""


class GraphQLTransportWSConsumer(AsyncWebsocketConsumer):
    schema: "graphene.Schema | None" = None  # None: the API's schema

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: User | None = None  # set when the connection is acknowledged
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.init_received = False
        self.acknowledged = False
        self.closing = False
        self.last_received = self.unused_since = 0.0
        self.timer: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()  # wakes the timer when a deadline appears (ack, last operation ended)

    # --- hooks for the domain layer (presence) ---

    async def on_authenticated(self) -> None:
        """Called once the connection is acknowledged; `self.user` is set."""

    async def on_closed(self) -> None:
        """Called when the socket is gone, after every operation was stopped; `self.user` is None if the
        connection was never acknowledged."""

    # --- the socket ---

    def graphql_schema(self) -> GraphQLSchema:
        if self.schema is None:
            from backend.api.schema import schema as api_schema  # lazily: it imports every domain's API

            return api_schema.graphql_schema  # type: ignore[no-any-return]
        return self.schema.graphql_schema  # type: ignore[no-any-return]

    async def connect(self) -> None:
        self.last_received = self.unused_since = self._now()
        if SUBPROTOCOL not in self.scope.get("subprotocols", ()):
            # Accept first: a refused handshake would carry no close code to tell the client why.
            await self.accept()
            await self._close(4406, "Subprotocol not acceptable")
            return
        await self.accept(SUBPROTOCOL)
        self.timer = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        await self._stop_all()
        await self.on_closed()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        self.last_received = self._now()
        if text_data is None:
            return await self._close(4400, "Binary frames are not supported")
        if len(text_data.encode()) > _setting("REALTIME_MAX_FRAME_BYTES", 65536):
            return await self._close(4400, "MESSAGE_TOO_LARGE")
        try:
            message = json.loads(text_data)
        except ValueError:
            return await self._close(4400, "Invalid JSON")
        kind = message.get("type") if isinstance(message, dict) else None
        handler = {
            "connection_init": self._on_init,
            "subscribe": self._on_subscribe,
            "complete": self._on_complete,
            "ping": self._on_ping,
            "pong": self._on_pong,
        }.get(kind if isinstance(kind, str) else "")
        if handler is None:
            return await self._close(4400, "Unknown message type")
        await handler(message)

    async def _on_init(self, message: dict[str, Any]) -> None:
        if self.init_received:
            return await self._close(4429, "Too many initialisation requests")
        self.init_received = True
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            return await self._close(4400, "The connection_init payload must be an object")
        token = _token_of(payload)
        if token is not None:
            user = await database_sync_to_async(user_for_token, thread_sensitive=False)(token)
            if user is None:
                return await self._close(4403, "INVALID_TOKEN")
        else:
            user = self.scope.get("user")  # the session's, from AuthMiddlewareStack
            if user is None or not user.is_authenticated:
                return await self._close(4401, "NOT_AUTHENTICATED")
        self.user = user
        self.acknowledged = True
        self.unused_since = self._now()
        self.changed.set()
        await self._send({"type": "connection_ack"})
        await self.on_authenticated()

    async def _on_ping(self, message: dict[str, Any]) -> None:
        await self._send({"type": "pong"})

    async def _on_pong(self, message: dict[str, Any]) -> None:
        """Nothing to do: receiving it already proved the client alive."""

    async def _on_subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            return await self._close(4401, "Unauthorized")
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id:
            return await self._close(4400, "The message needs an id")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return await self._close(4400, "The subscribe payload needs a query")
        variables, name = payload.get("variables"), payload.get("operationName")
        if not isinstance(variables, dict | None) or not isinstance(name, str | None):
            return await self._close(4400, "Invalid variables or operationName")
        if op_id in self.operations:
            return await self._close(4409, "Subscriber for this id already exists")
        if len(self.operations) >= _setting("REALTIME_MAX_OPERATIONS", 50):
            error = {"message": "Too many live operations.", "extensions": {"code": "TOO_MANY_OPERATIONS"}}
            return await self._send({"id": op_id, "type": "error", "payload": [error]})
        self.operations[op_id] = asyncio.create_task(self._run(op_id, payload["query"], variables, name))

    async def _on_complete(self, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id:
            return await self._close(4400, "The message needs an id")
        task = self.operations.pop(op_id, None)
        if task is not None:
            task.cancel()  # the task's own cleanup closes a subscription's iterator
        if not self.operations:
            self._unused()

    # --- operations ---

    async def _run(
        self, op_id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        stream: AsyncIterator[ExecutionResult] | None = None
        try:
            schema = self.graphql_schema()
            document, invalid = _parsed_and_validated(schema, query)
            errors = list(invalid)
            if document is not None and not errors:
                errors = check_limits(schema, document, variables, operation_name)
            if document is None or errors:
                return await self._send_error(op_id, [error.formatted for error in errors])
            operation = get_operation_ast(document, operation_name)
            if operation is None:  # a request error, like validation's, rather than an execution error
                message = f"Unknown operation named '{operation_name}'." if operation_name else None
                message = message or "The document holds several operations: name one in operationName."
                return await self._send_error(op_id, [{"message": message}])
            context = OperationContext(self)
            if operation.operation == OperationType.SUBSCRIPTION:
                outcome = await subscribe(
                    schema,
                    document,
                    context_value=context,
                    variable_values=variables,
                    operation_name=operation_name,
                )
                if isinstance(outcome, ExecutionResult):
                    return await self._send_error(op_id, [e.formatted for e in outcome.errors or ()])
                stream = outcome
                async for result in stream:
                    await self._send({"id": op_id, "type": "next", "payload": _payload(result)})
            else:
                # Our own threads, not asgiref's one shared thread: sockets must not queue behind each
                # other. Each operation's ORM work stays within this one call.
                run = database_sync_to_async(_execute, thread_sensitive=False)
                result = await run(schema, document, context, variables, operation_name)
                await self._send({"id": op_id, "type": "next", "payload": _payload(result)})
            await self._send({"id": op_id, "type": "complete"})
        except Exception:
            logger.exception("GraphQL operation %r failed on a websocket", op_id)
            await self._send_error(op_id, [INTERNAL_ERROR])
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]
                if not self.operations:
                    self._unused()

    def _unused(self) -> None:
        self.unused_since = self._now()
        self.changed.set()

    async def _send_error(self, op_id: str, errors: list[Any]) -> None:
        await self._send({"id": op_id, "type": "error", "payload": errors})

    # --- keepalive and cleanup ---

    async def _watch(self) -> None:
        """Every deadline of the connection in one task: init timeout, server pings, idle and unused.
        A deadline that moved later (a message arrived) is checked again when the task wakes; one that
        appears (the ack, the last operation ending) wakes it through `changed`."""
        init_by = self._now() + _setting("REALTIME_INIT_TIMEOUT", 10)
        keepalive = _setting("REALTIME_KEEPALIVE", 15)
        idle = _setting("REALTIME_IDLE_TIMEOUT", 45)
        unused = _setting("REALTIME_UNUSED_TIMEOUT", 300)
        next_ping = math.inf
        while not self.closing:
            self.changed.clear()
            now = self._now()
            if not self.init_received:
                if now >= init_by:
                    return await self._close(4408, "Connection initialisation timeout")
                wake = init_by
            elif not self.acknowledged:
                wake = math.inf  # the token is being checked; the ack wakes us
            else:
                if now >= self.last_received + idle:
                    return await self._close(4000, "IDLE_TIMEOUT")
                if not self.operations and now >= self.unused_since + unused:
                    return await self._close(4000, "UNUSED_CONNECTION")
                if next_ping == math.inf:  # just acknowledged
                    next_ping = now + keepalive
                elif now >= next_ping:
                    await self._send({"type": "ping"})
                    next_ping = now + keepalive
                unused_at = math.inf if self.operations else self.unused_since + unused
                wake = min(next_ping, self.last_received + idle, unused_at)
            try:
                async with asyncio.timeout(None if wake == math.inf else max(wake - now, 0)):
                    await self.changed.wait()
            except TimeoutError:
                pass

    async def _close(self, code: int, reason: str) -> None:
        await self._stop_all()
        await self.close(code=code, reason=reason)

    async def _stop_all(self) -> None:
        """Stop the timer and every operation (closing subscription iterators), except the caller."""
        self.closing = True
        me = asyncio.current_task()
        tasks = [t for t in (self.timer, *self.operations.values()) if t is not None and t is not me]
        self.operations.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.closing:
            return
        try:
            await self.send(text_data=json.dumps(message, ensure_ascii=False))
        except OSError:  # the client went away; its disconnect is on its way and stops everything
            self.closing = True

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()


def _execute(
    schema: GraphQLSchema,
    document: DocumentNode,
    context: OperationContext,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    """A query or mutation, as the HTTP view runs it: mutations in a transaction (ATOMIC_MUTATIONS)."""
    options: dict[str, Any] = {
        "context_value": context,
        "variable_values": variables,
        "operation_name": operation_name,
        "middleware": [see_handed_out],
    }
    operation = get_operation_ast(document, operation_name)
    atomic = graphene_settings.ATOMIC_MUTATIONS is True or connection.settings_dict.get("ATOMIC_MUTATIONS")
    if operation is not None and operation.operation == OperationType.MUTATION and atomic:
        with transaction.atomic():
            result = execute_sync(schema, document, **options)
            if getattr(context, MUTATION_ERRORS_FLAG, False) is True:
                transaction.set_rollback(True)
        return result
    return execute_sync(schema, document, **options)
