"""Where a broadcast's CPU goes in one process, without the network: an experiment.

Two figures docs/performance.md needs and a fan-out run on a shared machine cannot
separate from the kernel's and the send path's share:

- `deliver`: the Python work per recipient of the hub -> consumer -> outbox ->
  direct-write chain (`Hub.dispatch` over N real `ChatConsumer`s, each with a real
  `Outbox` and `DirectWriter`), with the socket's `send` replaced by one that takes
  everything: what every broadcast costs per local socket on top of the syscall,
  which any server pays.
- `presence`: the event loop's CPU for one presence heartbeat of N people
  (`realtime.presence.RedisStore.refresh`) against the Redis of `REDIS_URL`
  (its own key prefix, removed afterwards).

Process CPU time (`time.process_time`), so the figures survive a loaded machine
better than wall time does.

    python bench/fanout_path.py deliver --subscribers 1000 --messages 600
    REDIS_URL=redis://127.0.0.1:6379/6 python bench/fanout_path.py presence --people 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

import django  # noqa: E402

django.setup()

from accounts.models import User  # noqa: E402
from chat.consumers import ChatConsumer, Subscription  # noqa: E402
from realtime.hub import Hub  # noqa: E402
from realtime.outbox import Outbox  # noqa: E402
from realtime.publish import envelope  # noqa: E402
from realtime.wire import DirectWriter  # noqa: E402


class TakingSocket:
    """A socket whose kernel takes every frame at once."""

    def send(self, data: bytes) -> int:
        return len(data)


class IdleTransport:
    """The Twisted transport attributes the direct write reads, nothing pending."""

    TLS = False

    def __init__(self) -> None:
        self.connected = True
        self.disconnecting = False
        self.disconnected = False
        self.socket = TakingSocket()
        self._tempDataBuffer: list[bytes] = []
        self._tempDataLen = 0
        self.dataBuffer = b""
        self.offset = 0

    def write(self, data: bytes) -> None:
        raise AssertionError("the kernel took everything: nothing to buffer")


class OpenProtocol:
    """The autobahn protocol attributes the direct write reads: open, uncompressed."""

    STATE_OPEN = 3

    def __init__(self) -> None:
        self.state = self.STATE_OPEN
        self.send_queue: deque[Any] = deque()
        self._perMessageCompress = None
        self.closeHandshakeTimeout = 1
        self.transport = IdleTransport()


def live_consumer(topic: str, conversation_id: int, user_id: int) -> ChatConsumer:
    """A consumer as it is after `subscribed`: listening, nothing held back."""
    consumer = ChatConsumer()
    consumer.user = User(pk=user_id)
    consumer.direct = DirectWriter(OpenProtocol())
    consumer.outbox = Outbox(None, consumer.direct, consumer.overflow)
    consumer.topics[topic] = conversation_id
    subscription = Subscription()
    subscription.buffer = None
    subscription.loading = False
    consumer.subscriptions[conversation_id] = subscription
    return consumer


async def deliver(options: argparse.Namespace) -> None:
    topic, conversation_id = "conv:1", 1
    hub = Hub(asyncio.get_running_loop())
    for number in range(options.subscribers):
        hub.topics[topic].add(live_consumer(topic, conversation_id, 10 + number))
    body = "x" * 100
    messages = [
        envelope(
            topic, {"type": "message", "conversation": conversation_id, "seq": seq, "body": body}
        )
        for seq in range(1, options.messages + 1)
    ]
    for message in messages[:20]:  # warm up
        hub.dispatch(topic, message)
    rounds = []
    for _ in range(options.rounds):
        start = time.process_time()
        for message in messages:
            hub.dispatch(topic, message)
        rounds.append(time.process_time() - start)
    deliveries = len(messages) * options.subscribers
    per_delivery = [1e6 * seconds / deliveries for seconds in rounds]
    print(
        f"deliver: {options.subscribers} subscribers x {len(messages)} messages, "
        f"{options.rounds} rounds: median {statistics.median(per_delivery):.2f} µs "
        f"(min {min(per_delivery):.2f}) of CPU per delivery, the send syscall left out"
    )


async def presence_refresh(options: argparse.Namespace) -> None:
    from realtime.presence import RedisStore

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6").split(",")[0]
    store = RedisStore(url, f"fanout-path-{uuid.uuid4().hex[:8]}")
    held = {
        person: {f"{os.getpid()}:{uuid.uuid4().hex}"} for person in range(1, options.people + 1)
    }
    try:
        await store.refresh(held)
        cpu = []
        for _ in range(options.rounds):
            start = time.process_time()
            await store.refresh(held)
            cpu.append(1e3 * (time.process_time() - start))
    finally:
        store.reset()
    print(
        f"presence: refresh of {options.people} people, {options.rounds} rounds: median "
        f"{statistics.median(cpu):.1f} ms (min {min(cpu):.1f}) of CPU in the calling thread"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("deliver")
    one.add_argument("--subscribers", type=int, default=1000)
    one.add_argument("--messages", type=int, default=200)
    one.add_argument("--rounds", type=int, default=5)
    two = sub.add_parser("presence")
    two.add_argument("--people", type=int, default=1000)
    two.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    asyncio.run(deliver(options) if options.what == "deliver" else presence_refresh(options))


if __name__ == "__main__":
    main()
