"""The presence heartbeat against real Redis (`realtime.presence.RedisStore.refresh`):
a process's connections stay alive past their first expiry, people whose connections
had all expired (swept offline while their process stalled) are reported back, and a
refresh of more people than one script call takes covers every one of them."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from django.conf import settings
from django.test import override_settings

from realtime import presence
from realtime.presence import RedisStore

pytestmark = pytest.mark.redis("the presence store itself, against real Redis")


@pytest.fixture
def store():
    # A prefix of its own: the Redis server is shared with other runs.
    store = RedisStore(settings.REDIS_URL, f"presencetest-{uuid.uuid4().hex[:8]}")
    yield store
    store.reset()


@override_settings(NETZN_PRESENCE_TIMEOUT_SECONDS=1)
async def test_a_refresh_keeps_connections_alive_and_reports_who_came_back(store):
    assert await store.connect(1, "p:a")
    assert not await store.connect(1, "p:b")
    assert await store.connect(2, "p:c")
    time.sleep(0.6)
    # Person 1 is refreshed in time; person 2's only connection expires and is swept.
    assert await store.refresh({1: {"p:a", "p:b"}}) == []
    time.sleep(0.6)
    assert [person for person, _ in await store.sweep()] == [2]
    assert store.states_now([1, 2])[1][0] is True
    assert store.states_now([1, 2])[2][0] is False
    # Person 2's process comes back: the refresh says so (the caller announces them).
    assert await store.refresh({1: {"p:a", "p:b"}, 2: {"p:c"}}) == [2]
    back_seen = pytest.approx(time.time(), abs=2)  # their last heartbeat, before the sweep
    assert store.states_now([1, 2]) == {1: (True, None), 2: (True, back_seen)}
    # Both connections of person 1 are still held: one going leaves them online.
    assert await store.disconnect(1, "p:a") is None
    assert await store.disconnect(1, "p:b") is not None


@override_settings(NETZN_PRESENCE_TIMEOUT_SECONDS=1)
async def test_a_refresh_of_more_people_than_one_batch_covers_all(store):
    people = presence.REFRESH_BATCH * 2 + 7
    held = {person: {f"p:{person}"} for person in range(1, people + 1)}
    # Never connected (or swept long ago): every one of them is back.
    assert sorted(await store.refresh(held)) == list(range(1, people + 1))
    time.sleep(0.6)
    assert await store.refresh(held) == []
    time.sleep(0.6)
    # Refreshed 0.6 s ago with a 1 s timeout: nobody is swept.
    assert await store.sweep() == []
    states = store.states_now(list(range(1, people + 1)))
    assert all(online for online, _ in states.values())


async def test_the_scripts_publish_the_announcement_only_on_coming_online_and_going_offline(
    store,
):
    """`connect` / `disconnect` with an announcement publish it from the script, in
    the same round trip: on the first connection and on the last one's end only,
    with the time the script was given (a going-offline frame's `last_seen`)."""
    import redis.asyncio as aioredis

    channel = f"{store.prefix}:announcements"
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    given: list[float] = []

    def announcement(now: float) -> tuple[str, bytes]:
        given.append(now)
        return channel, f"changed at {now}".encode()

    async def published() -> list[bytes]:
        messages = []
        while (message := await pubsub.get_message(timeout=0.3)) is not None:
            messages.append(message["data"])
        return messages

    try:
        assert await store.connect(5, "p:a", announcement)
        assert await published() == [f"changed at {given[-1]}".encode()]
        assert not await store.connect(5, "p:b", announcement)
        assert await store.disconnect(5, "p:a", announcement) is None
        assert await published() == []
        last_seen = await store.disconnect(5, "p:b", announcement)
        assert last_seen == given[-1]
        assert await published() == [f"changed at {last_seen}".encode()]
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_connections_opened_and_closed_at_once_announce_the_person_once(store):
    """Connections recorded together go in one script call (`realtime.coalesce`):
    of three connections of one person opened at once exactly one brings them
    online, and of the three closing at once exactly one takes them offline; someone
    else in the same batches is unaffected."""
    opened = await asyncio.gather(
        store.connect(7, "p:a"),
        store.connect(7, "p:b"),
        store.connect(8, "p:c"),
        store.connect(7, "p:d"),
    )
    assert sorted(opened[:2] + opened[3:]) == [False, False, True]
    assert opened[2] is True
    assert store.states_now([7, 8]) == {7: (True, None), 8: (True, None)}
    closed = await asyncio.gather(
        store.disconnect(7, "p:a"), store.disconnect(7, "p:b"), store.disconnect(7, "p:d")
    )
    assert sum(when is not None for when in closed) == 1
    assert store.states_now([7])[7][0] is False
    assert store.states_now([8])[8][0] is True
