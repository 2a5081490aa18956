"""A diagnostic websocket: every message goes through the Redis channel layer and back.

It proves the whole path a deal-room event takes (socket -> channel layer -> socket) without any domain
logic; the deal rooms replace it with GraphQL subscriptions.
"""

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class EchoConsumer(AsyncJsonWebsocketConsumer):
    group = "diagnostics.echo"

    async def connect(self) -> None:
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or "payload" not in content:
            await self.send_json({"type": "error", "code": "INVALID_MESSAGE"})
            return
        # Send to ourselves through Redis rather than straight back, so the round trip crosses the layer.
        await self.channel_layer.send(
            self.channel_name, {"type": "echo.message", "payload": content["payload"]}
        )

    async def echo_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "echo", "payload": event["payload"], "via": "channel_layer"})

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, ensure_ascii=False)
