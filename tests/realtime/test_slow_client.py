"""A client too slow to keep up, against a real daphne process: the server closes it
(4013) instead of buffering without bound, the TCP connection ends, and the client
catches up by seq when it returns (docs/protocol.md 1.1, "Closing a connection").

Runs in both runs of `make test`: on PostgreSQL + Redis, and embedded (SQLite, no
Redis), against whatever the run's database is.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.conftest import ServerProcess
from tests.live.client import CLOSE_TIMEOUT, Socket, make_group, send_frame, sign_up

# The server gives up on a client once this much is written to its socket and not
# taken; the client's small receive buffer makes the server's side fill up.
BUFFER_BYTES = 64 * 1024
CLIENT_RECEIVE_BUFFER = 4096
BODY = "€" * 3990  # 12 KB on the wire: the most a message may carry
# 7 MB, more than the kernel buffers on both sides plus BUFFER_BYTES hold, from twenty
# sockets, so none goes past its frame burst.
SENDERS = 20
MESSAGES = 600


async def open_slow_socket(server: ServerProcess, token: str) -> Socket:
    """A `websockets` client on a socket with a tiny receive buffer that, once it stops
    calling recv(), stops reading from the socket too (a queue of one frame)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RECEIVE_BUFFER)
    raw.connect(("127.0.0.1", server.port))
    raw.setblocking(False)
    connection = await connect(
        server.ws_url,
        sock=raw,
        additional_headers={"Authorization": f"Bearer {token}"},
        max_queue=1,
        max_size=None,
        ping_interval=None,
        close_timeout=CLOSE_TIMEOUT,
    )
    client = Socket(connection, {})
    hello = await client.receive_new()
    assert hello["type"] == "hello"
    client.hello = hello
    return client


@pytest.mark.django_db(transaction=True)
async def test_a_client_that_stops_reading_is_closed_with_4013_and_catches_up_by_seq(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(
        extra_env={
            "NETZN_CONNECTION_BUFFER_BYTES": str(BUFFER_BYTES),
            "NETZN_RATE_BURST": "100000",
            "NETZN_RATE_PER_SECOND": "100000",
            # The catch-up brings everything in one backlog (MESSAGES is above 500).
            "NETZN_BACKLOG_LIMIT": str(2 * MESSAGES),
        }
    )
    anna, ben = await asyncio.gather(
        asyncio.to_thread(sign_up, server.http_url, "Anna Becker"),
        asyncio.to_thread(sign_up, server.http_url, "Ben Öztürk"),
    )
    group: dict[str, Any] = await asyncio.to_thread(make_group, server.http_url, anna, ben)
    conversation = group["conversation_id"]

    slow = await open_slow_socket(server, ben.token)
    await slow.subscribe(conversation, after=0)
    # From here on Ben reads nothing while Anna writes.
    slow.stop_reading()
    senders = [await Socket.open(server.ws_url, anna) for _ in range(SENDERS)]
    for number in range(MESSAGES):
        sender = senders[number % SENDERS]
        await sender.send(send_frame(conversation, f"{number} {BODY}", f"s{number}"))
    acks = [
        await sender.receive_type("ack", timeout=60)
        for sender in senders
        for _ in range(MESSAGES // SENDERS)
    ]
    assert sorted(ack["seq"] for ack in acks) == list(range(1, MESSAGES + 1))
    sent = MESSAGES

    # Ben reads again: what reached his socket before the server gave up on him, then
    # the end of the connection. A client that reads nothing cannot take the 4013
    # close frame queued behind the data it left; the server ends the TCP connection
    # itself (docs/protocol.md, "Closing a connection"), which the client sees as 1006.
    slow.resume_reading()
    code = await slow.wait_ended(timeout=15)
    assert code in (4013, 1006)
    assert "closing a slow connection" in server.log.read_text()
    seen = [frame["seq"] for frame in slow.held if frame["type"] == "message"]
    assert seen == list(range(1, len(seen) + 1))  # in order, none lost before the close

    # Reconnecting with `after` brings every message it missed, once, in order.
    again = await Socket.open(server.ws_url, ben)
    backlog, subscribed = await again.subscribe(conversation, after=seen[-1] if seen else 0)
    caught_up = [frame["seq"] for frame in backlog]
    assert subscribed["last_seq"] == sent
    assert subscribed["truncated"] is False
    assert seen + caught_up == list(range(1, sent + 1))
    await again.expect_nothing_more()
    for client in (again, *senders):
        await client.close()
