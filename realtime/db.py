"""The process's threads for database work on the event loop's behalf.

The WebSocket consumer and the handshake's token and session lookups run their
database steps here (`thread_sensitive=False`: many at once, not queued on the one
thread Channels' `database_sync_to_async` shares by default). Each step takes a
connection from the process's pool only while it runs (NETZN_DB_THREADS, at most
DATABASE_POOL_MAX_SIZE: the connection budget in docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

T = TypeVar("T")

DB_EXECUTOR = ThreadPoolExecutor(
    max_workers=settings.NETZN_DB_THREADS, thread_name_prefix="netzn-db"
)


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run `func` in the database thread pool (closing stale connections around it)."""
    return database_sync_to_async(func, thread_sensitive=False, executor=DB_EXECUTOR)
