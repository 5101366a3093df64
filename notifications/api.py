"""JSON endpoints of the notifications app (see PROTOCOL.md and docs/notifications.md).

`GET /notifications?unread=true&cursor=&limit=` lists the caller's own notifications,
newest first; `POST /notifications/read` marks some (`{"ids": [...]}`) or all
(`{"all": true}`) read. Ids of other people's notifications are ignored like unknown
ones, so the answer never reveals whether they exist.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from notifications import presentation
from notifications.actions import MAX_IDS_PER_CALL, do_mark_all_read, do_mark_read, unread_count
from notifications.models import Notification
from realtime.errors import ClientError

router = Router(tags=["notifications"])

MAX_ID = 2**63 - 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class NotificationOut(Schema):
    id: int
    kind: str
    data: dict[str, Any]
    created_at: str
    read_at: str | None
    url: str


class NotificationPage(Schema):
    results: list[NotificationOut]
    next: str | None


class ReadIn(Schema):
    # Items are checked by `clean_ids`, so a bad item is reported under "ids" (the
    # generic handler would name it by its list index).
    ids: list[Any] | None = Field(default=None, max_length=MAX_IDS_PER_CALL)
    all: bool | None = None


class ReadOut(Schema):
    marked: int
    unread_count: int


def as_out(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
        "url": presentation.target_path(notification),
    }


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit() or int(cursor) > MAX_ID:
        raise ClientError(
            "bad_request", "Ungültige Eingabe.", fields={"cursor": ["Ungültiger Cursor."]}
        )
    return int(cursor)


@router.get("/notifications", response=NotificationPage)
def list_notifications(
    request: HttpRequest,
    unread: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """My notifications, newest first; `next` is the cursor of the following page."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ClientError(
            "bad_request",
            "Ungültige Eingabe.",
            fields={"limit": [f"Zwischen 1 und {MAX_LIMIT}."]},
        )
    before = parse_cursor(cursor)
    notifications = Notification.objects.filter(recipient_id=request.user.pk).order_by("-id")
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    if before is not None:
        notifications = notifications.filter(pk__lt=before)
    page = list(notifications[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [as_out(n) for n in page],
        "next": str(page[-1].pk) if more else None,
    }


def clean_ids(ids: list[Any]) -> list[int]:
    if not ids:
        raise ClientError(
            "bad_request",
            "Bitte „ids“ (nicht leer) oder „all“: true angeben.",
            fields={"ids": ["Bitte mindestens eine Benachrichtigung angeben."]},
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        raise ClientError(
            "bad_request",
            "Ungültige Eingabe.",
            fields={"ids": ["Nur Nummern von Benachrichtigungen (ganze Zahlen)."]},
        )
    return ids


@router.post("/notifications/read", response=ReadOut)
def mark_notifications_read(request: HttpRequest, payload: ReadIn) -> dict[str, Any]:
    """Mark the listed ids, or all, of my notifications read. Other people's ids are
    ignored (never revealed); `marked` counts what changed."""
    if payload.all is not None and payload.ids is not None:
        raise ClientError(
            "bad_request",
            "Entweder „ids“ oder „all“ angeben, nicht beides.",
            fields={"__all__": ["Entweder „ids“ oder „all“ angeben, nicht beides."]},
        )
    if payload.all is True:
        marked = do_mark_all_read(actor=request.user)
    else:
        marked = len(do_mark_read(actor=request.user, ids=clean_ids(payload.ids or [])))
    return {"marked": marked, "unread_count": unread_count(request.user)}
