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
`seq` numbers let every client see and fill a gap.

The interface is four calls: `subscribe` (returns once the subscription holds, or
raises `HubUnavailable`), `unsubscribe`, `publish` and `close`; subscribers implement
`deliver(topic, payload)`. Besides published payloads the hub delivers two control
payloads of its own: `frames.LOST` to every subscriber of a topic whose subscription
was lost with the Redis connection (frames published meanwhile may be missing), and
`frames.RESUMED` once a lost topic (or one whose `subscribe` failed while Redis was
away, and that is still wanted) is subscribed again.

Contract for subscribers: `deliver(topic, payload)` is called on the event loop, must
not block and must not (un)subscribe synchronously; schedule that instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import defaultdict
from typing import Any, Protocol

from django.conf import settings

from realtime import frames

logger = logging.getLogger(__name__)


class Subscriber(Protocol):
    def deliver(self, topic: str, payload: str) -> None: ...


class HubUnavailable(Exception):
    """The subscription could not be made to hold (Redis unreachable)."""


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.topics: defaultdict[str, set[Subscriber]] = defaultdict(set)

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self.topics[topic].add(subscriber)

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._remove(topic, subscriber)

    def _remove(self, topic: str, subscriber: Subscriber) -> bool:
        """Forget one local subscriber; True when it was the topic's last one."""
        subscribers = self.topics.get(topic)
        if subscribers is None:
            return False
        subscribers.discard(subscriber)
        if subscribers:
            return False
        del self.topics[topic]
        return True

    def dispatch(self, topic: str, payload: str) -> None:
        """Hand one payload to every local subscriber of the topic (on the loop)."""
        subscribers = self.topics.get(topic)
        if not subscribers:
            return
        for subscriber in tuple(subscribers):
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
    """One Redis pub/sub connection per process, one subscription per active topic.

    Exactly one task (`_run`) owns the pub/sub connection: it connects, writes every
    SUBSCRIBE, UNSUBSCRIBE and PING, and starts the one reader task that reads it.
    Nobody else touches that connection, so no two coroutines ever wait on its
    socket (redis-py's own health check and reconnect-on-error are switched off:
    they read, or swap the socket, behind the reader's back). `subscribe` only
    records the wish and waits until Redis has confirmed it, so a caller that got
    past `subscribe` hears every later publish. When the connection fails, every
    subscriber of every topic it carried gets `frames.LOST`, the task reconnects with
    back-off and subscribes again whatever is still wanted; each lost topic then
    gets `frames.RESUMED`.
    """

    PING_AFTER_SILENCE = 5.0
    DEAD_AFTER_SILENCE = 20.0
    SUBSCRIBE_TIMEOUT = 5.0
    CHANNELS_PER_COMMAND = 500

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, prefix: str) -> None:
        super().__init__(loop)
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.prefix = prefix
        self.prefix_len = len(prefix) + 1
        # Named, so `CLIENT LIST` tells the hubs' connections apart.
        self.client_name = f"netzn-hub:{prefix}:{os.getpid()}"
        self.pool: Any = aioredis.ConnectionPool.from_url(
            url,
            client_name=self.client_name,
            socket_connect_timeout=2,
            socket_timeout=None,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
            # RESP2: pub/sub messages and confirmations are plain replies in order
            # (RESP3 would hand them to the parser's push handler instead).
            protocol=2,
        )
        self.client: Any = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        # Topics whose wanted state changed since the last reconcile.
        self.dirty: set[str] = set()
        # What the connection will be subscribed to once Redis has answered every
        # command written so far ...
        self.requested: set[str] = set()
        # ... the commands Redis has not answered yet, per topic ...
        self.in_flight: dict[str, int] = {}
        # ... and what Redis has confirmed.
        self.confirmed: set[str] = set()
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.lost: set[str] = set()
        self.wake = asyncio.Event()
        self.last_heard = 0.0
        # Known to be away (the last connection failed): subscribing then fails at
        # once instead of after SUBSCRIBE_TIMEOUT; the wish stays and is carried out
        # when Redis answers again.
        self.down = False
        self.task: asyncio.Task[None] | None = None

    def channel(self, topic: str) -> str:
        return f"{self.prefix}:{topic}"

    def holds(self, topic: str) -> bool:
        return topic in self.confirmed and topic not in self.in_flight

    async def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self.topics[topic].add(subscriber)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        if self.holds(topic):
            return
        if self.down:
            self.lost.add(topic)
            raise HubUnavailable("Redis is unreachable")
        if topic not in self.requested:
            self.dirty.add(topic)
            self.wake.set()
        waiter = self.loop.create_future()
        self.waiters.setdefault(topic, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self.SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            raise HubUnavailable(f"Redis did not confirm {topic}") from None

    async def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        if self._remove(topic, subscriber):
            # Whoever still waits for this topic has left it meanwhile.
            for waiter in self.waiters.pop(topic, ()):
                if not waiter.done():
                    waiter.set_result(None)
            self.lost.discard(topic)
            self.dirty.add(topic)
            self.wake.set()

    async def publish(self, topic: str, payload: str) -> None:
        try:
            await self.client.publish(self.channel(topic), payload)
        except Exception as exc:
            logger.warning("redis publish failed on %s: %s", topic, exc)

    async def close(self) -> None:
        self.topics.clear()
        if self.task is not None:
            self.task.cancel()
        try:
            await self.pool.disconnect()
            await self.client.aclose()
        except Exception:
            logger.debug("closing redis failed", exc_info=True)
        await super().close()

    # -- the connection's owner -----------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            connection = self.pool.make_connection()
            try:
                await connection.connect()
                self.down = False
                backoff = 0.1
                self.dirty.update(self.topics)
                logger.info("redis pub/sub connected, %d topics", len(self.topics))
                await self._serve(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("redis pub/sub connection failed: %s", exc)
            finally:
                self.down = True
                self._connection_lost()
                try:
                    await connection.disconnect(nowait=True)
                except Exception:
                    logger.debug("closing the pub/sub connection failed", exc_info=True)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _serve(self, connection: Any) -> None:
        self.last_heard = self.loop.time()
        reader = self.loop.create_task(self._read(connection))
        try:
            while True:
                self.wake.clear()
                await self._reconcile(connection, reader)
                woken = self.loop.create_task(self.wake.wait())
                done, _ = await asyncio.wait(
                    (reader, woken),
                    timeout=self.PING_AFTER_SILENCE,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                woken.cancel()
                if reader.done():
                    reader.result()
                    raise ConnectionError("the pub/sub reader stopped")
                if done:
                    continue
                silence = self.loop.time() - self.last_heard
                if silence > self.DEAD_AFTER_SILENCE:
                    raise ConnectionError(f"no answer from Redis for {silence:.0f} s")
                await connection.send_command("PING", check_health=False)
        finally:
            reader.cancel()

    async def _reconcile(self, connection: Any, reader: asyncio.Task[None]) -> None:
        """Write the (UN)SUBSCRIBE commands that bring Redis to the wanted topics."""
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, set()
        add = [t for t in dirty if t in self.topics and t not in self.requested]
        drop = [t for t in dirty if t not in self.topics and t in self.requested]
        for command, topics in (("SUBSCRIBE", add), ("UNSUBSCRIBE", drop)):
            for start in range(0, len(topics), self.CHANNELS_PER_COMMAND):
                chunk = topics[start : start + self.CHANNELS_PER_COMMAND]
                for topic in chunk:
                    if command == "SUBSCRIBE":
                        self.requested.add(topic)
                    else:
                        self.requested.discard(topic)
                    self.in_flight[topic] = self.in_flight.get(topic, 0) + 1
                if reader.done():
                    # The reader has seen the connection fail; writing now would let
                    # redis-py reconnect a fresh socket without our subscriptions.
                    raise ConnectionError("the pub/sub connection failed")
                await connection.send_command(
                    command, *(self.channel(t) for t in chunk), check_health=False
                )

    async def _read(self, connection: Any) -> None:
        """The only reader of the pub/sub connection."""
        while True:
            response = await connection.read_response(disconnect_on_error=False)
            self.last_heard = self.loop.time()
            if not isinstance(response, list) or len(response) < 3:
                continue  # PONG
            kind = response[0]
            if kind == b"message":
                self.dispatch(response[1][self.prefix_len :].decode(), response[2].decode())
            elif kind == b"subscribe":
                self._answered(response[1][self.prefix_len :].decode(), subscribed=True)
            elif kind == b"unsubscribe":
                self._answered(response[1][self.prefix_len :].decode(), subscribed=False)

    def _answered(self, topic: str, *, subscribed: bool) -> None:
        """Redis confirmed one (UN)SUBSCRIBE of `topic` (it answers in order)."""
        left = self.in_flight.get(topic, 0) - 1
        if left > 0:
            self.in_flight[topic] = left
            return
        self.in_flight.pop(topic, None)
        if not subscribed:
            self.confirmed.discard(topic)
            return
        self.confirmed.add(topic)
        for waiter in self.waiters.pop(topic, ()):
            if not waiter.done():
                waiter.set_result(None)
        if topic in self.lost:
            self.lost.discard(topic)
            self.dispatch(topic, frames.RESUMED)

    def _connection_lost(self) -> None:
        carried = (self.requested | self.confirmed) & self.topics.keys()
        self.requested.clear()
        self.confirmed.clear()
        self.in_flight.clear()
        self.dirty.clear()
        self.lost.update(carried)
        for topic in carried:
            self.dispatch(topic, frames.LOST)


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
