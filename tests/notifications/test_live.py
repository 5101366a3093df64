"""End to end over real WebSockets against a real server process (daphne, Redis):
notifications reach every open connection of the recipient and nobody else, a real
direct message notifies, and marking read updates the badge in every tab."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from websockets.asyncio.client import ClientConnection, connect

from accounts.actions import do_create_token
from chat.actions import do_get_or_create_direct_conversation
from notifications.actions import do_notify
from notifications.models import Notification

from .test_notify import KIND_DATA

TIMEOUT = 5


def token_for(user: Any) -> str:
    return do_create_token(actor=user, name="Test")[1]


def http(server: Any, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        f"{server.http_url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return json.loads(response.read())


async def open_socket(server: Any, token: str) -> ClientConnection:
    socket = await connect(server.ws_url, additional_headers={"Authorization": f"Bearer {token}"})
    hello = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
    assert hello["type"] == "hello"
    return socket


async def next_of(socket: ClientConnection, frame_type: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        if frame["type"] == frame_type:
            return dict(frame)


async def silent(socket: ClientConnection, seconds: float = 0.3) -> bool:
    try:
        frame = await asyncio.wait_for(socket.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame: {frame!r}")


@pytest.fixture
async def close_db_connections() -> Any:
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.redis("the test process's notifications reach the server process through Redis")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_notifications_over_real_websockets(live_server_process: Any, make_user: Any) -> None:
    server = live_server_process
    anna = await sync_to_async(make_user)("Anna Becker")
    bernd = await sync_to_async(make_user)("Bernd Schulz")
    anna_token = await sync_to_async(token_for)(anna)
    bernd_token = await sync_to_async(token_for)(bernd)
    tabs = [await open_socket(server, anna_token), await open_socket(server, anna_token)]
    bystander = await open_socket(server, bernd_token)
    try:
        # Every kind, stored by this process, reaches both of Anna's tabs via Redis.
        for kind, data in KIND_DATA.items():
            stored = await sync_to_async(do_notify)(
                recipient=anna, kind=kind, data=data, dedupe_key=f"{kind}:live"
            )
            assert stored is not None
            for tab in tabs:
                frame = await next_of(tab, "notification")
                assert (frame["id"], frame["kind"], frame["data"]) == (stored.pk, kind, data)

        # A real direct message: Bernd sends it over his socket to the server process.
        conversation, _ = await sync_to_async(do_get_or_create_direct_conversation)(
            actor=bernd, other_user_id=anna.pk
        )
        await bystander.send(
            json.dumps(
                {
                    "type": "send",
                    "conversation": conversation.pk,
                    "body": "Guten Morgen, Frau Becker!",
                    "client_id": str(uuid.uuid4()),
                }
            )
        )
        assert (await next_of(bystander, "ack"))["conversation"] == conversation.pk
        for tab in tabs:
            frame = await next_of(tab, "notification")
            assert frame["kind"] == "direct_message"
            assert "Guten Morgen, Frau Becker!" in json.dumps(frame["data"], ensure_ascii=False)

        # Marking all read in one place updates the badge in every tab.
        answer = await sync_to_async(http)(
            server, anna_token, "POST", "/notifications/read", {"all": True}
        )
        assert answer == {"marked": len(KIND_DATA) + 1, "unread_count": 0}
        for tab in tabs:
            frame = await next_of(tab, "notifications_read")
            assert frame == {"type": "notifications_read", "all": True, "unread_count": 0}

        # Bernd's own socket got his ack above, but no notification of Anna's.
        assert await silent(bystander)
        assert not await Notification.objects.filter(recipient=bernd).aexists()
    finally:
        for socket in [*tabs, bystander]:
            await socket.close()
