"""Presence: who holds at least one open connection, on any server process.

State and fan-out only; who may see whom is decided by the caller (the gate is
`chat.access.presence_visible_ids`, realtime imports no app). docs/presence.md has
the decisions.

State
- With `REDIS_URL` (`RedisStore`): per person a sorted set `<prefix>:presence:c:<id>`
  with a member per open connection scored with the time it expires, and one sorted
  set `<prefix>:presence:online` (person -> latest expiry of their connections), plus
  a hash `<prefix>:presence:seen` (person -> when they were last online). Every
  process refreshes its own connections every `NETZN_PRESENCE_TIMEOUT_SECONDS / 3`
  and sweeps the people whose every connection expired (the connections of a process
  that died): the sweep is one Lua script, so of several processes exactly one
  announces each of them offline. A person is thereby offline at most
  `timeout + timeout / 3` after their process died (45 + 15 = 60 s by default).
- Without it (`LocalStore`, embedded, one process): a count per person in memory.

Fan-out
Every change (online, offline) is published once on the person's own topic
`presence:<id>`. Each process subscribes, through its hub, only to the topics of the
people its sockets watch (`watch`), and hands each frame to those sockets: traffic is
what each client shows, never group size squared.

The consumer calls `connected(socket, user_id)` after `hello` and
`disconnected(socket)` when it ends; a socket is anything with `push_frame(frame)`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from realtime import publish as publishing
from realtime.coalesce import Coalesced
from realtime.hub import Hub, get_hub
from realtime.layers import topic_group

logger = logging.getLogger(__name__)

SUBSCRIBE_MAX_USERS = 500
# Published on a person's topic when they switch presence off: their watchers get a
# `hidden` frame (their dot goes, as on a page loaded now, which is told nothing of
# them) and nothing more of them; the watch itself stays, so that switching presence
# on again (`SHOWN_CONTROL`) sends each watcher their current state.
HIDDEN_CONTROL: dict[str, Any] = {"type": "_presence_hidden"}
SHOWN_CONTROL: dict[str, Any] = {"type": "_presence_shown"}
SWEEP_BATCH = 500


# The channel and message of a presence change's PUBLISH, given the time of the change.
Announcement = Callable[[float], tuple[str, bytes]]
# A connection that opened or ended: person, connection id, its announcement if any.
Change = tuple[int, str, Announcement | None]


class Socket(Protocol):
    def push_frame(self, frame: Any) -> None: ...


def presence_topic(user_id: int) -> str:
    return f"presence:{user_id}"


def presence_frame(user_id: int, online: bool, last_seen: float | None) -> dict[str, Any]:
    """`last_seen`: null while online and for someone never seen; else when the last
    connection ended (or, for a process that died, its last heartbeat)."""
    seen = None
    if not online and last_seen is not None:
        seen = datetime.fromtimestamp(last_seen, tz=UTC).isoformat(timespec="seconds")
    return {"type": "presence", "user": user_id, "online": online, "last_seen": seen}


def hidden_frame(user_id: int) -> dict[str, Any]:
    """The person switched presence off: offline without a time (what a client that
    does not know `hidden` shows), and `hidden`, so a client can show them as a page
    loaded now does: not at all (docs/presence.md)."""
    return {**presence_frame(user_id, False, None), "hidden": True}


def timeout_seconds() -> float:
    return float(settings.NETZN_PRESENCE_TIMEOUT_SECONDS)


# -- state ------------------------------------------------------------------------


class LocalStore:
    """The embedded state: one process, so a count per person is the whole truth.
    Read from request threads too (GET /presence), hence the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: defaultdict[int, set[str]] = defaultdict(set)
        self.seen: dict[int, float] = {}

    async def connect(
        self, user_id: int, connection_id: str, announcement: Announcement | None = None
    ) -> bool:
        # `announcement` is for a store in Redis (`RedisStore.connect`); never given here.
        with self.lock:
            held = self.open[user_id]
            held.add(connection_id)
            return len(held) == 1

    async def disconnect(
        self, user_id: int, connection_id: str, announcement: Announcement | None = None
    ) -> float | None:
        with self.lock:
            held = self.open.get(user_id)
            if held is None or connection_id not in held:
                return None
            held.discard(connection_id)
            if held:
                return None
            del self.open[user_id]
            now = time.time()
            self.seen[user_id] = now
            return now

    async def refresh(self, held: dict[int, set[str]]) -> list[int]:
        return []

    async def sweep(self) -> list[tuple[int, float]]:
        return []

    def states_now(self, user_ids: Sequence[int]) -> dict[int, tuple[bool, float | None]]:
        with self.lock:
            return {
                user_id: (bool(self.open.get(user_id)), self.seen.get(user_id))
                for user_id in user_ids
            }

    async def states(self, user_ids: Sequence[int]) -> dict[int, tuple[bool, float | None]]:
        return self.states_now(user_ids)

    def reset(self) -> None:
        with self.lock:
            self.open.clear()
            self.seen.clear()


# Connections recorded together (`realtime.coalesce`). KEYS: the online set, then
# the connections of each one's person. ARGV: now, expiry, ttl, then per connection:
# connection, person, channel, message (channel '' when the caller publishes itself).
# Returns per connection the person's live connections before it (0: just came
# online, and then its announcement, if given, is published here).
CONNECT_LUA = """
local befores = {}
for i = 2, #KEYS do
  local at = 4 + (i - 2) * 4
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
  local before = redis.call('ZCARD', KEYS[i])
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[at])
  redis.call('EXPIRE', KEYS[i], ARGV[3])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[at + 1])
  if before == 0 and ARGV[at + 2] ~= '' then
    redis.call('PUBLISH', ARGV[at + 2], ARGV[at + 3])
  end
  befores[i - 1] = before
end
return befores
"""

# Connections ended together. KEYS: the online set, the seen hash, then the
# connections of each one's person. ARGV: now, then per connection: connection,
# person, channel, message. Returns per connection 1 when it was the person's last
# live one (now offline, and then its announcement, if given, is published here).
DISCONNECT_LUA = """
local last = {}
for i = 3, #KEYS do
  local at = 2 + (i - 3) * 4
  local removed = redis.call('ZREM', KEYS[i], ARGV[at])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
  last[i - 2] = 0
  if removed == 1 and redis.call('ZCARD', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[at + 1])
    redis.call('HSET', KEYS[2], ARGV[at + 1], ARGV[1])
    if ARGV[at + 2] ~= '' then
      redis.call('PUBLISH', ARGV[at + 2], ARGV[at + 3])
    end
    last[i - 2] = 1
  end
end
return last
"""

# KEYS: online set, seen hash. ARGV: now, connections key prefix, batch, ttl.
# Everyone whose connections all expired: removed, last seen at their last heartbeat
# (expiry - ttl); returns [person, seen, person, seen, ...]. Someone with a live
# connection left gets their expiry corrected instead. Keys are built from ARGV:
# fine on one Redis, not on Redis Cluster (docs/presence.md).
SWEEP_LUA = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local gone = {}
for _, person in ipairs(expired) do
  local key = ARGV[2] .. person
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 0 then
    local seen = tonumber(redis.call('ZSCORE', KEYS[1], person)) - tonumber(ARGV[4])
    redis.call('ZREM', KEYS[1], person)
    redis.call('HSET', KEYS[2], person, tostring(seen))
    table.insert(gone, person)
    table.insert(gone, tostring(seen))
  else
    redis.call('ZADD', KEYS[1], top[2], person)
  end
end
return gone
"""


# KEYS: online set. ARGV: now, expiry, ttl, connections key prefix, then per person:
# person, n, and their n connections. Keeps each connection alive until `expiry`;
# returns the people whose connections had all expired (swept offline meanwhile).
# The same keys built from ARGV as the sweep (one Redis, docs/presence.md).
REFRESH_LUA = """
local back = {}
local i = 5
while i <= #ARGV do
  local person = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local key = ARGV[4] .. person
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) == 0 then
    table.insert(back, person)
  end
  for j = i + 2, i + 1 + n do
    redis.call('ZADD', key, ARGV[2], ARGV[j])
  end
  redis.call('EXPIRE', key, ARGV[3])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[2], person)
  i = i + 2 + n
end
return back
"""
# People per refresh script call: each call is short for Redis, and the process packs
# one command and reads one short reply per chunk instead of five each per person.
REFRESH_BATCH = 500


class RedisStore:
    """The state shared by every process through Redis (see the module docstring)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.url = url
        self.sync_redis: Any = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self.prefix = f"{prefix}:presence"
        self.online_key = f"{self.prefix}:online"
        self.seen_key = f"{self.prefix}:seen"
        self.loop: asyncio.AbstractEventLoop | None = None

    def _bind(self) -> None:
        """The async client of the running event loop (redis-py's asyncio connections
        belong to one loop): a few connections, shared, so a burst of handshakes
        queues for one (up to 5 s) instead of opening a Redis connection each."""
        loop = asyncio.get_running_loop()
        if self.loop is loop:
            return
        import redis.asyncio as aioredis

        pool = aioredis.BlockingConnectionPool.from_url(
            self.url, max_connections=8, timeout=5, socket_connect_timeout=2, socket_timeout=2
        )
        self.redis: Any = aioredis.Redis(connection_pool=pool)
        self.connect_script = self.redis.register_script(CONNECT_LUA)
        self.disconnect_script = self.redis.register_script(DISCONNECT_LUA)
        self.connects: Coalesced[Change, int] = Coalesced(self.connect_many)
        self.disconnects: Coalesced[Change, float | None] = Coalesced(self.disconnect_many)
        self.sweep_script = self.redis.register_script(SWEEP_LUA)
        self.refresh_script = self.redis.register_script(REFRESH_LUA)
        self.loop = loop

    def connections_key(self, user_id: int) -> str:
        return f"{self.prefix}:c:{user_id}"

    def ttl(self) -> float:
        return timeout_seconds()

    async def connect(
        self, user_id: int, connection_id: str, announcement: Announcement | None = None
    ) -> bool:
        """True when the person just came online; then `announcement(now)` (the
        channel and message of the layer's PUBLISH), if given, is published by the
        script itself, in the same round trip. Connections recorded while one call
        is on its way go together in the next."""
        self._bind()
        return await self.connects((user_id, connection_id, announcement)) == 0

    async def disconnect(
        self, user_id: int, connection_id: str, announcement: Announcement | None = None
    ) -> float | None:
        """When the person went offline, then (and `announcement(now)` published by
        the script, as in `connect`)."""
        self._bind()
        return await self.disconnects((user_id, connection_id, announcement))

    @staticmethod
    def script_args(now: float, changes: Sequence[Change]) -> list[Any]:
        """Each change's connection, person, and the channel and message of its
        announcement ('' for none), as the scripts read them."""
        args: list[Any] = []
        for user_id, connection_id, announcement in changes:
            channel, message = announcement(now) if announcement is not None else ("", b"")
            args += [connection_id, user_id, channel, message]
        return args

    async def connect_many(self, changes: Sequence[Change]) -> list[int]:
        now = time.time()
        keys = [self.online_key, *(self.connections_key(user_id) for user_id, _, _ in changes)]
        args = [now, now + self.ttl(), max(1, int(self.ttl() * 2))]
        answer = await self.connect_script(keys=keys, args=args + self.script_args(now, changes))
        return [int(before) for before in answer]

    async def disconnect_many(self, changes: Sequence[Change]) -> list[float | None]:
        now = time.time()
        keys = [self.online_key, self.seen_key]
        keys += [self.connections_key(user_id) for user_id, _, _ in changes]
        args = [now, *self.script_args(now, changes)]
        answer = await self.disconnect_script(keys=keys, args=args)
        return [now if int(last) == 1 else None for last in answer]

    async def refresh(self, held: dict[int, set[str]]) -> list[int]:
        """Keep this process's connections alive; returns the people who had been
        swept offline meanwhile (a stalled process) and are online again.

        One script call per `REFRESH_BATCH` people: as a pipeline of five commands
        per person, packing and parsing them held the event loop for tens of
        milliseconds every heartbeat at 1,000 connections (docs/performance.md)."""
        if not held:
            return []
        self._bind()
        now = time.time()
        head = [now, now + self.ttl(), max(1, int(self.ttl() * 2)), f"{self.prefix}:c:"]
        items = list(held.items())
        back: list[int] = []
        for start in range(0, len(items), REFRESH_BATCH):
            args: list[Any] = list(head)
            for user_id, connections in items[start : start + REFRESH_BATCH]:
                args += [user_id, len(connections), *connections]
            answer = await self.refresh_script(keys=[self.online_key], args=args)
            back += [int(person) for person in answer]
        return back

    async def sweep(self) -> list[tuple[int, float]]:
        self._bind()
        answer = await self.sweep_script(
            keys=[self.online_key, self.seen_key],
            args=[time.time(), f"{self.prefix}:c:", SWEEP_BATCH, self.ttl()],
        )
        return [(int(answer[i]), float(answer[i + 1])) for i in range(0, len(answer), 2)]

    @staticmethod
    def _decode(
        user_ids: Sequence[int], scores: list[Any], seen: list[Any]
    ) -> dict[int, tuple[bool, float | None]]:
        now = time.time()
        return {
            user_id: (
                score is not None and float(score) > now,
                float(last) if last is not None else None,
            )
            for user_id, score, last in zip(user_ids, scores, seen, strict=True)
        }

    def states_now(self, user_ids: Sequence[int]) -> dict[int, tuple[bool, float | None]]:
        if not user_ids:
            return {}
        pipeline = self.sync_redis.pipeline(transaction=False)
        pipeline.zmscore(self.online_key, list(user_ids))
        pipeline.hmget(self.seen_key, list(user_ids))
        scores, seen = pipeline.execute()
        return self._decode(user_ids, scores, seen)

    async def states(self, user_ids: Sequence[int]) -> dict[int, tuple[bool, float | None]]:
        if not user_ids:
            return {}
        self._bind()
        async with self.redis.pipeline(transaction=False) as pipeline:
            pipeline.zmscore(self.online_key, list(user_ids))
            pipeline.hmget(self.seen_key, list(user_ids))
            scores, seen = await pipeline.execute()
        return self._decode(user_ids, scores, seen)

    def reset(self) -> None:
        """Forget every person's state under this prefix (tests)."""
        keys = list(self.sync_redis.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.sync_redis.delete(*keys)


Store = LocalStore | RedisStore
_store: Store | None = None
_store_lock = threading.Lock()


def get_store() -> Store:
    """The process's state (shared by the event loop and request threads)."""
    global _store
    with _store_lock:
        if _store is None:
            if settings.REDIS_URL:
                _store = RedisStore(settings.REDIS_URL, settings.NETZN_REDIS_PREFIX)
            else:
                _store = LocalStore()
        return _store


def reset_for_tests() -> None:
    global _store
    with _store_lock:
        if _store is not None:
            _store.reset()
        _store = None
    _presences.clear()


def states_now(user_ids: Sequence[int]) -> list[dict[str, Any]]:
    """`{"user","online","last_seen"}` per id, in order (for GET /presence; the caller
    has already applied the visibility gate)."""
    states = get_store().states_now(user_ids)
    items = []
    for user_id in user_ids:
        online, seen = states[user_id]
        frame = presence_frame(user_id, online, seen)
        del frame["type"]
        items.append(frame)
    return items


# -- the process's connections and watches ----------------------------------------


@dataclass
class Watch:
    users: set[int] = field(default_factory=set)
    # Watched people who switched presence off: nothing of them is sent until they
    # switch it on again.
    hidden: set[int] = field(default_factory=set)
    # Changes that arrive while the first state is read; sent after it.
    held: list[dict[str, Any]] | None = None


class Presence:
    """One per event loop: this process's connections (kept alive in the store) and
    the watches of its sockets (one hub subscription per watched person)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.store = get_store()
        # socket -> (person, connection id); who holds which ids is derived from it
        # at each heartbeat (`held`), not kept per person beside it.
        self.connections: dict[Socket, tuple[int, str]] = {}
        self.watches: dict[Socket, Watch] = {}
        self.watchers: defaultdict[int, set[Socket]] = defaultdict(set)
        self.heartbeat: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Future[None]] = set()
        # People who switched presence on again, while their state is read: their
        # changes meanwhile are held and sent after it.
        self.revealing: dict[int, list[dict[str, Any]]] = {}

    # Connections

    def held(self) -> dict[int, set[str]]:
        """This process's connection ids per person."""
        held: defaultdict[int, set[str]] = defaultdict(set)
        for user_id, connection_id in self.connections.values():
            held[user_id].add(connection_id)
        return held

    async def connected(self, socket: Socket, user_id: int, connection_id: str | None) -> None:
        if connection_id is None:
            connection_id = f"{os.getpid()}:{uuid.uuid4().hex}"
        self.connections[socket] = (user_id, connection_id)
        if self.heartbeat is None or self.heartbeat.done():
            self.heartbeat = asyncio.ensure_future(self.beat_forever())
        announcement = self.announcement(user_id, online=True)
        if await self.store.connect(user_id, connection_id, announcement) and announcement is None:
            await self.announce(user_id, True, None)

    async def disconnected(self, socket: Socket) -> None:
        await self.unwatch(socket)
        entry = self.connections.pop(socket, None)
        if entry is None:
            return
        user_id, connection_id = entry
        announcement = self.announcement(user_id, online=False)
        last_seen = await self.store.disconnect(user_id, connection_id, announcement)
        if last_seen is not None and announcement is None:
            await self.announce(user_id, False, last_seen)

    def announcement(self, user_id: int, *, online: bool) -> Announcement | None:
        """How the store's own script publishes the person's presence change, when
        the store keeps it in the Redis that the layer publishes the person's presence
        topic on (one round trip per handshake and per close instead of two); None:
        `announce` publishes it through the layer afterwards."""
        url = getattr(self.store, "url", None)
        if url is None:
            return None
        layer = get_channel_layer()
        try:
            group = topic_group(presence_topic(user_id))
            if layer.shard_address(group) != url:
                return None
            publication = layer.publication
        except AttributeError:  # another layer (in memory)
            return None

        def announcement(now: float) -> tuple[str, bytes]:
            topic = presence_topic(user_id)
            frame = presence_frame(user_id, online, None if online else now)
            return publication(group, publishing.envelope(topic, frame))

        return announcement

    async def announce(self, user_id: int, online: bool, last_seen: float | None) -> None:
        frame = presence_frame(user_id, online, last_seen)
        topic = presence_topic(user_id)
        await publishing.publish(topic, frame)

    async def beat_forever(self) -> None:
        """Refresh this process's connections and sweep the dead processes' ones."""
        while True:
            await asyncio.sleep(timeout_seconds() / 3)
            try:
                for user_id in await self.store.refresh(self.held()):
                    await self.announce(user_id, True, None)
                for user_id, seen in await self.store.sweep():
                    await self.announce(user_id, False, seen)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("presence heartbeat failed: %s", exc)

    # Watches

    async def watch(
        self, socket: Socket, user_ids: Sequence[int], hidden: Sequence[int] = ()
    ) -> None:
        """Replace the socket's watched people by `user_ids` (already gated): their
        current state at once, one frame each, then every change. `hidden`: people
        the gate left out only because they switched presence off; nothing is sent
        of them until they switch it on again."""
        wanted = list(dict.fromkeys(user_ids))
        unseen = set(hidden) - set(wanted)
        watch = self.watches.setdefault(socket, Watch())
        dropped = (watch.users | watch.hidden) - set(wanted) - unseen
        for user_id in dropped:
            await self._drop(socket, user_id)
        watch.users = set(wanted)
        watch.hidden = unseen
        watch.held = []
        try:
            for user_id in [*wanted, *sorted(unseen)]:
                watchers = self.watchers[user_id]
                first = not watchers
                watchers.add(socket)
                if first:
                    await self.hub.subscribe(presence_topic(user_id), self)
            states = await self.store.states(wanted)
        except BaseException:
            watch.held = None
            raise
        held, watch.held = watch.held, None
        for user_id in wanted:
            online, seen = states[user_id]
            socket.push_frame(presence_frame(user_id, online, seen))
        for frame in held:
            if frame["user"] in watch.users or frame.get("hidden"):
                socket.push_frame(frame)

    async def _drop(self, socket: Socket, user_id: int) -> None:
        watchers = self.watchers.get(user_id)
        if watchers is None:
            return
        watchers.discard(socket)
        if not watchers:
            del self.watchers[user_id]
            await self.hub.unsubscribe(presence_topic(user_id), self)

    async def unwatch(self, socket: Socket) -> None:
        watch = self.watches.pop(socket, None)
        if watch is None:
            return
        for user_id in watch.users | watch.hidden:
            await self._drop(socket, user_id)

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        """The hub hands over one layer message of a watched person (on the event
        loop): a presence frame (`netzn.frame`), the person's switch-off
        (`netzn.presence_hidden`), or the layer's lost/resumed/missed, after which
        the next change brings the state."""
        if not topic.startswith("presence:"):
            return
        user_id = int(topic[9:])
        kind = message.get("type")
        if kind == "netzn." + HIDDEN_CONTROL["type"][1:]:
            self.hide(user_id)
            return
        if kind == "netzn." + SHOWN_CONTROL["type"][1:]:
            self.reveal(user_id)
            return
        if kind != "netzn.frame":
            return
        frame = json.loads(str(message.get("text", "")))
        held = self.revealing.get(user_id)
        if held is not None:
            held.append(frame)
            return
        self.send_to_watchers(user_id, frame)

    def send_to_watchers(self, user_id: int, frame: dict[str, Any]) -> None:
        """`frame` to every socket watching `user_id` that may be told of them now."""
        for socket in tuple(self.watchers.get(user_id, ())):
            watch = self.watches.get(socket)
            if watch is None or user_id not in watch.users:
                continue
            if watch.held is not None:
                watch.held.append(frame)
            else:
                socket.push_frame(frame)

    def hide(self, user_id: int) -> None:
        """The person switched presence off: their watchers get a `hidden` frame and
        nothing more of them, until `reveal`; a later `watch` keeps them among its
        hidden ones (the gate)."""
        for socket in tuple(self.watchers.get(user_id, ())):
            watch = self.watches.get(socket)
            if watch is None or user_id not in watch.users:
                continue
            watch.users.discard(user_id)
            watch.hidden.add(user_id)
            if watch.held is not None:
                watch.held.append(hidden_frame(user_id))
            else:
                socket.push_frame(hidden_frame(user_id))

    def reveal(self, user_id: int) -> None:
        """The person switched presence on again: every socket here that watches them
        gets their current state (read from the store, as a new watch does), then
        every change."""
        revealed = False
        for socket in tuple(self.watchers.get(user_id, ())):
            watch = self.watches.get(socket)
            if watch is not None and user_id in watch.hidden:
                watch.hidden.discard(user_id)
                watch.users.add(user_id)
                revealed = True
        if not revealed or user_id in self.revealing:
            return
        self.revealing[user_id] = []
        task = asyncio.ensure_future(self._send_state(user_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send_state(self, user_id: int) -> None:
        try:
            states = await self.store.states([user_id])
        except Exception as exc:
            logger.warning("presence of user %s not read after switching on: %s", user_id, exc)
            states = {}
        held = self.revealing.pop(user_id, [])
        if user_id in states:
            online, seen = states[user_id]
            self.send_to_watchers(user_id, presence_frame(user_id, online, seen))
        for frame in held:
            self.send_to_watchers(user_id, frame)

    def watched(self, socket: Socket) -> set[int]:
        watch = self.watches.get(socket)
        return set(watch.users) if watch else set()


_presences: dict[int, Presence] = {}


def get_presence() -> Presence:
    """The presence of the running event loop (and its hub)."""
    loop_id = id(asyncio.get_running_loop())
    hub = get_hub()
    presence = _presences.get(loop_id)
    if presence is None or presence.hub is not hub:
        _presences.clear()
        presence = _presences[loop_id] = Presence(hub)
    return presence


async def connected(socket: Socket, user_id: int, connection_id: str | None = None) -> None:
    """A socket of `user_id` is open (after `hello`), under `connection_id` if the
    caller has one for it already (the connection registry's: one string less per
    connection). Never raises: presence is best effort and must not cost anyone their
    connection."""
    try:
        await get_presence().connected(socket, user_id, connection_id)
    except Exception as exc:
        logger.warning("presence of user %s not recorded: %s", user_id, exc)


async def disconnected(socket: Socket) -> None:
    """The socket ended (also when `connected` was never called). Never raises."""
    try:
        await get_presence().disconnected(socket)
    except Exception as exc:
        logger.warning("presence of a closed socket not cleared: %s", exc)


async def watch(socket: Socket, user_ids: Iterable[int], hidden: Iterable[int] = ()) -> None:
    await get_presence().watch(socket, list(user_ids), list(hidden))
