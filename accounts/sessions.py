"""Browser sessions of a person: recorded at login, listed, ended one by one or all.

Django's session table has no user column, so `UserSession` records which session
key belongs to whom (written on `user_logged_in`, removed on `user_logged_out`). A
session counts as active while its row in `django_session` exists and has not
expired. Ending a session deletes both rows and closes the sockets opened with it
on every process (`realtime.publish.disconnect_user`, after the commit).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import UserSession
from realtime.publish import session_renamed

USER_AGENT_CHARS = 200


def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """`user_logged_in`: remember the new session key for this person."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    agent = str(getattr(request, "META", {}).get("HTTP_USER_AGENT", ""))[:USER_AGENT_CHARS]
    UserSession.objects.update_or_create(
        session_key=key, defaults={"user": user, "user_agent": agent}
    )


def record_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """`user_logged_out`: the session is gone (realtime closes its sockets)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def active_sessions(user: Any) -> list[UserSession]:
    """The person's sessions that can still sign in, newest first."""
    live = set(
        Session.objects.filter(
            session_key__in=UserSession.objects.filter(user=user).values("session_key"),
            expire_date__gt=timezone.now(),
        ).values_list("session_key", flat=True)
    )
    return [
        row
        for row in UserSession.objects.filter(user=user).order_by("-created_at", "-pk")
        if row.session_key in live
    ]


def end_sessions(user: Any, keys: list[str]) -> None:
    """Delete these sessions of `user` (the session store and our record). The caller
    closes their sockets."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user, session_key__in=keys).delete()


def session_keys(user: Any, *, except_key: str | None = None) -> list[str]:
    keys = UserSession.objects.filter(user=user).values_list("session_key", flat=True)
    return [key for key in keys if key != except_key]


def keep_signed_in(request: Any, user: Any) -> None:
    """After the own password changed: keep this browser signed in (Django cycles the
    session key) and carry our record and its open sockets over to the new key."""
    old = request.session.session_key
    update_session_auth_hash(request, user)
    new = request.session.session_key
    if old and new and new != old:
        UserSession.objects.filter(session_key=old).update(session_key=new)
        # This browser's sockets carry the old key: they take the new one.
        session_renamed(user.pk, old, new)


def current_session_key(request: Any) -> str | None:
    """The browser session a request came with; None for a token-authenticated call."""
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    return getattr(request.session, "session_key", None) or None
