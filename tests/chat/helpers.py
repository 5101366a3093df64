"""Helpers shared by the chat and realtime tests: people with tokens, conversations,
and WebSocket clients speaking to the real ASGI application."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import AccessToken
from accounts.tokens import hash_token, new_raw_token
from asgi import application
from chat.actions import do_add_participant, do_create_group_conversation
from chat.models import Conversation

TIMEOUT = 5


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

    async def request(self, frame: dict[str, Any], reply_type: str) -> dict[str, Any]:
        """Send a frame with a ref and wait for the reply (or error) carrying it."""
        ref = frame.setdefault("ref", f"r{id(frame)}")
        await self.send(frame)
        while True:
            reply = await self.receive_new()
            if reply.get("ref") == ref and reply["type"] in (reply_type, "error"):
                return reply
            self.held.append(reply)

    async def nothing(self, timeout: float = 0.2) -> bool:
        if self.held:
            return False
        return await self.communicator.receive_nothing(timeout=timeout)

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
