"""Template context for every page: the unread badge in the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from notifications.actions import unread_count as count_unread


def unread_count(request: HttpRequest) -> dict[str, Any]:
    """`{"unread_notifications": N}` for a signed-in person, 0 otherwise. One indexed
    COUNT query per page render."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": count_unread(user)}
