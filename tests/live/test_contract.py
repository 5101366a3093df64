"""The wire contract (docs/protocol.md) against real daphne processes, once embedded (SQLite,
no Redis) and once in production (DEBUG=0, PostgreSQL + Redis, two processes)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.live.client import Socket, api, expect, refused_status, send_frame
from tests.live.conftest import Deployment


def session_of(live: Deployment, email: str, password: str) -> dict[str, str]:
    """Log in over HTTP as the browser does; answers its cookies (session and CSRF).
    In production the cookies are `Secure`, so they are read from the answer itself."""
    with api(live.http_url) as client:
        response = client.post("/auth/login", json={"email": email, "password": password})
    expect(response, 200)
    cookies = cookies_set_by(response)
    assert "sessionid" in cookies, response.headers
    return cookies


def cookies_set_by(response: httpx.Response) -> dict[str, str]:
    """The cookies an answer sets, read from its headers (`Secure` ones included)."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    return cookies


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


async def test_hello_names_the_person_and_their_conversations(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    group = live.group(anna)
    socket = await live.socket(anna)
    assert socket.hello["user"]["id"] == anna.id
    assert socket.hello["user"]["display_name"] == "Anna Becker"
    conversations = {c["id"]: c for c in socket.hello["conversations"]}
    assert conversations[group["conversation_id"]]["last_seq"] == 0
    assert socket.hello["limits"]
    await socket.expect_nothing_more()
    await socket.close()


async def test_a_message_reaches_every_subscriber_on_every_process(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    sender = await live.socket(anna, live.first)
    sender_tab = await live.socket(anna, live.second)
    listener = await live.socket(ben, live.second)
    for socket in (sender, sender_tab, listener):
        backlog, subscribed = await socket.subscribe(conversation, after=0)
        assert (backlog, subscribed["last_seq"]) == ([], 0)

    client_id = str(uuid.uuid4())
    ack = await sender.request(send_frame(conversation, "Guten Morgen, Ruhrgebiet!", client_id))
    assert ack["type"] == "ack", ack
    assert (ack["seq"], ack["client_id"], ack["conversation"]) == (1, client_id, conversation)

    for socket in (sender, sender_tab, listener):
        [message] = await socket.messages(1)
        assert message["id"] == ack["id"]
        assert message["seq"] == 1
        assert message["body"] == "Guten Morgen, Ruhrgebiet!"
        assert message["author"]["display_name"] == "Anna Becker"
        await socket.expect_nothing_more()

    # A retry with the same client id is the same message, and nothing new is sent.
    retry = await sender.request(send_frame(conversation, "Guten Morgen, Ruhrgebiet!", client_id))
    assert (retry["type"], retry["id"], retry["seq"]) == ("ack", ack["id"], 1)
    await listener.expect_nothing_more()
    for socket in (sender, sender_tab, listener):
        await socket.close()


async def test_a_reconnecting_client_catches_up_by_after(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    listener = await live.socket(ben, live.second)
    await listener.subscribe(conversation, after=0)
    with api(live.http_url, anna) as client:
        expect(
            client.post(
                f"/conversations/{conversation}/messages",
                json={"body": "Nachricht 1", "client_id": str(uuid.uuid4())},
            ),
            201,
        )
    [first] = await listener.messages(1)
    await listener.close()

    sender = await live.socket(anna, live.first)
    for n in range(2, 6):
        ack = await sender.request(send_frame(conversation, f"Nachricht {n}"))
        assert (ack["type"], ack["seq"]) == ("ack", n)

    again = await live.socket(ben, live.second)
    backlog, subscribed = await again.subscribe(conversation, after=first["seq"])
    assert [(m["seq"], m["body"]) for m in backlog] == [(n, f"Nachricht {n}") for n in range(2, 6)]
    assert (subscribed["last_seq"], subscribed["truncated"]) == (5, False)
    await again.expect_nothing_more()

    # After the backlog, live messages follow.
    await sender.request(send_frame(conversation, "Nachricht 6"))
    assert [m["seq"] for m in await again.messages(1)] == [6]
    await again.expect_nothing_more()
    for socket in (sender, again):
        await socket.close()


async def test_history_over_http_pages_by_seq(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    sender = await live.socket(anna)
    for n in range(1, 6):
        assert (await sender.request(send_frame(conversation, f"Zeile {n}")))["type"] == "ack"
    await sender.close()

    with api(live.second.http_url, ben) as client:
        newest = expect(client.get(f"/conversations/{conversation}/messages?limit=2"), 200)
        after = expect(client.get(f"/conversations/{conversation}/messages?after=1&limit=2"), 200)
        before = expect(client.get(f"/conversations/{conversation}/messages?before=3"), 200)
    assert [m["body"] for m in newest["results"]] == ["Zeile 4", "Zeile 5"]
    assert [m["seq"] for m in after["results"]] == [2, 3]
    assert after["next"] == 3
    assert [m["seq"] for m in before["results"]] == [1, 2]
    assert newest["last_seq"] == 5

    # Someone outside the closed group reads nothing, as for a conversation that does not exist.
    carla = live.person("Carla Schmitz")
    closed = live.group(anna, visibility="closed")["conversation_id"]
    with api(live.http_url, carla) as client:
        forbidden = client.get(f"/conversations/{closed}/messages")
        missing = client.get("/conversations/999999999/messages")
    assert forbidden.status_code == missing.status_code == 403
    assert forbidden.json() == missing.json()


async def test_bad_json_gets_an_error_frame_and_the_socket_stays_usable(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    conversation = live.group(anna)["conversation_id"]
    socket = await live.socket(anna)
    await socket.send_raw('{"type": "send", "conversation": ')
    error = await socket.receive()
    assert (error["type"], error["code"]) == ("error", "bad_request"), error
    await socket.expect_nothing_more()

    ack = await socket.request(send_frame(conversation, "Trotzdem da"))
    assert (ack["type"], ack["seq"]) == ("ack", 1)
    await socket.close()
    with api(live.http_url, anna) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert [m["body"] for m in history["results"]] == ["Trotzdem da"]


@pytest.mark.parametrize("credentials", ["token", "session"])
async def test_a_foreign_origin_is_refused_despite_valid_credentials(
    live: Deployment, credentials: str
) -> None:
    anna = live.person("Anna Becker")
    if credentials == "token":
        kwargs: dict = {"token": anna.token}
    else:
        kwargs = {"headers": cookie_header(session_of(live, anna.email, anna.password))}

    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(live.first.ws_url, origin="https://evil.example", **kwargs)
    assert refused_status(refused.value) == 403

    allowed = await Socket.open(live.first.ws_url, origin=live.first.http_url, **kwargs)
    assert allowed.hello["user"]["id"] == anna.id
    await allowed.close()


async def test_a_browser_socket_without_origin_is_refused(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    cookies = cookie_header(session_of(live, anna.email, anna.password))
    with pytest.raises(InvalidStatus) as refused:
        await Socket.open(live.first.ws_url, headers=cookies)
    assert refused_status(refused.value) == 403


async def test_logout_closes_the_sessions_socket_for_real(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    cookies = session_of(live, anna.email, anna.password)
    socket = await Socket.open(
        live.second.ws_url, headers=cookie_header(cookies), origin=live.second.http_url
    )
    with api(live.http_url) as client:
        expect(
            client.post(
                "/auth/logout",
                headers={
                    **cookie_header(cookies),
                    "X-CSRFToken": cookies["csrftoken"],
                    "Origin": live.http_url,
                },
            ),
            204,
        )
    assert await socket.wait_closed() == 4001
