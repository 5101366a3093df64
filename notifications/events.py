"""Typed payloads that the notifications app publishes on a user's personal topic."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class NotificationFrame(TypedDict):
    """docs/protocol.md: `{"type":"notification","id","kind","data","created_at"}`."""

    type: Literal["notification"]
    id: int
    kind: str
    data: dict[str, Any]
    created_at: str


class NotificationsReadFrame(TypedDict):
    """An addition to docs/protocol.md (docs/notifications.md): notifications were marked
    read, in this tab or another; `ids` or `all`, and the new unread count."""

    type: Literal["notifications_read"]
    ids: NotRequired[list[int]]
    all: NotRequired[bool]
    unread_count: int
