"""Helpers shared by the chat and realtime tests: people with tokens, conversations,
and WebSocket clients speaking to the real ASGI application."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Collection
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import AccessToken
from accounts.tokens import hash_token, new_raw_token
from asgi import application
from chat.actions import do_add_participant, do_create_group_conversation
from chat.models import Conversation
from realtime.frames import encode
from realtime.publish import publish_now

TIMEOUT = 5
REFS = itertools.count(1)


def publish_marker(topic: str, name: str = "marker") -> None:
    """Publish `{"type": "marker", "name": name}` on `topic` through the fan-out path
    every event takes. Sent after an event that must not reach a socket, it ends a
    "nothing arrives" check: the marker arriving first proves the event did not come,
    however late it would have been (frames of one publisher arrive in order)."""
    publish_now(topic, encode({"type": "marker", "name": name}))


def token_for(user: Any) -> str:
    raw = new_raw_token()
    AccessToken.objects.create(user=user, name="test", token_hash=hash_token(raw), prefix=raw[:8])
    return raw


def group_with(
    *members: Any, title: str = "Handwerk Bochum", open_group: bool = False
) -> Conversation:
    conversation = do_create_group_conversation(title=title, readable_by_all=open_group)
    for member in members:
        do_add_participant(conversation=conversation, user=member)
    return conversation


class Client:
    """A WebSocket client on the ASGI application, authenticated by Bearer token."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.hello: dict[str, Any] = {}
        # Frames that arrived while a request waited for its reply, in order.
        self.held: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        if self.held:
            return self.held.pop(0)
        return await self.receive_new(timeout)

    async def receive_new(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.communicator.receive_from(timeout=timeout))
        return frame

    async def receive_type(self, frame_type: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame of that type; other frames on the way are skipped."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame

    async def request(
        self, frame: dict[str, Any], reply_type: str, *, allow: Collection[str] = ()
    ) -> dict[str, Any]:
        """Send a frame with a ref and wait for the reply (or error) carrying it.
        Frames of the types in `allow` that arrive meanwhile are kept for `receive`;
        any other frame fails the test."""
        ref = frame.setdefault("ref", f"r{next(REFS)}")
        await self.send(frame)
        while True:
            reply = await self.receive_new()
            if reply.get("ref") == ref and reply["type"] in (reply_type, "error"):
                return reply
            assert reply["type"] in allow, f"unexpected frame waiting for {reply_type}: {reply}"
            self.held.append(reply)

    async def quiet_until(self, frame_type: str, **fields: Any) -> dict[str, Any]:
        """The next frame must be the marker (of this type, with these fields) that was
        sent after whatever must not arrive; any frame before it fails the test."""
        frame = await self.receive()
        assert frame["type"] == frame_type, f"expected {frame_type} first, got {frame}"
        for key, value in fields.items():
            assert frame.get(key) == value, f"expected {key}={value!r} first, got {frame}"
        return frame

    async def nothing(self) -> bool:
        """Nothing arrived and nothing the server already meant for this socket is on
        its way: a ping answered with no other frame before its pong (the server
        handles a socket's frames in order, and its replies go out in order)."""
        if self.held:
            return False
        ref = f"quiet-{next(REFS)}"
        await self.send({"type": "ping", "ref": ref})
        return await self.receive_new() == {"type": "pong", "ref": ref}

    async def subscribe(
        self, conversation_id: int, after: int | None = None
    ) -> list[dict[str, Any]]:
        """Subscribe and return the backlog followed by the `subscribed` frame."""
        frame: dict[str, Any] = {"type": "subscribe", "conversation": conversation_id}
        if after is not None:
            frame["after"] = after
        await self.send(frame)
        frames = []
        while True:
            reply = await self.receive()
            frames.append(reply)
            if reply["type"] in ("subscribed", "error"):
                return frames

    async def close(self) -> None:
        await self.communicator.disconnect()


async def connect(user: Any, *, token: str | None = None) -> Client:
    raw = token or await database_sync_to_async(token_for)(user)
    communicator = WebsocketCommunicator(
        application, "/ws/v1/", headers=[(b"authorization", f"Bearer {raw}".encode())]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    client = Client(communicator)
    client.hello = await client.receive()
    assert client.hello["type"] == "hello"
    return client


async def gather(*coroutines: Any) -> list[Any]:
    return list(await asyncio.gather(*coroutines))
