"""Admission control for WebSocket handshakes: a process that is already busy with
handshakes refuses more at once, cheaply, instead of accepting work it cannot finish.

A reconnect storm (a server restart, a network cut: thousands of clients come back
in the same second) used to be accepted whole: every handshake took its database
and Redis steps, the process ran at 100 % for minutes, handshakes timed out on the
client side and their retries kept it saturated (docs/performance.md, "Reconnect
storm"). Here at most `NETZN_MAX_HANDSHAKES_IN_FLIGHT` handshakes per process are
between "request arrived" and "accepted or refused" (fewer while the mean time in
flight is past `TARGET_SECONDS`, inside daphne's 5 s handshake timeout); one more is
answered **HTTP 503
with `Retry-After`** before any database or Redis work (daphne's HTTP parsing and
this check are all it costs), so the admitted ones finish quickly and the refused
clients come back later (docs/protocol.md, "Reconnecting").

`Retry-After` hands out later "appointments" instead of the same second to everyone:
each refusal moves a horizon on by 1/rate seconds and the client is told the whole
seconds until its appointment (at least 1, at most `MAX_RETRY_AFTER`). The rate is
what the process can complete with its places full (Little's law: the limit over the
recent mean time a handshake spends in flight, at least `MIN_RATE`), not what it did
complete: while clients wait for their appointments the places are not full, and
the completions alone would talk the rate down. A burst of 2,000 refused at once on a
process that completes 400 a second is told 1, 2, ... 5 s, which spreads its return
over the time the process needs for it; the client's own jitter spreads it within
each second.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings

from realtime.wire import deny

logger = logging.getLogger(__name__)

Scope = dict[str, Any]

MIN_RATE = 20.0  # handshakes/s assumed at the least when telling clients when to return
MAX_RETRY_AFTER = 30
# Weight of the newest handshake in the mean time in flight.
SMOOTHING = 0.05
# daphne itself refuses (403) a handshake the application has not answered within
# 5 s. When the mean time in flight grows past TARGET_SECONDS (the process is starved
# of CPU, or the database answers slowly) fewer places are given out, never fewer
# than MIN_PLACES, so the admitted ones stay well inside daphne's timeout. (At 0.5 s
# the places shrank on a loaded machine whose database was slow, which cut the
# throughput instead: places / time in flight.)
TARGET_SECONDS = 2.0
MIN_PLACES = 4


class HandshakeGate:
    """Counts this process's handshakes in flight and refuses past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_flight = 0
        self.refused = 0
        self.horizon = 0.0
        self.mean_seconds = 0.05  # mean time a handshake spends in flight
        self.last_logged = 0.0

    def places(self) -> int:
        """The limit, shrunk while handshakes take longer than TARGET_SECONDS."""
        if self.mean_seconds <= TARGET_SECONDS:
            return self.limit
        return max(
            min(MIN_PLACES, self.limit), int(self.limit * TARGET_SECONDS / self.mean_seconds)
        )

    def admit(self) -> float | None:
        """The admitted handshake's start time, or None: refuse it."""
        if self.in_flight >= self.places():
            return None
        self.in_flight += 1
        return time.monotonic()

    def done(self, started: float) -> None:
        self.in_flight -= 1
        took = time.monotonic() - started
        self.mean_seconds += SMOOTHING * (took - self.mean_seconds)

    def rate(self) -> float:
        """Handshakes per second this process completes with its places full."""
        return max(MIN_RATE, self.places() / max(self.mean_seconds, 1e-3))

    def retry_after(self) -> int:
        """Whole seconds until this refused client's appointment."""
        now = time.monotonic()
        self.horizon = max(self.horizon, now) + 1.0 / self.rate()
        return max(1, min(MAX_RETRY_AFTER, math.ceil(self.horizon - now)))

    def log_refusal(self, retry_after: int) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self.last_logged >= 5.0:
            self.last_logged = now
            logger.warning(
                "refusing WebSocket handshakes (503): %d in flight (%.0f ms each), "
                "%d refused so far, retry after %d s",
                self.in_flight,
                1000 * self.mean_seconds,
                self.refused,
                retry_after,
            )


class _ReleasingSend:
    """The inner application's `send`: frees the handshake's place when it is accepted
    or closed. `real_send` lets `realtime.wire.unwrap_send` find the server's own."""

    def __init__(self, real_send: Any, release: Any) -> None:
        self.real_send = real_send
        self.release = release

    async def send(self, message: dict[str, Any]) -> None:
        if message.get("type") in ("websocket.accept", "websocket.close"):
            self.release()
        await self.real_send(message)


class HandshakeAdmission:
    """ASGI middleware in front of the whole WebSocket stack (asgi.py)."""

    def __init__(self, inner: Any, limit: int | None = None) -> None:
        self.inner = inner
        self.gate = HandshakeGate(
            settings.NETZN_MAX_HANDSHAKES_IN_FLIGHT if limit is None else limit
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        gate = self.gate
        started = gate.admit()
        if started is None:
            retry_after = gate.retry_after()
            gate.log_refusal(retry_after)
            if not deny(send, 503, "Service Unavailable", [("Retry-After", str(retry_after))]):
                await send({"type": "websocket.close"})  # not daphne: 403, the ASGI way
            return None
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                gate.done(started)

        try:
            return await self.inner(scope, receive, _ReleasingSend(send, release).send)
        finally:
            release()
