"""Issue 9 against real servers, black-box: every close real, bad input contained,
credentials that end close their sockets, concurrent sends on the embedded default,
subscriptions that hold under churn on two processes.

Where the code on this branch does not hold yet, the test is marked `known_issue` (a
strict xfail naming the part of the issue): it fails as soon as the fix makes it pass,
so the marker goes with the fix."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from tests.live.client import Socket, another_token, api, expect, send_frame
from tests.live.conftest import EMBEDDED, PRODUCTION, Deployment

# The codes PROTOCOL.md 1.1 allows for each reason ("Closing a connection").
TOO_BIG = {1009, 4009}
POLICY = {1008, 4008}


def known_issue(
    request: pytest.FixtureRequest, live: Deployment, modes: set[str], reason: str
) -> None:
    if live.mode in modes:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"issue 9: {reason}"))


async def catch_up(live: Deployment, person: Any, conversation: int, after: int) -> list[int]:
    socket = await live.socket(person, live.second)
    backlog, _ = await socket.subscribe(conversation, after=after)
    await socket.close()
    return [m["seq"] for m in backlog]


# --- 2. closes that happen --------------------------------------------------------------


async def test_an_oversized_frame_closes_for_real_and_the_client_catches_up(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "2, a 1009 close raises in autobahn")
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    socket = await live.socket(anna)
    await socket.subscribe(conversation, after=0)
    await socket.send(send_frame(conversation, "x" * (66 * 1024)))
    assert await socket.wait_closed(timeout=1.5) in TOO_BIG

    with api(live.http_url, ben) as client:
        expect(
            client.post(
                f"/conversations/{conversation}/messages",
                json={"body": "Während du weg warst", "client_id": str(uuid.uuid4())},
            ),
            201,
        )
    assert await catch_up(live, anna, conversation, after=0) == [1]


async def test_a_flooder_is_closed_for_real_and_others_keep_working(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "2, a 1008 close raises in autobahn")
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    flooder = await live.socket(anna)
    bystander = await live.socket(ben)
    for _ in range(400):
        await flooder.send({"type": "ping"})
    assert await flooder.wait_closed(timeout=3) in POLICY
    refused = [frame for frame in flooder.held if frame["type"] == "error"]
    assert refused, "no rate_limited error before the close"
    assert {frame["code"] for frame in refused} == {"rate_limited"}
    await bystander.ping()
    await bystander.expect_nothing_more()
    await bystander.close()


# --- 3. credentials that end -----------------------------------------------------------


async def test_a_revoked_tokens_sockets_close_on_every_process(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "3, revoking a token closes nothing")
    anna = live.person("Anna Becker")
    laptop = another_token(live.http_url, anna, "Laptop")
    kept = await live.socket(anna, live.first)
    revoked = [await live.socket(laptop, live.first), await live.socket(laptop, live.second)]
    with api(live.http_url, anna) as client:
        expect(client.delete(f"/auth/tokens/{laptop.token_id}"), 204)
    for socket in revoked:
        assert await socket.wait_closed(timeout=5) == 4001
    with api(live.second.http_url, laptop) as client:
        assert client.get("/me").status_code == 401
    await kept.ping()
    await kept.close()


# --- 4. the embedded default under concurrent sends --------------------------------------


async def test_concurrent_senders_on_sqlite_are_all_stored_in_order(
    embedded_server: Deployment, request: pytest.FixtureRequest
) -> None:
    live = embedded_server
    known_issue(request, live, {EMBEDDED}, "4, group commit is PostgreSQL-only")
    people = [live.person(f"Person {n}") for n in range(10)]
    conversation = live.group(people[0], *people[1:])["conversation_id"]
    # Five tabs per person, 50 sockets sending at once; six sends each stays within
    # every person's burst of 30.
    sockets = [await live.socket(person) for person in people for _ in range(5)]

    async def send_six(socket: Socket, number: int) -> list[dict[str, Any]]:
        frames = [send_frame(conversation, f"{number}-{k}") for k in range(6)]
        return list(await asyncio.gather(*(socket.request(frame) for frame in frames)))

    replies = await asyncio.gather(*(send_six(s, n) for n, s in enumerate(sockets)))
    answers = [reply for group in replies for reply in group]
    assert [a for a in answers if a["type"] != "ack"] == []
    assert sorted(a["seq"] for a in answers) == list(range(1, 301))
    for socket in sockets:
        await socket.close()
    assert await catch_up(live, people[0], conversation, after=0) == list(range(1, 301))


# --- 5. bad input that stays contained -------------------------------------------------


async def test_a_deeply_nested_frame_is_a_bad_request(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "5, RecursionError closes with 1011")
    anna = live.person("Anna Becker")
    socket = await live.socket(anna)
    await socket.send_raw("[" * 20_000 + "]" * 20_000)
    error = await socket.receive()
    assert (error["type"], error["code"]) == ("error", "bad_request"), error
    await socket.expect_nothing_more()
    await socket.close()


async def test_a_lone_surrogate_is_refused_and_harms_nobody_else(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "5, a lone surrogate is 503/500")
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    bad = await live.socket(anna)
    innocent = await live.socket(ben)
    poisoned = json.dumps(send_frame(conversation, "x")).replace('"x"', '"Hallo \\ud800"')

    async def poison() -> list[dict[str, Any]]:
        replies = []
        for _ in range(5):
            await bad.send_raw(poisoned)
            replies.append(await bad.receive_type("error"))
        return replies

    async def innocent_sends() -> list[dict[str, Any]]:
        frames = [send_frame(conversation, f"Unschuldig {n}") for n in range(5)]
        return list(await asyncio.gather(*(innocent.request(frame) for frame in frames)))

    refused, acks = await asyncio.gather(poison(), innocent_sends())
    assert {frame["code"] for frame in refused} == {"bad_request"}
    assert [a["type"] for a in acks] == ["ack"] * 5
    with api(live.http_url, anna) as client:
        response = client.post(
            f"/conversations/{conversation}/messages",
            content=json.dumps({"body": "x", "client_id": str(uuid.uuid4())}).replace(
                '"x"', '"\\ud800"'
            ),
            headers={"Content-Type": "application/json"},
        )
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert sorted(m["body"] for m in history["results"]) == [f"Unschuldig {n}" for n in range(5)]
    await bad.close()
    await innocent.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/search?q=Stahl%00bau", None),
        ("patch", "/me", {"city": "Bo\x00chum"}),
        ("post", "/groups", {"name": "Nul\x00l", "description": "", "visibility": "open"}),
    ],
)
def test_nul_bytes_are_a_bad_request(
    live: Deployment, request: pytest.FixtureRequest, method: str, path: str, body: Any
) -> None:
    known_issue(
        request, live, {EMBEDDED, PRODUCTION}, "5, NUL is 503 on PostgreSQL, stored on SQLite"
    )
    anna = live.person("Anna Becker")
    with api(live.http_url, anna) as client:
        response = client.request(method, path, json=body)
        me = expect(client.get("/me"), 200)
        groups = expect(client.get("/groups?mine=true"), 200)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"
    assert "\x00" not in json.dumps(me) + json.dumps(groups)
    assert groups["results"] == []


def test_a_huge_request_body_is_413_json(live: Deployment, request: pytest.FixtureRequest) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "5, RequestDataTooBig is a 500")
    anna = live.person("Anna Becker")
    with api(live.http_url, anna) as client:
        response = client.patch(
            "/me",
            content=json.dumps({"bio": "x" * 10_000_000}),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_an_unknown_api_path_is_a_json_404(
    live: Deployment, request: pytest.FixtureRequest
) -> None:
    known_issue(request, live, {EMBEDDED, PRODUCTION}, "5, Django's HTML 404 under /api/v1/")
    with api(live.http_url) as client:
        response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert "error" in response.json()


# --- 1. subscriptions that hold --------------------------------------------------------


async def test_subscriptions_hold_under_churn_on_two_processes(live: Deployment) -> None:
    """Many topics subscribed and unsubscribed on the second process while messages
    flow from the first: every subscriber gets every message sent while it was
    subscribed, and every final subscription receives live."""
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    topics = [live.group(anna, ben)["conversation_id"] for _ in range(24)]
    steady_conversation = live.group(anna, ben)["conversation_id"]
    sender = await live.socket(anna, live.first)
    steady = await live.socket(ben, live.second)
    await steady.subscribe(steady_conversation, after=0)
    # Each socket churns its share of the topics; the server allows 20 frames/s each.
    churners = [await live.socket(ben, live.second) for _ in range(6)]
    shares = [topics[n :: len(churners)] for n in range(len(churners))]

    async def churn(socket: Socket, share: list[int]) -> None:
        for _ in range(3):
            for conversation in share:
                await socket.subscribe(conversation)
            for conversation in share:
                reply = await socket.request({"type": "unsubscribe", "conversation": conversation})
                assert reply.get("type") != "error", reply
            await asyncio.sleep(0.2)
        for conversation in share:
            await socket.subscribe(conversation)

    async def traffic() -> int:
        sent = 0
        for n in range(20):
            ack = await sender.request(send_frame(steady_conversation, f"Stetig {n}"))
            assert ack["type"] == "ack", ack
            sent += 1
            await asyncio.sleep(0.1)
        return sent

    _, sent = await asyncio.gather(
        asyncio.gather(*(churn(s, share) for s, share in zip(churners, shares, strict=True))),
        traffic(),
    )
    assert [m["seq"] for m in await steady.messages(sent)] == list(range(1, sent + 1))

    # Every topic's final subscription is live on the second process.
    for number, conversation in enumerate(topics):
        with api(live.http_url, (anna, ben)[number % 2]) as client:
            expect(
                client.post(
                    f"/conversations/{conversation}/messages",
                    json={"body": "Nach dem Hin und Her", "client_id": str(uuid.uuid4())},
                ),
                201,
            )
    for socket, share in zip(churners, shares, strict=True):
        received = sorted(m["conversation"] for m in await socket.messages(len(share)))
        assert received == sorted(share)
        await socket.expect_nothing_more()
    await steady.expect_nothing_more()
    for socket in (sender, steady, *churners):
        await socket.close()
