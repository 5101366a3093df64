"""JSON endpoints of the chat app (see PROTOCOL.md)."""

from ninja import Router

router = Router(tags=["chat"])
