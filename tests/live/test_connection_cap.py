"""The per-person connection cap (docs/protocol.md 1.1; NETZN_MAX_CONNECTIONS_PER_USER,
default 50), counted across processes: up to the cap every handshake is admitted, one
more is refused with HTTP 429 while the open ones keep working, and a place freed by a
close is taken again."""

from __future__ import annotations

import asyncio

from websockets.exceptions import InvalidStatus

from tests.live.client import Socket, refused_status
from tests.live.conftest import Deployment

CAP = 50


async def test_past_the_cap_a_handshake_is_refused_with_429_and_the_open_ones_keep_working(
    live: Deployment,
) -> None:
    anna = live.person("Anna Becker")
    ben = live.person("Ben Öztürk")
    sockets: list[Socket] = []
    for n in range(CAP):
        sockets.append(await live.socket(anna, live.servers[n % len(live.servers)]))
    assert sockets[0].hello["limits"]["connections_per_person"] == CAP
    for server in live.servers:
        try:
            await live.socket(anna, server)
        except InvalidStatus as refused:
            assert refused_status(refused) == 429
        else:
            raise AssertionError("a connection past the cap was admitted")
    await asyncio.gather(*(socket.ping() for socket in sockets))
    # Somebody else is not affected.
    other = await live.socket(ben)
    await other.ping()
    # A closed connection gives its place back.
    await sockets.pop().close()
    await asyncio.sleep(0.3)
    sockets.append(await live.socket(anna, live.second))
    await sockets[-1].ping()
    for socket in [*sockets, other]:
        await socket.close()


async def test_handshakes_at_once_past_the_cap_admit_exactly_the_cap(live: Deployment) -> None:
    """Places asked for together go to Redis together (`realtime.coalesce`): of
    CAP + 5 handshakes at once on both processes, exactly CAP are admitted."""
    carla = live.person("Carla Wiese")
    attempts = [live.socket(carla, live.servers[n % len(live.servers)]) for n in range(CAP + 5)]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    admitted = [outcome for outcome in outcomes if isinstance(outcome, Socket)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidStatus)]
    assert len(admitted) == CAP
    assert [refused_status(refusal) for refusal in refused] == [429] * 5
    await asyncio.gather(*(socket.ping() for socket in admitted))
    for socket in admitted:
        await socket.close()
