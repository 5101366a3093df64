"""The per-process fan-out hub.

One hub per server process (per event loop). Sockets subscribe to topics
(`conv:<id>`, `user:<id>`); the hub keeps `topic -> local subscribers` and receives
each published payload once per process:

- without `REDIS_URL` (`LocalHub`) a publish is dispatched straight to the local
  subscribers of this process;
- with `REDIS_URL` (`RedisHub`) the process holds ONE Redis pub/sub connection and one
  Redis subscription per topic that has at least one local subscriber, whatever the
  number of sockets. A payload arrives once per process and is handed, as the same
  string, to each local subscriber.

There is no per-recipient channel-layer message, no thread hop and no serialisation on
the broadcast path. Redis is best-effort fan-out: the database is the truth and the
`seq` numbers let every client see and fill a gap. When Redis goes away the hub
reconnects with back-off and re-subscribes every topic.

Contract for subscribers: `deliver(topic, payload)` is called on the event loop, must
not block and must not (un)subscribe synchronously; schedule that instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


class Subscriber(Protocol):
    def deliver(self, topic: str, payload: str) -> None: ...


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.topics: defaultdict[str, set[Subscriber]] = defaultdict(set)

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self.topics[topic].add(subscriber)

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        subscribers = self.topics.get(topic)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self.topics[topic]

    def dispatch(self, topic: str, payload: str) -> None:
        """Hand one payload to every local subscriber of the topic (on the loop)."""
        subscribers = self.topics.get(topic)
        if not subscribers:
            return
        for subscriber in subscribers:
            try:
                subscriber.deliver(topic, payload)
            except Exception:
                logger.exception("subscriber failed to take a frame on %s", topic)

    def publish_threadsafe(self, topic: str, payload: str) -> None:
        """Publish from any thread; only used by the in-process hub."""
        if threading.get_ident() == self.loop_thread:
            self.dispatch(topic, payload)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.dispatch, topic, payload)

    async def publish(self, topic: str, payload: str) -> None:
        self.dispatch(topic, payload)

    async def close(self) -> None:
        self.topics.clear()


class LocalHub(Hub):
    """In-process fan-out: the embedded default without Redis."""


class RedisHub(Hub):
    """One Redis pub/sub connection per process, one subscription per active topic."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, prefix: str) -> None:
        super().__init__(loop)
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.client = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=None, health_check_interval=30
        )
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.lock = asyncio.Lock()
        self.connected = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    def channel(self, topic: str) -> str:
        return f"{self.prefix}:{topic}"

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        first = topic not in self.topics
        await super().subscribe(topic, subscriber)
        if first:
            await self._redis_subscribe(topic)
        self._ensure_reader()

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        await super().unsubscribe(topic, subscriber)
        if topic not in self.topics and self.connected.is_set():
            try:
                async with self.lock:
                    await self.pubsub.unsubscribe(self.channel(topic))
            except Exception as exc:  # Redis gone: the reader re-subscribes what is left
                logger.warning("redis unsubscribe failed: %s", exc)

    async def _redis_subscribe(self, topic: str) -> None:
        try:
            async with self.lock:
                await self.pubsub.subscribe(self.channel(topic))
            self.connected.set()
        except Exception as exc:
            # The reader loop re-subscribes every topic once Redis answers again.
            logger.warning("redis subscribe failed, will retry: %s", exc)
            self.connected.clear()

    def _ensure_reader(self) -> None:
        if self.reader is None or self.reader.done():
            self.reader = self.loop.create_task(self._read_forever())

    async def _read_forever(self) -> None:
        backoff = 0.1
        prefix_len = len(self.prefix) + 1
        while True:
            try:
                if not self.connected.is_set():
                    await self._resubscribe_all()
                    backoff = 0.1
                message = await self.pubsub.get_message(timeout=None)
                if message is None or message.get("type") != "message":
                    continue
                channel = message["channel"].decode()
                self.dispatch(channel[prefix_len:], message["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected.is_set():
                    logger.warning("redis pub/sub connection lost: %s", exc)
                self.connected.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _resubscribe_all(self) -> None:
        async with self.lock:
            try:
                await self.pubsub.aclose()
            except Exception:
                logger.debug("closing the broken pub/sub connection failed", exc_info=True)
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            channels = [self.channel(topic) for topic in self.topics]
            if not channels:
                channels = [self.channel("hub")]
            await self.pubsub.subscribe(*channels)
        self.connected.set()
        logger.info("redis pub/sub (re)connected, %d topics", len(channels))

    async def publish(self, topic: str, payload: str) -> None:
        try:
            await self.client.publish(self.channel(topic), payload)
        except Exception as exc:
            logger.warning("redis publish failed on %s: %s", topic, exc)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        try:
            await self.pubsub.aclose()
            await self.client.aclose()
        except Exception:
            logger.debug("closing redis failed", exc_info=True)
        await super().close()


_hub: Hub | None = None


def get_hub() -> Hub:
    """The hub of the running event loop (created on first use)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or loop.is_closed():
        if settings.REDIS_URL:
            _hub = RedisHub(loop, settings.REDIS_URL, settings.NETZN_REDIS_PREFIX)
        else:
            _hub = LocalHub(loop)
    return _hub


def current_hub() -> Hub | None:
    """The hub if this process serves sockets (used by the in-process publisher)."""
    return _hub
