"""The Redis hub on its own, against real Redis: a subscription holds from the moment
`subscribe` returns, whatever else is subscribed and unsubscribed around it, and a
lost connection is reported to every subscriber (`frames.LOST`), then repaired
(`frames.RESUMED`)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings

from realtime import frames
from realtime.hub import RedisHub

pytestmark = pytest.mark.redis("the Redis hub itself, against real Redis")


class Recorder:
    def __init__(self) -> None:
        self.got: defaultdict[str, list[str]] = defaultdict(list)

    def deliver(self, topic: str, payload: str) -> None:
        self.got[topic].append(payload)


def new_hub(url: str | None = None) -> RedisHub:
    prefix = f"hubtest-{uuid.uuid4().hex[:8]}"
    return RedisHub(asyncio.get_running_loop(), url or settings.REDIS_URL, prefix)


async def test_churn_of_hundreds_of_topics_never_costs_a_held_subscription() -> None:
    """Subscribers come and go on 300 topics (each first subscriber and each last
    leaver a real SUBSCRIBE / UNSUBSCRIBE, often several in flight for one topic) while
    every topic gets a publish every round: each subscriber gets exactly the payloads
    published between its `subscribe` returning and its `unsubscribe`."""
    hub = new_hub()
    publisher = aioredis.Redis.from_url(settings.REDIS_URL)
    rng = random.Random(9)
    topics = [f"conv:{n}" for n in range(300)]
    holding: dict[Recorder, tuple[str, int]] = {}  # subscriber -> topic, first round
    finished: list[tuple[Recorder, str, int, int]] = []
    try:
        for round_ in range(40):
            changes = []
            for _ in range(40):
                if holding and rng.random() < 0.5:
                    subscriber = rng.choice(list(holding))
                    topic, first = holding.pop(subscriber)
                    finished.append((subscriber, topic, first, round_))
                    changes.append(hub.unsubscribe(topic, subscriber))
                else:
                    subscriber = Recorder()
                    topic = rng.choice(topics)
                    holding[subscriber] = (topic, round_)
                    changes.append(hub.subscribe(topic, subscriber))
            await asyncio.gather(*changes)
            pipeline = publisher.pipeline(transaction=False)
            for topic in topics:
                pipeline.publish(hub.channel(topic), f"{topic}#{round_}")
            await pipeline.execute()
        await asyncio.sleep(0.5)
        finished.extend((s, topic, first, 40) for s, (topic, first) in holding.items())
        assert len(finished) > 500
        for subscriber, topic, first, last in finished:
            assert subscriber.got[topic] == [f"{topic}#{r}" for r in range(first, last)]
            assert set(subscriber.got) <= {topic}
        assert hub.in_flight == {}
        assert hub.confirmed == set(hub.topics)
    finally:
        await hub.close()
        await publisher.aclose()


async def test_a_lost_connection_is_reported_and_repaired() -> None:
    hub = new_hub()
    admin = redis.Redis.from_url(settings.REDIS_URL)
    subscriber = Recorder()
    try:
        await hub.subscribe("user:1", subscriber)
        await hub.subscribe("conv:7", subscriber)
        # Only this hub's connection: the Redis server is shared with other runs.
        (mine,) = [c for c in admin.client_list() if c["name"] == hub.client_name]
        assert admin.client_kill_filter(_id=mine["id"]) == 1
        for _ in range(100):
            if subscriber.got["conv:7"][-1:] == [frames.RESUMED]:
                break
            await asyncio.sleep(0.05)
        assert subscriber.got["conv:7"] == [frames.LOST, frames.RESUMED]
        assert subscriber.got["user:1"] == [frames.LOST, frames.RESUMED]
        await hub.publish("conv:7", "wieder da")
        for _ in range(40):
            if subscriber.got["conv:7"][-1] == "wieder da":
                break
            await asyncio.sleep(0.05)
        assert subscriber.got["conv:7"][-1] == "wieder da"
    finally:
        await hub.close()
        admin.close()
