"""Formatting and moderation against real daphne processes, embedded and in production
(docs/formatting-moderation.md): `body_html` reaches subscribers as the server made
it, and a message a group admin hides disappears for a connected subscriber."""

from __future__ import annotations

from tests.live.client import api, expect, send_frame
from tests.live.conftest import Deployment


async def test_body_html_reaches_subscribers_sanitised(live: Deployment) -> None:
    anna, ben = live.person("Anna Becker"), live.person("Ben Öztürk")
    conversation = live.group(anna, ben)["conversation_id"]
    listener = await live.socket(ben, live.second)
    await listener.subscribe(conversation, after=0)
    sender = await live.socket(anna, live.first)
    body = "**Termin** am Freitag\n- Halle 3\n- <script>alert(1)</script> [x](javascript:alert(1))"
    ack = await sender.request(send_frame(conversation, body))
    assert ack["type"] == "ack", ack
    [message] = await listener.messages(1)
    assert message["body"] == body
    assert message["body_html"] == (
        "<p><strong>Termin</strong> am Freitag</p>\n<ul>\n<li>Halle 3</li>\n"
        "<li>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))</li>\n</ul>"
    )
    for socket in (listener, sender):
        await socket.close()


async def test_a_hidden_message_disappears_for_a_connected_subscriber(live: Deployment) -> None:
    owner, member, reader = (
        live.person("Olga Inhaber"),
        live.person("Mia Mitglied"),
        live.person("Rudi Leser"),
    )
    group = live.group(owner, member, reader)
    conversation = group["conversation_id"]
    listener = await live.socket(reader, live.second)
    await listener.subscribe(conversation, after=0)
    author = await live.socket(member, live.first)
    ack = await author.request(send_frame(conversation, "Billig, billig, billig!"))
    assert ack["type"] == "ack", ack
    [message] = await listener.messages(1)

    with api(live.http_url, reader) as client:
        expect(client.post(f"/messages/{message['id']}/report", json={"reason": "Spam"}), 201)
    with api(live.second.http_url, member) as client:
        # A member may not decide: 403, and nothing goes out.
        refused = client.post(
            f"/groups/{group['slug']}/reports/{message['id']}", json={"decision": "hide"}
        )
        assert refused.status_code == 403, refused.text
    await listener.expect_nothing_more()
    with api(live.first.http_url, owner) as client:
        listing = expect(client.get(f"/groups/{group['slug']}/reports"), 200)
        assert [item["message"] for item in listing["results"]] == [message["id"]]
        decided = client.post(
            f"/groups/{group['slug']}/reports/{message['id']}", json={"decision": "hide"}
        )
        assert expect(decided, 200)["closed"] == 1

    gone = await listener.receive_type("message_deleted")
    assert gone == {
        "type": "message_deleted",
        "conversation": conversation,
        "id": message["id"],
        "seq": message["seq"],
        "hidden": True,
    }
    # A reconnecting reader's backlog shows it hidden, without its text.
    again = await live.socket(reader, live.first)
    backlog, _ = await again.subscribe(conversation, after=0)
    assert [(m["id"], m["body"], m["deleted"], m.get("hidden")) for m in backlog] == [
        (message["id"], "", True, True)
    ]
    for socket in (listener, author, again):
        await socket.close()
