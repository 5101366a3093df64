"""The process's threads for database work on the event loop's behalf.

The WebSocket consumer and the handshake's token and session lookups run their
database steps here (many at once, not queued on the one thread Channels'
`database_sync_to_async` shares by default). Each step takes a connection from the
process's pool only while it runs (NETZN_DB_THREADS, at most DATABASE_POOL_MAX_SIZE:
the connection budget in docs/operations.md).

A step is handed over with `loop.run_in_executor` in the caller's context, with
stale connections closed around it (what Channels' `database_sync_to_async` does),
without asgiref's `SyncToAsync` around it: its per-call executor choice, `shield`,
and the copying of context variables back cost 40-100 µs of CPU per step (a third of
a token handshake's database trip; docs/performance.md, "Connecting: the handshake's
CPU cut"), and none of these steps calls back into async code (`async_to_sync`).
As with `SyncToAsync`, a caller cancelled while its step runs gets `CancelledError`
at once and the step finishes in its thread.

The statements every handshake and every reconnect's catch-up runs go through
`prepared_cursor`: on PostgreSQL Django binds every parameter into the statement's
text on the client (psycopg's `ClientCursor`), so the server parsed and planned the
catch-up's four-table join at every reconnect, three times as long as running it
took (docs/performance.md, "Stop 27"). Prepared, a statement is planned once per
pooled connection, and a reconnect sends only its parameters. psycopg forgets a
connection's prepared statements after a rollback on it (DEALLOCATE ALL) and prepares
them again at their next use.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from psycopg import adapters as psycopg_adapters
from psycopg.pq import Format

T = TypeVar("T")

DB_EXECUTOR = ThreadPoolExecutor(
    max_workers=settings.NETZN_DB_THREADS, thread_name_prefix="netzn-db"
)


def _step(func: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    close_old_connections()
    try:
        return func(*args, **kwargs)
    finally:
        close_old_connections()


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run `func` in the database thread pool (closing stale connections around it)."""

    @functools.wraps(func)
    async def run(*args: Any, **kwargs: Any) -> T:
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            DB_EXECUTOR, functools.partial(context.run, _step, func, args, kwargs)
        )

    return run


# psycopg prepares nothing on a connection whose `prepare_threshold` is None (what
# Django sets), not even when asked; with this one it prepares only when asked (the
# other cursors Django makes bind on the client and never prepare).
ONLY_WHEN_ASKED = 2**31 - 1
TIMESTAMPTZ_OID = psycopg_adapters.types["timestamptz"].oid


@functools.cache
def preparing_cursor_class() -> Any:
    """Django's server-binding psycopg cursor, executing every statement prepared.
    Django turns psycopg's own preparing off, for poolers outside the process that
    hand a session's statements to other connections; here the connections come
    from Django's pool in the process, and a prepared statement stays with its
    connection."""
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparingCursor(ServerBindingCursor):
        def execute(
            self, query: Any, params: Any = None, *, prepare: Any = None, binary: Any = None
        ) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


def prepared_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor of `db` (Django's wrapper: errors, query log and execute wrappers as
    for `db.cursor()`) whose statements PostgreSQL keeps prepared on the connection;
    on other databases `db.cursor()`."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        db.connection.prepare_threshold = ONLY_WHEN_ASKED
    # The backend's `create_cursor`, with the preparing cursor class.
    cursor = preparing_cursor_class()(db.connection)
    if db.timezone != db.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
        register_tzloader(db.timezone, cursor)
    db.validate_thread_sharing()
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)
