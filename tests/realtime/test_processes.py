"""Real server processes (daphne) on the test database: two processes behind one
Redis behave as one server, the rate limit holds across them, and a Redis outage
costs live delivery only, never a stored or acknowledged message: every socket whose
conversation subscription was lost is closed (4013) and catches up by seq, the others
stay, and the personal topic (sign-outs, access changes) holds again afterwards."""

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
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import override_settings
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.models import User
from chat.actions import SendRequest, do_remove_participant, do_send_messages
from chat.models import Conversation
from realtime import publish
from realtime.frames import conversation_topic
from realtime.layers import topic_group
from tests.chat.helpers import group_with, token_for
from tests.conftest import free_port, require
from tests.live.conftest import PRODUCTION_ENV
from tests.realtime.clients import (
    RawSocket,
    Socket,
    TcpProxy,
    follow,
    refused_status,
    revoke_over_http,
)

pytestmark = pytest.mark.redis("several server processes behind one Redis")

FAST_LIMITS = {"NETZN_RATE_BURST": "5", "NETZN_RATE_PER_SECOND": "0.1"}


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
                "--logfile",
                str(tmp_path / "redis.log"),
                "--loglevel",
                "verbose",
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


def redis_up(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_connect_timeout=0.5)


async def test_redis_outage_closes_conversation_sockets_and_costs_live_delivery_only(
    server_factory, people, own_redis
):
    server = server_factory(
        redis_url=f"redis://127.0.0.1:{own_redis['port']}/0", extra_env=PRODUCTION_ENV
    )
    conversation = people["conversation"]
    sender = await Socket.open(server.ws_url, people["anna"])
    listener = await Socket.open(server.ws_url, people["ben"])
    await listener.subscribe(conversation, after=0)
    assert (await sender.request(send(conversation, "vorher", "o0"), "ack"))["seq"] == 1
    assert [m["seq"] for m in await listener.messages(1)] == [1]

    own_redis["stop"]()
    # The listener's subscription is gone with the connection: it is told (4013),
    # never left open and deaf. The sender subscribed to nothing but its personal
    # topic and stays.
    assert await listener.wait_closed() == 4013
    # Sends are stored and acknowledged while Redis is away.
    during = [
        await sender.request(send(conversation, f"während {n}", f"o{n}"), "ack")
        for n in range(1, 4)
    ]
    assert [ack["type"] for ack in during] == ["ack"] * 3
    assert [ack["seq"] for ack in during] == [2, 3, 4]
    # A subscription that cannot hold is refused, not granted deaf.
    refused = await sender.request({"type": "subscribe", "conversation": conversation}, "x")
    assert (refused["type"], refused["code"]) == ("error", "unavailable")

    own_redis["start"]()
    # Once Redis is back, a client that reconnects whenever it is closed with 4013
    # (the missed publishes are announced on their topic) gets everything, gapless
    # and once, and then live frames again.
    assert (await sender.request(send(conversation, "danach", "o5"), "ack"))["seq"] == 5
    catch_up, seen = await follow(server.ws_url, people["ben"], conversation, after=1, until=5)
    assert seen == [2, 3, 4, 5]
    deadline = time.monotonic() + 20
    seq = 5
    while True:
        assert time.monotonic() < deadline, "live delivery did not resume"
        seq += 1
        assert (await sender.request(send(conversation, "live", f"o{seq}"), "ack"))["seq"] == seq
        try:
            frame = await catch_up.receive_type("message", timeout=3)
        except ConnectionClosed:  # a late announcement of the missed publishes
            catch_up, more = await follow(
                server.ws_url, people["ben"], conversation, after=seen[-1], until=seq
            )
            seen += more
            continue
        seen.append(frame["seq"])
        break
    assert seen == list(range(2, seq + 1))
    # The sender's personal topic was subscribed again: revoking its token reaches it.
    await revoke_over_http(server.http_url, people["anna"])
    assert await sender.wait_closed() == 4001
    await catch_up.close()


async def test_a_killed_pubsub_connection_closes_conversation_sockets_and_resubscribes(
    server_factory, people, own_redis
):
    """Redis stays up but drops the hub's pub/sub connection (as it does to a
    subscriber past its output buffer limit): same rule, and the personal topic
    carries an access change again."""
    server = server_factory(
        redis_url=f"redis://127.0.0.1:{own_redis['port']}/0", extra_env=PRODUCTION_ENV
    )
    conversation = people["conversation"]
    listener = await Socket.open(server.ws_url, people["ben"])
    await listener.subscribe(conversation, after=0)
    personal_only = await Socket.open(server.ws_url, people["carla"])

    killed = redis_up(own_redis["port"]).client_kill_filter(_type="pubsub")
    assert killed >= 1
    assert await listener.wait_closed() == 4013
    assert await personal_only.ping()

    deadline = time.monotonic() + 20
    while True:
        carla = await Socket.open(server.ws_url, people["carla"])
        frames = await carla.subscribe(conversation, after=0)
        if frames[-1]["type"] == "subscribed":
            break
        await carla.close()
        assert time.monotonic() < deadline, "the hub did not reconnect"
        await asyncio.sleep(0.5)
    # Carla leaves the conversation: her socket is told (this test process publishes
    # through a channel layer on the server's own Redis).
    own_layer = {
        "default": {
            "BACKEND": "realtime.layers.RedisPubSubLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{own_redis['port']}/0"]},
        }
    }
    carla_user = await database_sync_to_async(User.objects.get)(display_name="Carla Schmitz")
    group = await database_sync_to_async(Conversation.objects.get)(pk=conversation)
    with override_settings(CHANNEL_LAYERS=own_layer):
        await database_sync_to_async(do_remove_participant)(conversation=group, user=carla_user)
    dropped = await carla.receive_type("error")
    assert (dropped["code"], dropped["conversation"]) == ("forbidden", conversation)
    for socket in (personal_only, carla):
        assert await socket.ping()
        await socket.close()


async def test_a_client_too_slow_to_keep_up_is_closed_4013_and_its_connection_ends(
    server_factory, people
):
    """A client that stops reading: once the server holds more than
    NETZN_CONNECTION_BUFFER_BYTES for it, it is closed (4013) and, as it never
    answers the close, its TCP connection ends; it then catches up by seq."""
    server = server_factory(extra_env={**PRODUCTION_ENV, "NETZN_CONNECTION_BUFFER_BYTES": "65536"})
    conversation = people["conversation"]
    anna = await database_sync_to_async(User.objects.get)(display_name="Anna Becker")
    await database_sync_to_async(do_send_messages)(
        conversation_id=conversation,
        sends=[SendRequest(actor=anna, body=f"Nr. {n}", client_id=f"s{n}") for n in range(50)],
    )
    slow = await RawSocket.open(server.ws_url, people["ben"], receive_buffer=4096)
    slow.send_text(json.dumps({"type": "subscribe", "conversation": conversation, "after": 0}))
    await asyncio.sleep(1)
    # Live traffic it never reads: more than the kernel's socket buffers take (about
    # 5 MB here), published on the conversation's topic as any process would.
    topic = conversation_topic(conversation)
    frame = publish.envelope(
        topic, {"type": "message", "conversation": conversation, "seq": 51, "body": "x" * 3990}
    )
    message = get_channel_layer().serialize(frame)
    channel = f"{settings.NETZN_REDIS_PREFIX}__group__{topic_group(topic)}"
    publisher = redis.Redis.from_url(settings.REDIS_URL)
    deadline = time.monotonic() + 30
    while "closing a slow connection" not in server.log.read_text():
        assert time.monotonic() < deadline, "the slow client was not closed"
        pipeline = publisher.pipeline(transaction=False)
        for _ in range(250):
            pipeline.publish(channel, message)
        pipeline.execute()
        await asyncio.sleep(0.1)
    publisher.close()
    assert await slow.ended_by_server(within=10)
    _, seen = await follow(server.ws_url, people["ben"], conversation, after=0, until=50)
    assert seen == list(range(1, 51))


async def test_a_handshake_while_the_database_is_down_is_refused_with_503(server_factory, people):
    """PostgreSQL goes away (here: the server reaches it through a proxy the test
    stops): a new WebSocket is refused with HTTP 503, cleanly, open sockets stay, and
    handshakes work again once it is back."""
    database = settings.DATABASES["default"]
    proxy = TcpProxy(
        free_port(), (database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432))
    )
    await proxy.start()
    user = database.get("USER") or "postgres"
    server = server_factory(
        database_url=f"postgres://{user}@127.0.0.1:{proxy.port}/{database['NAME']}",
        extra_env={**PRODUCTION_ENV, "DATABASE_POOL_TIMEOUT": "1"},
    )
    try:
        open_socket = await Socket.open(server.ws_url, people["anna"])
        await proxy.stop()
        assert await refused_status(server.ws_url, people["ben"]) == 503
        assert await open_socket.ping()
        await proxy.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                again = await Socket.open(server.ws_url, people["ben"])
                break
            except InvalidStatus as refused:
                assert refused.response.status_code == 503
                assert time.monotonic() < deadline, "handshakes did not recover"
                await asyncio.sleep(0.5)
        assert await again.ping()
        log = server.log.read_text()
        assert "Exception inside application" not in log
        assert "Traceback" not in log
    finally:
        await proxy.stop()
