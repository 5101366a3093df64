"""The connection cap's count in Redis (`realtime.connections.RedisConnectionRegistry`)
against real Redis: places taken at once are counted against the cap, a refresh keeps
every held place of more people than one script call takes from expiring, and places
given back together are all gone."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis
from django.conf import settings

from realtime import connections
from realtime.connections import RedisConnectionRegistry

pytestmark = pytest.mark.redis("the connection count itself, against real Redis")


@pytest.fixture
def prefix():
    prefix = f"registrytest-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


async def test_places_taken_at_once_count_against_the_cap(prefix):
    registry = RedisConnectionRegistry(3, settings.REDIS_URL, prefix)
    ids = [registry.new_id() for _ in range(5)]
    assert len(set(ids)) == 5
    taken = await asyncio.gather(*(registry.take(7, one) for one in ids))
    assert sorted(taken) == [False, False, True, True, True]
    assert await registry.take(8, registry.new_id())
    await registry.redis.aclose()


async def test_a_refresh_keeps_every_place_and_given_back_places_go(prefix):
    people = connections.SCRIPT_BATCH + 20
    registry = RedisConnectionRegistry(50, settings.REDIS_URL, prefix)
    client = redis.Redis.from_url(settings.REDIS_URL)
    for person in range(1, people + 1):
        assert await registry.take(person, f"p:{person}:a")
    assert await registry.take(1, "p:1:b")
    # As if the places were about to expire: the refresh moves every one on.
    for person in range(1, people + 1):
        client.zadd(registry.key(person), {f"p:{person}:a": 1.0}, xx=True)
    await registry.refresh()
    soon = time.time() + connections.EXPIRE_SECONDS - 5
    for person, member in [(1, "p:1:a"), (1, "p:1:b"), (people // 2, ""), (people, "")]:
        score = client.zscore(registry.key(person), member or f"p:{person}:a")
        assert score is not None and score > soon
        assert client.ttl(registry.key(person)) > 0
    for person in range(1, people + 1):
        await registry.give_back(person, f"p:{person}:a")
    assert registry.returner is not None
    await registry.returner
    assert client.zcard(registry.key(people)) == 0
    assert client.zrange(registry.key(1), 0, -1) == [b"p:1:b"]
    if registry.refresher is not None:
        registry.refresher.cancel()
    await registry.redis.aclose()
