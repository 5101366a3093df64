"""The consumer's read loop: Channels' `await_many_dispatch` in less memory per idle
connection (docs/performance.md, "Idle memory")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any


async def dispatch_in_turn(
    sources: Sequence[Callable[[], Awaitable[Any]]],
    dispatch: Callable[[Any], Awaitable[None]],
) -> None:
    """Channels' `await_many_dispatch`: one waiting read per source, each message
    handed to `dispatch` one at a time, the read then started again; until `dispatch`
    raises (`StopConsumer`). It waits with `asyncio.wait`, whose two coroutines, set
    and callback closure every idle connection keeps alive; this waits on one future
    (docs/performance.md, "Idle memory")."""
    loop = asyncio.get_running_loop()
    # A source may answer a future instead of a coroutine (`SmallQueue.next`): no
    # task is made for it.
    reads = [asyncio.ensure_future(source()) for source in sources]
    try:
        while True:
            if not any(read.done() for read in reads):
                woken = loop.create_future()

                def wake(_: Any, woken: asyncio.Future[None] = woken) -> None:
                    if not woken.done():
                        woken.set_result(None)

                for read in reads:
                    read.add_done_callback(wake)
                try:
                    await woken
                finally:
                    for read in reads:
                        read.remove_done_callback(wake)
            for index, read in enumerate(reads):
                if read.done():
                    message = read.result()
                    await dispatch(message)
                    reads[index] = asyncio.ensure_future(sources[index]())
    finally:
        for read in reads:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await read
