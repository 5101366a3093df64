"""The channel layers netzn runs on, and the two things netzn needs that they do not say.

`CHANNEL_LAYERS` (server/settings.py) names one of two:

- `RedisPubSubLayer`: channels-redis' `RedisPubSubChannelLayer` (one Redis SUBSCRIBE
  per process and group, groups spread over the `hosts` by consistent hashing: the
  Redis shards of `REDIS_URL`). Subclassed for two reasons, both invisible to code
  that only calls the standard API (`group_add`, `group_discard`, `group_send`,
  `send`, `receive`, `new_channel`):

  1. **`group_add` returns once Redis confirmed the subscription.** channels-redis'
     shard connection writes SUBSCRIBE and returns (redis-py's `PubSub.subscribe`
     does not wait for the reply), so a message published right after `group_add`
     may be missed. netzn promises that whatever is published after `hello` or
     `subscribed` arrives; so each shard here reads its own pub/sub replies and
     `group_add` waits for the confirmation (or raises `LayerUnavailable`).
  2. **A lost connection is said, not hidden.** redis-py's pub/sub reconnects and
     resubscribes silently, and every message published meanwhile is gone unnoticed.
     Here, when a shard's connection fails, every local channel in a group that shard
     carried receives `{"type": "netzn.lost"}`; once the group holds again,
     `{"type": "netzn.resumed"}`. Consumers close (4013) and clients catch up by seq.

  It also adds `group_send_many`: many group messages in one pipelined round trip per
  shard (an action that notifies 40 people publishes 40 messages at once), and
  `new_channel` channels are process-local (see `RedisPubSubLoopLayer.new_channel`).

- `InMemoryLayer`: Channels' `InMemoryChannelLayer` (the embedded default, one
  process), one per event loop: its queues belong to the loop that made them (the
  server has one loop, the test suite one per test).

Group names must be valid Channels group names: `topic_group("conv:7")` is `conv.7`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from channels.layers import InMemoryChannelLayer
from channels_redis import pubsub
from channels_redis.utils import _consistent_hash
from django.conf import settings

from realtime.queues import SmallQueue

logger = logging.getLogger(__name__)

# Message types the layer itself delivers to the channels of a group.
LOST = "netzn.lost"
RESUMED = "netzn.resumed"


class LayerUnavailable(Exception):
    """A group subscription could not be made to hold (its Redis shard is away)."""


def topic_group(topic: str) -> str:
    """The Channels group of a topic (`conv:7` -> `conv.7`, `user:5` -> `user.5`)."""
    return topic.replace(":", ".", 1)


def group_topic(group: str) -> str:
    return group.replace(".", ":", 1)


# -- Redis ------------------------------------------------------------------------------


class ConfirmingShard(pubsub.RedisSingleShardConnection):
    """One Redis server of the layer: its pub/sub connection, owned by one task.

    Replaces channels-redis' shard connection (which hands the connection to redis-py's
    `PubSub`, polls it every 0.1 s and reconnects behind the layer's back) with one
    that knows what Redis has confirmed. Exactly one task (`_run`) owns the pub/sub
    connection: it connects, writes every SUBSCRIBE, UNSUBSCRIBE and PING and starts
    the one reader task. `subscribe` records the wish and waits for the confirmation.
    When the connection fails, every group it carried is reported lost to its local
    channels, the task reconnects with back-off and subscribes again whatever is still
    wanted; each lost group is then reported resumed. Publishing uses a separate
    connection pool (commands, not pub/sub)."""

    PING_AFTER_SILENCE = 5.0
    DEAD_AFTER_SILENCE = 20.0
    SUBSCRIBE_TIMEOUT = 5.0
    CHANNELS_PER_COMMAND = 500
    DOWN_FOR_SECONDS = 1.0

    def __init__(self, host: dict[str, Any], channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options = dict(host)
        address = options.pop("address", None)
        self.address: str | None = address
        self.client_name = f"netzn-layer:{channel_layer.prefix}:{os.getpid()}"
        pubsub_options = {
            **options,
            "client_name": self.client_name,
            "socket_connect_timeout": 2,
            "socket_timeout": None,
            "health_check_interval": 0,
            "retry": Retry(NoBackoff(), 0),
            # RESP2: pub/sub messages and confirmations are plain replies in order.
            "protocol": 2,
        }
        command_options = {**options, "socket_connect_timeout": 0.5, "socket_timeout": 2.0}
        if address is not None:
            self.pubsub_pool: Any = aioredis.ConnectionPool.from_url(address, **pubsub_options)
            self.command_pool: Any = aioredis.ConnectionPool.from_url(address, **command_options)
        else:
            self.pubsub_pool = aioredis.ConnectionPool(**pubsub_options)
            self.command_pool = aioredis.ConnectionPool(**command_options)
        self._redis = aioredis.Redis(connection_pool=self.command_pool)
        self.wanted: set[str] = set()
        self.dirty: set[str] = set()
        self.requested: set[str] = set()
        self.in_flight: dict[str, int] = {}
        self.confirmed: set[str] = set()
        self.waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.lost: set[str] = set()
        self.wake: asyncio.Event | None = None
        self.last_heard = 0.0
        self.down = False
        self.publish_down_until = 0.0
        self.task: asyncio.Task[None] | None = None

    # -- what the layer calls ---------------------------------------------------------

    def holds(self, channel: str) -> bool:
        return channel in self.confirmed and channel not in self.in_flight

    def _wake(self) -> None:
        if self.wake is None:
            self.wake = asyncio.Event()
        self.wake.set()

    async def subscribe(self, channel: str) -> None:
        self.wanted.add(channel)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._run())
        if self.holds(channel):
            return
        if self.down:
            self.lost.add(channel)
            raise LayerUnavailable(f"Redis {self.host} is unreachable")
        if channel not in self.requested:
            self.dirty.add(channel)
            self._wake()
        waiter = loop.create_future()
        self.waiters.setdefault(channel, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self.SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            raise LayerUnavailable(f"Redis did not confirm {channel}") from None

    async def unsubscribe(self, channel: str) -> None:
        if channel not in self.wanted:
            return
        self.wanted.discard(channel)
        for waiter in self.waiters.pop(channel, ()):
            if not waiter.done():
                waiter.set_result(None)
        self.lost.discard(channel)
        self.dirty.add(channel)
        self._wake()

    async def publish(self, channel: str, message: bytes) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, message) in order, in one round trip. Raises when
        Redis did not take them; fails at once for a second after a failure, so a
        shard that is away does not cost every publish a connect timeout."""
        if time.monotonic() < self.publish_down_until:
            raise ConnectionError(f"Redis {self.host} is away")
        try:
            if len(items) == 1:
                await self._redis.publish(*items[0])
                return
            async with self._redis.pipeline(transaction=False) as pipeline:
                for channel, message in items:
                    pipeline.publish(channel, message)
                await pipeline.execute()
        except Exception:
            self.publish_down_until = time.monotonic() + self.DOWN_FOR_SECONDS
            raise

    async def flush(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
            self.task = None
        for pool in (self.pubsub_pool, self.command_pool):
            try:
                await pool.disconnect()
            except Exception:
                logger.debug("closing a Redis pool failed", exc_info=True)
        self.wanted.clear()
        self.requested.clear()
        self.confirmed.clear()
        self.in_flight.clear()
        self.dirty.clear()
        self.lost.clear()

    # -- the connection's owner -------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            connection = self.pubsub_pool.make_connection()
            try:
                await connection.connect()
                self.down = False
                backoff = 0.1
                self.dirty.update(self.wanted)
                logger.info(
                    "redis pub/sub connected to %s, %d channels", self.host, len(self.wanted)
                )
                await self._serve(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("redis pub/sub connection to %s failed: %s", self.host, exc)
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
        loop = asyncio.get_running_loop()
        if self.wake is None:
            self.wake = asyncio.Event()
        self.last_heard = loop.time()
        reader = loop.create_task(self._read(connection))
        try:
            while True:
                self.wake.clear()
                await self._reconcile(connection, reader)
                woken = loop.create_task(self.wake.wait())
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
                silence = loop.time() - self.last_heard
                if silence > self.DEAD_AFTER_SILENCE:
                    raise ConnectionError(f"no answer from Redis for {silence:.0f} s")
                await connection.send_command("PING", check_health=False)
        finally:
            reader.cancel()

    async def _reconcile(self, connection: Any, reader: asyncio.Task[None]) -> None:
        """Write the (UN)SUBSCRIBE commands that bring Redis to the wanted channels."""
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, set()
        add = [c for c in dirty if c in self.wanted and c not in self.requested]
        drop = [c for c in dirty if c not in self.wanted and c in self.requested]
        for command, channels in (("SUBSCRIBE", add), ("UNSUBSCRIBE", drop)):
            for start in range(0, len(channels), self.CHANNELS_PER_COMMAND):
                chunk = channels[start : start + self.CHANNELS_PER_COMMAND]
                for channel in chunk:
                    if command == "SUBSCRIBE":
                        self.requested.add(channel)
                    else:
                        self.requested.discard(channel)
                    self.in_flight[channel] = self.in_flight.get(channel, 0) + 1
                if reader.done():
                    raise ConnectionError("the pub/sub connection failed")
                await connection.send_command(command, *chunk, check_health=False)

    async def _read(self, connection: Any) -> None:
        """The only reader of the pub/sub connection."""
        loop = asyncio.get_running_loop()
        layer = self.channel_layer
        while True:
            response = await connection.read_response(disconnect_on_error=False)
            self.last_heard = loop.time()
            if not isinstance(response, list) or len(response) < 3:
                continue  # PONG
            kind = response[0]
            if kind == b"message":
                layer.deliver_raw(response[1].decode(), response[2])
            elif kind == b"subscribe":
                self._answered(response[1].decode(), subscribed=True)
            elif kind == b"unsubscribe":
                self._answered(response[1].decode(), subscribed=False)

    def _answered(self, channel: str, *, subscribed: bool) -> None:
        """Redis confirmed one (UN)SUBSCRIBE of `channel` (it answers in order)."""
        left = self.in_flight.get(channel, 0) - 1
        if left > 0:
            self.in_flight[channel] = left
            return
        self.in_flight.pop(channel, None)
        if not subscribed:
            self.confirmed.discard(channel)
            return
        self.confirmed.add(channel)
        for waiter in self.waiters.pop(channel, ()):
            if not waiter.done():
                waiter.set_result(None)
        if channel in self.lost:
            self.lost.discard(channel)
            self.channel_layer.deliver_local(channel, {"type": RESUMED})

    def _connection_lost(self) -> None:
        carried = (self.requested | self.confirmed) & self.wanted
        self.requested.clear()
        self.confirmed.clear()
        self.in_flight.clear()
        self.dirty.clear()
        self.lost.update(carried)
        for channel in carried:
            self.channel_layer.deliver_local(channel, {"type": LOST})


class RedisPubSubLoopLayer(pubsub.RedisPubSubLoopLayer):
    """channels-redis' per-loop pub/sub layer on `ConfirmingShard`s."""

    def __init__(self, hosts: Any = None, prefix: str | None = None, **kwargs: Any) -> None:
        super().__init__(hosts=hosts, prefix=prefix or settings.NETZN_REDIS_PREFIX, **kwargs)
        shards: list[Any] = self._shards  # type: ignore[has-type]
        self._shards = [ConfirmingShard(shard.host, self) for shard in shards]
        # channel -> the group channels it is in (`groups` the other way round), so a
        # consumer that leaves does not look through every group of the process.
        self.memberships: dict[str, set[str]] = {}
        self.pid = os.getpid()
        self.channel_numbers = itertools.count()

    async def new_channel(self, prefix: str = "specific.") -> str:
        """A channel of this process. netzn never sends to one consumer's channel from
        another process (per-person events go to the person's group), so a specific
        channel is not subscribed in Redis: that would be one more SUBSCRIBE per
        WebSocket handshake. `send` to it from this process is delivered locally.
        Named by a count, as only this process knows it (no uuid4 per handshake)."""
        channel = f"{self.prefix}{prefix}{self.pid}.{next(self.channel_numbers)}"
        self.channels[channel] = SmallQueue()
        return channel

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        queue = self.channels.get(channel)
        if queue is not None:
            queue.put_nowait(self.channel_layer.serialize(message))
            return
        await super().send(channel, message)

    async def receive(self, channel: str) -> Any:
        if channel not in self.channels:
            self.channels[channel] = SmallQueue()
        try:
            message = await self.channels[channel].get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            # The consumer left (as in channels-redis): forget the channel and its
            # groups, so nothing is queued for it any more.
            self.channels.pop(channel, None)
            for group_channel in list(self.memberships.get(channel, ())):
                await self._discard(group_channel, channel)
            raise
        return self.channel_layer.deserialize(message)

    async def group_add(self, group: str, channel: str) -> None:
        """Add `channel` to `group`; returns once Redis confirmed the group's
        subscription (at once when this process holds it already), or raises
        `LayerUnavailable`: the membership stays, and the channel hears
        `netzn.resumed` when the group holds again."""
        if channel not in self.channels:
            self.channels[channel] = SmallQueue()
        group_channel = self._get_group_channel_name(group)
        self.groups.setdefault(group_channel, set()).add(channel)
        self.memberships.setdefault(channel, set()).add(group_channel)
        await self._get_shard(group_channel).subscribe(group_channel)

    async def group_discard(self, group: str, channel: str) -> None:
        await self._discard(self._get_group_channel_name(group), channel)

    async def _discard(self, group_channel: str, channel: str) -> None:
        members = self.groups.get(group_channel)
        if members is None or channel not in members:
            return
        members.discard(channel)
        groups = self.memberships.get(channel)
        if groups is not None:
            groups.discard(group_channel)
            if not groups:
                del self.memberships[channel]
        if not members:
            del self.groups[group_channel]
            await self._get_shard(group_channel).unsubscribe(group_channel)

    async def flush(self) -> None:
        self.memberships = {}
        await super().flush()

    async def group_send_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
        """Send each (group, message), in order per group, one pipelined round trip
        per shard, the shards at once. Returns the groups whose message Redis did not
        take (never raises for an unreachable shard)."""
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        groups_by_shard: dict[int, list[str]] = {}
        serialize = self.channel_layer.serialize
        for group, message in items:
            group_channel = self._get_group_channel_name(group)
            index = _consistent_hash(group_channel, len(self._shards))
            by_shard.setdefault(index, []).append((group_channel, serialize(message)))
            groups_by_shard.setdefault(index, []).append(group)
        indexes = list(by_shard)
        results: list[Any]
        if len(indexes) == 1:
            # One shard (every single-Redis set-up): no task to gather it in.
            try:
                await self._shards[indexes[0]].publish_many(by_shard[indexes[0]])
                results = [None]
            except Exception as exc:
                results = [exc]
        else:
            results = await asyncio.gather(
                *(self._shards[i].publish_many(by_shard[i]) for i in indexes),
                return_exceptions=True,
            )
        failed: list[str] = []
        for index, result in zip(indexes, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning(
                    "redis publish of %d messages failed on %s: %s",
                    len(by_shard[index]),
                    self._shards[index].host,
                    result,
                )
                failed.extend(groups_by_shard[index])
        return failed

    def deliver_raw(self, name: str, data: bytes) -> None:
        """A message Redis delivered on `name` (a group's or a channel's)."""
        queue = self.channels.get(name)
        if queue is not None:
            queue.put_nowait(data)
            return
        members = self.groups.get(name)
        if members:
            channels = self.channels
            for channel in members:
                target = channels.get(channel)
                if target is not None:
                    target.put_nowait(data)

    def deliver_local(self, group_channel: str, message: dict[str, Any]) -> None:
        """Hand a message of the layer's own (`netzn.lost`, `netzn.resumed`) to every
        local channel in the group, with the group's name."""
        members = self.groups.get(group_channel)
        if not members:
            return
        group = group_channel[len(self.prefix) + len("__group__") :]
        self.deliver_raw(group_channel, self.channel_layer.serialize({**message, "group": group}))

    def shard_address(self, group: str) -> str | None:
        """The address of the Redis that `group`'s messages are published on."""
        shard: ConfirmingShard = self._get_shard(self._get_group_channel_name(group))
        return shard.address

    def publication(self, group: str, message: dict[str, Any]) -> tuple[str, bytes]:
        """What `group_send_many` would PUBLISH for (group, message), channel and
        bytes, for a caller that publishes it from a script on that same Redis
        (presence: one round trip instead of two per handshake)."""
        return self._get_group_channel_name(group), self.channel_layer.serialize(message)

    def holds(self, group: str) -> bool:
        group_channel = self._get_group_channel_name(group)
        shard: ConfirmingShard = self._get_shard(group_channel)
        return shard.holds(group_channel)


class RedisPubSubLayer(pubsub.RedisPubSubChannelLayer):
    """`CHANNEL_LAYERS` backend with Redis: channels-redis' pub/sub layer on
    `RedisPubSubLoopLayer` (module docstring)."""

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            from channels_redis.utils import _wrap_close

            layer = RedisPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer

    def receive(self, channel: str) -> Awaitable[Any]:
        """The loop layer's `receive` itself: channels-redis reaches it through a proxy
        coroutine, one more frame kept alive by every idle consumer's waiting receive."""
        return self._get_layer().receive(channel)

    def __getattr__(self, name: str) -> Any:
        if name in ("group_send_many", "holds", "publication", "shard_address"):
            return getattr(self._get_layer(), name)
        return super().__getattr__(name)


# -- in memory --------------------------------------------------------------------------


class _LoopInMemoryLayer(InMemoryChannelLayer):
    async def group_send_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
        for group, message in items:
            await self.group_send(group, message)
        return []

    def holds(self, group: str) -> bool:
        return True


class InMemoryLayer:
    """`CHANNEL_LAYERS` backend without Redis: Channels' `InMemoryChannelLayer`, one
    per event loop (its asyncio queues belong to the loop that made them)."""

    extensions = ["groups", "flush"]

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.layers: dict[asyncio.AbstractEventLoop, _LoopInMemoryLayer] = {}

    def layer(self) -> _LoopInMemoryLayer:
        loop = asyncio.get_running_loop()
        layer = self.layers.get(loop)
        if layer is None:
            for old in [old for old in self.layers if old.is_closed()]:
                del self.layers[old]
            layer = self.layers[loop] = _LoopInMemoryLayer(**self.kwargs)
        return layer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.layer(), name)
