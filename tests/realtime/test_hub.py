"""The channel layer on its own, against real Redis: a group membership holds from
the moment `group_add` returns, whatever else is added and discarded around it; one
Redis subscription per process and group, however many local channels; a lost
connection is reported to every channel of the groups it carried (`netzn.lost`),
then repaired (`netzn.resumed`); and `group_send_many` spreads over shards."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from typing import Any

import pytest
import redis
from django.conf import settings

from realtime.layers import LOST, RESUMED, RedisPubSubLayer

pytestmark = pytest.mark.redis("the channel layer itself, against real Redis")


def new_layer(*urls: str) -> Any:
    """A layer of its own prefix (the Redis server is shared with other runs)."""
    return RedisPubSubLayer(
        hosts=list(urls or [settings.REDIS_URL]), prefix=f"layertest-{uuid.uuid4().hex[:8]}"
    )


class Reader:
    """Everything that arrives on one channel, read by a task of its own (a cancelled
    `receive` means the consumer left, as in channels-redis)."""

    def __init__(self, layer: Any, channel: str) -> None:
        self.got: list[dict[str, Any]] = []
        self.task = asyncio.ensure_future(self.read(layer, channel))

    async def read(self, layer: Any, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            self.got.append(message)

    async def settle(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """What arrived, once nothing more arrived for `seconds`."""
        while True:
            count = len(self.got)
            await asyncio.sleep(seconds)
            if len(self.got) == count:
                got, self.got = self.got, []
                return got


async def test_churn_of_hundreds_of_groups_never_costs_a_held_membership() -> None:
    """Channels join and leave 300 groups (each first member and each last leaver a
    real SUBSCRIBE / UNSUBSCRIBE, often several in flight for one group) while every
    group gets a message every round: each channel gets exactly the messages sent
    between its `group_add` returning and its `group_discard`."""
    layer = new_layer()
    rng = random.Random(9)
    groups = [f"conv.{n}" for n in range(300)]
    got: defaultdict[str, list[str]] = defaultdict(list)
    holding: dict[str, tuple[str, int]] = {}  # channel -> group, first round
    finished: list[tuple[str, str, int, int]] = []

    async def read(channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            got[channel].append(message["text"])

    # A message is on its way to this process when PUBLISH returns; the probe's,
    # published last on the same Redis connection, arrives after the round's others,
    # so a discard of the next round never overtakes a message of this one.
    probe = await layer.new_channel()
    await layer.group_add("probe", probe)
    readers: list[asyncio.Task[None]] = []
    try:
        for round_ in range(40):
            changes = []
            for _ in range(40):
                if holding and rng.random() < 0.5:
                    channel = rng.choice(list(holding))
                    group, first = holding.pop(channel)
                    finished.append((channel, group, first, round_))
                    changes.append(layer.group_discard(group, channel))
                else:
                    channel = await layer.new_channel()
                    readers.append(asyncio.ensure_future(read(channel)))
                    group = rng.choice(groups)
                    holding[channel] = (group, round_)
                    changes.append(layer.group_add(group, channel))
            await asyncio.gather(*changes)
            round_messages = [
                (group, {"type": "netzn.frame", "text": f"{group}#{round_}"}) for group in groups
            ]
            failed = await layer.group_send_many(
                [*round_messages, ("probe", {"type": "netzn.frame", "text": str(round_)})]
            )
            assert failed == []
            assert (await asyncio.wait_for(layer.receive(probe), 5))["text"] == str(round_)
        await asyncio.sleep(0.5)
        finished.extend((c, group, first, 40) for c, (group, first) in holding.items())
        assert len(finished) > 500
        for channel, group, first, last in finished:
            assert got[channel] == [f"{group}#{r}" for r in range(first, last)]
        (shard,) = layer._get_layer()._shards
        assert shard.in_flight == {}
        assert shard.confirmed == shard.wanted
        # One Redis subscription per group with members (and the probe's), not one per
        # channel.
        assert len(shard.wanted) == len({group for group, _ in holding.values()}) + 1
    finally:
        for reader in readers:
            reader.cancel()
        await layer.flush()


async def test_a_lost_connection_is_reported_and_repaired() -> None:
    layer = new_layer()
    admin = redis.Redis.from_url(settings.REDIS_URL)
    try:
        first, second = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("user.1", first)
        await layer.group_add("conv.7", first)
        await layer.group_add("conv.7", second)
        (shard,) = layer._get_layer()._shards
        # Only this layer's connection: the Redis server is shared with other runs.
        (mine,) = [c for c in admin.client_list() if c["name"] == shard.client_name]
        assert admin.client_kill_filter(_id=mine["id"]) == 1
        got_first = [await asyncio.wait_for(layer.receive(first), 5) for _ in range(4)]
        got_second = [await asyncio.wait_for(layer.receive(second), 5) for _ in range(2)]
        assert sorted((m["type"], m["group"]) for m in got_first) == [
            (LOST, "conv.7"),
            (LOST, "user.1"),
            (RESUMED, "conv.7"),
            (RESUMED, "user.1"),
        ]
        assert [(m["type"], m["group"]) for m in got_second] == [
            (LOST, "conv.7"),
            (RESUMED, "conv.7"),
        ]
        await layer.group_send("conv.7", {"type": "netzn.frame", "text": "wieder da"})
        assert (await asyncio.wait_for(layer.receive(second), 5))["text"] == "wieder da"
    finally:
        await layer.flush()
        admin.close()


async def test_a_group_add_while_redis_is_away_fails_fast_and_holds_on_return(
    redis_pair: Any,
) -> None:
    """A shard that is away: `group_add` raises at once (once the layer knows), the
    membership stays, and the channel hears `netzn.resumed` when Redis is back."""
    from realtime.layers import LayerUnavailable

    url, server = redis_pair[0]
    layer = new_layer(url)
    try:
        channel = await layer.new_channel()
        await layer.group_add("conv.1", channel)
        server.stop()
        assert (await asyncio.wait_for(layer.receive(channel), 5))["type"] == LOST
        with pytest.raises(LayerUnavailable):
            await layer.group_add("conv.2", channel)
        server.start()
        got = [await asyncio.wait_for(layer.receive(channel), 10) for _ in range(2)]
        assert sorted((m["type"], m["group"]) for m in got) == [
            (RESUMED, "conv.1"),
            (RESUMED, "conv.2"),
        ]
    finally:
        await layer.flush()


async def test_groups_spread_over_two_shards_and_one_failing_shard_fails_only_its_own(
    redis_pair: Any,
) -> None:
    (url_a, server_a), (url_b, _server_b) = redis_pair
    layer = new_layer(url_a, url_b)
    try:
        channel = await layer.new_channel()
        groups = [f"conv.{n}" for n in range(40)]
        for group in groups:
            await layer.group_add(group, channel)
        shards = layer._get_layer()._shards
        assert all(shard.wanted for shard in shards)  # both carry some of the groups
        on_a = {
            g
            for g in groups
            if layer._get_layer()._get_shard(f"{layer.prefix}__group__{g}") is shards[0]
        }
        server_a.stop()
        reader = Reader(layer, channel)
        lost = await reader.settle(1.0)
        assert {m["group"] for m in lost if m["type"] == LOST} == on_a
        failed = await layer.group_send_many(
            [(group, {"type": "netzn.frame", "text": group}) for group in groups]
        )
        assert set(failed) == on_a
        got = await reader.settle()
        reader.task.cancel()
        assert {m["text"] for m in got if m["type"] == "netzn.frame"} == set(groups) - on_a
    finally:
        await layer.flush()


async def test_a_channel_queue_keeps_order_and_hands_a_cancelled_readers_message_on() -> None:
    """A process-local channel (every consumer's) delivers in order to a reader that
    waits or comes late, and a reader cancelled right after it was woken (a consumer
    leaving) does not swallow the message: the next reader gets it."""
    layer = new_layer()
    try:
        channel = await layer.new_channel()
        for n in range(3):
            await layer.send(channel, {"type": "netzn.frame", "text": str(n)})
        assert [(await layer.receive(channel))["text"] for _ in range(3)] == ["0", "1", "2"]

        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)
        await layer.send(channel, {"type": "netzn.frame", "text": "woken"})
        assert (await asyncio.wait_for(waiting, 1))["text"] == "woken"

        queue = layer._get_layer().channels[channel]
        first = asyncio.ensure_future(queue.get())
        second = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait("handed on")
        first.cancel()  # woken, but cancelled before it ran
        assert await asyncio.wait_for(second, 1) == "handed on"
        assert first.cancelled()
        assert queue.empty()
    finally:
        await layer.flush()


async def test_a_consumer_that_leaves_takes_only_its_own_memberships_with_it() -> None:
    """A cancelled `receive` (the consumer left) discards that channel from each of its
    groups, found through the layer's index: a group it shared stays subscribed for
    the other channel and still delivers; a group it held alone is unsubscribed."""
    layer = new_layer()
    leaving, staying = await layer.new_channel(), await layer.new_channel()
    assert leaving != staying
    for group in ("conv.shared", "conv.alone"):
        await layer.group_add(group, leaving)
    await layer.group_add("conv.shared", staying)
    gone, kept = Reader(layer, leaving), Reader(layer, staying)
    await asyncio.sleep(0.1)
    gone.task.cancel()
    await asyncio.sleep(0.1)
    inner = layer._get_layer()
    assert not any(leaving in members for members in inner.groups.values())
    assert leaving not in inner.memberships
    assert not inner.holds("conv.alone")
    await layer.group_send("conv.shared", {"type": "netzn.frame", "text": "still here"})
    assert [message["text"] for message in await kept.settle()] == ["still here"]
    kept.task.cancel()
    await layer.flush()
