"""Every close the server starts is real (docs/protocol.md 1.1, "Closing a connection";
issue 9, sections 2, 3 and 5), against real daphne processes, embedded and in
production: the client receives the close frame with its code (4008, 4009, 4001) and
the server ends the TCP connection, also when the client never answers the close.
Bad frames are errors on a connection that stays usable, and hurt nobody else."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.exceptions import InvalidStatus

from tests.live.client import Socket, api, expect, refused_status, send_frame
from tests.live.conftest import Deployment
from tests.realtime.clients import RawSocket


def padded_ping(size: int) -> str:
    frame = '{"type": "ping", "ref": "p", "pad": ""}'
    text = frame.replace('""', '"' + "x" * (size - len(frame)) + '"')
    assert len(text.encode()) == size
    return text


async def test_a_frame_of_64_kib_is_answered_and_one_byte_more_closes_with_4009(
    live: Deployment,
) -> None:
    anna = live.person("Anna Becker")
    socket = await live.socket(anna)
    await socket.send_raw(padded_ping(64 * 1024))
    assert (await socket.receive())["type"] == "pong"
    await socket.send_raw(padded_ping(64 * 1024 + 1))
    assert await socket.wait_closed() == 4009


async def test_a_flood_past_the_rate_limit_closes_with_4008(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    socket = await live.socket(anna)
    for _ in range(250):
        await socket.send_raw('{"type": "ping"}')
    assert await socket.wait_closed() == 4008
    answers = [frame for frame in socket.held if frame["type"] == "error"]
    assert answers
    assert {frame["code"] for frame in answers} == {"rate_limited"}
    # The person is not locked out: a new connection works.
    again = await live.socket(anna)
    await again.ping()
    await again.close()


async def test_a_client_that_never_answers_the_close_is_cut_off(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    raw = await RawSocket.open(live.first.ws_url, anna.token)
    opcode, hello = await raw.read_frame()
    assert (opcode, json.loads(hello)["type"]) == (1, "hello")
    raw.send_text(padded_ping(64 * 1024 + 1))
    assert await raw.close_code() == 4009
    started = time.monotonic()
    # Never answer the close: the server ends the TCP connection by itself.
    assert await raw.ended_by_server(within=5)
    assert time.monotonic() - started < 5


async def test_a_frame_past_daphnes_limit_or_not_utf8_gets_its_close_frame(
    live: Deployment,
) -> None:
    """autobahn's own closes (a frame over 1 MiB: 1009; invalid UTF-8: 1007) reach the
    client as close frames, and the TCP connection ends after them."""
    anna = live.person("Anna Becker")
    for send, code in [
        (lambda raw: raw.send_text_bytes(b'{"type": "', announced=2 * 2**20), 1009),
        (lambda raw: raw.send_text_bytes(b'{"type": "\xff"}'), 1007),
    ]:
        raw = await RawSocket.open(live.first.ws_url, anna.token)
        opcode, hello = await raw.read_frame()
        assert (opcode, json.loads(hello)["type"]) == (1, "hello")
        send(raw)
        assert await raw.close_code() == code
        assert await raw.ended_by_server(within=5)


async def test_revoking_a_token_closes_its_sockets_on_every_process(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    with api(live.http_url) as client:
        second = expect(
            client.post(
                "/auth/tokens",
                json={"email": anna.email, "password": anna.password, "name": "Laptop"},
            ),
            201,
        )
    revoked_first = await live.socket(anna, live.first)
    revoked_second = await live.socket(anna, live.second)
    kept = await Socket.open(live.second.ws_url, token=second["token"])
    with api(live.http_url) as client:
        client.headers["Authorization"] = f"Bearer {second['token']}"
        tokens = expect(client.get("/auth/tokens"), 200)["results"]
        (first_token,) = [t for t in tokens if anna.token.startswith(t["prefix"])]
        started = time.monotonic()
        expect(client.delete(f"/auth/tokens/{first_token['id']}"), 204)
    closes = await asyncio.gather(revoked_first.wait_closed(5), revoked_second.wait_closed(5))
    assert closes == [4001, 4001]
    assert time.monotonic() - started < 5
    await kept.ping()
    try:
        await live.socket(anna)
    except InvalidStatus as refused:
        assert refused_status(refused) == 403
    else:
        raise AssertionError("a revoked token opened a socket")
    with api(live.http_url, anna) as client:
        assert client.get("/me").status_code == 401
    await kept.close()


BAD_FRAMES = [
    '{"type": "send", "conversation": CONV, "body": "a\\ud800b", "client_id": "bad-1"}',
    '{"type": "send", "conversation": CONV, "body": "a\\u0000b", "client_id": "bad-2"}',
    '{"type": "send", "conversation": CONV, "body": "ok", "client_id": "\\udfff"}',
    "[" * 20_000 + "]" * 20_000,
    '{"type": "send", "conversation": CONV, "body": "x", "client_id": "bad-3", "n": '
    + "[" * 20_000
    + "]" * 20_000
    + "}",
]


async def test_bad_frames_are_errors_and_an_innocent_sender_beside_them_is_unaffected(
    live: Deployment,
) -> None:
    mallory, ida = live.person("Mallory Meier"), live.person("Ida Innocent")
    conversation = live.group(ida, mallory)["conversation_id"]
    bad = await live.socket(mallory, live.first)
    innocent = await live.socket(ida, live.second)

    async def send_bad() -> list[dict[str, object]]:
        errors = []
        for _ in range(3):
            for text in BAD_FRAMES:
                await bad.send_raw(text.replace("CONV", str(conversation)))
                errors.append(await bad.receive_type("error"))
        return errors

    async def send_innocent() -> list[dict[str, object]]:
        return [
            await innocent.request(send_frame(conversation, f"Hallo {n}", f"ida-{n}"))
            for n in range(15)
        ]

    errors, acks = await asyncio.gather(send_bad(), send_innocent())
    assert {error["code"] for error in errors} == {"bad_request"}
    assert len(errors) == 3 * len(BAD_FRAMES)
    assert [ack["type"] for ack in acks] == ["ack"] * 15
    await bad.ping()
    await innocent.ping()
    with api(live.http_url, ida) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert [m["body"] for m in history["results"]] == [f"Hallo {n}" for n in range(15)]
    for socket in (bad, innocent):
        await socket.close()
