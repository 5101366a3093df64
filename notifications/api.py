"""JSON endpoints of the notifications app (see PROTOCOL.md)."""

from ninja import Router

router = Router(tags=["notifications"])
