"""JSON endpoints of the accounts app (see PROTOCOL.md)."""

from ninja import Router

router = Router(tags=["accounts"])
