"""Shared fixtures: real PostgreSQL and Redis, and real server processes.

The suite runs against the database and Redis named by DATABASE_URL and REDIS_URL
(`make test` points them at the local PostgreSQL and Redis). pytest-django creates and
drops `test_<name>`. Each run gets its own pub/sub prefix, so concurrent runs on one
Redis do not hear each other, and the cache is emptied around every test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache

ROOT = Path(__file__).resolve().parent.parent
RUN_PREFIX = f"netzn-test-{uuid.uuid4().hex[:8]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: sync Playwright keeps an event loop running in the main
    thread while its browser is open, which async tests and the ORM cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True, scope="session")
def _isolated_pubsub_prefix() -> None:
    settings.NETZN_REDIS_PREFIX = RUN_PREFIX


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's hasher with one iteration: the tests create people by the dozen and
    hashing strength is not under test. Its hashes name their iteration count, so the
    server processes the tests start verify them with the default hasher."""

    iterations = 1


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    settings.PASSWORD_HASHERS = ["tests.conftest.FastPBKDF2PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_of_test_db() -> str:
    """The URL of the test database pytest-django created, for server subprocesses."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("server processes in tests need PostgreSQL (DATABASE_URL)")
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@dataclass
class ServerProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    tmp_path: Path,
    *,
    port: int | None = None,
    redis_url: str | None = None,
    database_url: str | None = None,
    extra_env: Mapping[str, str | None] | None = None,
) -> ServerProcess:
    """Run `daphne -e tcp:port=PORT:interface=127.0.0.1:backlog=2048 asgi:application`
    (the command line of `make run`) against the test database (or `database_url`), on
    `port` (to restart a server where its clients expect it) or a free one. `extra_env`
    overrides the environment; a value of None removes the variable."""
    port = port or free_port()
    env: dict[str, str | None] = {
        # The browser tests allow the ORM beside Playwright's loop; a server never does.
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": database_url or database_url_of_test_db(),
        "REDIS_URL": settings.REDIS_URL if redis_url is None else redis_url,
        "NETZN_REDIS_PREFIX": settings.NETZN_REDIS_PREFIX,
        "DEBUG": "1",
        "DATABASE_CONN_MAX_AGE": "0",
        **(extra_env or {}),
    }
    log = tmp_path / f"server-{port}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-e",
                f"tcp:port={port}:interface=127.0.0.1:backlog=2048",
                "asgi:application",
            ],
            cwd=ROOT,
            env={key: value for key, value in env.items() if value is not None},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(port=port, process=process, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{log.read_text()}")


@pytest.fixture
def server_factory(transactional_db: Any, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes (daphne) sharing the test database and Redis."""
    servers: list[ServerProcess] = []

    def make(**kwargs: Any) -> ServerProcess:
        server = start_server(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def live_server_process(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    """One real server process for browser and end-to-end tests."""
    return server_factory()


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """Create an active person: `make_user("Anna Becker", company_name="Stahlbau Witten")`.
    The password of every such person is `PASSWORD`."""
    from accounts.models import User

    counter = iter(range(1, 1_000_000))

    def make(display_name: str | None = None, **fields: Any) -> User:
        number = next(counter)
        name = display_name or f"Person {number}"
        email = fields.pop("email", f"person{number}-{uuid.uuid4().hex[:6]}@example.de")
        return User.objects.create_user(email=email, password=PASSWORD, display_name=name, **fields)

    return make


PASSWORD = "Ruhrpott-2026!"
