"""Writing broadcast frames to daphne's sockets without the per-frame ASGI detour, and
the two things ASGI cannot say to daphne: refuse a handshake with a status other than
403, and end a connection whose client never completes the closing handshake.

Under daphne, an ASGI `websocket.send` goes `send` -> `Server.handle_reply` ->
`WebSocketProtocol.serverSend` -> autobahn's `sendMessage` (UTF-8 encoding, framing,
statistics) -> the Twisted transport: all of it once per recipient. A broadcast frame
is the same for every recipient, so `frame_bytes` builds the WebSocket frame (FIN,
text opcode, length; server frames are never masked) once per payload and
`DirectWriter` hands those bytes straight to each connection's transport.

The fast path is taken only where it is exactly equivalent to autobahn's own path:
the connection is open, negotiated no compression extension, and autobahn has
nothing queued for it. Before it takes a connection over, `DirectWriter.find` checks
every daphne, autobahn and Twisted attribute it touches (a plain TCP transport of
Twisted's, not TLS); anything else (another ASGI server, the test communicator, a TLS
endpoint, a release of daphne/autobahn/Twisted that renamed one of them, a compressed
or closing connection) goes through the ordinary ASGI `send`. `NETZN_DIRECT_WRITE=0`
switches the fast path off altogether. pyproject.toml pins autobahn and Twisted to
the releases this is tested with (tests/realtime/test_wire.py).

The same fence guards `small_input_queue` (through `SmallInputQueues`, asgi.py's
outermost application): each connection's input queue that daphne made, an
`asyncio.Queue`, is swapped for a `realtime.queues.SmallQueue` (idle memory).
"""

from __future__ import annotations

import pprint
import struct
from functools import partial
from typing import Any


class _FormattedOnDemand:
    """`pformat(value)`, computed only if a log line that carries it is written."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)


def _defer_autobahn_debug_formatting() -> None:
    """autobahn pretty-prints every connection's option table for a debug log line
    whether or not debug logging is on: about a tenth of the event loop's time per
    WebSocket handshake in a connection storm (py-spy, docs/performance.md). Its
    `pformat` is made lazy; the line reads the same when debug logging is on."""
    import autobahn.websocket.protocol as autobahn_protocol

    autobahn_protocol.pformat = _FormattedOnDemand  # type: ignore[assignment]
    # The one use of it outside a log line must stay a str.
    autobahn_protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)  # type: ignore[method-assign]

    # The same for the names and values in those lines: autobahn colours each with
    # click (`autobahn.util.hl`, a few dozen times per handshake, ~0.1 ms of CPU); they
    # are written without the terminal colours instead.
    import autobahn.util as autobahn_util

    autobahn_util._HAS_CLICK = False


_defer_autobahn_debug_formatting()


def _close_failed_connections_with_a_frame() -> None:
    """autobahn fails a connection on a protocol error (a frame over daphne's 1 MiB,
    invalid UTF-8, an unmasked frame) by dropping the TCP connection without a close
    frame (`failByDrop`, on by default and left on by daphne), which the client sees as
    an abnormal 1006. With it off, autobahn sends the close frame with the error's code
    (1009, 1007, 1002: autobahn's own, not sent through the application) and ends the
    TCP connection when the client answers it or after its close handshake timeout
    (1 s; docs/protocol.md, "Closing a connection")."""
    from daphne.ws_protocol import WebSocketFactory

    reset = WebSocketFactory.resetProtocolOptions

    def reset_and_close_with_a_frame(factory: Any) -> None:
        reset(factory)
        factory.failByDrop = False

    WebSocketFactory.resetProtocolOptions = reset_and_close_with_a_frame


_close_failed_connections_with_a_frame()

_last_payload: str | None = None
_last_frame = b""


def frame_bytes(payload: str) -> bytes:
    """The complete WebSocket text frame for `payload`, built once per payload: the
    hub hands the same string object to every local socket in turn."""
    global _last_payload, _last_frame
    if payload is _last_payload:
        return _last_frame
    data = payload.encode()
    length = len(data)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 65536:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    _last_payload, _last_frame = payload, header + data
    return _last_frame


def unwrap_send(send: Any) -> Any:
    """The server's own `send` under Channels' middleware wrappers (they only act on
    HTTP responses)."""
    while hasattr(getattr(send, "__self__", None), "real_send"):
        send = send.__self__.real_send
    return send


def daphne_protocol(send: Any) -> Any | None:
    """daphne's `send` is `partial(server.handle_reply, protocol)` with an autobahn
    protocol; anything else (the test communicator, another server) has none."""
    send = unwrap_send(send)
    if not (isinstance(send, partial) and send.args):
        return None
    protocol = send.args[0]
    needed = ("STATE_OPEN", "state", "send_queue", "_perMessageCompress", "transport")
    if not all(hasattr(protocol, name) for name in needed):
        return None
    return protocol


def handshake_seconds_left(send: Any) -> float | None:
    """Seconds before daphne gives up on this pending handshake (its
    `--websocket_connect_timeout`, counted from the request's arrival); None when the
    server is not daphne or sets no limit."""
    protocol = daphne_protocol(send)
    timeout = getattr(getattr(protocol, "server", None), "websocket_connect_timeout", None)
    duration = getattr(protocol, "duration", None)
    if not isinstance(timeout, int | float) or timeout < 0 or not callable(duration):
        return None
    return float(timeout - duration())


def handshake_pending(send: Any) -> bool:
    """False when daphne's client went away while its handshake waited."""
    protocol = daphne_protocol(send)
    return protocol is None or protocol.state == getattr(protocol, "STATE_CONNECTING", None)


def small_input_queue(receive: Any, send: Any) -> Any:
    """daphne's `receive` for one connection, on a `SmallQueue` instead of the
    `asyncio.Queue` daphne made for it (about 3 KB of each idle connection's memory,
    docs/performance.md, "Idle memory"), read through `SmallQueue.next` (a future, no
    task). daphne only `put_nowait`s into its `application_queue`; the application is
    its only reader. Anything else (another server, the test communicator, a daphne
    that keeps its queue elsewhere, a reader already waiting, `NETZN_DIRECT_WRITE=0`)
    keeps the `receive` it was given."""
    import asyncio

    from django.conf import settings

    from realtime.queues import SmallQueue

    queue = getattr(receive, "__self__", None)
    if (
        not settings.NETZN_DIRECT_WRITE
        or type(queue) is not asyncio.Queue
        or getattr(receive, "__func__", None) is not asyncio.Queue.get
        or getattr(queue, "_getters", True)
    ):
        return receive
    protocol = daphne_protocol(send)
    if protocol is None or getattr(protocol, "application_queue", None) is not queue:
        return receive
    small = SmallQueue()
    while not queue.empty():
        small.put_nowait(queue.get_nowait())
    protocol.application_queue = small
    return small.next


class SmallInputQueues:
    """The outermost ASGI application (asgi.py): every WebSocket connection's input on
    `small_input_queue`. It has to be outermost: each application frame below holds
    the `receive` it was called with, and so daphne's queue, for as long as the
    connection lasts."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope.get("type") == "websocket":
            receive = small_input_queue(receive, send)
        return await self.inner(scope, receive, send)


def deny(send: Any, status: int, reason: str, headers: list[tuple[str, str]] | None = None) -> bool:
    """Refuse a WebSocket handshake with HTTP `status` (daphne answers every ASGI
    refusal with 403, and supports no denial-response extension), with `headers`
    (`Retry-After`) in the answer. False when the server is not daphne or the
    handshake is no longer pending: the caller then refuses the ASGI way."""
    protocol: Any = daphne_protocol(send)
    deferred = getattr(protocol, "handshake_deferred", None)
    server = getattr(protocol, "server", None)
    if deferred is None or not callable(getattr(server, "protocol_disconnected", None)):
        return False
    del protocol.handshake_deferred
    if headers:
        # What autobahn does for a ConnectionDeny (`failHandshake`), which carries no
        # headers; the pending handshake is then simply never completed.
        protocol.failHandshake(reason, status, [*headers, ("Content-Length", "0")])
    else:
        from autobahn.websocket.types import ConnectionDeny

        # What daphne's own `serverReject` does, with our status instead of 403.
        deferred.errback(ConnectionDeny(code=status, reason=reason))
    protocol.server.protocol_disconnected(protocol)
    return True


class DirectWriter:
    """The socket under one daphne connection, when it can be written directly."""

    __slots__ = ("open_state", "protocol")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.open_state = type(protocol).STATE_OPEN

    PROTOCOL_ATTRIBUTES = (
        "STATE_OPEN",
        "state",
        "send_queue",
        "_perMessageCompress",
        "transport",
        "closeHandshakeTimeout",
    )
    TRANSPORT_ATTRIBUTES = (
        "TLS",
        "connected",
        "disconnecting",
        "disconnected",
        "socket",
        "_tempDataBuffer",
        "_tempDataLen",
        "dataBuffer",
        "offset",
        "write",
        "loseConnection",
        "abortConnection",
    )

    @classmethod
    def find(cls, send: Any) -> DirectWriter | None:
        """The writer of daphne's connection under `send`, or None when the fast path
        is off or anything it relies on is not exactly there."""
        from django.conf import settings

        if not settings.NETZN_DIRECT_WRITE:
            return None
        protocol = daphne_protocol(send)
        if protocol is None or not cls.fits(protocol):
            return None
        return cls(protocol)

    @classmethod
    def fits(cls, protocol: Any) -> bool:
        if not all(hasattr(protocol, name) for name in cls.PROTOCOL_ATTRIBUTES):
            return False
        transport = protocol.transport
        if transport is None or getattr(transport, "TLS", False):
            return False
        try:
            from twisted.internet.tcp import Connection
        except ImportError:
            return False
        if not isinstance(transport, Connection):
            return False  # a TLS wrapper, a unix socket server of another kind ...
        if not all(hasattr(transport, name) for name in cls.TRANSPORT_ATTRIBUTES):
            return False
        return callable(getattr(transport.socket, "send", None))

    def wait_for_close_answer(self, seconds: float) -> None:
        """Give the client `seconds` (instead of autobahn's one) to answer the close
        frame we are about to send before autobahn aborts the connection: an abort
        (RST) makes the client's kernel discard what it had not read yet, the close
        frame included."""
        self.protocol.closeHandshakeTimeout = seconds

    def finish_if_connected(self) -> None:
        """End the TCP connection gracefully if it is still up: Twisted writes what it
        holds, then a FIN, so a client that reads late still gets the close frame."""
        transport = self.protocol.transport
        if transport is not None and transport.connected and not transport.disconnected:
            transport.loseConnection()

    def abort_if_connected(self) -> bool:
        """End the TCP connection now if it is still up (a close the client never
        answered); True if it had to."""
        transport = self.protocol.transport
        if transport is None or not transport.connected or transport.disconnected:
            return False
        transport.abortConnection()
        return True

    def write(self, payload: str) -> int | None:
        """Write the frame if the fast path is exact for this connection now; returns
        None when it is not (the caller sends the ASGI way), else the bytes the
        transport still holds for the client (0 when the kernel took the frame).

        Like asyncio's transports, try the socket first and let Twisted buffer only
        what the kernel did not take: `transport.write` alone would register the
        socket for writing and unregister it again for every frame (two `epoll_ctl`
        calls and a reactor turn per recipient; docs/performance.md). Order holds
        because the direct send happens only while Twisted has nothing pending.
        Called once per recipient of every broadcast, so it is kept to plain
        attribute reads of what `fits` checked exists."""
        protocol = self.protocol
        if (
            protocol.state != self.open_state
            or protocol.send_queue
            or protocol._perMessageCompress is not None
        ):
            return None
        data = frame_bytes(payload)
        transport = protocol.transport
        if (
            transport.connected
            and not transport.disconnecting
            and not transport.TLS
            and not transport._tempDataBuffer
            and len(transport.dataBuffer) == transport.offset
        ):
            try:
                sent = transport.socket.send(data)
            except OSError:
                sent = 0  # would block, or broken: Twisted's write path handles it
            if sent == len(data):
                return 0
            data = data[sent:]
        transport.write(data)
        return self.pending_bytes()

    def pending_bytes(self) -> int:
        """Bytes written to the transport that the client has not taken yet."""
        transport = self.protocol.transport
        data_buffer = getattr(transport, "dataBuffer", b"")
        offset = getattr(transport, "offset", 0)
        return len(data_buffer) - offset + int(getattr(transport, "_tempDataLen", 0))
