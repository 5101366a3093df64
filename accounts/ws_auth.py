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

A token handshake is the cheap path (docs/performance.md, "Connecting"): no cookie
or session middleware (a program sends no cookie, and a Bearer token decides alone),
and one trip to a database thread that looks the token and its person up with one
raw statement and runs the `prefetch` step (the consumer's `hello` data, handed on
as `scope["netzn_hello"]`) in the same trip. Nothing about a token is cached: a
revoked token is refused by the next handshake, on every process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connections, router
from django.http.request import validate_host
from django.utils import timezone

from accounts.models import AccessToken, User
from accounts.tokens import TOKEN_PREFIX, hash_token, token_for_secret
from realtime.db import in_db_thread, prepared_cursor
from realtime.middleware import RETRY_AFTER_SECONDS
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


# The token, its person and whether `last_used_at` is due for a refresh, in one
# statement (the ORM's `select_related(...).first()` cost ~0.7 ms of CPU per
# handshake to compile, `User.objects.raw` still ~0.1 ms to map its columns each
# time). The person's columns are listed once per database, in the model's field
# order, and read back through the backend's and the fields' converters (what the
# ORM applies), so SQLite and PostgreSQL read the same.
HANDSHAKE_USER_SQL = """
SELECT {columns}, t.id,
       (t.last_used_at IS NULL OR t.last_used_at < %s)
  FROM accounts_accesstoken t JOIN accounts_user u ON u.id = t.user_id
 WHERE t.token_hash = %s AND t.revoked_at IS NULL AND u.is_active
"""
TOKEN_TOUCH_SECONDS = 60


class UserReader:
    """`HANDSHAKE_USER_SQL` for one database, and how to make a `User` of its row."""

    def __init__(self, db: Any) -> None:
        meta = User._meta
        fields = list(meta.concrete_fields)
        self.alias = db.alias
        self.attnames = [field.attname for field in fields]
        self.sql = HANDSHAKE_USER_SQL.format(
            columns=", ".join(f"u.{db.ops.quote_name(field.column)}" for field in fields)
        )
        self.converters: list[tuple[int, list[Any], Any]] = []
        for index, field in enumerate(fields):
            column = field.get_col(meta.db_table)
            found = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if found:
                self.converters.append((index, found, column))

    def user(self, row: Sequence[Any], db: Any) -> User:
        values = list(row[: len(self.attnames)])
        for index, converters, column in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, column, db)
            values[index] = value
        return User.from_db(self.alias, self.attnames, values)


_readers: dict[str, UserReader] = {}


def token_user(raw: str) -> tuple[User, int] | None:
    """The active person behind a token that is not revoked, and the token's id (what
    `accounts.tokens.token_for_secret` answers, in one statement)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    db = connections[router.db_for_read(User)]
    reader = _readers.get(db.alias)
    if reader is None:
        reader = _readers[db.alias] = UserReader(db)
    now = timezone.now()
    stale_before = db.ops.adapt_datetimefield_value(now - timedelta(seconds=TOKEN_TOUCH_SECONDS))
    with prepared_cursor(db) as cursor:
        cursor.execute(reader.sql, [stale_before, hash_token(raw)])
        row = cursor.fetchone()
        if row is None:
            return None
        token_id, stale = int(row[-2]), row[-1]
        if stale:
            # What `token_for_secret` does through the ORM, without compiling an UPDATE.
            cursor.execute(
                "UPDATE accounts_accesstoken SET last_used_at = %s WHERE id = %s",
                [db.ops.adapt_datetimefield_value(now), token_id],
            )
    return reader.user(row, db), token_id


def token_handshake(
    raw: str, prefetch: Callable[[Any], Any] | None
) -> tuple[User, int, Any] | None:
    """The database trip of a token handshake: the token's person, and `prefetch`'s
    answer for them."""
    found = token_user(raw)
    if found is None:
        return None
    user, token_id = found
    return user, token_id, prefetch(user) if prefetch is not None else None


def deny_unavailable(send: Any) -> bool:
    return deny(send, 503, "Service Unavailable", [("Retry-After", str(RETRY_AFTER_SECONDS))])


class TokenHandshake:
    """A handshake with `Authorization: Bearer`: the token alone decides (no cookie,
    no session), in one database trip that also runs `prefetch`."""

    def __init__(self, inner: Any, prefetch: Callable[[Any], Any] | None) -> None:
        self.inner = inner
        self.prefetch = prefetch

    async def __call__(self, scope: Scope, receive: Any, send: Any, origin: str | None) -> Any:
        if origin is not None and not origin_allowed(origin):
            return await WebsocketDenier()(scope, receive, send)
        authorization = header(scope, b"authorization") or ""
        try:
            found = await in_db_thread(token_handshake)(authorization[7:].strip(), self.prefetch)
        except DatabaseError as exc:
            logger.warning("WebSocket handshake refused, database unavailable: %s", exc)
            if not deny_unavailable(send):
                await WebsocketDenier()(scope, receive, send)
            return None
        if found is None:
            return await WebsocketDenier()(scope, receive, send)
        user, token_id, prefetched = found
        scope["auth"] = "token"
        scope["user"] = user
        scope["token_id"] = token_id
        if self.prefetch is not None:
            scope["netzn_hello"] = prefetched
        return await self.inner(scope, receive, send)


class WebsocketAuth:
    """Token handshakes straight to `TokenHandshake`; the rest through cookies and
    the session to `HandshakeAuth`."""

    def __init__(self, inner: Any, prefetch: Callable[[Any], Any] | None) -> None:
        self.token = TokenHandshake(inner, prefetch)
        self.session = CookieMiddleware(SessionMiddleware(HandshakeAuth(inner)))

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        authorization = header(scope, b"authorization")
        if authorization is not None and authorization.startswith("Bearer "):
            return await self.token(scope, receive, send, header(scope, b"origin"))
        return await self.session(scope, receive, send)


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
            if not deny_unavailable(send):
                await WebsocketDenier()(scope, receive, send)
            return None
        if user is None or isinstance(user, AnonymousUser) or not user.is_active:
            return await WebsocketDenier()(scope, receive, send)
        scope["user"] = user
        return await self.inner(scope, receive, send)


def websocket_auth(inner: Any, prefetch: Callable[[Any], Any] | None = None) -> Any:
    """The whole handshake stack: a token handshake in one database trip (with
    `prefetch(user)`'s answer as `scope["netzn_hello"]`), otherwise cookies and
    session, then `HandshakeAuth`."""
    return WebsocketAuth(inner, prefetch)
