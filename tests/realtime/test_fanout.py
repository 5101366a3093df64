"""The broadcast path and its bounds: rate limits, floods, slow clients, and the
in-process hub without Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from chat.actions import do_send_message
from chat.consumers import ChatConsumer
from realtime import frames, ratelimit
from realtime.hub import get_hub
from realtime.layers import InMemoryLayer
from realtime.publish import envelope
from realtime.ratelimit import LocalBuckets
from tests.chat.helpers import connect, group_with

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def fresh_local_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Redis the limit lives in this process's buckets, made once from the
    settings: start from new ones that read the test's settings."""
    monkeypatch.setattr(ratelimit, "_shared_local", None)


@override_settings(NETZN_RATE_PER_SECOND=0.5)  # slow refill: the test's own pace does not matter
@pytest.mark.usefixtures("fresh_local_buckets")
async def test_sends_over_the_burst_get_rate_limited_with_retry_after(make_user):
    anna = await db(make_user)("Anna Becker")
    conversation = await db(group_with)(anna)
    socket = await connect(anna)
    answers = []
    for n in range(31):
        frame = {
            "type": "send",
            "conversation": conversation.pk,
            "body": f"{n}",
            "client_id": f"r{n}",
        }
        answers.append(await socket.request(frame, "ack"))
    assert [a["type"] for a in answers[:30]] == ["ack"] * 30
    limited = answers[30]
    assert (limited["type"], limited["code"]) == ("error", "rate_limited")
    assert 0 < limited["retry_after"] <= 2
    assert (await socket.request({"type": "ping"}, "pong"))["type"] == "pong"
    # The limit is per person: a second tab shares it.
    second = await connect(anna)
    frame = {"type": "send", "conversation": conversation.pk, "body": "x", "client_id": "other-tab"}
    assert (await second.request(frame, "ack"))["code"] == "rate_limited"
    await socket.close()
    await second.close()


async def test_a_flood_far_past_the_limit_closes_with_4008(make_user):
    anna = await db(make_user)("Anna Becker")
    socket = await connect(anna)
    for _ in range(200):
        await socket.send({"type": "ping"})
    outputs = []
    while True:
        output = await socket.communicator.receive_output(timeout=5)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break
    assert outputs[-1] == {"type": "websocket.close", "code": 4008}
    texts = [json.loads(o["text"]) for o in outputs[:-1]]
    assert texts[0]["type"] == "pong"
    limited = [t for t in texts if t["type"] == "error"]
    assert limited
    assert all(t["code"] == "rate_limited" for t in limited)


def test_token_bucket_refills_at_the_sustained_rate() -> None:
    buckets = LocalBuckets(burst=30, rate=10)
    assert all(buckets.take("u", now=0).allowed for _ in range(30))
    refused = buckets.take("u", now=0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.1)
    assert buckets.take("u", now=0.1).allowed
    assert not buckets.take("u", now=0.1).allowed
    assert sum(buckets.take("u", now=10).allowed for _ in range(40)) == 30


IN_MEMORY = {"default": {"BACKEND": "realtime.layers.InMemoryLayer", "CONFIG": {}}}


@override_settings(REDIS_URL="", CHANNEL_LAYERS=IN_MEMORY)
async def test_without_redis_the_same_code_fans_out_in_process(make_user):
    anna = await db(make_user)("Anna Becker")
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(anna, ben)
    listener = await connect(ben)
    await listener.subscribe(conversation.pk)
    assert isinstance(get_hub().layer, InMemoryLayer)
    sender = await connect(anna)
    frame = {"type": "send", "conversation": conversation.pk, "body": "lokal", "client_id": "l1"}
    assert (await sender.request(frame, "ack"))["seq"] == 1
    assert (await listener.receive_type("message"))["body"] == "lokal"
    await listener.close()
    await sender.close()


@override_settings(NETZN_CONNECTION_QUEUE_LIMIT=50)
async def test_a_send_that_suspends_queues_up_to_the_limit_then_closes_with_4013(make_user):
    """A server whose ASGI `send` suspends (back-pressure): frames queue in the
    connection's outbox up to the limit, then the connection is closed. (The same
    against real daphne, with a real client that stops reading:
    tests/realtime/test_slow_client.py.)"""
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(ben)
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if (
            message["type"] == "websocket.send"
            and json.loads(message["text"])["type"] == "subscribed"
        ):
            await asyncio.Event().wait()  # the client stops reading from here on

    scope = {"type": "websocket", "path": "/ws/v1/", "user": ben, "auth": "token", "headers": []}
    app = asyncio.ensure_future(ChatConsumer.as_asgi()(scope, incoming.get, send))
    await incoming.put({"type": "websocket.connect"})
    await incoming.put(
        {
            "type": "websocket.receive",
            "text": json.dumps({"type": "subscribe", "conversation": conversation.pk}),
        }
    )
    for _ in range(100):
        if any(m.get("text", "").startswith('{"type":"subscribed"') for m in sent):
            break
        await asyncio.sleep(0.02)
    hub = get_hub()
    topic = frames.conversation_topic(conversation.pk)
    for n in range(50):
        hub.dispatch(
            topic,
            envelope(topic, {"type": "message", "conversation": conversation.pk, "seq": n + 1}),
        )
    await asyncio.sleep(0)
    assert sent[-1]["type"] == "websocket.send"  # 50 queued: at the limit, still open
    hub.dispatch(topic, envelope(topic, {"type": "message", "conversation": conversation.pk}))
    for _ in range(250):  # the close is sent by a task of its own
        if sent[-1]["type"] == "websocket.close":
            break
        await asyncio.sleep(0.02)
    assert sent[-1] == {"type": "websocket.close", "code": 4013}
    assert topic in hub.topics  # still registered until the server reports the disconnect
    await incoming.put({"type": "websocket.disconnect", "code": 4013})
    await asyncio.wait_for(app, 5)
    assert topic not in hub.topics


async def test_subscribing_while_messages_arrive_loses_and_repeats_nothing(make_user):
    """Register first, then load the backlog: messages committed meanwhile arrive
    exactly once, either in the backlog or live."""
    anna = await db(make_user)("Anna Becker")
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(anna, ben)

    def send_many(start: int, count: int) -> None:
        for n in range(start, start + count):
            do_send_message(
                actor=anna, conversation_id=conversation.pk, body=f"{n}", client_id=f"s{n}"
            )

    await db(send_many)(1, 20)
    listener = await connect(ben)
    writer = asyncio.ensure_future(db(send_many)(21, 40))
    frames_seen = await listener.subscribe(conversation.pk, after=0)
    await writer
    seqs = [f["seq"] for f in frames_seen if f["type"] == "message"]
    while len(seqs) < 60:
        seqs.append((await listener.receive_type("message"))["seq"])
    assert sorted(seqs) == list(range(1, 61))
    assert len(seqs) == len(set(seqs))
    await db(send_many)(61, 1)
    assert (await listener.quiet_until("message"))["seq"] == 61  # nothing twice before it
    await listener.close()


async def test_a_live_copy_arriving_after_the_backlog_is_not_sent_twice(make_user):
    """A message is published after its commit, so its live copy can reach the hub
    after the backlog that already carried it went out (seen under churn on two
    processes): the socket sends it once."""
    anna = await db(make_user)("Anna Becker")
    ben = await db(make_user)("Ben Öztürk")
    conversation = await db(group_with)(anna, ben)
    sent, _ = await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="Hallo", client_id="late-1"
    )
    listener = await connect(ben)
    backlog = await listener.subscribe(conversation.pk, after=0)
    assert [f["seq"] for f in backlog if f["type"] == "message"] == [sent.seq]
    topic = frames.conversation_topic(conversation.pk)
    late_copy = {"type": "message", "conversation": conversation.pk, "seq": sent.seq}
    get_hub().dispatch(topic, envelope(topic, late_copy))
    await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="Noch da?", client_id="late-2"
    )
    assert (await listener.quiet_until("message"))["seq"] == sent.seq + 1
    await listener.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70_000])
def test_prebuilt_frames_parse_as_websocket_text_frames(size: int) -> None:
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    from realtime.wire import frame_bytes

    payload = "ä" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(frame_bytes(payload))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data.decode() == payload
    assert frame_bytes(payload) is frame_bytes(payload)  # built once per payload


def test_a_connections_frame_bucket_allows_its_burst_then_its_rate() -> None:
    from realtime.ratelimit import TokenBucket

    bucket = TokenBucket(burst=3, rate=2)
    start = bucket.at
    assert [bucket.take(now=start).allowed for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=start).retry_after == pytest.approx(0.5)
    assert bucket.take(now=start + 0.5).allowed
