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
