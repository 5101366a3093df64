"""The live-server layer: real daphne processes, started with `make run`'s command line
(`python -m server.serve --websocket_connect_timeout 30 -e
tcp:port=PORT:interface=127.0.0.1:backlog=2048 asgi:application`: daphne on uvloop), in
both modes the README offers.

- `embedded_server`: what `make run` serves with neither DATABASE_URL nor REDIS_URL:
  SQLite (a fresh file, copied from a template migrated once per session), in-process
  fan-out, DEBUG on.
- `production_servers`: two processes with DEBUG=0, a SECRET_KEY and ALLOWED_HOSTS, on
  the pytest PostgreSQL test database and Redis (this run's NETZN_REDIS_PREFIX); they
  form one server.
- `live`: parametrised over both, so a contract test is written once and runs in
  each mode. `live.first` and `live.second` are two processes in production and the
  same one embedded.

Servers live for a module: tests share them and make their own people and groups over
HTTP (tests/live/client.py), so they do not interfere. After a production module the
test database is emptied, as a transactional test would leave it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import ROOT, ServerProcess, start_server
from tests.live.client import Person, Socket, make_group, sign_up

EMBEDDED = "embedded"
PRODUCTION = "production"

# The environment of `make run` without DATABASE_URL / REDIS_URL (README). The URL of
# the SQLite file is set per module, so parallel runs never share a file.
EMBEDDED_ENV: dict[str, str | None] = {
    "REDIS_URL": "",
    "DEBUG": "1",
    "DATABASE_CONN_MAX_AGE": None,
    "SECRET_KEY": None,
    "ALLOWED_HOSTS": None,
}

# Production as docs/operations.md runs it, minus TLS (the tests speak plain HTTP to
# 127.0.0.1; a reverse proxy terminates TLS in production).
PRODUCTION_ENV: dict[str, str | None] = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-django creates the test database only if a collected test asks for it; the
    production servers need it even when only live tests run."""
    for item in items:
        if {"live", "production_servers"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.django_db)


@dataclass
class Deployment:
    """One netzn as its clients see it: one embedded process or two production ones."""

    mode: str
    servers: list[ServerProcess]

    @property
    def first(self) -> ServerProcess:
        return self.servers[0]

    @property
    def second(self) -> ServerProcess:
        return self.servers[-1]

    @property
    def http_url(self) -> str:
        return self.first.http_url

    def person(self, display_name: str) -> Person:
        """A new person with a token, signed up over HTTP."""
        return sign_up(self.http_url, display_name)

    def group(self, owner: Person, *members: Person, visibility: str = "open") -> dict[str, Any]:
        """A new group of `owner` that `members` joined (GET /groups/{slug}'s answer)."""
        return make_group(self.http_url, owner, *members, visibility=visibility)

    async def socket(self, person: Person, server: ServerProcess | None = None) -> Socket:
        """A WebSocket of `person` on `server` (the first process by default), after hello."""
        return await Socket.open((server or self.first).ws_url, person)

    def logs(self) -> str:
        return "\n".join(server.log.read_text(errors="replace") for server in self.servers)


def run_manage(*args: str, env: dict[str, str | None]) -> None:
    full_env = {**os.environ, **env}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={key: value for key, value in full_env.items() if value is not None},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


@pytest.fixture(scope="session")
def embedded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session, copied for every embedded server."""
    path = tmp_path_factory.mktemp("embedded-template") / "netzn.sqlite3"
    run_manage("migrate", "--noinput", env={**EMBEDDED_ENV, "DATABASE_URL": f"sqlite:///{path}"})
    return path


def start_embedded(tmp_path: Path, template: Path, **extra_env: str | None) -> ServerProcess:
    """An embedded server on a fresh copy of the template database."""
    database = tmp_path / "netzn.sqlite3"
    shutil.copyfile(template, database)
    return start_server(
        tmp_path,
        database_url=f"sqlite:///{database}",
        extra_env={**EMBEDDED_ENV, **extra_env},
    )


@contextlib.contextmanager
def embedded_deployment(tmp_path: Path, template: Path) -> Iterator[Deployment]:
    server = start_embedded(tmp_path, template)
    try:
        yield Deployment(EMBEDDED, [server])
    finally:
        server.stop()


@contextlib.contextmanager
def production_deployment(tmp_path: Path, django_db_blocker: Any) -> Iterator[Deployment]:
    servers: list[ServerProcess] = []
    try:
        servers.extend(start_server(tmp_path, extra_env=PRODUCTION_ENV) for _ in range(2))
        yield Deployment(PRODUCTION, servers)
    finally:
        for server in servers:
            server.stop()
        # Everything the module made over HTTP goes, as after a transactional test.
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def embedded_server(
    tmp_path_factory: pytest.TempPathFactory, embedded_template: Path
) -> Iterator[Deployment]:
    with embedded_deployment(tmp_path_factory.mktemp("embedded"), embedded_template) as it:
        yield it


@pytest.fixture(scope="module")
def production_servers(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Deployment]:
    with production_deployment(tmp_path_factory.mktemp("production"), django_db_blocker) as it:
        yield it


@pytest.fixture(scope="module", params=[EMBEDDED, PRODUCTION])
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedded_template: Path,
    django_db_setup: None,
    django_db_blocker: Any,
) -> Iterator[Deployment]:
    """Each test using it runs once embedded and once in production (pytest groups the
    tests by mode, so one mode's servers run at a time)."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    if request.param == EMBEDDED:
        with embedded_deployment(tmp_path, embedded_template) as deployment:
            yield deployment
    else:
        with production_deployment(tmp_path, django_db_blocker) as deployment:
            yield deployment
