"""How many WebSocket connections each person holds, across every server process.

docs/protocol.md 1.1: a person may hold at least 20 connections at once; past the
documented cap (`NETZN_MAX_CONNECTIONS_PER_USER`, default 50: many tabs, a few
devices and programs) a further handshake is refused with HTTP 429 and the open ones
keep working.

- With `REDIS_URL` the count is shared: one sorted set per person
  (`<prefix>:conns:<user id>`), a member per open connection scored with the time it
  expires. Each process refreshes its members every `REFRESH_SECONDS`, so the
  connections of a process that died without closing them expire after
  `EXPIRE_SECONDS` instead of counting forever. Taking a place is an atomic Lua
  script (drop expired, add, count, and over the cap give the place back at once),
  and the places taken while one call is on its way go together in the next
  (`realtime.coalesce`): a burst of handshakes costs one round trip per batch, not
  one each (docs/performance.md, "Connecting").
- Without Redis (embedded, one process) the count is a dict in the process.

If Redis does not answer, the handshake is allowed (the cap protects the server; it
is not worth refusing everyone while Redis is away).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from realtime.coalesce import Coalesced

logger = logging.getLogger(__name__)

EXPIRE_SECONDS = 90.0
REFRESH_SECONDS = 30.0
# KEYS: the person's set of each place asked for; ARGV: now, expiry of the new
# members, the cap, the keys' TTL, then the member of each key in turn. Answers 1
# (taken) or 0 (at the cap; nothing added) per key, in order.
TAKE_SCRIPT = """
local taken = {}
for i, key in ipairs(KEYS) do
  local member = ARGV[4 + i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  redis.call('ZADD', key, ARGV[2], member)
  if redis.call('ZCARD', key) > tonumber(ARGV[3]) then
    redis.call('ZREM', key, member)
    taken[i] = 0
  else
    redis.call('EXPIRE', key, ARGV[4])
    taken[i] = 1
  end
end
return taken
"""


# KEYS: the person's set of each place given back; ARGV: its member, in the same order.
GIVE_BACK_SCRIPT = """
for i, key in ipairs(KEYS) do
  redis.call('ZREM', key, ARGV[i])
end
return #KEYS
"""
# ARGV: the new expiry, the keys' TTL, the keys' prefix, then per person: their id,
# n, and their n members here. Members already gone stay gone (XX). The keys are
# built from ARGV, as presence's refresh does: fine on one Redis (docs/presence.md).
REFRESH_SCRIPT = """
local i = 4
while i <= #ARGV do
  local key = ARGV[3] .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  for j = i + 2, i + 1 + n do
    redis.call('ZADD', key, 'XX', ARGV[1], ARGV[j])
  end
  redis.call('EXPIRE', key, ARGV[2])
  i = i + 2 + n
end
return 1
"""
# People (or places) per script call.
SCRIPT_BATCH = 500


class ConnectionRegistry:
    """The in-process count (embedded)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: defaultdict[int, set[str]] = defaultdict(set)
        # Unique across processes and restarts (a new process may get a dead one's
        # pid while its places have not expired) without a uuid4 per handshake.
        self.id_prefix = f"{os.getpid()}:{uuid.uuid4().hex[:12]}:"
        self.ids = itertools.count()

    def new_id(self) -> str:
        return f"{self.id_prefix}{next(self.ids)}"

    async def take(self, user_id: int, connection_id: str) -> bool:
        """Take a place for a new connection; False when the person is at the cap."""
        held = self.open[user_id]
        if len(held) >= self.limit:
            return False
        held.add(connection_id)
        return True

    async def give_back(self, user_id: int, connection_id: str) -> None:
        held = self.open.get(user_id)
        if held is None:
            return
        held.discard(connection_id)
        if not held:
            del self.open[user_id]


class RedisConnectionRegistry(ConnectionRegistry):
    """The count shared by every process through Redis."""

    def __init__(self, limit: int, url: str, prefix: str) -> None:
        super().__init__(limit)
        import redis.asyncio as aioredis

        self.redis: Any = aioredis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self.prefix = prefix
        self.take_script = self.redis.register_script(TAKE_SCRIPT)
        self.give_back_script = self.redis.register_script(GIVE_BACK_SCRIPT)
        self.refresh_script = self.redis.register_script(REFRESH_SCRIPT)
        self.take_places = Coalesced(self.take_many)
        self.refresher: asyncio.Task[None] | None = None
        self.returning: list[tuple[str, str]] = []
        self.returner: asyncio.Task[None] | None = None

    def key(self, user_id: int) -> str:
        return f"{self.prefix}:conns:{user_id}"

    async def take_many(self, places: Sequence[tuple[int, str]]) -> list[int]:
        now = time.time()
        taken = await self.take_script(
            keys=[self.key(user_id) for user_id, _ in places],
            args=[
                now,
                now + EXPIRE_SECONDS,
                self.limit,
                int(EXPIRE_SECONDS),
                *(connection_id for _, connection_id in places),
            ],
        )
        return [int(answer) for answer in taken]

    async def take(self, user_id: int, connection_id: str) -> bool:
        try:
            if not await self.take_places((user_id, connection_id)):
                return False
        except Exception as exc:
            logger.warning("connection cap not checked, Redis unavailable: %s", exc)
        self.open[user_id].add(connection_id)
        if self.refresher is None or self.refresher.done():
            self.refresher = asyncio.ensure_future(self.refresh_forever())
        return True

    async def give_back(self, user_id: int, connection_id: str) -> None:
        """Places given back together (a thousand clients cut at once) go to Redis in
        one pipelined round trip, not one ZREM and one pooled connection each."""
        await super().give_back(user_id, connection_id)
        self.returning.append((self.key(user_id), connection_id))
        if self.returner is None or self.returner.done():
            self.returner = asyncio.ensure_future(self.return_places())

    async def return_places(self) -> None:
        await asyncio.sleep(0)  # collect the give-backs of this turn of the loop
        while self.returning:
            batch, self.returning = self.returning[:SCRIPT_BATCH], self.returning[SCRIPT_BATCH:]
            try:
                await self.give_back_script(
                    keys=[key for key, _ in batch], args=[member for _, member in batch]
                )
            except Exception as exc:
                logger.info("connection places not given back (they expire): %s", exc)

    async def refresh_forever(self) -> None:
        """Keep this process's connections from expiring while they are open: one
        script call per `SCRIPT_BATCH` people (as a pipeline of two commands per
        person, packing and parsing 2,000 commands held the event loop for 70-80 ms
        every 30 s at 1,000 connections, a stall in the fan-out's latency tail;
        docs/performance.md)."""
        while self.open:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception as exc:
                logger.warning("refreshing the connection count failed: %s", exc)

    async def refresh(self) -> None:
        head = [time.time() + EXPIRE_SECONDS, int(EXPIRE_SECONDS), f"{self.prefix}:conns:"]
        people = list(self.open.items())
        for start in range(0, len(people), SCRIPT_BATCH):
            args: list[Any] = list(head)
            for user_id, held in people[start : start + SCRIPT_BATCH]:
                args += [user_id, len(held), *held]
            await self.refresh_script(args=args)


_registries: dict[int, ConnectionRegistry] = {}


def get_connection_registry() -> ConnectionRegistry:
    """The registry of the running event loop."""
    loop_id = id(asyncio.get_running_loop())
    registry = _registries.get(loop_id)
    if registry is None:
        _registries.clear()
        limit = settings.NETZN_MAX_CONNECTIONS_PER_USER
        if settings.REDIS_URL:
            registry = RedisConnectionRegistry(
                limit, settings.REDIS_URL, settings.NETZN_REDIS_PREFIX
            )
        else:
            registry = ConnectionRegistry(limit)
        _registries[loop_id] = registry
    return registry
