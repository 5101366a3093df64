"""WebSocket URLs."""

from django.urls import path

from chat.consumers import ChatConsumer, load_hello

# What a token handshake loads in its one database trip for the consumer's `hello`
# (`scope["netzn_hello"]`, accounts.ws_auth): the consumer's own query.
hello_conversations = load_hello

websocket_urlpatterns = [
    # Channels' URLRouter takes ASGI applications where django-stubs expects views.
    path("ws/v1/", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]
