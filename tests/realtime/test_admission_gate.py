"""The handshake gate's bookkeeping (realtime/admission.py); the refusals themselves
are tested against real daphne in tests/live/test_admission.py."""

from __future__ import annotations

from realtime.admission import MAX_RETRY_AFTER, HandshakeGate


def test_the_gate_admits_up_to_its_limit_and_a_finished_handshake_frees_its_place() -> None:
    gate = HandshakeGate(limit=2)
    first, second = gate.admit(), gate.admit()
    assert first is not None and second is not None
    assert gate.admit() is None
    gate.done(first)
    assert gate.admit() is not None


def test_a_crowd_of_refused_clients_is_told_to_come_back_spread_over_later_seconds() -> None:
    gate = HandshakeGate(limit=10)
    gate.mean_seconds = 0.1  # 10 places, 0.1 s each: 100 handshakes a second
    told = [gate.retry_after() for _ in range(1000)]
    assert told == sorted(told)  # later in the crowd, later appointment
    assert told[0] == 1
    assert 8 <= told[-1] <= 11  # 1,000 at 100/s: about ten seconds' worth
    assert told.count(1) < 150  # not everyone in the same second
    slow = HandshakeGate(limit=1)
    slow.mean_seconds = 0.1  # at least MIN_RATE (20/s) is assumed: 5,000 is 250 s
    assert max(slow.retry_after() for _ in range(5000)) == MAX_RETRY_AFTER


def test_a_starved_process_gives_out_fewer_places() -> None:
    gate = HandshakeGate(limit=64)
    assert gate.places() == 64
    gate.mean_seconds = 8.0  # four times the target time in flight
    assert gate.places() == 16
    gate.mean_seconds = 60.0
    assert gate.places() == 4
