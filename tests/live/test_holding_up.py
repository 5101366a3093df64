"""Issue 9 against real servers, black-box: every close the server starts is real
(a close frame within a second, then the TCP connection ends), a revoked token's
sockets close on every process, a frame that would blow the parser's stack is a bad
request. (Bad HTTP input: test_bad_input.py; concurrent sends on SQLite:
test_embedded_sends.py; subscription churn: test_hub_churn.py.)"""

from __future__ import annotations

import uuid
from typing import Any

from tests.live.client import another_token, api, expect, send_frame
from tests.live.conftest import Deployment

# The codes docs/protocol.md 1.1 allows for each reason ("Closing a connection").
TOO_BIG = {1009, 4009}
POLICY = {1008, 4008}


async def catch_up(live: Deployment, person: Any, conversation: int, after: int) -> list[int]:
    socket = await live.socket(person, live.second)
    backlog, _ = await socket.subscribe(conversation, after=after)
    await socket.close()
    return [m["seq"] for m in backlog]


# --- 2. closes that happen --------------------------------------------------------------


async def test_an_oversized_frame_closes_for_real_and_the_client_catches_up(
    live: Deployment,
) -> None:
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


async def test_a_flooder_is_closed_for_real_and_others_keep_working(live: Deployment) -> None:
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


async def test_a_revoked_tokens_sockets_close_on_every_process(live: Deployment) -> None:
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


# --- 5. bad input that stays contained -------------------------------------------------


async def test_a_deeply_nested_frame_is_a_bad_request(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    socket = await live.socket(anna)
    await socket.send_raw("[" * 20_000 + "]" * 20_000)
    error = await socket.receive()
    assert (error["type"], error["code"]) == ("error", "bad_request"), error
    await socket.expect_nothing_more()
    await socket.close()
