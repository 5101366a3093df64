"""Admission control against real daphne (realtime/admission.py): with
`NETZN_MAX_HANDSHAKES_IN_FLIGHT` set low, a burst of handshakes gets HTTP 503 with
`Retry-After` for what the process is not working on already, and every client that
retries as docs/protocol.md asks ("Reconnecting") gets in; nothing answers 500,
nothing hangs, and the admitted connections work."""

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
    gate = {"NETZN_MAX_HANDSHAKES_IN_FLIGHT": str(LIMIT)}
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
    live: Deployment, person: Person, refusals: list[tuple[int, str | None]]
) -> Socket:
    """Connect; after a refusal wait its Retry-After (plus jitter) and try again."""
    for _ in range(30):
        try:
            return await live.socket(person)
        except InvalidStatus as refused:
            retry_after = refused.response.headers.get("Retry-After")
            refusals.append((refused_status(refused), retry_after))
            if refused_status(refused) != 503:
                raise
            await asyncio.sleep(float(retry_after or 1) + random.random())
    raise AssertionError("never admitted")


async def test_a_burst_past_the_limit_is_refused_503_with_retry_after_and_all_get_in(
    live: Deployment,
) -> None:
    # Four people with ten sockets each (the per-person cap is 50).
    people = [live.person(f"Person {n}") for n in range(4)] * (BURST // 4)
    refusals: list[tuple[int, str | None]] = []
    sockets = await asyncio.wait_for(
        asyncio.gather(*(open_with_retries(live, person, refusals) for person in people)),
        timeout=120,
    )
    assert len(sockets) == BURST
    # The excess was refused, and only ever with 503 and a whole number of seconds.
    assert refusals, f"{BURST} simultaneous handshakes, none refused at a limit of {LIMIT}"
    assert {status for status, _ in refusals} == {503}
    for _, retry_after in refusals:
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
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
