"""Black-box clients of a running netzn: HTTP (httpx) and the WebSocket (`websockets`).

They know nothing but the wire contract (docs/protocol.md): people, tokens and groups are
made over HTTP, so the same test runs against the embedded server (SQLite in a file
the pytest process does not open) and against the production processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PASSWORD = "Ruhrpott-Live-2026!"
# A close handshake the server does not finish within this long is a failure.
CLOSE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    display_name: str
    token: str
    token_id: int = 0
    password: str = PASSWORD


def api(base_url: str, person: Person | None = None, **kwargs: Any) -> httpx.Client:
    """An HTTP client for `/api/v1/`, authenticated with the person's token if given."""
    headers = {"Authorization": f"Bearer {person.token}"} if person else {}
    return httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=30, **kwargs)


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: "
        f"{response.status_code} {response.text[:500]}"
    )
    return response.json() if response.content else None


def sign_up(base_url: str, display_name: str) -> Person:
    """Sign up a new person and create a personal access token, as a program would."""
    email = f"{display_name.split()[0].lower()}-{uuid.uuid4().hex[:10]}@example.de"
    with api(base_url) as client:
        user = expect(
            client.post(
                "/auth/signup",
                json={"email": email, "password": PASSWORD, "display_name": display_name},
            ),
            201,
        )
        token = expect(
            client.post(
                "/auth/tokens", json={"email": email, "password": PASSWORD, "name": "live tests"}
            ),
            201,
        )
    return Person(
        id=user["id"],
        email=email,
        display_name=display_name,
        token=token["token"],
        token_id=token["id"],
    )


def another_token(base_url: str, person: Person, name: str = "zweites Gerät") -> Person:
    """The same person with a further token (another device or program)."""
    with api(base_url) as client:
        token = expect(
            client.post(
                "/auth/tokens",
                json={"email": person.email, "password": person.password, "name": name},
            ),
            201,
        )
    return dataclasses.replace(person, token=token["token"], token_id=token["id"])


def make_group(
    base_url: str, owner: Person, *members: Person, visibility: str = "open"
) -> dict[str, Any]:
    """An open group of `owner` that `members` joined; answers GET /groups/{slug}."""
    name = f"Live {uuid.uuid4().hex[:8]}"
    with api(base_url, owner) as client:
        group = expect(
            client.post(
                "/groups",
                json={"name": name, "description": "Live-Test", "visibility": visibility},
            ),
            201,
        )
    for member in members:
        with api(base_url, member) as client:
            expect(client.post(f"/groups/{group['slug']}/join", json={}), 200)
    return dict(group)


def send_frame(conversation: int, body: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "send",
        "conversation": conversation,
        "body": body,
        "client_id": client_id or str(uuid.uuid4()),
    }


class Socket:
    """A `websockets` client speaking docs/protocol.md to a server process.

    A reader task takes every frame off the connection as it arrives: a reply whose
    `ref` a `request()` waits for goes to that request (so requests may run
    concurrently on one socket), every other frame is kept, in order, for
    `receive()`. Frames skipped while waiting for a certain type are held and handed
    out first, so nothing goes unseen."""

    def __init__(self, connection: ClientConnection, hello: dict[str, Any]) -> None:
        self.connection = connection
        self.hello = hello
        self.held: list[dict[str, Any]] = []
        self.counter = 0
        self.inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # Cleared by `stop_reading()`: the reader takes no more frames off the
        # connection, so (with a small `max_queue`) the client stops reading its socket,
        # as a slow or stuck client does.
        self.reading = asyncio.Event()
        self.reading.set()
        self.reader = asyncio.get_running_loop().create_task(self.read())

    @classmethod
    async def open(
        cls,
        url: str,
        person: Person | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> Socket:
        """Connect with the person's token (or `token`, or only `headers`, e.g. a session
        cookie) and wait for `hello`. A refused handshake raises
        `websockets.exceptions.InvalidStatus` (see `refused_status`)."""
        all_headers = dict(headers or {})
        token = token or (person.token if person else None)
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        connection = await connect(
            url,
            additional_headers=all_headers,
            origin=origin,  # type: ignore[arg-type]
            close_timeout=CLOSE_TIMEOUT,
            max_size=None,
        )
        hello = json.loads(await asyncio.wait_for(connection.recv(), 15))
        assert hello["type"] == "hello", hello
        return cls(connection, hello)

    def stop_reading(self) -> None:
        self.reading.clear()

    def resume_reading(self) -> None:
        self.reading.set()

    async def read(self) -> None:
        try:
            while True:
                await self.reading.wait()
                raw = await self.connection.recv()
                frame: dict[str, Any] = json.loads(raw)
                ref = frame.get("ref")
                waiting = self.replies.pop(ref, None) if isinstance(ref, str) else None
                if waiting is not None and not waiting.done():
                    waiting.set_result(frame)
                else:
                    self.inbox.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            self.inbox.put_nowait(None)
            for waiting in self.replies.values():
                if not waiting.done():
                    waiting.set_exception(self.closed_error())

    def closed_error(self) -> ConnectionClosed:
        return ConnectionClosed(self.connection.protocol.close_rcvd, None)

    async def send_raw(self, text: str) -> None:
        await self.connection.send(text)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def receive_new(self, timeout: float | None = 15) -> dict[str, Any]:
        """The next frame off the wire (not a held one); raises `ConnectionClosed` once
        the connection has ended and every frame before the close was handed out."""
        frame = await asyncio.wait_for(self.inbox.get(), timeout)
        if frame is None:
            self.inbox.put_nowait(None)
            raise self.closed_error()
        return frame

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        if self.held:
            return self.held.pop(0)
        return await self.receive_new(timeout)

    async def receive_type(self, frame_type: str, timeout: float = 15) -> dict[str, Any]:
        """The next frame of that type; frames of other types stay held."""
        for index, frame in enumerate(self.held):
            if frame["type"] == frame_type:
                return self.held.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive_new(max(0.01, deadline - time.monotonic()))
            if frame["type"] == frame_type:
                return frame
            self.held.append(frame)

    def take_arrived(self) -> list[dict[str, Any]]:
        """Every frame that has arrived and was not handed out yet, held ones first."""
        frames, self.held = self.held, []
        while not self.inbox.empty():
            frame = self.inbox.get_nowait()
            if frame is None:
                self.inbox.put_nowait(None)
                break
            frames.append(frame)
        return frames

    async def request(self, frame: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
        """Send with a fresh `ref` and return the reply carrying it (or its error).
        Frames arriving meanwhile stay for `receive()`."""
        self.counter += 1
        ref = f"r{self.counter}"
        waiting = asyncio.get_running_loop().create_future()
        self.replies[ref] = waiting
        await self.send({**frame, "ref": ref})
        try:
            return await asyncio.wait_for(waiting, timeout)
        finally:
            self.replies.pop(ref, None)

    async def subscribe(
        self, conversation: int, after: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Subscribe; answers the backlog (`message` frames) and the `subscribed` frame.
        The backlog comes before `subscribed`, so it has arrived with the reply."""
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation}
        if after is not None:
            frame["after"] = after
        subscribed = await self.request(frame)
        assert subscribed["type"] == "subscribed", subscribed
        backlog: list[dict[str, Any]] = []
        for arrived in self.take_arrived():
            if arrived["type"] == "message" and arrived["conversation"] == conversation:
                backlog.append(arrived)
            else:
                self.held.append(arrived)
        return backlog, subscribed

    async def messages(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The next `count` `message` frames (others stay held)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            found.append(await self.receive_type("message", max(0.01, deadline - time.monotonic())))
        return found

    async def expect_nothing_more(self, settle: float = 0.3) -> None:
        """Fail on any frame not yet handed out: wait `settle` seconds for late ones,
        then a ping round trip proves the connection is alive and nothing came
        before its pong."""
        await asyncio.sleep(settle)
        await self.ping()
        unexpected = self.take_arrived()
        assert unexpected == [], f"unexpected frames: {unexpected}"

    async def ping(self, timeout: float = 10) -> None:
        """A ping round trip (frames before the pong stay for `receive()`)."""
        reply = await self.request({"type": "ping"}, timeout)
        assert reply["type"] == "pong", reply

    async def wait_closed(self, timeout: float = 5) -> int | None:
        """Wait until the server closes: answers the close code the client received
        and checks the server also ended the TCP connection (not left to the client's
        abort). Frames received before the close are kept in `held`."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.held.append(await self.receive_new(max(0.01, deadline - time.monotonic())))
        except ConnectionClosed:
            pass
        except TimeoutError:
            raise AssertionError(f"the server did not close within {timeout} s") from None
        await asyncio.wait_for(self.connection.wait_closed(), CLOSE_TIMEOUT + 1)
        assert self.connection.protocol.close_rcvd is not None, "no close frame received"
        assert self.connection.protocol.reader.eof, "the server did not end the TCP connection"
        return self.connection.close_code

    async def wait_ended(self, timeout: float = 5) -> int | None:
        """Like `wait_closed`, for a client that stopped reading: the close frame the
        server sent may sit behind data the client never took, and the server then
        ends the TCP connection itself. Answers the close code (1006 without a close
        frame); the connection must have ended either way."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.held.append(await self.receive_new(max(0.01, deadline - time.monotonic())))
        except ConnectionClosed:
            pass
        except TimeoutError:
            raise AssertionError(f"the connection did not end within {timeout} s") from None
        await asyncio.wait_for(self.connection.wait_closed(), CLOSE_TIMEOUT + 1)
        return self.connection.close_code

    async def close(self) -> None:
        await self.connection.close()
        await self.reader


def refused_status(error: BaseException) -> int:
    """The HTTP status of a refused handshake (`InvalidStatus`)."""
    response = getattr(error, "response", None)
    assert response is not None, f"not a refused handshake: {error!r}"
    return int(response.status_code)
