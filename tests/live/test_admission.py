"""Admission control against real daphne (realtime/admission.py): with
`NETZN_MAX_HANDSHAKES_IN_FLIGHT` and `NETZN_HANDSHAKE_WAIT_SECONDS` set low, a burst of
handshakes past the places waits its turn as far as the queue's room goes, the rest
gets HTTP 503 with `Retry-After`, and every client that retries as docs/protocol.md
asks ("Reconnecting") gets in; nothing answers 500, nothing hangs, and the admitted
connections work."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from websockets.exceptions import InvalidStatus

from tests.conftest import start_server
from tests.live.client import Person, Socket, refused_status
from tests.live.conftest import EMBEDDED, PRODUCTION, PRODUCTION_ENV, Deployment, start_embedded

LIMIT = 2
BURST = 40
# The queue holds what the process starts within this: at least MIN_RATE (20/s) x 0.2 s
# = 4 handshakes, fewer than the burst's excess.
WAIT_SECONDS = "0.2"


@pytest.fixture(scope="module", params=[EMBEDDED, PRODUCTION])
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    embedded_template: Path,
    django_db_setup: None,
    django_db_blocker: Any,
) -> Iterator[Deployment]:
    """One process per mode, admitting at most LIMIT handshakes at a time."""
    tmp_path = tmp_path_factory.mktemp(f"admission-{request.param}")
    gate = {
        "NETZN_MAX_HANDSHAKES_IN_FLIGHT": str(LIMIT),
        "NETZN_HANDSHAKE_WAIT_SECONDS": WAIT_SECONDS,
    }
    if request.param == EMBEDDED:
        server = start_embedded(tmp_path, embedded_template, **gate)
    else:
        server = start_server(tmp_path, extra_env={**PRODUCTION_ENV, **gate})
    try:
        yield Deployment(request.param, [server])
    finally:
        server.stop()
        if request.param == PRODUCTION:
            with django_db_blocker.unblock():
                call_command("flush", interactive=False, verbosity=0)


async def open_with_retries(
    live: Deployment, person: Person, refusals: list[tuple[int, str | None, int]]
) -> Socket:
    """Connect; after a refusal wait its Retry-After (plus jitter) and try again.
    `refusals` gets (status, Retry-After, attempt) of each refusal."""
    for attempt in range(30):
        try:
            return await live.socket(person)
        except InvalidStatus as refused:
            retry_after = refused.response.headers.get("Retry-After")
            refusals.append((refused_status(refused), retry_after, attempt))
            if refused_status(refused) != 503:
                raise
            await asyncio.sleep(float(retry_after or 1) + random.random())
    raise AssertionError("never admitted")


async def test_a_burst_past_the_limit_waits_or_is_refused_503_and_all_get_in(
    live: Deployment,
) -> None:
    # Four people with ten sockets each (the per-person cap is 50).
    people = [live.person(f"Person {n}") for n in range(4)] * (BURST // 4)
    refusals: list[tuple[int, str | None, int]] = []
    sockets = await asyncio.wait_for(
        asyncio.gather(*(open_with_retries(live, person, refusals) for person in people)),
        timeout=120,
    )
    assert len(sockets) == BURST
    # Past the places and the queue's room the excess was refused, only ever with 503
    # and a whole number of seconds; the queue took some of it at the first attempt.
    assert refusals, f"{BURST} simultaneous handshakes, none refused at a limit of {LIMIT}"
    assert {status for status, _, _ in refusals} == {503}
    for _, retry_after, _ in refusals:
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
    refused_at_once = sum(1 for _, _, attempt in refusals if attempt == 0)
    assert refused_at_once < BURST - LIMIT, "nothing waited its turn in the queue"
    # Every admitted connection works.
    await asyncio.gather(*(socket.ping() for socket in sockets))
    assert [socket.hello["user"]["id"] for socket in sockets] == [p.id for p in people]
    for socket in sockets:
        await socket.close()
    logs = live.logs()
    assert "refusing WebSocket handshakes (503)" in logs
    assert "Traceback" not in logs


async def test_one_at_a_time_nobody_is_refused(live: Deployment) -> None:
    """Below the limit the gate is invisible: handshakes that come one after the other
    (each finished before the next starts) are all admitted at once."""
    person = live.person("Clara Schmitt")
    for _ in range(2 * LIMIT + 1):
        socket = await live.socket(person)
        await socket.ping()
        await socket.close()


async def test_a_burst_within_the_queues_room_waits_its_turn_and_nobody_is_refused(
    live: Deployment,
) -> None:
    """Past the places, handshakes the process can start soon wait for a place (first
    come, first served) instead of being refused: three past a limit of two fit in the
    queue's room of at least four."""
    people = [live.person(f"Queued {n}") for n in range(LIMIT + 3)]
    sockets = await asyncio.wait_for(
        asyncio.gather(*(live.socket(person) for person in people)), timeout=30
    )
    await asyncio.gather(*(socket.ping() for socket in sockets))
    assert [socket.hello["user"]["id"] for socket in sockets] == [p.id for p in people]
    for socket in sockets:
        await socket.close()
