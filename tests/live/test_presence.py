"""Presence against real daphne processes, in both modes: embedded (one process,
in-process state) and production (two processes on one Redis: a person connected
to process A is seen online by a subscriber on process B). In production a killed
process's people go offline by themselves; the timeout is set to 3 s here
(`NETZN_PRESENCE_TIMEOUT_SECONDS`, 45 s by default: offline within 60 s)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import ServerProcess, start_server
from tests.live.client import Socket, api, expect
from tests.live.conftest import (
    EMBEDDED,
    PRODUCTION,
    PRODUCTION_ENV,
    Deployment,
    start_embedded,
)

PRESENCE_ENV = {"NETZN_PRESENCE_TIMEOUT_SECONDS": "3"}


@contextlib.contextmanager
def deployment(
    mode: str, tmp_path: Path, template: Path, django_db_blocker: Any
) -> Iterator[Deployment]:
    servers: list[ServerProcess] = []
    try:
        if mode == EMBEDDED:
            servers.append(start_embedded(tmp_path, template, **PRESENCE_ENV))
        else:
            env = {**PRODUCTION_ENV, **PRESENCE_ENV}
            servers.extend(start_server(tmp_path, extra_env=env) for _ in range(2))
        yield Deployment(mode, servers)
    finally:
        for server in servers:
            server.stop()
        if mode == PRODUCTION:
            with django_db_blocker.unblock():
                call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module", params=[EMBEDDED, PRODUCTION])
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedded_template: Path,
    django_db_setup: None,
    django_db_blocker: Any,
) -> Iterator[Deployment]:
    with deployment(
        request.param, tmp_path_factory.mktemp(request.param), embedded_template, django_db_blocker
    ) as it:
        yield it


async def watch(socket: Socket, ids: list[Any]) -> None:
    await socket.send({"type": "presence_subscribe", "users": ids})


async def next_presence(socket: Socket, user_id: int, timeout: float = 20) -> dict[str, Any]:
    while True:
        frame = await socket.receive_type("presence", timeout)
        if frame["user"] == user_id:
            return frame


async def test_presence_across_processes(live: Deployment) -> None:
    anna, ben, dora = live.person("Anna Becker"), live.person("Ben Öztürk"), live.person("Dora")
    live.group(anna, ben)
    watcher = await live.socket(anna, live.second)
    await watch(watcher, [ben.id, dora.id])
    assert await next_presence(watcher, ben.id) == {
        "type": "presence",
        "user": ben.id,
        "online": False,
        "last_seen": None,
    }
    ben_socket = await live.socket(ben, live.first)
    online = await next_presence(watcher, ben.id)
    assert online["online"] is True
    with api(live.http_url, anna) as client:
        answer = expect(client.get("/presence", params={"user": [ben.id, dora.id]}), 200)
    assert answer == {"results": [{"user": ben.id, "online": True, "last_seen": None}]}
    await ben_socket.close()
    offline = await next_presence(watcher, ben.id)
    assert offline["online"] is False
    assert offline["last_seen"] is not None
    await watcher.expect_nothing_more()
    await watcher.close()


async def test_bad_presence_input_keeps_the_connection(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    live.group(anna, ben)
    socket = await live.socket(anna)
    for users in (list(range(1, 10_001)), ["1"], "alle", [None]):
        reply = await socket.request({"type": "presence_subscribe", "users": users})
        assert reply["type"] == "error"
        assert reply["code"] == "bad_request"
    await watch(socket, [ben.id])
    assert (await next_presence(socket, ben.id))["online"] is False
    with api(live.http_url, anna) as client:
        bad = client.get("/presence", params={"user": ["x"]})
        assert bad.status_code == 400
        many = client.get("/presence", params={"user": [str(i) for i in range(1, 601)]})
        assert many.status_code == 400
        assert many.json()["error"]["code"] == "bad_request"
    await socket.close()


@pytest.mark.redis("a killed process's connections expire in Redis")
async def test_a_killed_process_s_people_go_offline(
    live: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if live.mode != PRODUCTION:
        pytest.skip("embedded: the process is the whole server")
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    live.group(anna, ben)
    doomed = start_server(
        tmp_path_factory.mktemp("doomed"), extra_env={**PRODUCTION_ENV, **PRESENCE_ENV}
    )
    try:
        watcher = await live.socket(anna, live.second)
        await watch(watcher, [ben.id])
        assert (await next_presence(watcher, ben.id))["online"] is False
        ben_socket = await Socket.open(doomed.ws_url, ben)
        assert (await next_presence(watcher, ben.id))["online"] is True
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        # 3 s timeout + 1 s sweep interval; 30 s leaves the shared machine room.
        offline = await next_presence(watcher, ben.id, timeout=30)
        assert offline["online"] is False
        assert offline["last_seen"] is not None
        with api(live.http_url, anna) as client:
            answer = expect(client.get("/presence", params={"user": [ben.id]}), 200)
        assert answer["results"][0]["online"] is False
        with contextlib.suppress(Exception):
            await ben_socket.close()
        await watcher.close()
    finally:
        doomed.stop()
