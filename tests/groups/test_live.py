"""End to end over real WebSockets against a real server process (daphne, Redis):
a join request reaches every owner and admin live, and nobody else; the decision
reaches the requester; the member list frames reach the group's live subscribers."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from websockets.asyncio.client import ClientConnection, connect

from accounts.actions import do_create_token
from groups.actions import do_create_group
from groups.models import Membership

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
        return response.status, json.loads(response.read())


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


async def frames_until(socket: ClientConnection, frame_type: str) -> list[dict[str, Any]]:
    """Every frame before the next one of `frame_type`, and that one last."""
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


@pytest.fixture
async def close_db_connections() -> Any:
    yield
    await sync_to_async(connections.close_all)()


def closed_group_with_staff(make_user: Any) -> dict[str, Any]:
    owner = make_user("Olga Inhaber")
    admin = make_user("Arne Admin")
    member = make_user("Mia Mitglied")
    requester = make_user("Rolf Anfrage", company_name="Druckerei Hattingen", job_title="Inhaber")
    group = do_create_group(actor=owner, name="Innovationskreis Mobilität", visibility="closed")
    for person, role in ((admin, "admin"), (member, "member")):
        Membership.objects.create(group=group, user=person, role=role)
        group.conversation.participants.create(user=person)
    people = {"owner": owner, "admin": admin, "member": member, "requester": requester}
    return {
        "slug": group.slug,
        "conversation": group.conversation_id,
        "tokens": {role: token_for(person) for role, person in people.items()},
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_db_connections")
async def test_join_request_and_decision_live(live_server_process: Any, make_user: Any) -> None:
    server = live_server_process
    setup = await sync_to_async(closed_group_with_staff)(make_user)
    tokens = setup["tokens"]
    sockets = {role: await open_socket(server, tokens[role]) for role in tokens}
    try:
        await sockets["member"].send(
            json.dumps({"type": "subscribe", "conversation": setup["conversation"]})
        )
        await next_of(sockets["member"], "subscribed")

        status, body = await sync_to_async(http)(
            server,
            tokens["requester"],
            "POST",
            f"/groups/{setup['slug']}/join",
            {"message": "Wir stellen auf E-Autos um."},
        )
        assert status == 202
        for role in ("owner", "admin"):
            frame = await next_of(sockets[role], "notification")
            assert frame["kind"] == "join_request"
            assert frame["data"]["requester"]["display_name"] == "Rolf Anfrage"
            assert frame["data"]["requester"]["company"] == "Druckerei Hattingen"
            assert frame["data"]["message"] == "Wir stellen auf E-Autos um."
            assert frame["data"]["request_id"] == body["request"]["id"]

        status, _ = await sync_to_async(http)(
            server,
            tokens["admin"],
            "POST",
            f"/groups/{setup['slug']}/requests/{body['request']['id']}/approve",
        )
        assert status == 200
        approved = await next_of(sockets["requester"], "notification")
        assert approved["kind"] == "join_approved"
        assert approved["data"]["group"]["slug"] == setup["slug"]
        # The plain member got no notification of the request: the first frame to
        # reach them after it is the approval's member_joined.
        *before, joined = await frames_until(sockets["member"], "member_joined")
        assert before == []
        assert joined["member"]["display_name"] == "Rolf Anfrage"
        assert joined["member_count"] == 4
    finally:
        for socket in sockets.values():
            await socket.close()
