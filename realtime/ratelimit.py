"""Per-user token buckets: bursts of `NETZN_RATE_BURST`, `NETZN_RATE_PER_SECOND`
sustained (docs/protocol.md, guarantee 5).

With `REDIS_URL` the bucket lives in Redis and is updated atomically by one Lua
script, so the limit holds across all server processes. Without Redis, or while Redis
does not answer, each process keeps the buckets in memory: the limit then holds per
process, and a Redis outage never blocks a send.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# KEYS[1] bucket; ARGV: burst, rate per second, now (seconds), cost.
# Returns {allowed (0/1), retry_after in milliseconds}.
BUCKET_SCRIPT = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry_ms = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry_ms = math.ceil((cost - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry_ms}
"""

REDIS_RETRY_AFTER_SECONDS = 2.0
LOCAL_BUCKETS_MAX = 50_000


@dataclass
class Decision:
    allowed: bool
    retry_after: float


class TokenBucket:
    """One in-memory bucket (a connection's frame limit): two floats, no lock (used
    on the event loop only)."""

    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, burst: float, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.at = time.monotonic()

    def take(self, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return Decision(True, 0.0)
        return Decision(False, round((1 - self.tokens) / self.rate, 3))


class LocalBuckets:
    """In-memory token buckets (one per key), oldest evicted beyond a bound."""

    def __init__(self, burst: float, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> Decision:
        with self.lock:
            return self._take(key, cost, time.monotonic() if now is None else now)

    def _take(self, key: str, cost: float, now: float) -> Decision:
        tokens, at = self.buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens >= cost:
            self.buckets[key] = (tokens - cost, now)
            decision = Decision(True, 0.0)
        else:
            self.buckets[key] = (tokens, now)
            decision = Decision(False, round((cost - tokens) / self.rate, 3))
        while len(self.buckets) > LOCAL_BUCKETS_MAX:
            self.buckets.popitem(last=False)
        return decision


_shared_local: LocalBuckets | None = None


def shared_local_buckets() -> LocalBuckets:
    """The in-memory buckets of this process, shared by the WebSocket and HTTP paths."""
    global _shared_local
    if _shared_local is None:
        _shared_local = LocalBuckets(settings.NETZN_RATE_BURST, settings.NETZN_RATE_PER_SECOND)
    return _shared_local


class _RedisBucketLimiter:
    """What the async and the sync limiter share: the per-user bucket in Redis (one
    Lua script call), and the per-process buckets while Redis does not answer."""

    def __init__(self) -> None:
        self.burst = settings.NETZN_RATE_BURST
        self.rate = settings.NETZN_RATE_PER_SECOND
        self.local = shared_local_buckets()
        self.script: Any = None
        self.redis_down_until = 0.0

    def key(self, user_id: int) -> str:
        return f"{settings.NETZN_REDIS_PREFIX}:rate:{user_id}"

    def use_redis(self) -> bool:
        return bool(settings.REDIS_URL) and time.monotonic() >= self.redis_down_until

    def script_args(self) -> list[Any]:
        return [self.burst, self.rate, f"{time.time():.6f}", 1]

    def redis_failed(self, exc: Exception) -> None:
        self.redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
        logger.warning("rate limiter: redis unavailable, limiting per process: %s", exc)


class UserRateLimiter(_RedisBucketLimiter):
    """The send limit of docs/protocol.md, per user, shared by all processes via Redis."""

    def limits(self) -> dict[str, float]:
        return {"burst": self.burst, "per_second": self.rate}

    def _script(self) -> Any:
        if self.script is None:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            self.script = client.register_script(BUCKET_SCRIPT)
        return self.script

    async def take(self, user_id: int) -> Decision:
        key = self.key(user_id)
        if self.use_redis():
            try:
                allowed, retry_ms = await self._script()(keys=[key], args=self.script_args())
                return Decision(bool(allowed), int(retry_ms) / 1000)
            except Exception as exc:
                self.redis_failed(exc)
        return self.local.take(key)


_limiters: dict[int, UserRateLimiter] = {}


def get_rate_limiter() -> UserRateLimiter:
    """The limiter of the running event loop (its Redis client belongs to the loop)."""
    import asyncio

    loop_id = id(asyncio.get_running_loop())
    limiter = _limiters.get(loop_id)
    if limiter is None:
        _limiters.clear()
        limiter = _limiters[loop_id] = UserRateLimiter()
    return limiter


class SyncUserRateLimiter(_RedisBucketLimiter):
    """The same per-user bucket for synchronous callers (the HTTP send endpoint)."""

    def _script(self) -> Any:
        if self.script is None:
            import redis

            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
            )
            self.script = client.register_script(BUCKET_SCRIPT)
        return self.script

    def take(self, user_id: int) -> Decision:
        key = self.key(user_id)
        if self.use_redis():
            try:
                allowed, retry_ms = self._script()(keys=[key], args=self.script_args())
                return Decision(bool(allowed), int(retry_ms) / 1000)
            except Exception as exc:
                self.redis_failed(exc)
        return self.local.take(key)


sync_rate_limiter = SyncUserRateLimiter()
