"""The fenced fast path (realtime/wire.py): `DirectWriter.find` takes a connection over
only when every daphne, autobahn and Twisted attribute it touches is there, on a plain
TCP transport, with `NETZN_DIRECT_WRITE` on; otherwise the consumer sends the ordinary
ASGI way. Both paths deliver the same frames against real daphne."""

from __future__ import annotations

import socket
from collections import deque
from functools import partial
from typing import Any

import pytest
from django.test import override_settings
from twisted.internet import tcp

from realtime.queues import SmallQueue
from realtime.wire import DirectWriter, frame_bytes, small_input_queue


class FakeProtocol:
    """The attributes of autobahn's WebSocketServerProtocol the writer reads."""

    STATE_OPEN = 3

    def __init__(self, transport: Any) -> None:
        self.state = self.STATE_OPEN
        self.send_queue: deque[Any] = deque()
        self._perMessageCompress = None
        self.closeHandshakeTimeout = 1
        self.transport = transport


def daphne_send(protocol: Any) -> Any:
    """daphne's `send`: `partial(server.handle_reply, protocol)`."""

    def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
        raise AssertionError("the fast path must not call send")

    return partial(handle_reply, protocol)


@pytest.fixture
def tcp_transport() -> Any:
    ours, theirs = socket.socketpair()
    transport = tcp.Connection(ours, None)  # type: ignore[arg-type]
    transport.connected = True
    yield transport, theirs
    ours.close()
    theirs.close()


def test_a_plain_tcp_connection_is_written_directly(tcp_transport: Any) -> None:
    transport, theirs = tcp_transport
    writer = DirectWriter.find(daphne_send(FakeProtocol(transport)))
    assert writer is not None
    assert writer.write('{"type":"pong"}') == 0
    assert theirs.recv(100) == frame_bytes('{"type":"pong"}')
    assert writer.pending_bytes() == 0


def test_switched_off_by_the_setting(tcp_transport: Any) -> None:
    transport, _ = tcp_transport
    with override_settings(NETZN_DIRECT_WRITE=False):
        assert DirectWriter.find(daphne_send(FakeProtocol(transport))) is None


def test_a_tls_transport_is_not_taken_over(tcp_transport: Any) -> None:
    transport, _ = tcp_transport
    transport.TLS = True
    assert DirectWriter.find(daphne_send(FakeProtocol(transport))) is None

    class TLSWrapper:  # what Twisted's TLS endpoints put between (not a tcp.Connection)
        connected = True

    assert DirectWriter.find(daphne_send(FakeProtocol(TLSWrapper()))) is None


@pytest.mark.parametrize(
    "missing", ["closeHandshakeTimeout", "send_queue", "_perMessageCompress", "STATE_OPEN"]
)
def test_a_protocol_missing_an_attribute_is_not_taken_over(tcp_transport: Any, missing) -> None:
    transport, _ = tcp_transport
    protocol = FakeProtocol(transport)
    if missing == "STATE_OPEN":

        class Renamed:
            def __init__(self, transport: Any) -> None:
                self.state = 3
                self.send_queue: deque[Any] = deque()
                self._perMessageCompress = None
                self.closeHandshakeTimeout = 1
                self.transport = transport

        protocol = Renamed(transport)  # type: ignore[assignment]
    else:
        delattr(protocol, missing)
    assert DirectWriter.find(daphne_send(protocol)) is None


def test_a_transport_missing_an_attribute_is_not_taken_over(tcp_transport: Any) -> None:
    transport, _ = tcp_transport

    def renamed(self: Any) -> Any:
        raise AttributeError("dataBuffer")

    # A Twisted release that renamed the write buffer.
    transport.__class__ = type("Connection", (tcp.Connection,), {"dataBuffer": property(renamed)})
    assert DirectWriter.find(daphne_send(FakeProtocol(transport))) is None


def test_another_server_or_the_test_communicator_is_not_taken_over() -> None:
    async def send(message: dict[str, Any]) -> None:
        pass

    assert DirectWriter.find(send) is None


async def test_daphnes_input_queue_is_swapped_for_a_small_one_with_what_it_held(
    tcp_transport: Any,
) -> None:
    """daphne's own `asyncio.Queue` of a connection is replaced under the protocol (what
    daphne `put_nowait`s into from then on) by a `SmallQueue`; the `websocket.connect`
    already queued is read first, then what daphne puts later, in order."""
    import asyncio

    protocol = FakeProtocol(tcp_transport[0])
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    protocol.application_queue = queue  # type: ignore[attr-defined]
    queue.put_nowait({"type": "websocket.connect"})
    receive = small_input_queue(queue.get, daphne_send(protocol))
    assert isinstance(protocol.application_queue, SmallQueue)  # type: ignore[attr-defined]
    assert (await receive())["type"] == "websocket.connect"
    waiting = receive()
    protocol.application_queue.put_nowait({"type": "websocket.receive", "text": "1"})  # type: ignore[attr-defined]
    protocol.application_queue.put_nowait({"type": "websocket.receive", "text": "2"})  # type: ignore[attr-defined]
    assert (await asyncio.wait_for(waiting, 1))["text"] == "1"
    assert (await receive())["text"] == "2"


async def test_the_input_queue_stays_for_another_server_or_with_the_setting_off(
    tcp_transport: Any,
) -> None:
    import asyncio

    protocol = FakeProtocol(tcp_transport[0])
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    protocol.application_queue = queue  # type: ignore[attr-defined]

    async def other_send(message: dict[str, Any]) -> None:
        pass

    assert small_input_queue(queue.get, other_send) == queue.get
    with override_settings(NETZN_DIRECT_WRITE=False):
        assert small_input_queue(queue.get, daphne_send(protocol)) == queue.get
    protocol.application_queue = asyncio.Queue()  # type: ignore[attr-defined]
    assert small_input_queue(queue.get, daphne_send(protocol)) == queue.get
    assert protocol.application_queue is not queue  # type: ignore[attr-defined]


@pytest.mark.parametrize("direct", ["1", "0"])
async def test_both_paths_deliver_and_close_the_same_under_daphne(
    server_factory: Any, transactional_db: Any, make_user: Any, direct: str
) -> None:
    """The same broadcast and the same close (4009 for an oversized frame) with the
    fast path on and off, against a real daphne process."""
    import json

    from channels.db import database_sync_to_async

    from tests.chat.helpers import group_with, token_for
    from tests.live.conftest import PRODUCTION_ENV
    from tests.realtime.clients import Socket

    def cast() -> tuple[int, list[str]]:
        anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
        return group_with(anna, ben).pk, [token_for(anna), token_for(ben)]

    conversation, tokens = await database_sync_to_async(cast)()
    server = server_factory(extra_env={**PRODUCTION_ENV, "NETZN_DIRECT_WRITE": direct})
    sender, listener = [await Socket.open(server.ws_url, token) for token in tokens]
    await listener.subscribe(conversation, after=0)
    for n in range(20):
        frame = {"type": "send", "conversation": conversation, "body": f"Nr. {n}"}
        ack = await sender.request({**frame, "client_id": f"w{n}"}, "ack")
        assert ack["seq"] == n + 1
    assert [m["seq"] for m in await listener.messages(20)] == list(range(1, 21))
    await listener.connection.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    assert await listener.wait_closed() == 4009
    await sender.close()
