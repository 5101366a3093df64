"""JSON endpoints of the groups app (see PROTOCOL.md)."""

from ninja import Router

router = Router(tags=["groups"])
