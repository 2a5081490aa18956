"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers (authenticated by session
or by an API token in the GraphQL connection_init; see backend/realtime/origin.py for the Origin rule).

Django's handler is ours (backend/asgi_body.py): request bodies are spooled encrypted, never as
plaintext on disk."""

import os

from backend.asgi_body import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
# Django must be set up before the consumers (and the models they import) are loaded.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from backend.realtime.origin import BrowserOriginValidator  # noqa: E402
from backend.realtime.routing import websocket_urlpatterns  # noqa: E402
from matching.warmup import warm_up_in_background  # noqa: E402

warm_up_in_background()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
