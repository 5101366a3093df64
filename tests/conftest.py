"""Shared fixtures: real PostgreSQL and Redis, and real server processes.

The suite runs against the database and Redis named by DATABASE_URL and REDIS_URL.
`make test` runs it twice (docs/testing.md):

- the full run: every test, on PostgreSQL and Redis (pytest-django creates and drops
  `test_<name>`);
- the embedded run (`NETZN_TEST_EMBEDDED=1`, no DATABASE_URL, no REDIS_URL): the
  contract tests (marker `contract`, given here by path) on what `make run` serves,
  SQLite in a test file and the in-process fan-out. Tests marked `postgres` or `redis`
  are skipped there with their reason.

In CI (`CI` set) a missing part fails instead of skipping. Each run gets its own
pub/sub prefix, so concurrent runs on one Redis do not hear each other, and the cache
is emptied around every test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache

from realtime.ratelimit import shared_local_buckets

ROOT = Path(__file__).resolve().parent.parent
RUN_PREFIX = f"netzn-test-{uuid.uuid4().hex[:8]}"


def xdist_worker_number() -> int | None:
    """The number of this pytest-xdist worker (`make test` runs two), None outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def isolate_xdist_worker() -> None:
    """Each xdist worker is a run of its own: pytest-django gives it its own test
    database (`test_<name>_gw<n>`), RUN_PREFIX its own pub/sub channels, and here it
    gets its own Redis database (the cache, the rate buckets, the connection counts and
    presence live there, and the cache is flushed around every test). Runs before
    anything reads the settings' Redis URLs; the servers the tests start get them from
    the settings."""
    number = xdist_worker_number()
    if number is None or not settings.REDIS_URL:
        return
    base = int(urlsplit(settings.REDIS_URL).path.strip("/") or 0)
    urls = [redis_url_with_db(url, base + 1 + number) for url in settings.REDIS_URLS]
    settings.REDIS_URLS = urls
    settings.REDIS_URL = urls[0]
    cache_config: dict[str, Any] = settings.CACHES["default"]
    cache_config["LOCATION"] = urls[0]
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    layer["CONFIG"]["hosts"] = urls


isolate_xdist_worker()

# Not part of the wire contract (HTTP API and WebSocket): the HTML pages, the admin,
# the e-mail workers and digests, the demo data, deploy checks, pinned query counts,
# the browser and the benchmark tools. Every other test module is a contract test and
# also runs in the embedded run.
NOT_CONTRACT_DIRS = ("browser", "bench")
NOT_CONTRACT_MODULES = frozenset(
    {
        "test_pages.py",
        "test_admin.py",
        "test_admin_and_demo.py",
        "test_demo.py",
        "test_deploy_check.py",
        "test_digest.py",
        "test_emails.py",
        "test_query_counts.py",
        "test_smoke.py",
        # The API against its OpenAPI schema: a minute or two, once (on PostgreSQL).
        "test_schemathesis.py",
    }
)

# Contract tests that fail on the embedded default because of a known bug that another
# change is fixing: expected to fail there (strictly: once fixed, the entry must go).
KNOWN_EMBEDDED_FAILURES: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def embedded_run() -> bool:
    return os.environ.get("NETZN_TEST_EMBEDDED", "") == "1"


def require(available: bool, message: str) -> None:
    """A part a test needs (a binary, a service): skip loudly on a developer machine,
    fail in CI, so a CI run never passes without having run the test."""
    if available:
        return
    message = f"!!! NOT RUN: {message} !!!"
    if in_ci():
        pytest.fail(message)
    sys.stderr.write(f"\n{message}\n")
    pytest.skip(message)


def chromium_path() -> str | None:
    """Chromium as `.ci/run` finds it (`command -v chromium`)."""
    return shutil.which("chromium")


def is_contract_test(item: pytest.Item) -> bool:
    parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
    return parts[0] not in NOT_CONTRACT_DIRS and parts[-1] not in NOT_CONTRACT_MODULES


PRODUCTION_ONLY = "the live layer's production mode (PostgreSQL, Redis) runs in the full run"


def is_production_live_test(item: pytest.Item) -> bool:
    """A test of tests/live/ on its production servers ("production": the mode's name
    in tests/live/conftest.py)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("live") == "production":
        return True
    return "production_servers" in getattr(item, "fixturenames", ())


EMBEDDED_ONLY = (
    "the live layer's embedded mode runs in the embedded run: its server is the same "
    "there (a SQLite file of its own, no Redis), whatever the run's database"
)


def is_embedded_live_test(item: pytest.Item) -> bool:
    """A test of tests/live/ on an embedded server: the server gets a fresh SQLite file
    copied from `embedded_template` and no Redis in either run, and the test speaks to
    it over HTTP and the WebSocket only, so the full run would repeat the embedded
    run's test exactly ("embedded": the mode's name in tests/live/conftest.py)."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "live" in callspec.params:
        return bool(callspec.params["live"] == "embedded")
    return "embedded_template" in getattr(item, "fixturenames", ())


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse a run that would test less than it claims."""
    postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if embedded_run():
        if postgres or settings.REDIS_URL:
            raise pytest.UsageError(
                "NETZN_TEST_EMBEDDED=1 is the SQLite run without Redis: unset "
                "DATABASE_URL and REDIS_URL"
            )
    elif in_ci() and not (postgres and settings.REDIS_URL):
        raise pytest.UsageError("CI runs the full suite on PostgreSQL and Redis")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers set here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Contract tests get their marker; in the embedded run tests that need PostgreSQL
    or Redis are skipped with their reason. The order is ModuleOrder's."""
    for item in items:
        if is_contract_test(item):
            item.add_marker(pytest.mark.contract)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if not embedded_run():
            if is_embedded_live_test(item):
                item.add_marker(pytest.mark.skip(reason=EMBEDDED_ONLY))
            continue
        if is_production_live_test(item):
            item.add_marker(pytest.mark.skip(reason=PRODUCTION_ONLY))
        for name in ("postgres", "redis"):
            marker = item.get_closest_marker(name)
            if marker is not None:
                reason = marker.args[0] if marker.args else "(no reason given)"
                item.add_marker(pytest.mark.skip(reason=f"needs {name}: {reason}"))
        known = KNOWN_EMBEDDED_FAILURES.get(item.nodeid)
        if known is not None:
            item.add_marker(pytest.mark.xfail(reason=known, strict=True))


# Fixtures that start server processes (daphne, redis-server): the modules using them
# are the long ones.
SERVER_FIXTURES = frozenset(
    {"live", "production_servers", "embedded_server", "server_factory", "redis_pair"}
)
# Other modules of 15 s or more (`--durations`, December 2026): they start processes of
# their own or have many cases.
LONG_MODULES = frozenset(
    {
        "realtime/test_processes.py",
        "realtime/test_slow_client.py",
        "engagement/test_cron.py",
        "test_connection_pool.py",
        "accounts/test_deletion.py",
        "accounts/test_bad_input.py",
        "groups/test_permissions.py",
        "chat/test_presence.py",
        "chat/test_replies_reactions.py",
        "test_schemathesis.py",
    }
)


class ModuleOrder:
    """The order modules run in, whole modules at a time (xdist's `--dist loadfile`
    hands them out in this order with `--no-loadscope-reorder`): the long ones (server
    processes, LONG_MODULES) first, so none is left for the end while the other worker
    idles; the browser modules last, as sync Playwright keeps an event loop running in
    the worker once its browser is open, which async tests and the ORM cannot share. A
    module with one browser test counts as a browser module, so no async test of it
    is left behind its browser. It sorts last (after pytest's and pytest-django's own
    ordering, which it keeps within a module, and after `-m` deselected)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=module_order(items))


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ModuleOrder(), "netzn-module-order")


def module_order(items: list[pytest.Item]) -> Callable[[pytest.Item], tuple[bool, bool, int]]:
    """ModuleOrder's key: browser modules last, the long ones first among the others;
    the browser modules with the most tests (the longest, December 2026) first."""
    browser: set[Path] = set()
    long: set[Path] = set()
    counts: Counter[Path] = Counter()
    for item in items:
        counts[item.path] += 1
        if item.get_closest_marker("browser") is not None:
            browser.add(item.path)
        relative = Path(str(item.path)).relative_to(ROOT / "tests").as_posix()
        if relative in LONG_MODULES or SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            long.add(item.path)

    def key(item: pytest.Item) -> tuple[bool, bool, int]:
        in_browser = item.path in browser
        return in_browser, item.path not in long, -counts[item.path] if in_browser else 0

    return key


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run in which no test passed proves nothing: in CI it fails (pytest's own
    "no tests collected", exit 5, fails `make` as well). Judged by the run as a whole,
    not by each xdist worker."""
    if xdist_worker_number() is not None:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = len(reporter.stats.get("passed", [])) if reporter is not None else 0
    if in_ci() and exitstatus == 0 and passed == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SQLite's test database is a file, not memory (as `make run` has it): the server
    processes a test starts must open the same database."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        db.setdefault("TEST", {})["NAME"] = str(path)


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
    """The cache and this process's in-memory rate buckets start empty in every test:
    on SQLite a flushed table hands out its ids again, so a new person could inherit
    an earlier test's spent message budget."""
    cache.clear()
    shared_local_buckets().buckets.clear()
    yield
    cache.clear()
    shared_local_buckets().buckets.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_of_test_db() -> str:
    """The URL of the test database pytest-django created, for server subprocesses."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError(f"no URL for a test database on {db['ENGINE']}")
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


SERVER_ACTION_LIMITS = ",".join(
    f"{action}=100000/3600"
    for action in (
        "signup",
        "password_reset",
        "password_reset_address",
        "confirmation_mail",
        "group_create",
        "join_request",
        "invitation",
        "report",
    )
)


def start_server(
    tmp_path: Path,
    *,
    port: int | None = None,
    redis_url: str | None = None,
    database_url: str | None = None,
    extra_env: Mapping[str, str | None] | None = None,
) -> ServerProcess:
    """Run `python -m server.serve --websocket_connect_timeout 30 -e
    tcp:port=PORT:interface=127.0.0.1:backlog=2048 asgi:application` (the command line
    of `make run`: daphne on uvloop) against the test database (or `database_url`), on
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
        # Tests sign up and create groups by the dozen from 127.0.0.1; the limits
        # themselves are tested in tests/accounts/test_action_limits.py.
        "NETZN_ACTION_LIMITS": SERVER_ACTION_LIMITS,
        **(extra_env or {}),
    }
    log = tmp_path / f"server-{port}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.serve",
                "--websocket_connect_timeout",
                "30",
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


@dataclass
class RedisServer:
    """A redis-server of a test's own (a shard), stopped and started again at will on
    the same port."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


# Ports of the extra Redis servers (shards) the tests start and stop themselves.
# An xdist worker takes the pair above the one before it.
SHARD_PORTS = [
    int(port) + 2 * (xdist_worker_number() or 0)
    for port in os.environ.get("NETZN_TEST_SHARD_PORTS", "6490,6491").split(",")
]


@pytest.fixture
def redis_pair(tmp_path: Path) -> Iterator[list[tuple[str, RedisServer]]]:
    """Two Redis servers of this test's own (the shards of a two-shard REDIS_URL)."""
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    servers = [RedisServer(port, tmp_path) for port in SHARD_PORTS[:2]]
    try:
        for server in servers:
            server.start()
        yield [(server.url, server) for server in servers]
    finally:
        for server in servers:
            server.stop()
