"""WebSocket URLs."""

from django.urls import path

from chat.consumers import ChatConsumer

websocket_urlpatterns = [
    # Channels' URLRouter takes ASGI applications where django-stubs expects views.
    path("ws/v1/", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]
