"""WebSocket handshake: Origin check and authentication (PROTOCOL.md, "WebSocket").

- `Authorization: Bearer <token>`: a program; it may send no Origin, but an Origin it
  sends must be an allowed host.
- otherwise the session cookie: a browser; it must send an allowed Origin.
- anonymous, an unknown token, an inactive user or a foreign Origin: refused (HTTP 403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.http.request import validate_host

from accounts.models import User
from accounts.tokens import user_for_token

Scope = dict[str, Any]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return None


def origin_allowed(origin: str) -> bool:
    host = urlparse(origin).hostname
    return host is not None and validate_host(host, settings.ALLOWED_HOSTS)


@database_sync_to_async
def token_user(raw: str) -> User | None:
    return user_for_token(raw)


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
        if authorization.startswith("Bearer "):
            user = await token_user(authorization[7:].strip())
            scope["auth"] = "token"
        elif origin is not None:
            user = await get_user(scope)
            scope["auth"] = "session"
        if user is None or not user.is_authenticated or not user.is_active:
            return await WebsocketDenier()(scope, receive, send)
        scope["user"] = user
        return await self.inner(scope, receive, send)


def websocket_auth(inner: Any) -> Any:
    """The whole handshake stack: cookies and session, then `HandshakeAuth`."""
    return CookieMiddleware(SessionMiddleware(HandshakeAuth(inner)))
