"""WebSocket handshake: Origin check and authentication (docs/protocol.md, "WebSocket").

- `Authorization: Bearer <token>`: a program; it may send no Origin, but an Origin it
  sends must be an allowed host. The token's id goes into `scope["token_id"]`, so
  revoking the token closes exactly the sockets opened with it.
- otherwise the session cookie: a browser; it must send an allowed Origin.
- anonymous, an unknown token, an inactive user or a foreign Origin: refused (HTTP 403).
- the database unreachable: refused with HTTP 503 (the client retries), never a 500.

The lookups run in the process's database threads (`realtime.db`), not on the one
thread that Channels' `database_sync_to_async` shares by default: a storm of
handshakes must not queue behind each other's queries.
"""

from __future__ import annotations

import logging
from importlib import import_module
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http.request import validate_host

from accounts.models import AccessToken
from accounts.tokens import token_for_secret
from realtime.db import in_db_thread
from realtime.wire import deny

logger = logging.getLogger(__name__)

Scope = dict[str, Any]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return None


def origin_allowed(origin: str) -> bool:
    host = urlparse(origin).hostname
    return host is not None and validate_host(host, settings.ALLOWED_HOSTS)


def session_user(session: Any) -> Any:
    """Django's own check of a session (its user, active, password unchanged)."""
    return auth.get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]


def still_signed_in(user_id: int, *, token_id: int | None, session_key: str | None) -> bool:
    """Whether the credentials a socket was opened with still hold: the token not
    revoked, or the session not ended, and the person active."""
    if token_id is not None:
        return AccessToken.objects.filter(
            pk=token_id, user_id=user_id, revoked_at__isnull=True, user__is_active=True
        ).exists()
    if session_key is None:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = session_user(store)
    return bool(user.is_authenticated and user.pk == user_id)


class HandshakeAuth:
    """Sets `scope["user"]` (and `scope["auth"]`: "token" or "session") or refuses."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        origin = header(scope, b"origin")
        if origin is not None and not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        authorization = header(scope, b"authorization") or ""
        user: Any = None
        try:
            if authorization.startswith("Bearer "):
                token = await in_db_thread(token_for_secret)(authorization[7:].strip())
                scope["auth"] = "token"
                if token is not None:
                    user = token.user
                    scope["token_id"] = token.pk
            elif origin is not None:
                user = await in_db_thread(session_user)(scope["session"])
                scope["auth"] = "session"
        except DatabaseError as exc:
            logger.warning("WebSocket handshake refused, database unavailable: %s", exc)
            if not deny(send, 503, "Service Unavailable"):
                await WebsocketDenier()(scope, receive, send)
            return None
        if user is None or isinstance(user, AnonymousUser) or not user.is_active:
            return await WebsocketDenier()(scope, receive, send)
        scope["user"] = user
        return await self.inner(scope, receive, send)


def websocket_auth(inner: Any) -> Any:
    """The whole handshake stack: cookies and session, then `HandshakeAuth`."""
    return CookieMiddleware(SessionMiddleware(HandshakeAuth(inner)))
