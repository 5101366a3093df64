"""Storing notifications and delivering them live (CONVENTIONS.md, rule 1)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from notifications.models import Notification
from realtime.frames import user_topic
from realtime.publish import publish_on_commit


def notification_frame(notification: Notification) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
    }


def do_notify(
    *, recipient: Any, kind: str, data: dict[str, Any], dedupe_key: str
) -> Notification | None:
    """Store a notification for `recipient` in the caller's transaction and send the
    `notification` frame to every open socket of the recipient after the commit.

    The same `dedupe_key` for the same recipient is stored once: a second call returns
    None and publishes nothing."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, data=data, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    publish_on_commit(user_topic(recipient.pk), notification_frame(notification))
    return notification
