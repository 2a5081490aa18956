import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from websockets.asyncio.client import connect


def _ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/ws/echo/"


async def test_websocket_round_trip_through_the_redis_channel_layer(live_server_url: str) -> None:
    async with connect(_ws_url(live_server_url), origin="http://127.0.0.1") as socket:
        await socket.send(json.dumps({"payload": "특허 hello"}))
        reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))

    assert reply == {"type": "echo", "payload": "특허 hello", "via": "channel_layer"}


async def test_a_message_published_by_another_process_reaches_the_socket(live_server_url: str) -> None:
    # given: a socket connected to the server process, which joined the echo group in Redis
    async with connect(_ws_url(live_server_url), origin="http://127.0.0.1") as socket:
        layer = get_channel_layer()
        # when: this (test) process publishes to the group through Redis
        await layer.group_send(
            "diagnostics.echo", {"type": "echo.message", "payload": "from another process"}
        )

        # then
        reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
    assert reply["payload"] == "from another process"


async def test_a_malformed_message_gets_a_coded_error(live_server_url: str) -> None:
    async with connect(_ws_url(live_server_url), origin="http://127.0.0.1") as socket:
        await socket.send(json.dumps(["not", "an", "object"]))
        reply = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))

    assert reply == {"type": "error", "code": "INVALID_MESSAGE"}


async def test_a_foreign_origin_is_refused(live_server_url: str) -> None:
    with pytest.raises(Exception, match="403"):
        async with connect(_ws_url(live_server_url), origin="http://evil.example"):
            pass
