"""Real server processes (daphne) on the test database: two processes behind one
Redis behave as one server, the rate limit holds across them, and a Redis outage
costs live delivery only, never a stored or acknowledged message."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.chat.helpers import group_with, token_for
from tests.conftest import free_port, require

pytestmark = pytest.mark.redis("several server processes behind one Redis")

FAST_LIMITS = {"NETZN_RATE_BURST": "5", "NETZN_RATE_PER_SECOND": "0.1"}


class Socket:
    """A `websockets` client speaking PROTOCOL.md to a server process."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.counter = 0
        # Frames that arrived while waiting for a reply, in order.
        self.held: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, token: str) -> Socket:
        connection = await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
        socket = cls(connection)
        hello = await socket.receive()
        assert hello["type"] == "hello"
        return socket

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        if self.held:
            return self.held.pop(0)
        return await self.receive_new(timeout)

    async def receive_new(self, timeout: float = 15) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        return frame

    async def request(self, frame: dict[str, Any], reply_type: str) -> dict[str, Any]:
        self.counter += 1
        frame["ref"] = ref = f"q{self.counter}"
        await self.connection.send(json.dumps(frame))
        while True:
            reply = await self.receive_new()
            if reply.get("ref") == ref and reply["type"] in (reply_type, "error"):
                return reply
            self.held.append(reply)

    async def subscribe(self, conversation: int, after: int | None = None) -> list[dict[str, Any]]:
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
        if after is not None:
            frame["after"] = after
        await self.connection.send(json.dumps(frame))
        frames = []
        while True:
            reply = await self.receive()
            frames.append(reply)
            if reply["type"] in ("subscribed", "error"):
                return frames

    async def messages(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] == "message":
                found.append(frame)
        return found

    async def close(self) -> None:
        await self.connection.close()


def send(conversation: int, body: str, client_id: str) -> dict[str, Any]:
    return {"type": "send", "conversation": conversation, "body": body, "client_id": client_id}


@pytest.fixture
def people(transactional_db: Any, make_user: Any) -> dict[str, Any]:
    anna, ben, carla = make_user("Anna Becker"), make_user("Ben Öztürk"), make_user("Carla Schmitz")
    conversation = group_with(anna, ben, carla)
    return {
        "conversation": conversation.pk,
        "anna": token_for(anna),
        "ben": token_for(ben),
        "carla": token_for(carla),
    }


async def test_two_processes_behave_as_one_server(server_factory, people):
    first = server_factory(extra_env=FAST_LIMITS)
    second = server_factory(extra_env=FAST_LIMITS)
    conversation = people["conversation"]
    on_first = await Socket.open(first.ws_url, people["anna"])
    on_second = await Socket.open(second.ws_url, people["ben"])
    await on_first.subscribe(conversation, after=0)
    await on_second.subscribe(conversation, after=0)

    async def burst(socket: Socket, name: str) -> list[int]:
        acks = [
            await socket.request(send(conversation, f"{name} {n}", f"{name}{n}"), "ack")
            for n in range(5)
        ]
        return [ack["seq"] for ack in acks]

    acked = await asyncio.gather(burst(on_first, "a"), burst(on_second, "b"))
    assert sorted(acked[0] + acked[1]) == list(range(1, 11))
    seen_first = sorted((m["seq"], m["body"]) for m in await on_first.messages(10))
    seen_second = sorted((m["seq"], m["body"]) for m in await on_second.messages(10))
    assert seen_first == seen_second
    assert [seq for seq, _ in seen_first] == list(range(1, 11))

    # The rate limit is per person across both processes (burst 5 in this test).
    carla_first = await Socket.open(first.ws_url, people["carla"])
    carla_second = await Socket.open(second.ws_url, people["carla"])
    answers = []
    for n in range(6):
        socket = carla_first if n % 2 else carla_second
        answers.append(await socket.request(send(conversation, f"c {n}", f"c{n}"), "ack"))
    assert [a["type"] for a in answers[:5]] == ["ack"] * 5
    assert answers[5]["type"] == "error"
    assert answers[5]["code"] == "rate_limited"
    assert answers[5]["retry_after"] > 0
    for socket in (on_first, on_second, carla_first, carla_second):
        await socket.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A redis-server this test starts and stops itself."""
    binary = shutil.which("redis-server")
    require(binary is not None, "the Redis outage test: redis-server is not on PATH")
    assert binary is not None
    port = free_port()
    state: dict[str, Any] = {"port": port, "process": None}

    def start() -> None:
        state["process"] = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop() -> None:
        process = state["process"]
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)

    state["start"], state["stop"] = start, stop
    start()
    yield state
    stop()


async def test_redis_outage_costs_live_delivery_only(server_factory, people, own_redis):
    server = server_factory(redis_url=f"redis://127.0.0.1:{own_redis['port']}/0")
    conversation = people["conversation"]
    sender = await Socket.open(server.ws_url, people["anna"])
    listener = await Socket.open(server.ws_url, people["ben"])
    await listener.subscribe(conversation, after=0)
    assert (await sender.request(send(conversation, "vorher", "o0"), "ack"))["seq"] == 1
    assert [m["seq"] for m in await listener.messages(1)] == [1]

    own_redis["stop"]()
    # Sends are stored and acknowledged while Redis is away.
    during = [
        await sender.request(send(conversation, f"während {n}", f"o{n}"), "ack")
        for n in range(1, 4)
    ]
    assert [ack["type"] for ack in during] == ["ack"] * 3
    assert [ack["seq"] for ack in during] == [2, 3, 4]

    own_redis["start"]()
    # Live fan-out resumes once the hub has reconnected (it retries with back-off).
    deadline = time.monotonic() + 20
    live_seq = None
    n = 10
    while live_seq is None and time.monotonic() < deadline:
        n += 1
        await sender.request(send(conversation, f"danach {n}", f"o{n}"), "ack")
        try:
            while True:
                frame = await listener.receive(timeout=1)
                if frame["type"] == "message":
                    live_seq = frame["seq"]
                    break
        except TimeoutError:
            continue
    assert live_seq is not None, "live delivery did not resume"

    # A client that re-subscribes with `after` gets everything, gapless and once.
    catch_up = await Socket.open(server.ws_url, people["ben"])
    frames = await catch_up.subscribe(conversation, after=1)
    seqs = [f["seq"] for f in frames if f["type"] == "message"]
    last_seq = frames[-1]["last_seq"]
    assert seqs == list(range(2, last_seq + 1))
    for socket in (sender, listener, catch_up):
        await socket.close()
