"""A small asyncio queue for the one-per-connection queues of the WebSocket path."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any


class SmallQueue:
    """What an unbounded `asyncio.Queue` does for its `put_nowait` and `get` callers, in a
    fraction of its memory: the queue of a consumer's channel on the layer
    (`realtime.layers`) and daphne's input queue of a connection (`realtime.wire`).

    Every WebSocket connection has both, and nearly all of them sit idle: an
    `asyncio.Queue` is about 3.3 KB (four deques, an `Event`, two instance dicts)
    before it holds anything; this is two slots until a message arrives, and its deque
    goes again when the queue is drained (docs/performance.md, "Idle memory"). FIFO;
    several readers wait their turn, and a reader cancelled right after it was woken
    hands the message on to the next one, as with `asyncio.Queue`."""

    __slots__ = ("getters", "items", "reader")

    def __init__(self) -> None:
        self.items: deque[Any] | None = None
        self.getters: deque[asyncio.Future[None]] | asyncio.Future[None] | None = None
        self.reader: asyncio.Future[Any] | None = None  # see `next`

    def put_nowait(self, item: Any) -> None:
        reader = self.reader
        if reader is not None:
            self.reader = None
            if not reader.done():
                reader.set_result(item)
                return
        if self.items is None:
            self.items = deque()
        self.items.append(item)
        self._wake_one()

    def _wake_one(self) -> None:
        getters = self.getters
        if getters is None:
            return
        if isinstance(getters, asyncio.Future):
            self.getters = None
            if not getters.done():
                getters.set_result(None)
            return
        while getters:
            getter = getters.popleft()
            if not getter.done():
                getter.set_result(None)
                break
        if not getters:
            self.getters = None

    def qsize(self) -> int:
        return len(self.items) if self.items is not None else 0

    def empty(self) -> bool:
        return not self.items

    def get_nowait(self) -> Any:
        items = self.items
        if not items:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self.items = None
        return item

    def next(self) -> asyncio.Future[Any]:
        """The next item as a future, for the one reader of the queue that reads until
        it ends (daphne's input of one connection): no task and no coroutine frame
        while it waits. An item handed to a future that is then cancelled is gone."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.items:
            future.set_result(self.get_nowait())
        else:
            self.reader = future
        return future

    async def get(self) -> Any:
        while not self.items:
            getter = asyncio.get_running_loop().create_future()
            if self.getters is None:
                self.getters = getter
            elif isinstance(self.getters, asyncio.Future):
                self.getters = deque((self.getters, getter))
            else:
                self.getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                self._forget(getter)
                if self.items and not getter.cancelled():
                    # Woken and cancelled at once: the item is for the next reader.
                    self._wake_one()
                raise
        return self.get_nowait()

    def _forget(self, getter: asyncio.Future[None]) -> None:
        getters = self.getters
        if getters is getter:
            self.getters = None
        elif isinstance(getters, deque):
            with contextlib.suppress(ValueError):
                getters.remove(getter)
            if not getters:
                self.getters = None
