"""Production processes on the channel layer over Redis shards (`REDIS_URL` with two
comma-separated URLs, two redis-servers of the test's own): two processes on two
shards behave as one server, a shard killed under traffic stalls only its share of
topics and everything acked arrives exactly once after catch-up, `group_send` from a
management command reaches a connected client, and revoking a token on one process
closes its socket on the other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from channels_redis.utils import _consistent_hash
from django.conf import settings

from tests.chat.helpers import group_with, token_for
from tests.conftest import ROOT, database_url_of_test_db
from tests.live.conftest import PRODUCTION_ENV
from tests.realtime.clients import Socket, follow, revoke_over_http

pytestmark = pytest.mark.redis("the channel layer over two Redis shards")


def send(conversation: int, body: str, client_id: str) -> dict[str, Any]:
    return {"type": "send", "conversation": conversation, "body": body, "client_id": client_id}


def shard_of(conversation: int) -> int:
    """The index of the Redis URL that carries the conversation's group."""
    group_channel = f"{settings.NETZN_REDIS_PREFIX}__group__conv.{conversation}"
    return _consistent_hash(group_channel, 2)


@pytest.fixture
def cast(transactional_db: Any, make_user: Any) -> dict[str, Any]:
    """Anna and Ben in conversations on both shards (two on each)."""
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    by_shard: dict[int, list[int]] = {0: [], 1: []}
    while len(by_shard[0]) < 2 or len(by_shard[1]) < 2:
        conversation = group_with(anna, ben, title=f"Runde {sum(map(len, by_shard.values()))}")
        shard = shard_of(conversation.pk)
        if len(by_shard[shard]) < 2:
            by_shard[shard].append(conversation.pk)
    return {
        "anna": token_for(anna),
        "ben": token_for(ben),
        "ben_id": ben.pk,
        "shards": by_shard,
        "conversations": by_shard[0] + by_shard[1],
    }


@pytest.fixture
def sharded(server_factory: Any, redis_pair: Any) -> dict[str, Any]:
    urls = ",".join(url for url, _ in redis_pair)
    # Anna's 36 sends of the shard test come faster than the default burst refills;
    # the rate limit is not what these tests are about.
    env = {**PRODUCTION_ENV, "NETZN_RATE_BURST": "100"}
    servers = [server_factory(redis_url=urls, extra_env=env) for _ in range(2)]
    return {"servers": servers, "redis": [server for _, server in redis_pair], "urls": urls}


async def test_two_processes_on_two_shards_behave_as_one_server(sharded, cast):
    first, second = sharded["servers"]
    sender = await Socket.open(first.ws_url, cast["anna"])
    listener = await Socket.open(second.ws_url, cast["ben"])
    for conversation in cast["conversations"]:
        assert (await listener.subscribe(conversation, after=0))[-1]["type"] == "subscribed"
    for n, conversation in enumerate(cast["conversations"]):
        ack = await sender.request(send(conversation, f"Hallo {n}", f"h{n}"), "ack")
        assert ack["seq"] == 1
    got = await listener.messages(len(cast["conversations"]))
    assert sorted(m["conversation"] for m in got) == sorted(cast["conversations"])
    # A person's events (their group lives on one of the shards) cross processes:
    # revoking the token on the first process closes its socket on the second.
    await revoke_over_http(first.http_url, cast["ben"])
    assert await listener.wait_closed() == 4001
    await sender.close()


async def test_a_shard_killed_under_traffic_stalls_only_its_topics_and_all_arrives_once(
    sharded, cast
):
    """The second shard (the first one also holds the rate limiter's buckets) goes
    away while Anna keeps sending to all four conversations and comes back: a socket
    on the surviving shard's conversations stays open and live; the others are
    closed (4013) or miss publishes; afterwards every acked message is seen exactly
    once, in order, by a client that catches up by seq."""
    first, second = sharded["servers"]
    _, killed = sharded["redis"]
    surviving, stalled = cast["shards"][0], cast["shards"][1]
    sender = await Socket.open(first.ws_url, cast["anna"])
    steady = await Socket.open(second.ws_url, cast["ben"])
    for conversation in surviving:
        await steady.subscribe(conversation, after=0)
    acked: dict[int, list[int]] = {c: [] for c in cast["conversations"]}
    counter = 0

    async def round_of_sends() -> None:
        nonlocal counter
        for conversation in cast["conversations"]:
            counter += 1
            ack = await sender.request(send(conversation, f"Nr. {counter}", f"k{counter}"), "ack")
            assert ack["type"] == "ack", ack
            acked[conversation].append(ack["seq"])

    for _ in range(3):
        await round_of_sends()
    killed.stop()
    for _ in range(3):
        await round_of_sends()  # stored and acked while the shard is away
    # The surviving shard's conversations stayed live on the other process.
    live = await steady.messages(6 * len(surviving))
    assert sorted(m["seq"] for m in live if m["conversation"] == surviving[0]) == list(range(1, 7))
    killed.start()
    for _ in range(3):
        await round_of_sends()
    for conversation in cast["conversations"]:
        assert acked[conversation] == list(range(1, 10))
        socket, seen = await follow(
            second.ws_url, cast["ben"], conversation, after=0, until=9, within=60
        )
        assert seen == list(range(1, 10)), (conversation, seen)
        await socket.close()
    assert stalled  # both shards carried conversations
    await sender.close()
    await steady.close()


async def test_group_send_from_a_management_command_reaches_a_connected_client(sharded, cast):
    """Any Django code publishes with the standard Channels API: here `manage.py
    shell` sends a frame to Ben's group, which his socket on a server process gets."""
    first, _ = sharded["servers"]
    conversation = cast["conversations"][0]

    socket = await Socket.open(first.ws_url, cast["ben"])
    code = (
        "from asgiref.sync import async_to_sync\n"
        "from channels.layers import get_channel_layer\n"
        "async_to_sync(get_channel_layer().group_send)(\n"
        f"    'user.{cast['ben_id']}',\n"
        "    {'type': 'netzn.frame', 'text': '"
        + json.dumps({"type": "read", "conversation": conversation, "seq": 0})
        + "'},\n)\n"
    )
    env = {
        **os.environ,
        "REDIS_URL": sharded["urls"],
        "NETZN_REDIS_PREFIX": settings.NETZN_REDIS_PREFIX,
        "DATABASE_URL": database_url_of_test_db(),
    }
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    frame = await socket.receive_type("read")
    await socket.close()
    assert frame == {"type": "read", "conversation": conversation, "seq": 0}
