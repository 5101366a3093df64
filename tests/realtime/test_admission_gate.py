"""The handshake gate's bookkeeping (realtime/admission.py); the queue and the
refusals themselves are tested against real daphne in tests/live/test_admission.py."""

from __future__ import annotations

import asyncio
import time

import pytest

from realtime.admission import COUNTED, MAX_RETRY_AFTER, HandshakeGate


async def settle() -> None:
    """Let the waiting tasks see what the gate decided."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_the_gate_admits_up_to_its_limit_and_a_finished_handshake_frees_its_place() -> None:
    gate = HandshakeGate(limit=2, wait_seconds=0)
    first, second = gate.admit(), gate.admit()
    assert first is not None and second is not None
    assert gate.admit() is None
    gate.done(first)
    assert gate.admit() is not None


async def test_past_the_limit_handshakes_wait_their_turn_first_come_first_served() -> None:
    gate = HandshakeGate(limit=1, wait_seconds=10)
    first = gate.admit()
    assert first is not None
    waiting = [asyncio.ensure_future(gate.wait_for_place(5)) for _ in range(3)]
    await settle()
    assert len(gate.waiting) == 3
    assert gate.admit() is None  # nobody overtakes the queue
    gate.done(first)
    await settle()
    assert [task.done() for task in waiting] == [True, False, False]
    started = waiting[0].result()
    assert started is not None and gate.in_flight == 1  # the place changed hands
    gate.done(started)
    await settle()
    assert [task.done() for task in waiting] == [True, True, False]
    waiting[2].cancel()  # a connection that went away while it waited leaves the queue
    await settle()
    assert not gate.waiting
    last = waiting[1].result()
    assert last is not None
    gate.done(last)
    assert gate.in_flight == 0


async def test_the_queue_holds_what_the_process_starts_within_its_wait_and_no_more() -> None:
    gate = HandshakeGate(limit=40, wait_seconds=1)
    gate.mean_seconds = 0.5  # 40 places, 0.5 s each: 80 a second, 80 may wait
    gate.in_flight = 40
    waiting = [asyncio.ensure_future(gate.wait_for_place(5)) for _ in range(85)]
    await settle()
    assert len(gate.waiting) == 80
    assert [task.result() for task in waiting[80:]] == [None] * 5  # refused at once
    # The handshakes turn out slower than thought (a storm's arrivals take the
    # process's time): those waiting keep their turn, only newcomers meet less room.
    gate.mean_seconds = 1.0
    gate.done(time.monotonic() - 1.0)  # a handshake left its place
    await settle()
    assert waiting[0].result() is not None  # the first waiting took the freed place
    assert len(gate.waiting) == 79 and not any(task.done() for task in waiting[1:80])
    assert await gate.wait_for_place(5) is None  # room for about 40 a second now
    for task in waiting[1:80]:
        task.cancel()


async def test_a_wait_that_runs_out_is_a_refusal_and_frees_nothing() -> None:
    gate = HandshakeGate(limit=1, wait_seconds=10)
    assert gate.admit() is not None
    assert await gate.wait_for_place(0.01) is None
    assert not gate.waiting and gate.in_flight == 1


def test_a_crowd_of_refused_clients_is_told_to_come_back_spread_over_later_seconds() -> None:
    gate = HandshakeGate(limit=10, wait_seconds=0)
    gate.mean_seconds = 0.1  # 10 places, 0.1 s each: 100 handshakes a second
    told = [gate.retry_after() for _ in range(1000)]
    assert told == sorted(told)  # later in the crowd, later appointment
    assert told[0] == 1
    assert 8 <= told[-1] <= 11  # 1,000 at 100/s: about ten seconds' worth
    assert told.count(1) < 150  # not everyone in the same second
    slow = HandshakeGate(limit=1, wait_seconds=0)
    slow.mean_seconds = 0.1  # at least MIN_RATE (20/s) is assumed: 5,000 is 250 s
    assert max(slow.retry_after() for _ in range(5000)) == MAX_RETRY_AFTER


async def test_the_rate_is_what_the_process_completed_while_handshakes_waited_when_more() -> None:
    """A storm's first handshakes share the process with the arrival of all the others
    and take long; what the process then completes with work queued is the rate."""
    gate = HandshakeGate(limit=64, wait_seconds=10)
    gate.mean_seconds = 1.0  # Little's law: 64 / 1 s = 64 a second
    assert gate.rate() == 64
    gate.in_flight = 64
    waiting = [asyncio.ensure_future(gate.wait_for_place(30)) for _ in range(100)]
    await settle()
    for _ in range(COUNTED):
        gate.done(time.monotonic() - 1.0)  # the mean stays 1 s
    # 64 completed with work queued, within the test's few milliseconds: far more.
    assert gate.rate() > 1000
    for task in waiting:
        task.cancel()
    await settle()
    gate.done(time.monotonic() - 1.0)  # nobody waits: the measurement is over
    assert gate.rate() == pytest.approx(64, rel=0.01)
