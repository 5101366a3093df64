"""WebSocket clients for the tests against real daphne processes.

`Socket` speaks docs/protocol.md with the `websockets` library; `RawSocket` does the
handshake by hand and then never answers anything, to see that the server ends a
connection whose client does not complete the closing handshake.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlparse

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

# Long enough that a closing handshake the client finishes within it proves the
# server (not the client's own timer) ended the TCP connection.
CLIENT_CLOSE_TIMEOUT = 30


class Socket:
    """A `websockets` client speaking docs/protocol.md to a server process."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.counter = 0
        self.hello: dict[str, Any] = {}
        # Frames that arrived while waiting for a reply, in order.
        self.held: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, token: str, **kwargs: Any) -> Socket:
        connection = await connect(
            url,
            additional_headers={"Authorization": f"Bearer {token}"},
            close_timeout=CLIENT_CLOSE_TIMEOUT,
            max_size=None,
            **kwargs,
        )
        socket = cls(connection)
        socket.hello = await socket.receive()
        assert socket.hello["type"] == "hello"
        return socket

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        if self.held:
            return self.held.pop(0)
        return await self.receive_new(timeout)

    async def receive_new(self, timeout: float = 15) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        return frame

    async def receive_type(self, frame_type: str, timeout: float = 15) -> dict[str, Any]:
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame

    async def request(self, frame: dict[str, Any], reply_type: str) -> dict[str, Any]:
        self.counter += 1
        frame["ref"] = ref = f"q{self.counter}"
        await self.connection.send(json.dumps(frame))
        while True:
            reply = await self.receive_new()
            if reply.get("ref") == ref and reply["type"] in (reply_type, "error"):
                return reply
            self.held.append(reply)

    async def subscribe(self, conversation: int, after: int | None = None) -> list[dict[str, Any]]:
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
        if after is not None:
            frame["after"] = after
        await self.connection.send(json.dumps(frame))
        frames = []
        while True:
            reply = await self.receive()
            frames.append(reply)
            if reply["type"] in ("subscribed", "error"):
                return frames

    async def messages(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] == "message":
                found.append(frame)
        return found

    async def ping(self) -> bool:
        """Whether the server still answers frames on this connection."""
        try:
            return (await self.request({"type": "ping"}, "pong"))["type"] == "pong"
        except (ConnectionClosed, TimeoutError):
            return False

    async def wait_closed(self, within: float = 5) -> int | None:
        """Wait for the server's close and the end of the TCP connection; the close
        code. Fails unless both happened within `within` seconds."""
        started = time.monotonic()
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        except ConnectionClosed:
            pass
        await asyncio.wait_for(self.connection.wait_closed(), within)
        assert time.monotonic() - started < within
        received = self.connection.protocol.close_rcvd
        assert received is not None, "the TCP connection ended without a close frame"
        return received.code

    async def close(self) -> None:
        await self.connection.close()


async def follow(
    url: str, token: str, conversation: int, *, after: int, until: int, within: float = 30
) -> tuple[Socket, list[int]]:
    """What a client does: subscribe with `after`, and whenever the server closes with
    4013 (or answers `unavailable`), reconnect and subscribe after the last seq seen;
    until seq `until` arrived. The open socket and every seq seen, in order."""
    seen: list[int] = []
    deadline = time.monotonic() + within
    while True:
        assert time.monotonic() < deadline, f"caught up only to {seen[-1:]}"
        try:
            socket = await Socket.open(url, token)
            frames = await socket.subscribe(conversation, after=seen[-1] if seen else after)
            if frames[-1]["type"] == "error":
                assert frames[-1]["code"] == "unavailable", frames[-1]
                await socket.close()
                await asyncio.sleep(0.3)
                continue
            seen += [f["seq"] for f in frames if f["type"] == "message"]
            while not seen or seen[-1] < until:
                frame = await socket.receive(max(0.01, deadline - time.monotonic()))
                if frame["type"] == "message":
                    seen.append(frame["seq"])
            return socket, seen
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4013, closed


async def revoke_over_http(http_url: str, token: str) -> None:
    """Revoke a token with itself: `GET` its id, then `DELETE /api/v1/auth/tokens/{id}`,
    as a program would, on the server process at `http_url`."""

    def call() -> None:
        parts = urlparse(http_url)
        headers = {"Authorization": f"Bearer {token}"}
        connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        connection.request("GET", "/api/v1/auth/tokens", headers=headers)
        listed = json.loads(connection.getresponse().read())["results"]
        (mine,) = [t for t in listed if token.startswith(t["prefix"])]
        connection.request("DELETE", f"/api/v1/auth/tokens/{mine['id']}", headers=headers)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 204
        connection.close()

    await asyncio.to_thread(call)


async def refused_status(url: str, token: str) -> int:
    """The HTTP status a refused handshake was answered with."""
    try:
        connection = await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    await connection.close()
    raise AssertionError("the handshake was accepted")


class RawSocket:
    """A client that completes the opening handshake and then never reads or
    answers again, unless asked: it can see whether the server ends the TCP
    connection by itself."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str, token: str, *, receive_buffer: int | None = None) -> RawSocket:
        parts = urlparse(url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # Before connecting: the window is agreed in the handshake.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert status.startswith(b"HTTP/1.1 101"), status
        return cls(reader, writer)

    def send_text(self, text: str) -> None:
        self.send_text_bytes(text.encode())

    def send_text_bytes(self, data: bytes, announced: int | None = None) -> None:
        """A text frame of `data` (not checked to be UTF-8), or only the first bytes
        of a frame whose header announces `announced` bytes."""
        mask = os.urandom(4)
        length = len(data) if announced is None else announced
        if length < 126:
            header = bytes((0x81, 0x80 | length))
        elif length < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(header + mask + masked)

    async def read_frame(self, timeout: float = 10) -> tuple[int, bytes]:
        """(opcode, payload) of the next server frame."""
        head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        length = head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return head[0] & 0x0F, await self.reader.readexactly(length)

    async def close_code(self, timeout: float = 10) -> int:
        """Read (and discard) frames up to the server's close frame; its code."""
        while True:
            opcode, payload = await self.read_frame(timeout)
            if opcode == 8:
                return int(struct.unpack("!H", payload[:2])[0])

    async def ended_by_server(self, within: float) -> bool:
        """Whether the server ended the TCP connection within `within` seconds (EOF
        or reset), reading whatever it still sends but answering nothing."""
        deadline = time.monotonic() + within
        try:
            while time.monotonic() < deadline:
                data = await asyncio.wait_for(
                    self.reader.read(2**16), max(0.01, deadline - time.monotonic())
                )
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
        return False

    def abort(self) -> None:
        self.writer.transport.abort()


class TcpProxy:
    """A TCP forwarder the test can stop and start: a server's database (or anything
    else) going away and coming back, without touching the real one."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.forward, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a stopped server would."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.update((writer, upstream_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
