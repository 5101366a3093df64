"""Attachments against real daphne processes, in both modes (docs/attachments.md):
upload over HTTP, a WebSocket send carrying them to a subscriber on the other process,
serving only to readers (the same 404 for everyone else), bad input, and daphne's
own limit on a request body, which refuses an oversized upload as it arrives."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid

import httpx
from PIL import Image

from tests.chat import files
from tests.live.client import Person, api, expect
from tests.live.conftest import Deployment

MiB = 2**20


def upload(
    base_url: str, person: Person, conversation: int, data: bytes, name: str
) -> httpx.Response:
    with api(base_url, person) as client:
        return client.post(
            f"/conversations/{conversation}/attachments",
            files={"file": (name, data, "application/octet-stream")},
        )


async def test_a_file_sent_on_one_process_is_served_to_readers_on_the_other(
    live: Deployment,
) -> None:
    anna, ben, carla = live.person("Anna Becker"), live.person("Ben Öztürk"), live.person("Carla")
    group = live.group(anna, visibility="closed")
    conversation = group["conversation_id"]
    with api(live.http_url, ben) as client:
        request = expect(client.post(f"/groups/{group['slug']}/join", json={}), 202)["request"]
    with api(live.http_url, anna) as client:
        expect(client.post(f"/groups/{group['slug']}/requests/{request['id']}/approve"), 200)
    image = expect(
        upload(live.first.http_url, anna, conversation, files.image("JPEG", (900, 600)), "p.jpg"),
        201,
    )
    pdf = expect(upload(live.first.http_url, anna, conversation, files.pdf(), "Plan.pdf"), 201)
    assert image["content_type"] == "image/jpeg" and "thumbnail_url" in image
    sender = await live.socket(anna, live.first)
    listener = await live.socket(ben, live.second)
    try:
        await listener.subscribe(conversation, after=0)
        ack = await sender.request(
            {
                "type": "send",
                "conversation": conversation,
                "client_id": str(uuid.uuid4()),
                "attachments": [image["id"], pdf["id"]],
            }
        )
        assert ack["type"] == "ack", ack
        [message] = await listener.messages(1)
        assert message["body"] == ""
        assert message["attachments"] == [image, pdf]
    finally:
        await sender.close()
        await listener.close()

    with api(live.second.http_url, ben) as client:
        thumb = client.get(image["thumbnail_url"].removeprefix("/api/v1"))
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"
        with Image.open(io.BytesIO(thumb.content)) as picture:
            assert picture.size == (320, 213)
        served = client.get(pdf["url"].removeprefix("/api/v1"))
        assert served.status_code == 200
        assert served.content == files.pdf()
        assert served.headers["content-type"] == "application/pdf"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-disposition"] == 'attachment; filename="Plan.pdf"'
        missing = client.get("/attachments/999999999")
    assert missing.status_code == 404
    with api(live.second.http_url, carla) as stranger, api(live.second.http_url) as nobody:
        for client in (stranger, nobody):
            for url in (pdf["url"], image["url"], image["thumbnail_url"]):
                refused = client.get(url.removeprefix("/api/v1"))
                assert refused.status_code == 404
                assert refused.json() == missing.json()


async def test_bad_attachments_are_refused_and_the_socket_stays_usable(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    other = live.group(anna, ben)["conversation_id"]
    base = live.first.http_url
    too_big = upload(base, anna, conversation, b"a" * (10 * MiB + 1), "gross.txt")
    assert expect(too_big, 413)["error"]["detail"] == "Die Datei ist größer als 10 MB."
    posing = upload(base, anna, conversation, files.zip_of({"x.png": b"x"}), "bild.png")
    assert expect(posing, 415)["error"]["code"] == "unsupported_type"
    html = expect(upload(base, anna, conversation, b"Hallo\n", "<script>x()<script>.txt"), 201)
    assert html["name"] == "<script>x()<script>.txt"
    bens = expect(upload(base, ben, conversation, files.pdf(), "b.pdf"), 201)["id"]
    elsewhere = expect(upload(base, anna, other, files.pdf(), "o.pdf"), 201)["id"]
    socket_ = await live.socket(anna)
    try:
        for value in ([bens], [elsewhere], [html["id"]] * 2, "1", [None], list(range(1, 12))):
            error = await socket_.request(
                {
                    "type": "send",
                    "conversation": conversation,
                    "body": "x",
                    "client_id": str(uuid.uuid4()),
                    "attachments": value,
                }
            )
            assert (error["type"], error["code"]) == ("error", "bad_request"), (value, error)
        pong = await socket_.request({"type": "ping"})
        assert pong["type"] == "pong"
        ack = await socket_.request(
            {
                "type": "send",
                "conversation": conversation,
                "body": "Jetzt richtig",
                "client_id": str(uuid.uuid4()),
                "attachments": [html["id"]],
            }
        )
        assert ack["type"] == "ack"
    finally:
        await socket_.close()
    with api(base, anna) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert [m["body"] for m in history["results"]] == ["Jetzt richtig"]


def raw_request(port: int, head: bytes, body_chunks: list[bytes]) -> bytes:
    """Send a request by hand and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(head)
        for chunk in body_chunks:
            connection.sendall(chunk)
        answer = b""
        while True:
            data = connection.recv(65536)
            if not data:
                return answer
            answer += data


async def test_daphne_refuses_a_body_past_the_limit_as_it_arrives(live: Deployment) -> None:
    anna = live.person("Anna Becker")
    conversation = live.group(anna)["conversation_id"]
    port = live.first.port
    path = f"/api/v1/conversations/{conversation}/attachments".encode()
    common = (
        b"Host: 127.0.0.1\r\nAuthorization: Bearer " + anna.token.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\n"
    )
    # A declared gigabyte: refused after the headers, with only a little body sent.
    declared = b"POST " + path + b" HTTP/1.1\r\n" + common + b"Content-Length: 1073741824\r\n\r\n"
    answer = await asyncio.to_thread(raw_request, port, declared, [b"--x\r\n" + b"a" * 1000])
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'"code": "too_large"' in answer
    # A chunked body with no length: refused at the chunk that crosses the limit.
    chunk = b"a" * MiB
    chunked = b"POST " + path + b" HTTP/1.1\r\n" + common + b"Transfer-Encoding: chunked\r\n\r\n"
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 12 + [b"0\r\n\r\n"]
    answer = await asyncio.to_thread(raw_request, port, chunked, chunks)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    # The server goes on serving.
    with api(live.first.http_url, anna) as client:
        expect(client.get(f"/conversations/{conversation}/messages"), 200)
