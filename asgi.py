"""ASGI entry point: HTTP to Django; WebSocket through the origin check and the
session-or-token auth (accounts.ws_auth) to the URL router."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from accounts.ws_auth import websocket_auth  # noqa: E402
from server.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_auth(URLRouter(websocket_urlpatterns)),
    }
)
