"""Fixtures shared by the chat and realtime tests (tests/realtime/conftest.py is the
same file)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from asgiref.sync import SyncToAsync
from django.db import connections


@pytest.fixture(autouse=True, scope="session")
def _close_pool_connections(django_db_setup: None) -> Iterator[None]:
    """The consumer runs database work in its own thread pool; those threads' database
    connections are closed at the end, or the test database could not be dropped."""
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
    from realtime.db import DB_EXECUTOR

    workers = DB_EXECUTOR._max_workers
    barrier = threading.Barrier(workers, timeout=5)

    def close_here() -> None:
        connections.close_all()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    for future in [DB_EXECUTOR.submit(close_here) for _ in range(workers)]:
        future.result()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
