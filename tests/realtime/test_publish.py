"""Publishing after commit through the channel layer: many topics in one go, nothing
for a rollback, and the layer message carries what the hub hands over (seq, typing)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from realtime import frames, publish
from realtime.frames import conversation_topic, user_topic
from realtime.hub import get_hub

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    def __init__(self) -> None:
        self.got: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        self.got.put_nowait((topic, message))


async def test_many_topics_go_out_together_after_the_commit_and_reach_their_subscribers():
    recorder = Recorder()
    topics = [user_topic(9000 + n) for n in range(40)]
    for topic in topics:
        await get_hub().subscribe(topic, recorder)

    def act(rollback: bool) -> None:
        with transaction.atomic():
            publish.publish_many_on_commit(
                [(topic, {"type": "notification", "n": n}) for n, topic in enumerate(topics)]
            )
            if rollback:
                transaction.set_rollback(True)

    with mock.patch.object(publish, "send_now", wraps=publish.send_now) as sent:
        await sync_to_async(act)(True)
        await sync_to_async(act)(False)
    assert sent.call_count == 1  # one hop for all 40
    got = [await asyncio.wait_for(recorder.got.get(), 5) for _ in topics]
    assert sorted(topic for topic, _ in got) == sorted(topics)
    assert {json.loads(m["text"])["n"] for _, m in got} == set(range(40))
    assert recorder.got.empty()  # the rolled-back batch published nothing
    for topic in topics:
        await get_hub().unsubscribe(topic, recorder)


def test_the_layer_message_carries_seq_and_typing_read_by_the_publisher():
    topic = conversation_topic(7)
    message = publish.envelope(topic, {"type": "message", "conversation": 7, "seq": 12})
    assert (message["type"], message["topic"], message["seq"], message["typing"]) == (
        "netzn.frame",
        topic,
        12,
        None,
    )
    typing = publish.envelope(topic, {"type": "typing", "user": {"id": 5}, "conversation": 7})
    assert (typing["seq"], typing["typing"]) == (None, 5)
    control = publish.envelope(topic, {"type": "_access_changed", "conversation": 7, "user": 5})
    assert control == {
        "type": "netzn.access_changed",
        "conversation": 7,
        "user": 5,
        "topic": topic,
    }
    assert json.loads(publish.frame_text(control))["type"] == "_access_changed"


async def test_a_thread_that_publishes_goes_on_while_the_loop_is_busy_and_order_holds():
    """A database thread that committed does not wait for the hub's loop (which may be
    writing a broadcast): its events are queued for the loop, and one topic's events
    reach the subscribers in the order they were handed over."""
    recorder = Recorder()
    topic = conversation_topic(4242)
    await get_hub().subscribe(topic, recorder)
    handed_over = threading.Event()

    def publish_from_a_thread() -> None:
        for n in range(100):
            publish.publish_now(topic, frames.encode({"type": "notification", "n": n}))
        handed_over.set()

    threading.Thread(target=publish_from_a_thread).start()
    # The loop is held here: a publisher waiting for it would not finish.
    assert handed_over.wait(3)
    got = [await asyncio.wait_for(recorder.got.get(), 5) for _ in range(100)]
    assert [json.loads(message["text"])["n"] for _, message in got] == list(range(100))
    await get_hub().unsubscribe(topic, recorder)
