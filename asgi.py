"""ASGI entry point: HTTP to Django; WebSocket through admission control
(realtime.admission: HTTP 503 + Retry-After past NETZN_MAX_HANDSHAKES_IN_FLIGHT), the
origin check and the session-or-token auth (accounts.ws_auth; a token handshake
loads `hello`'s conversations in the same database trip) to the URL router."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()
# Local runs (`make run`, DEBUG on) serve /static/ themselves; in production a reverse
# proxy serves the collected files (docs/operations.md).
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app

from accounts.ws_auth import websocket_auth  # noqa: E402
from chat.access import hello_conversations  # noqa: E402
from realtime import bodylimit  # noqa: E402
from realtime.admission import HandshakeAdmission  # noqa: E402
from realtime.wire import SmallInputQueues  # noqa: E402
from server.routing import websocket_urlpatterns  # noqa: E402

# Request bodies past NETZN_REQUEST_MAX_BYTES are refused as they arrive.
bodylimit.install()

# Outermost: each WebSocket connection's input on a small queue (realtime.wire).
application = SmallInputQueues(
    ProtocolTypeRouter(
        {
            "http": http_app,
            "websocket": HandshakeAdmission(
                websocket_auth(URLRouter(websocket_urlpatterns), prefetch=hello_conversations)
            ),
        }
    )
)

# Everything loaded so far lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise pause the event loop for 70-80 ms every
# few seconds under load (docs/performance.md, "Sends").
gc.freeze()
# Collect the young generation after 20,000 new container objects instead of 700
# (and the older ones less often in turn): a handshake allocates a few thousand
# (request, protocol, consumer, frames), almost all freed by reference counting, so
# at the default a reconnect storm ran a collection every few handshakes. A
# 5,000-client storm: 17.8-20.9 s -> 14.6-15.6 s (docs/performance.md, "Stop 26").
gc.set_threshold(20_000, 50, 100)
