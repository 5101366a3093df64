"""The batch publisher (`notifications.publishing.publish_many_on_commit`): every
queued frame reaches its topic after the commit, in order, in one Redis round trip;
nothing goes out on rollback; a refused Redis marks each topic as missed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
from django.db import transaction
from django.test.utils import override_settings

from notifications import publishing
from realtime import publish
from realtime.frames import user_topic

pytestmark = pytest.mark.django_db(transaction=True)


def needs_redis() -> None:
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs redis: the batch goes out through one Redis pipeline")


def listen(topics: list[str]) -> Any:
    from django.conf import settings

    subscriber = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    subscriber.subscribe(*[f"{settings.NETZN_REDIS_PREFIX}:{topic}" for topic in topics])
    for _ in topics:  # the subscribe confirmations
        subscriber.get_message(timeout=2)
    return subscriber


def received(subscriber: Any, count: int) -> list[tuple[str, dict[str, Any]]]:
    got: list[tuple[str, dict[str, Any]]] = []
    deadline = time.monotonic() + 5
    while len(got) < count and time.monotonic() < deadline:
        message = subscriber.get_message(timeout=0.5)
        if message and message["type"] == "message":
            got.append((message["channel"].decode(), json.loads(message["data"])))
    return got


def test_frames_for_many_topics_go_out_after_the_commit_in_order() -> None:
    needs_redis()
    from django.conf import settings

    topics = [user_topic(7001), user_topic(7002), user_topic(7003)]
    subscriber = listen(topics)
    items = [(topic, {"type": "notification", "id": n}) for n, topic in enumerate(topics * 2)]
    with transaction.atomic():
        publishing.publish_many_on_commit(items)
        assert received(subscriber, 1) == []  # nothing before the commit
    got = received(subscriber, len(items))
    prefix = settings.NETZN_REDIS_PREFIX
    assert got == [(f"{prefix}:{topic}", frame) for topic, frame in items]
    subscriber.close()


def test_a_rolled_back_batch_sends_nothing() -> None:
    needs_redis()
    subscriber = listen([user_topic(7004)])
    with pytest.raises(RuntimeError), transaction.atomic():
        publishing.publish_many_on_commit([(user_topic(7004), {"type": "notification"})])
        raise RuntimeError("rollback")
    assert received(subscriber, 1) == []
    subscriber.close()


def test_a_refused_redis_remembers_every_topic_as_missed(monkeypatch: Any) -> None:
    remembered: list[str] = []
    monkeypatch.setattr(publish, "_remember_missed", remembered.append)
    monkeypatch.setattr(publish, "_redis_client", None)
    monkeypatch.setattr(publish, "_redis_down_until", 0.0)
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        publishing.publish_many_now(
            [(user_topic(1), "{}"), (user_topic(2), "{}"), (user_topic(1), "{}")]
        )
    monkeypatch.setattr(publish, "_redis_client", None)
    assert sorted(remembered) == [user_topic(1), user_topic(2)]
    assert publish._redis_down_until > time.monotonic()  # the next ones wait a second
