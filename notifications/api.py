"""JSON endpoints of the notifications app (see docs/protocol.md and docs/notifications.md).

`GET /notifications?unread=true&cursor=&limit=` lists the caller's own notifications,
newest first; `POST /notifications/read` marks some (`{"ids": [...]}`) or all
(`{"all": true}`) read. Ids of other people's notifications are ignored like unknown
ones, so the answer never reveals whether they exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import ConfigDict, Field, JsonValue

from notifications import presentation
from notifications.actions import MAX_IDS_PER_CALL, do_mark_all_read, do_mark_read, unread_count
from notifications.models import Notification
from realtime.errors import ClientError
from realtime.schemas import MAX_ID, Id, In, Out

# The data of a notification: ids, names, titles and links of what it is about
# (docs/notifications.md lists them by kind).
NotificationData = dict[str, JsonValue]

router = Router(tags=["notifications"])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class NotificationOut(Out):
    id: int
    kind: str
    data: NotificationData = Field(description="What the notification is about, by kind.")
    created_at: str
    read_at: str | None
    url: str


class NotificationPage(Out):
    results: list[NotificationOut]
    next: str | None


NotificationId = Id


class ReadIn(In):
    """`{"ids": [...]}` (1 to 500 of my notifications) or `{"all": true}`, not both."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["ids"], "not": {"required": ["all"]}},
                {"required": ["all"], "properties": {"all": {"const": True}}},
            ],
            "not": {"required": ["ids", "all"]},
        }
    )

    # Left out rather than null: the schema offers no null (a default is not validated).
    ids: list[NotificationId] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=1,
        max_length=MAX_IDS_PER_CALL,
    )
    all: bool = None  # type: ignore[assignment]


class ReadOut(Out):
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
    cursor: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """My notifications, newest first; `next` is the cursor of the following page."""
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
    elif payload.ids is None:
        raise ClientError(
            "bad_request",
            "Bitte „ids“ (nicht leer) oder „all“: true angeben.",
            fields={"ids": ["Bitte mindestens eine Benachrichtigung angeben."]},
        )
    else:
        marked = len(do_mark_read(actor=request.user, ids=payload.ids))
    return {"marked": marked, "unread_count": unread_count(request.user)}
