from django.urls import path

from backend.realtime.consumers import EchoConsumer
from backend.realtime.rooms import DealRoomConsumer

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    path("graphql/", DealRoomConsumer.as_asgi()),
]
