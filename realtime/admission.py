"""Admission control for WebSocket handshakes: a process that is already busy with
handshakes lets more wait their turn, and refuses, cheaply, what it could not start
soon, instead of accepting work it cannot finish.

A reconnect storm (a server restart, a network cut: thousands of clients come back
in the same second) used to be accepted whole: every handshake took its database
and Redis steps, the process ran at 100 % for minutes, handshakes timed out on the
client side and their retries kept it saturated (docs/performance.md, "Reconnect
storm"). Here at most `NETZN_MAX_HANDSHAKES_IN_FLIGHT` handshakes per process are
between "request arrived" and "accepted or refused". One more **waits for a place**
(first come, first served) when, on its arrival, the queue is no longer than what the
process starts within `NETZN_HANDSHAKE_WAIT_SECONDS` at its rate; otherwise it is
answered **HTTP 503 with `Retry-After`** before any database or Redis work (daphne's
HTTP parsing and this check are all it costs; docs/protocol.md, "Reconnecting"). A
handshake that has waited until daphne's handshake timeout
(`--websocket_connect_timeout`, 30 s on `make run`'s command line) less
`RESERVE_SECONDS` is refused then. Waiting costs a future; a refusal costs the client
a new TCP connection and handshake and the process their parsing, so the queue keeps
a storm's refusals to what the process could not start within its budget, and what
has queued stays queued: while a storm's connections arrive, the process spends most
of its time parsing them and completes few handshakes, and turning the queue away on
that passing rate (as an earlier version did, and shrank its places too) refused
thousands who would have been served in time and left the process idle while they
waited for their appointments (docs/performance.md, "Stop 26").

`Retry-After` hands out later "appointments" instead of the same second to everyone:
the first is when the queue now waiting will be done, each further refusal moves
that horizon on by 1/rate seconds, and the client is told the whole seconds until
its appointment (at least 1, at most `MAX_RETRY_AFTER`: a client told 10 s that comes
back to a full queue is told again, which costs a refusal; one told a minute on an
estimate of the storm's first second leaves the process idle). The rate is what the
process completes with its places full: the places over the recent mean time a
handshake spends in flight (Little's law, at least `MIN_RATE`), or what it did
complete while handshakes waited, when that was more (a storm's first handshakes
share the process with the arrival of all the others and take long). A burst of 2,000
refused at once on a process that completes 400 a second is told 1, 2, ... 5 s, which
spreads its return over the time the process needs for it; the client's own jitter
spreads it within each second, and the queue takes up what arrives early.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import time
from typing import Any

from django.conf import settings

from realtime.wire import deny, handshake_pending, handshake_seconds_left

logger = logging.getLogger(__name__)

Scope = dict[str, Any]

MIN_RATE = 20.0  # handshakes/s assumed at the least when telling clients when to return
MAX_RETRY_AFTER = 10
# Weight of the newest handshake in the mean time in flight.
SMOOTHING = 0.05
# Completions while handshakes waited that the measured rate is taken over.
COUNTED = 64
# What a waiting handshake leaves of daphne's `--websocket_connect_timeout` for its
# own work once it has a place.
RESERVE_SECONDS = 2.0


class HandshakeGate:
    """Counts this process's handshakes in flight, queues what it can start within
    `wait_seconds`, refuses the rest."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = max(1, limit)
        self.wait_seconds = wait_seconds
        self.in_flight = 0
        self.waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self.refused = 0
        self.horizon = 0.0
        self.mean_seconds = 0.05  # mean time a handshake spends in flight
        # When the last handshakes left their places while others waited: what the
        # process completes when it has work queued, measured.
        self.busy_completions: collections.deque[float] = collections.deque(maxlen=COUNTED)
        self.last_logged = 0.0

    def admit(self) -> float | None:
        """The admitted handshake's start time, or None: no place free now."""
        if self.in_flight >= self.limit or self.waiting:
            return None
        self.in_flight += 1
        return time.monotonic()

    def queue_room(self) -> int:
        """How many may wait: what the process starts within `wait_seconds`."""
        return int(self.wait_seconds * self.rate())

    async def wait_for_place(self, seconds: float) -> float | None:
        """Queue for a place; its start time, or None when turned away or none came
        within `seconds`."""
        if len(self.waiting) >= self.queue_room():
            return None
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(place)
        try:
            await asyncio.wait_for(asyncio.shield(place), seconds)
        except BaseException as gone:  # timed out, or the connection's task cancelled
            if place.done():  # handed a place just as the wait ended: give it on
                self.hand_on()
            else:
                place.cancel()
                with contextlib.suppress(ValueError):
                    self.waiting.remove(place)
            if isinstance(gone, TimeoutError):
                return None
            raise
        return time.monotonic()

    def done(self, started: float) -> None:
        """A handshake left its place (accepted, refused or gone)."""
        now = time.monotonic()
        took = now - started
        self.mean_seconds += SMOOTHING * (took - self.mean_seconds)
        if self.waiting:
            self.busy_completions.append(now)
        else:
            self.busy_completions.clear()
        self.hand_on()

    def hand_on(self) -> None:
        """A place is free: it goes to the first one waiting, if any."""
        while self.waiting:
            place = self.waiting.popleft()
            if not place.done():
                place.set_result(None)  # in_flight stays: the place changes hands
                return
        self.in_flight -= 1

    def rate(self) -> float:
        """Handshakes per second this process completes with its places full: the
        places over the mean time in flight (Little's law), or what it did complete
        while handshakes waited, when that was more (a storm's first handshakes shared
        the process with the arrival of all the others and took long)."""
        littles = self.limit / max(self.mean_seconds, 1e-3)
        done = self.busy_completions
        if len(done) == COUNTED and done[-1] > done[0]:
            littles = max(littles, (COUNTED - 1) / (done[-1] - done[0]))
        return max(MIN_RATE, littles)

    def retry_after(self) -> int:
        """Whole seconds until this refused client's appointment: after the queue
        now waiting, and after the clients refused before it."""
        now = time.monotonic()
        rate = self.rate()
        self.horizon = max(self.horizon, now + len(self.waiting) / rate) + 1.0 / rate
        return max(1, min(MAX_RETRY_AFTER, math.ceil(self.horizon - now)))

    def log_refusal(self, retry_after: int) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self.last_logged >= 5.0:
            self.last_logged = now
            logger.warning(
                "refusing WebSocket handshakes (503): %d in flight (%.0f ms each), "
                "%d waiting, %d refused so far, retry after %d s",
                self.in_flight,
                1000 * self.mean_seconds,
                len(self.waiting),
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
            settings.NETZN_MAX_HANDSHAKES_IN_FLIGHT if limit is None else limit,
            settings.NETZN_HANDSHAKE_WAIT_SECONDS,
        )

    def wait_seconds(self, send: Any) -> float:
        """How long a waiting handshake may wait for its place at most: twice the
        queue's `wait_seconds` (the rate it was let in on may have been optimistic),
        ending RESERVE_SECONDS before daphne's handshake timeout."""
        wait = 2 * self.gate.wait_seconds
        left = handshake_seconds_left(send)
        return wait if left is None else min(wait, left - RESERVE_SECONDS)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        gate = self.gate
        started = gate.admit()
        if started is None:
            started = await gate.wait_for_place(self.wait_seconds(send))
            if started is not None and not handshake_pending(send):
                gate.hand_on()  # the client left while it waited: its wait is no handshake
                return None
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
