"""Calls to Redis made while one is on its way go together in the next.

A handshake takes a place under the connection cap and records the person's presence;
a close gives both back. Each is one short Lua script, but a script call through
redis-py's asyncio client costs 0.2-0.35 ms of the process's CPU whatever the script
does (pool, packing, parsing), and when 50 handshakes are in flight that is most of
what netzn adds to daphne's own handshake (docs/performance.md, "Connecting"). So the
calls of one kind are queued: the first goes at the next turn of the event loop with
everything queued in that turn, and whatever arrives while it is on its way goes in
the following call. One caller waits no longer than before when nothing else is
queued; a burst costs one round trip per batch instead of one per caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

BATCH_LIMIT = 500


class Coalesced(Generic[Item, Result]):
    """`await coalesced(item)` answers what `send(batch)` answered for it, in order;
    an exception of `send` is raised to every caller of that batch (and only them)."""

    def __init__(
        self,
        send: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        limit: int = BATCH_LIMIT,
    ) -> None:
        self.send = send
        self.limit = limit
        self.queued: list[tuple[Item, asyncio.Future[Result]]] = []
        self.sender: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Result] = loop.create_future()
        self.queued.append((item, answer))
        if self.sender is None or self.sender.done():
            self.sender = loop.create_task(self.send_queued())
        return await answer

    async def send_queued(self) -> None:
        while self.queued:
            batch, self.queued = self.queued[: self.limit], self.queued[self.limit :]
            try:
                results = await self.send([item for item, _ in batch])
            except Exception as exc:
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            except BaseException:  # the sender was cancelled: no caller waits forever
                for _, answer in batch + self.queued:
                    answer.cancel()
                self.queued = []
                raise
            for (_, answer), result in zip(batch, results, strict=True):
                if not answer.done():  # a caller that left (cancelled) is skipped
                    answer.set_result(result)
