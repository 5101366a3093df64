"""Database connections are bounded (issue 9, section 6), against a real daphne
process on PostgreSQL: Django's psycopg pool serves a burst far beyond its size
without a failure, never holds more connections than its budget, and a request that
gets no connection within the pool's timeout is a retryable 503.

The pool here is small on purpose (PostgreSQL's default max_connections is 100, and
the suite must pass with it): the assertions are against the configured budget."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from groups.actions import do_create_group
from tests.chat.helpers import token_for
from tests.conftest import PASSWORD, ROOT, ServerProcess, database_url_of_test_db

pytestmark = pytest.mark.postgres("the pool is PostgreSQL's (psycopg_pool); SQLite has none")

POOL_MAX = 4
DB_THREADS = 2


def call(
    server: ServerProcess, method: str, path: str, token: str, body: Any = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        f"{server.http_url}/api/v1{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def server_connections(application_name: str) -> int:
    with psycopg.connect(database_url_of_test_db(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        ).fetchone()
    assert row is not None
    return int(row[0])


def pooled_server(
    server_factory: Callable[..., ServerProcess], **pool: str
) -> tuple[ServerProcess, str]:
    """A server whose connections carry their own application_name, to be counted."""
    name = f"netzn-pool-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": f"{database_url_of_test_db()}?application_name={name}",
        "DATABASE_POOL_MAX_SIZE": str(POOL_MAX),
        "DATABASE_POOL_MIN_SIZE": "1",
        "NETZN_DB_THREADS": str(DB_THREADS),
        **pool,
    }
    return server_factory(extra_env=env), name


class Sampler:
    """Counts the server's connections in pg_stat_activity while a burst runs."""

    def __init__(self, application_name: str) -> None:
        self.application_name = application_name
        self.highest = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        while not self.stop.is_set():
            self.highest = max(self.highest, server_connections(self.application_name))
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def test_a_burst_of_reads_and_joins_fits_in_the_pool(
    server_factory: Callable[..., ServerProcess], make_user: Any
) -> None:
    server, name = pooled_server(server_factory)
    founder = make_user("Anna Becker")
    groups = [do_create_group(actor=founder, name=f"Ausbildung Ruhr {n}") for n in range(5)]
    people = [make_user(f"Person {n}") for n in range(20)]
    tokens = [token_for(person) for person in people]

    with Sampler(name) as sampler:
        with ThreadPoolExecutor(max_workers=120) as pool:
            reads = list(
                pool.map(
                    lambda n: call(server, "GET", "/groups", tokens[n % len(tokens)]),
                    range(120),
                )
            )
        with ThreadPoolExecutor(max_workers=20) as pool:
            joins = list(
                pool.map(
                    lambda pair: call(
                        server, "POST", f"/groups/{groups[pair[0]].slug}/join", tokens[pair[1]]
                    ),
                    [(g, p) for g in range(len(groups)) for p in range(len(people))],
                )
            )

    assert [status for status, _, _ in reads] == [200] * 120
    assert all(len(body["results"]) == len(groups) for _, body, _ in reads)
    assert [(status, body["status"]) for status, body, _ in joins] == [(200, "member")] * 100
    members = call(server, "GET", f"/groups/{groups[0].slug}", tokens[0])[1]
    assert members["member_count"] == len(people) + 1
    # Never more connections than the budget, during the burst and after it.
    assert 1 <= sampler.highest <= POOL_MAX
    assert server_connections(name) <= POOL_MAX
    assert "Traceback" not in server.log.read_text()


def test_no_connection_within_the_pool_timeout_is_a_retryable_503(
    server_factory: Callable[..., ServerProcess], make_user: Any
) -> None:
    """The pool's only connection is held by a join that waits on a row lock; a read
    meanwhile waits the pool's timeout and is answered 503 with Retry-After (a page: a
    German 503 page). Once the lock goes, the join completes and reads work again."""
    server, _ = pooled_server(
        server_factory,
        DATABASE_POOL_MAX_SIZE="1",
        NETZN_DB_THREADS="1",
        DATABASE_POOL_TIMEOUT="0.5",
    )
    founder, joiner = make_user("Anna Becker"), make_user("Ben Öztürk")
    group = do_create_group(actor=founder, name="Stahlbau Witten")
    founder_token, joiner_token = token_for(founder), token_for(joiner)
    assert call(server, "GET", "/groups", founder_token)[0] == 200  # the pool is open
    browser = httpx.Client(base_url=server.http_url, timeout=60)
    login = browser.post("/api/v1/auth/login", json={"email": founder.email, "password": PASSWORD})
    assert login.status_code == 200

    with ThreadPoolExecutor(max_workers=1) as pool:
        with psycopg.connect(database_url_of_test_db()) as blocker:
            blocker.execute("SELECT 1 FROM groups_group WHERE id = %s FOR UPDATE", [group.pk])
            join = pool.submit(call, server, "POST", f"/groups/{group.slug}/join", joiner_token)
            time.sleep(1.0)  # the join now holds the connection, waiting on the lock
            status, body, headers = call(server, "GET", "/groups", founder_token)
            assert status == 503
            assert body["error"]["code"] == "unavailable"
            assert int(headers["Retry-After"]) >= 1
            page = browser.get("/gruppen/")
            assert page.status_code == 503
            assert "Vorübergehend nicht erreichbar" in page.text
            assert int(page.headers["Retry-After"]) >= 1
            blocker.rollback()
        joined_status, joined, _ = join.result(timeout=30)
    assert (joined_status, joined["status"]) == (200, "member")
    assert call(server, "GET", "/groups", founder_token)[0] == 200
    assert browser.get("/gruppen/").status_code == 200
    browser.close()


def test_more_database_threads_than_pooled_connections_is_refused_at_start() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": database_url_of_test_db(),
            "DATABASE_POOL_MAX_SIZE": "4",
            "NETZN_DB_THREADS": "5",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "NETZN_DB_THREADS (5) must not exceed DATABASE_POOL_MAX_SIZE (4)" in result.stderr
