"""`realtime.coalesce.Coalesced`: calls made together go out in one batch, each
caller gets its own answer, a failed batch fails only its own callers, and a caller
that gave up does not hold up the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from realtime.coalesce import Coalesced


class Doubling:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail_next = False
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("Redis went away")
        return [item * 2 for item in items]


async def test_calls_of_one_turn_go_in_one_batch_and_each_gets_its_answer() -> None:
    send = Doubling()
    double = Coalesced(send)
    assert await asyncio.gather(*(double(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert send.batches == [[0, 1, 2, 3, 4]]
    assert await double(7) == 14
    assert send.batches[-1] == [7]


async def test_calls_made_while_a_batch_is_on_its_way_go_in_the_next() -> None:
    send = Doubling()
    send.release.clear()
    double = Coalesced(send)
    first = asyncio.ensure_future(double(1))
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(double(n)) for n in (2, 3)]
    await asyncio.sleep(0.01)
    send.release.set()
    assert await first == 2
    assert await asyncio.gather(*later) == [4, 6]
    assert send.batches == [[1], [2, 3]]


async def test_a_failed_batch_fails_its_own_callers_only() -> None:
    send = Doubling()
    send.release.clear()
    double = Coalesced(send)
    send.fail_next = True
    failing = [asyncio.ensure_future(double(n)) for n in (1, 2)]
    await asyncio.sleep(0.01)
    after = asyncio.ensure_future(double(3))
    send.release.set()
    for call in failing:
        with pytest.raises(ConnectionError):
            await call
    assert await after == 6


async def test_a_caller_that_left_does_not_hold_up_the_others() -> None:
    send = Doubling()
    send.release.clear()
    double = Coalesced(send)
    leaving = asyncio.ensure_future(double(1))
    staying = asyncio.ensure_future(double(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    send.release.set()
    assert await staying == 4
    assert leaving.cancelled()


async def test_a_batch_holds_at_most_the_limit() -> None:
    send = Doubling()
    double = Coalesced(send, limit=3)
    assert await asyncio.gather(*(double(n) for n in range(7))) == [n * 2 for n in range(7)]
    assert [len(batch) for batch in send.batches] == [3, 3, 1]
