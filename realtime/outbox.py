"""The outgoing side of one WebSocket: write at once, hold what the transport cannot
take yet, and give up on a client that falls too far behind.

`Outbox.push(text)` never blocks and never suspends. Under daphne (and with
`NETZN_DIRECT_WRITE` on) the frame goes as one prebuilt WebSocket frame straight to
the socket (`realtime.wire.DirectWriter`); elsewhere through the ASGI `send`, stepped
synchronously when it does not suspend (daphne, the test communicator) and otherwise
finished by a single writer task, with later frames queued behind it in order.

A client that falls too far behind (`NETZN_CONNECTION_QUEUE_LIMIT` frames queued here,
or the server's transport holding more than `NETZN_CONNECTION_BUFFER_BYTES`) is handed
to `on_overflow`: the consumer closes it (4013) and the client catches up by seq when
it returns; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

from django.conf import settings

from realtime.wire import DirectWriter

logger = logging.getLogger(__name__)


class _Resume:
    """Await the rest of a coroutine that was started by hand and suspended.

    `push` steps the ASGI `send` coroutine synchronously (it completes at once on
    daphne and in the test communicator); only when it suspends (back-pressure on
    another server) is the remainder finished by the writer task through this."""

    def __init__(self, coro: Any, first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, None, Any]:
        value = self.first
        while True:
            try:
                yield value
            except BaseException as exc:  # forwarded into the coroutine, like a Task does
                try:
                    value = self.coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = self.coro.send(None)
                except StopIteration as stop:
                    return stop.value


class Outbox:
    # One per connection, nearly always idle: no instance dict, and the queue exists
    # only while a write is pending (docs/performance.md, "Idle memory").
    __slots__ = (
        "buffer_limit",
        "closed",
        "direct",
        "on_overflow",
        "queue",
        "queue_limit",
        "send",
        "writer",
        "writing",
    )

    def __init__(
        self,
        send: Any,
        direct: DirectWriter | None,
        on_overflow: Callable[[str], None],
    ) -> None:
        self.send = send
        self.direct = direct
        self.on_overflow = on_overflow
        self.queue: deque[str] | None = None
        self.writing = False
        self.writer: asyncio.Task[None] | None = None
        self.closed = False
        self.queue_limit = settings.NETZN_CONNECTION_QUEUE_LIMIT
        self.buffer_limit = settings.NETZN_CONNECTION_BUFFER_BYTES

    def push(self, text: str) -> None:
        if self.closed:
            return
        if self.writing:
            if self.queue is None:
                self.queue = deque()
            self.queue.append(text)
            if len(self.queue) > self.queue_limit:
                self.overflow("queue")
            return
        direct = self.direct
        if direct is not None:
            pending = direct.write(text)
            if pending is not None:
                if pending > self.buffer_limit:
                    self.overflow("socket buffer")
                return
        coro = self.send({"type": "websocket.send", "text": text})
        try:
            first = coro.send(None)
        except StopIteration:
            return
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            self.closed = True
            return
        self.writing = True
        self.writer = asyncio.ensure_future(self.drain(_Resume(coro, first)))

    async def drain(self, pending: _Resume) -> None:
        try:
            await pending
            while self.queue:
                await self.send({"type": "websocket.send", "text": self.queue.popleft()})
            self.queue = None
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            self.closed = True
        finally:
            self.writing = False

    def overflow(self, where: str) -> None:
        self.queue = None
        self.on_overflow(where)

    def shut(self) -> None:
        """Nothing more goes out (the close frame is the caller's)."""
        self.closed = True
        self.queue = None
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
