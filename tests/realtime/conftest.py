"""Chat and realtime tests share these fixtures (tests/realtime/conftest.py imports them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_connections() -> Iterator[None]:
    """The consumer runs database work in a thread pool; with persistent connections
    those threads would keep the test database open and block its teardown."""
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
