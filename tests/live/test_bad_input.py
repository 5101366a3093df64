"""Bad input over HTTP and in the send action, against real servers in both modes
(issue 9, section 5): each is a 4xx JSON error that stores nothing, and a person
sending beside it is not affected."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.live.client import api, expect, send_frame
from tests.live.conftest import Deployment

SURROGATE_BODY = '{"body": "Hallo \\ud800", "client_id": "%s"}'


def bad_requests(conversation: int, slug: str) -> list[tuple[str, str, dict[str, Any], int, str]]:
    """(method, path, httpx arguments, status, code) of each bad input."""
    json_body = {"Content-Type": "application/json"}
    return [
        (
            "POST",
            f"/conversations/{conversation}/messages",
            {"content": SURROGATE_BODY % uuid.uuid4(), "headers": json_body},
            400,
            "bad_request",
        ),
        (
            "PATCH",
            "/me",
            {"content": '{"bio": "\\ud83d"}', "headers": json_body},
            400,
            "bad_request",
        ),
        ("PATCH", "/me", {"json": {"city": "Bo\x00chum"}}, 400, "bad_request"),
        ("POST", "/groups", {"json": {"name": "A\x00B"}}, 400, "bad_request"),
        ("POST", "/companies", {"json": {"name": "Elektro\x00Schäfer"}}, 400, "bad_request"),
        ("GET", "/people?q=Be%00cker", {}, 400, "bad_request"),
        ("GET", "/search?q=Stahl%00bau", {}, 400, "bad_request"),
        ("GET", f"/groups/{slug}%00", {}, 400, "bad_request"),
        (
            "PATCH",
            "/me",
            {"content": b'{"bio": "' + b"x" * (10 * 2**20) + b'"}', "headers": json_body},
            413,
            "too_large",
        ),
        (
            "POST",
            f"/groups/{slug}/join",
            {"content": "[" * 20_000 + "]" * 20_000, "headers": json_body},
            400,
            "bad_request",
        ),
        (
            "PATCH",
            "/me",
            {"content": '{"bio": ' + "[" * 20_000 + "]" * 20_000 + "}", "headers": json_body},
            400,
            "bad_request",
        ),
        ("GET", "/groups?" + "&".join(f"f{n}=x" for n in range(1001)), {}, 400, "bad_request"),
        (
            "POST",
            f"/conversations/{conversation}/attachments",
            {"content": b"--x\r\nkaputt", "headers": {"Content-Type": "multipart/form-data"}},
            400,
            "bad_request",
        ),
        (
            "POST",
            f"/conversations/{conversation}/attachments",
            {"files": {"file": ("a" * 1100 + ".txt", b"Hallo", "text/plain")}},
            400,
            "bad_request",
        ),
        ("GET", "/gibt-es-nicht", {}, 404, "not_found"),
        ("PUT", "/me", {"json": {}}, 405, "method_not_allowed"),
    ]


async def test_bad_http_input_is_a_4xx_json_error_and_an_innocent_sender_goes_on(
    live: Deployment,
) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    group = live.group(anna, ben)
    conversation = group["conversation_id"]
    innocent = await live.socket(ben, live.second)
    listener = await live.socket(anna, live.first)
    await listener.subscribe(conversation, after=0)
    with api(live.http_url, anna) as client:
        profile = expect(client.get("/me"), 200)
        for seq, (method, path, arguments, status, code) in enumerate(
            bad_requests(conversation, group["slug"]), start=1
        ):
            response = client.request(method, path, **arguments)
            assert response.status_code == status, (method, path, response.text[:300])
            assert response.headers["content-type"].startswith("application/json")
            error = response.json()["error"]
            assert error["code"] == code, (method, path, error)
            assert "Traceback" not in response.text
            # Ben, on the other process, is not affected: his send is the next seq.
            ack = await innocent.request(send_frame(conversation, f"Weiter {seq}"))
            assert (ack["type"], ack["seq"]) == ("ack", seq), (method, path, ack)
        assert expect(client.get("/me"), 200) == profile
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert [m["author"]["id"] for m in history["results"]] == [ben.id] * seq
    received = await listener.messages(seq)
    assert [frame["seq"] for frame in received] == list(range(1, seq + 1))
    await innocent.close()
    await listener.close()
    assert "Traceback" not in live.logs()


async def test_unstorable_sends_fail_only_their_own_in_a_busy_conversation(
    live: Deployment,
) -> None:
    """Anna's sends with a lone surrogate, over the WebSocket and HTTP, while Ben sends
    to the same conversation: each of hers is refused, every one of his is stored,
    gapless, whatever batch the server put them in."""
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    bad_socket = await live.socket(anna, live.first)
    good_socket = await live.socket(ben, live.first)
    rounds = 15

    async def bad() -> list[str]:
        codes = []
        for n in range(rounds):
            # json.dumps writes the lone surrogate as the escape `\ud800`.
            reply = await bad_socket.request(send_frame(conversation, "Hallo \ud800", f"bad-{n}"))
            codes.append(reply["code"] if reply["type"] == "error" else reply["type"])
        return codes

    async def good() -> list[str]:
        frames = [
            {**send_frame(conversation, f"Gute Nachricht {n}", f"good-{n}"), "ref": f"g{n}"}
            for n in range(rounds)
        ]
        for frame in frames:
            await good_socket.send(frame)
        return [(await good_socket.receive_type("ack"))["type"] for _ in frames]

    async def bad_http() -> list[int]:
        statuses = []
        async with httpx.AsyncClient(
            base_url=f"{live.second.http_url}/api/v1",
            headers={"Authorization": f"Bearer {anna.token}", "Content-Type": "application/json"},
        ) as client:
            for _ in range(rounds):
                response = await client.post(
                    f"/conversations/{conversation}/messages",
                    content=SURROGATE_BODY % uuid.uuid4(),
                )
                statuses.append(response.status_code)
        return statuses

    bad_codes, good_acks, http_statuses = await asyncio.gather(bad(), good(), bad_http())
    assert bad_codes == ["bad_request"] * rounds
    assert good_acks == ["ack"] * rounds
    assert http_statuses == [400] * rounds
    with api(live.http_url, ben) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert [(m["seq"], m["author"]["id"]) for m in history["results"]] == [
        (n, ben.id) for n in range(1, rounds + 1)
    ]
    await bad_socket.close()
    await good_socket.close()
