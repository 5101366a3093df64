"""Replies and reactions (PROTOCOL.md 1.1) against real daphne processes, embedded and
in production (two processes behind one Redis): the frames cross processes, HTTP and
the socket agree, bad input leaves nothing behind and the socket usable."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from tests.live.client import api, expect, send_frame
from tests.live.conftest import Deployment

HEART = "\u2764\ufe0f"


def reaction_path(conversation: int, message: int, emoji: str) -> str:
    return f"/conversations/{conversation}/messages/{message}/reactions/{quote(emoji)}"


async def test_a_reply_crosses_processes_with_its_quote_and_notifies(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    asker = await live.socket(anna, live.first)
    answerer = await live.socket(ben, live.second)
    for socket in (asker, answerer):
        await socket.subscribe(conversation, after=0)
    question = await asker.request(send_frame(conversation, "Wer hat morgen einen Lkw frei?"))
    assert question["type"] == "ack", question
    for socket in (asker, answerer):
        await socket.messages(1)

    reply = await answerer.request(
        {**send_frame(conversation, "Wir, ab 7 Uhr."), "reply_to": question["id"]}
    )
    assert reply["type"] == "ack", reply
    expected = {
        "id": question["id"],
        "seq": 1,
        "author": {"id": anna.id, "display_name": "Anna Becker"},
        "excerpt": "Wer hat morgen einen Lkw frei?",
    }
    for socket in (asker, answerer):
        [arrived] = await socket.messages(1)
        assert arrived["id"] == reply["id"]
        assert arrived["reply_to"] == expected
        assert arrived["reactions"] == []
    notification = await asker.receive_type("notification")
    assert (notification["kind"], notification["data"]["message"]) == ("reply", reply["id"])

    with api(live.second.http_url, anna) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
        over_http = expect(
            client.post(
                f"/conversations/{conversation}/messages",
                json={"body": "Danke!", "client_id": str(uuid.uuid4()), "reply_to": reply["id"]},
            ),
            201,
        )
    assert history["results"][1]["reply_to"] == expected
    assert over_http["reply_to"]["author"] == {"id": ben.id, "display_name": "Ben Öztürk"}
    [thanks] = await answerer.messages(1)
    assert (thanks["id"], thanks["reply_to"]["id"]) == (over_http["id"], reply["id"])
    for socket in (asker, answerer):
        await socket.close()


async def test_a_reaction_reaches_everyone_on_every_process(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    author = await live.socket(anna, live.first)
    reactor = await live.socket(ben, live.first)
    reactor_tab = await live.socket(ben, live.second)
    for socket in (author, reactor, reactor_tab):
        await socket.subscribe(conversation, after=0)
    message = await author.request(send_frame(conversation, "Die neue Halle steht!"))
    for socket in (author, reactor, reactor_tab):
        await socket.messages(1)

    ack = await reactor.request(
        {"type": "react", "message": message["id"], "emoji": HEART, "on": True}
    )
    assert (ack["type"], ack["changed"]) == ("ack", True), ack
    assert ack["reactions"] == [
        {
            "emoji": HEART,
            "count": 1,
            "mine": True,
            "users": [{"id": ben.id, "display_name": "Ben Öztürk"}],
        }
    ]
    expected = {
        "type": "reaction",
        "conversation": conversation,
        "message": message["id"],
        "seq": 1,
        "emoji": HEART,
        "user": {"id": ben.id, "display_name": "Ben Öztürk"},
        "on": True,
    }
    for socket in (author, reactor, reactor_tab):
        assert await socket.receive_type("reaction") == expected
        await socket.expect_nothing_more()

    # Over HTTP, with the emoji URL-encoded; the same frame for everyone.
    with api(live.second.http_url, anna) as client:
        put = expect(client.put(reaction_path(conversation, message["id"], HEART)), 200)
        again = expect(client.put(reaction_path(conversation, message["id"], HEART)), 200)
        mine = expect(client.get(f"/conversations/{conversation}/messages"), 200)
    assert (put["changed"], again["changed"]) == (True, False)
    assert put["reactions"][0]["count"] == 2
    assert mine["results"][0]["reactions"][0]["mine"] is True
    for socket in (author, reactor, reactor_tab):
        frame = await socket.receive_type("reaction")
        assert frame["user"]["id"] == anna.id and frame["on"] is True
        await socket.expect_nothing_more()

    with api(live.http_url, ben) as client:
        removed = expect(client.delete(reaction_path(conversation, message["id"], HEART)), 200)
    assert removed["reactions"][0]["count"] == 1
    assert removed["reactions"][0]["mine"] is False
    for socket in (author, reactor, reactor_tab):
        frame = await socket.receive_type("reaction")
        assert (frame["user"]["id"], frame["on"]) == (ben.id, False)
        await socket.close()


async def test_bad_replies_and_reactions_store_nothing_and_the_socket_stays(
    live: Deployment,
) -> None:
    anna, ben, carla = (live.person(n) for n in ("Anna Becker", "Ben Öztürk", "Carla Schmitz"))
    conversation = live.group(anna, ben)["conversation_id"]
    closed = live.group(anna, visibility="closed")["conversation_id"]
    socket = await live.socket(anna)
    here = await socket.request(send_frame(conversation, "Hier"))
    secret = await socket.request(send_frame(closed, "Interna"))
    assert here["type"] == secret["type"] == "ack"

    for bad in (secret["id"], 999_999_999, "1", True):
        error = await socket.request({**send_frame(conversation, "Antwort"), "reply_to": bad})
        assert (error["type"], error["code"]) == ("error", "bad_request"), (bad, error)
    for frame in (
        {"message": here["id"], "emoji": "🤡", "on": True},
        {"message": here["id"], "emoji": "\u2764", "on": True},
        {"message": here["id"], "emoji": "👍", "on": 1},
        {"message": str(here["id"]), "emoji": "👍", "on": True},
    ):
        error = await socket.request({"type": "react", **frame})
        assert (error["type"], error["code"]) == ("error", "bad_request"), (frame, error)
    await socket.expect_nothing_more()

    outsider = await live.socket(carla, live.second)
    forbidden = await outsider.request(
        {"type": "react", "message": secret["id"], "emoji": "👍", "on": True}
    )
    missing = await outsider.request(
        {"type": "react", "message": 999_999_999, "emoji": "👍", "on": True}
    )
    assert forbidden["code"] == missing["code"] == "forbidden"
    assert forbidden["detail"] == missing["detail"]
    with api(live.http_url, carla) as client:
        over_http = client.put(reaction_path(closed, secret["id"], "👍"))
        missing_http = client.put(reaction_path(closed, 999_999_999, "👍"))
    assert over_http.status_code == missing_http.status_code == 403
    assert over_http.json() == missing_http.json()
    await outsider.expect_nothing_more()

    with api(live.http_url, anna) as client:
        history = expect(client.get(f"/conversations/{conversation}/messages"), 200)
        secret_history = expect(client.get(f"/conversations/{closed}/messages"), 200)
    assert [m["body"] for m in history["results"]] == ["Hier"]
    assert history["results"][0]["reactions"] == []
    assert secret_history["results"][0]["reactions"] == []
    # Still usable: a good reply and a good reaction go through.
    ok = await socket.request({**send_frame(conversation, "Antwort"), "reply_to": here["id"]})
    assert ok["type"] == "ack", ok
    reacted = await socket.request(
        {"type": "react", "message": here["id"], "emoji": "✅", "on": True}
    )
    assert reacted["type"] == "ack", reacted
    for each in (socket, outsider):
        await each.close()
