"""Closing sockets on logout and deactivation (docs/protocol.md, "Identity and access").

`realtime` imports no app: it listens to Django's own auth signal and to saves of
whatever `AUTH_USER_MODEL` is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save

from realtime.publish import disconnect_user


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A browser logged out: close the sockets of that session (not the person's
    other devices, nor sockets opened with a token)."""
    if user is None:
        return
    session = getattr(request, "session", None)
    session_key = getattr(session, "session_key", None)
    if session_key:
        disconnect_user(user.pk, session_key=session_key)


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A deactivated person loses every open socket at once."""
    if not created and not instance.is_active:
        disconnect_user(instance.pk)


def connect() -> None:
    user_logged_out.connect(on_logged_out, dispatch_uid="realtime.disconnect_on_logout")
    post_save.connect(
        on_user_saved,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="realtime.disconnect_on_deactivation",
    )
