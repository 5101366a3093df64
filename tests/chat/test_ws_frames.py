"""Every frame of docs/protocol.md over the real ASGI application, and bad input of every
kind: each answered with an `error` frame while the connection stays usable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from asgi import application
from chat.actions import do_send_message, do_set_moderator
from chat.models import Message, Participant
from realtime.frames import user_topic
from tests.chat.helpers import connect, group_with, publish_marker, token_for

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {
        "anna": make_user("Anna Becker", company_name="Stahlbau Witten", phone="0234 1234"),
        "ben": make_user("Ben Öztürk", company_name="Druckerei Herne"),
        "carla": make_user("Carla Schmitz"),
    }


@pytest.fixture
def conversation(people: dict[str, Any]) -> Any:
    return group_with(people["anna"], people["ben"])


def send_frame(conversation: Any, body: str, client_id: str) -> dict[str, Any]:
    return {"type": "send", "conversation": conversation.pk, "body": body, "client_id": client_id}


async def test_hello_lists_my_conversations_and_limits(people, conversation):
    anna = await connect(people["anna"])
    hello = anna.hello
    assert hello["user"] == {
        "id": people["anna"].pk,
        "display_name": "Anna Becker",
        "company": "Stahlbau Witten",
        "company_verified": False,
    }
    assert hello["conversations"] == [
        {
            "id": conversation.pk,
            "kind": "group",
            "title": "Handwerk Bochum",
            "last_seq": 0,
            "last_read_seq": 0,
        }
    ]
    assert hello["limits"]["messages_burst"] == 30
    assert hello["limits"]["messages_per_second"] == 10
    assert hello["limits"]["message_max_chars"] == 4000
    assert hello["limits"]["frame_max_bytes"] == 65536
    await anna.close()


def session_cookie(user: Any) -> bytes:
    from django.test import Client as HttpClient

    from tests.conftest import PASSWORD

    http = HttpClient()
    assert http.login(email=user.email, password=PASSWORD)
    return f"sessionid={http.cookies['sessionid'].value}".encode()


async def handshake(headers: list[tuple[bytes, bytes]]) -> dict[str, Any] | None:
    """Connect with these headers: the `hello` frame, or None when refused."""
    communicator = WebsocketCommunicator(application, "/ws/v1/", headers=headers)
    connected, _ = await communicator.connect()
    if not connected:
        return None
    hello: dict[str, Any] = json.loads(await communicator.receive_from())
    await communicator.disconnect()
    return hello


async def test_handshakes_without_valid_credentials_are_refused(people):
    assert await handshake([]) is None
    assert await handshake([(b"origin", b"http://testserver")]) is None
    assert await handshake([(b"authorization", b"Bearer nz_not-a-token")]) is None
    # A session cookie counts only with an Origin (a browser always sends one).
    assert await handshake([(b"cookie", await db(session_cookie)(people["anna"]))]) is None


async def test_a_foreign_origin_is_refused_even_with_valid_credentials(people):
    cookie = await db(session_cookie)(people["anna"])
    token = await db(token_for)(people["anna"])
    bearer = (b"authorization", f"Bearer {token}".encode())
    foreign = (b"origin", b"https://evil.example")
    # The same credentials connect from the allowed Origin (and a program without one) ...
    for headers in (
        [(b"origin", b"http://testserver"), (b"cookie", cookie)],
        [(b"origin", b"http://testserver"), bearer],
        [bearer],
    ):
        hello = await handshake(headers)
        assert hello is not None, headers
        assert hello["user"]["id"] == people["anna"].pk
    # ... and are refused from a foreign one: a page elsewhere cannot ride on them.
    assert await handshake([foreign, (b"cookie", cookie)]) is None
    assert await handshake([foreign, bearer]) is None
    assert await handshake([(b"origin", b"null"), (b"cookie", cookie)]) is None


async def test_send_acks_after_commit_and_reaches_every_subscriber(people, conversation):
    anna = await connect(people["anna"])
    anna_tab2 = await connect(people["anna"])
    ben = await connect(people["ben"])
    for client in (anna, anna_tab2, ben):
        frames = await client.subscribe(conversation.pk, after=0)
        assert frames == [
            {
                "type": "subscribed",
                "conversation": conversation.pk,
                "last_seq": 0,
                "truncated": False,
            }
        ]
    # Anna's own message frame may come before or after her ack.
    ack = await anna.request(
        send_frame(conversation, "Glück auf!", "c-1"), "ack", allow=("message",)
    )
    stored = await db(Message.objects.get)(pk=ack["id"])
    assert ack["client_id"] == "c-1"
    assert ack["conversation"] == conversation.pk
    assert ack["seq"] == stored.seq == 1
    assert ack["created_at"] == stored.created_at.isoformat()
    for client in (anna_tab2, ben):
        message = await client.receive_type("message")
        assert message == {
            "type": "message",
            "conversation": conversation.pk,
            "id": stored.pk,
            "seq": 1,
            "author": {
                "id": people["anna"].pk,
                "display_name": "Anna Becker",
                "company": "Stahlbau Witten",
                "company_verified": False,
            },
            "body": "Glück auf!",
            "client_id": "c-1",
            "created_at": stored.created_at.isoformat(),
            "edited_at": None,
            "deleted": False,
            "reply_to": None,
            "reactions": [],
            "attachments": [],
        }
        assert "0234" not in json.dumps(message)
    # The sender's read marker moved to its own message.
    marker = await db(Participant.objects.get)(conversation=conversation, user=people["anna"])
    assert marker.last_read_seq == 1
    for client in (anna, anna_tab2, ben):
        await client.close()


async def test_retry_with_same_client_id_gets_same_ack_and_creates_nothing(people, conversation):
    anna = await connect(people["anna"])
    ben = await connect(people["ben"])
    await ben.subscribe(conversation.pk)
    first = await anna.request(send_frame(conversation, "Einmal", "retry-1"), "ack")
    second = await anna.request(send_frame(conversation, "Einmal", "retry-1"), "ack")
    assert {k: v for k, v in first.items() if k != "ref"} == {
        k: v for k, v in second.items() if k != "ref"
    }
    assert await db(Message.objects.filter(conversation=conversation).count)() == 1
    assert (await ben.quiet_until("message"))["seq"] == 1
    await anna.request(send_frame(conversation, "Marke", "retry-2"), "ack")
    assert (await ben.quiet_until("message"))["body"] == "Marke"  # not the retry again
    await anna.close()
    await ben.close()


async def test_subscribe_after_sends_backlog_in_order_then_live(people, conversation):
    for number in range(1, 6):
        await db(do_send_message)(
            actor=people["anna"],
            conversation_id=conversation.pk,
            body=f"Nr. {number}",
            client_id=f"b{number}",
        )
    ben = await connect(people["ben"])
    frames = await ben.subscribe(conversation.pk, after=2)
    assert [f["seq"] for f in frames[:-1]] == [3, 4, 5]
    assert frames[-1] == {
        "type": "subscribed",
        "conversation": conversation.pk,
        "last_seq": 5,
        "truncated": False,
    }
    await db(do_send_message)(
        actor=people["anna"], conversation_id=conversation.pk, body="live", client_id="b6"
    )
    live = await ben.receive_type("message")
    assert (live["seq"], live["body"]) == (6, "live")
    # Live only: no backlog, just the current last_seq.
    carla_view = await connect(people["ben"])
    assert await carla_view.subscribe(conversation.pk) == [
        {"type": "subscribed", "conversation": conversation.pk, "last_seq": 6, "truncated": False}
    ]
    await ben.close()
    await carla_view.close()


@override_settings(NETZN_BACKLOG_LIMIT=3)
async def test_backlog_is_capped_with_truncated(people, conversation):
    for number in range(1, 8):
        await db(do_send_message)(
            actor=people["anna"],
            conversation_id=conversation.pk,
            body=f"Nr. {number}",
            client_id=f"t{number}",
        )
    ben = await connect(people["ben"])
    frames = await ben.subscribe(conversation.pk, after=1)
    # The newest three of the six missed; the rest is fetched over HTTP (before=5).
    assert [f["seq"] for f in frames[:-1]] == [5, 6, 7]
    assert frames[-1]["truncated"] is True
    assert frames[-1]["last_seq"] == 7
    await ben.close()


async def test_catch_up_after_disconnect_gets_every_missed_message_once(people, conversation):
    ben = await connect(people["ben"])
    await ben.subscribe(conversation.pk, after=0)
    anna = await connect(people["anna"])
    await anna.subscribe(conversation.pk)
    await anna.request(send_frame(conversation, "vorher", "d1"), "ack", allow=("message",))
    seen = (await ben.receive_type("message"))["seq"]
    await ben.close()
    for number in range(2, 12):
        await anna.request(
            send_frame(conversation, f"verpasst {number}", f"d{number}"), "ack", allow=("message",)
        )
    ben = await connect(people["ben"])
    frames = await ben.subscribe(conversation.pk, after=seen)
    assert [f["seq"] for f in frames if f["type"] == "message"] == list(range(2, 12))
    await anna.request(send_frame(conversation, "danach", "d12"), "ack", allow=("message",))
    assert (await ben.quiet_until("message"))["seq"] == 12
    await anna.request(send_frame(conversation, "Marke", "d13"), "ack", allow=("message",))
    assert (await ben.quiet_until("message"))["seq"] == 13  # no missed one twice
    await anna.close()
    await ben.close()


async def test_unsubscribe_stops_live_frames(people, conversation):
    ben = await connect(people["ben"])
    await ben.subscribe(conversation.pk)
    reply = await ben.request(
        {"type": "unsubscribe", "conversation": conversation.pk}, "unsubscribed"
    )
    assert reply["conversation"] == conversation.pk
    await db(do_send_message)(
        actor=people["anna"], conversation_id=conversation.pk, body="still", client_id="u1"
    )
    await db(publish_marker)(user_topic(people["ben"].pk))
    await ben.quiet_until("marker")  # not "still" first
    await ben.close()


async def test_edit_and_delete_reach_subscribers(people, conversation):
    anna = await connect(people["anna"])
    ben = await connect(people["ben"])
    await ben.subscribe(conversation.pk)
    ack = await anna.request(send_frame(conversation, "Tippfeler", "e1"), "ack")
    await ben.receive_type("message")
    edited_ack = await anna.request(
        {"type": "edit", "message": ack["id"], "body": "Tippfehler"}, "ack"
    )
    assert (edited_ack["id"], edited_ack["seq"]) == (ack["id"], 1)
    edited = await ben.receive_type("message_edited")
    assert edited["body"] == "Tippfehler"
    assert edited["edited_at"] is not None
    # Only the author edits.
    refused = await ben.request({"type": "edit", "message": ack["id"], "body": "gehackt"}, "ack")
    assert refused["code"] == "forbidden"
    refused = await ben.request({"type": "delete", "message": ack["id"]}, "ack")
    assert refused["code"] == "forbidden"
    await anna.request({"type": "delete", "message": ack["id"]}, "ack")
    deleted = await ben.receive_type("message_deleted")
    assert deleted == {
        "type": "message_deleted",
        "conversation": conversation.pk,
        "id": ack["id"],
        "seq": 1,
    }
    # The deleted message keeps its seq in the backlog, without its text.
    late = await connect(people["ben"])
    frames = await late.subscribe(conversation.pk, after=0)
    assert frames[0]["seq"] == 1
    assert frames[0]["deleted"] is True
    assert frames[0]["body"] == ""
    refused = await anna.request({"type": "edit", "message": ack["id"], "body": "wieder"}, "ack")
    assert refused["code"] == "bad_request"
    assert refused["detail"] == "Die Nachricht wurde gelöscht."
    for client in (anna, ben, late):
        await client.close()


async def test_moderator_deletes_others_message(people, conversation):
    message, _ = await db(do_send_message)(
        actor=people["ben"], conversation_id=conversation.pk, body="Werbung", client_id="m1"
    )
    anna = await connect(people["anna"])
    refused = await anna.request({"type": "delete", "message": message.pk}, "ack")
    assert refused["code"] == "forbidden"
    await db(do_set_moderator)(conversation=conversation, user=people["anna"], can_moderate=True)
    ack = await anna.request({"type": "delete", "message": message.pk}, "ack")
    assert ack["type"] == "ack"
    assert (await db(Message.objects.get)(pk=message.pk)).deleted_at is not None
    await anna.close()


async def test_typing_reaches_others_not_myself_and_is_throttled(people, conversation):
    anna = await connect(people["anna"])
    anna_tab2 = await connect(people["anna"])
    ben = await connect(people["ben"])
    for client in (anna, anna_tab2, ben):
        await client.subscribe(conversation.pk)
    await anna.send({"type": "typing", "conversation": conversation.pk})
    typing = await ben.receive_type("typing")
    assert typing == {
        "type": "typing",
        "user": {
            "id": people["anna"].pk,
            "display_name": "Anna Becker",
            "company": "Stahlbau Witten",
            "company_verified": False,
        },
        "conversation": conversation.pk,
    }
    await anna.send({"type": "typing", "conversation": conversation.pk})  # within 3 s
    # Anna's socket handles her frames in order: a typing frame published for the
    # second `typing` would reach everyone before the message she sends next.
    await anna.request(send_frame(conversation, "Marke", "m1"), "ack", allow=("message",))
    for client in (ben, anna, anna_tab2):
        assert (await client.quiet_until("message"))["body"] == "Marke"
    # Typing where I cannot write is refused.
    carla = await connect(people["carla"])
    refused = await carla.request({"type": "typing", "conversation": conversation.pk}, "typing")
    assert refused["code"] == "forbidden"
    for client in (anna, anna_tab2, ben, carla):
        await client.close()


async def test_read_moves_forward_only_and_syncs_my_other_tabs(people, conversation):
    for number in range(1, 4):
        await db(do_send_message)(
            actor=people["anna"],
            conversation_id=conversation.pk,
            body=f"Nr. {number}",
            client_id=f"r{number}",
        )
    ben = await connect(people["ben"])
    ben_tab2 = await connect(people["ben"])
    await ben.send({"type": "read", "conversation": conversation.pk, "seq": 2})
    for client in (ben, ben_tab2):
        assert await client.receive_type("read") == {
            "type": "read",
            "conversation": conversation.pk,
            "seq": 2,
        }
    await ben.send(
        {"type": "read", "conversation": conversation.pk, "seq": 1}
    )  # backwards: ignored
    await ben.send(
        {"type": "read", "conversation": conversation.pk, "seq": 99}
    )  # capped at last_seq
    assert (await ben_tab2.receive_type("read"))["seq"] == 3
    marker = await db(Participant.objects.get)(conversation=conversation, user=people["ben"])
    assert marker.last_read_seq == 3
    await ben.close()
    await ben_tab2.close()


async def test_ping_pong_echoes_ref(people):
    anna = await connect(people["anna"])
    assert await anna.request({"type": "ping", "ref": "p-1"}, "pong") == {
        "type": "pong",
        "ref": "p-1",
    }
    await anna.close()


BAD_FRAMES = [
    ("not json", "bad_request"),
    ("[1, 2]", "bad_request"),
    ('{"conversation": 1}', "bad_request"),
    ('{"type": 7}', "bad_request"),
    ('{"type": "explode"}', "unknown_type"),
    ('{"type": "_disconnect"}', "unknown_type"),
    ('{"type": "subscribe"}', "bad_request"),
    ('{"type": "subscribe", "conversation": "1"}', "bad_request"),
    ('{"type": "subscribe", "conversation": true}', "bad_request"),
    ('{"type": "subscribe", "conversation": 1, "after": -1}', "bad_request"),
    ('{"type": "subscribe", "conversation": 1, "after": "x"}', "bad_request"),
    ('{"type": "unsubscribe"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "client_id": "x"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": 5, "client_id": "x"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": "hi"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": "hi", "client_id": 1}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": "   ", "client_id": "x"}', "bad_request"),
    ('{"type": "edit", "body": "x"}', "bad_request"),
    ('{"type": "edit", "message": 1}', "bad_request"),
    ('{"type": "delete"}', "bad_request"),
    ('{"type": "typing"}', "bad_request"),
    ('{"type": "read", "conversation": 1}', "bad_request"),
    ('{"type": "read", "conversation": 1, "seq": 1.5}', "bad_request"),
    ('{"type": "ping", "ref": 5}', "bad_request"),
    # Text nobody can store or pass on: NUL, and a lone surrogate spelt in JSON.
    ('{"type": "send", "conversation": 1, "body": "a\\u0000b", "client_id": "x"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": "a\\ud800b", "client_id": "x"}', "bad_request"),
    ('{"type": "send", "conversation": 1, "body": "ok", "client_id": "\\udfff"}', "bad_request"),
    ('{"type": "edit", "message": 1, "body": "\\u0000"}', "bad_request"),
    ('{"type": "ping", "ref": "\\ud800"}', "bad_request"),
    ('{"type": "ping", "x": {"\\u0000": 1}}', "bad_request"),
    # Nested 20,000 deep: the parser's recursion limit, not a crash.
    ("[" * 20_000 + "]" * 20_000, "bad_request"),
    ('{"type": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}", "bad_request"),
]


async def test_a_missing_type_and_a_type_that_is_no_text_are_told_apart(people):
    anna = await connect(people["anna"])
    await anna.send({"conversation": 1})
    assert (await anna.receive_type("error"))["detail"] == "Feld „type“ fehlt."
    await anna.send({"type": 5})
    assert (await anna.receive_type("error"))["detail"] == "„type“ muss Text sein."
    await anna.close()


async def test_bad_input_of_every_kind_gets_an_error_and_the_connection_stays_usable(
    people, conversation
):
    anna = await connect(people["anna"])
    for text, code in BAD_FRAMES:
        text = text.replace('"conversation": 1', f'"conversation": {conversation.pk}')
        await anna.send_text(text)
        error = await anna.receive()
        assert error["type"] == "error", text
        assert error["code"] == code, text
        assert error["detail"], text
    ref_error = await anna.request({"type": "nope", "ref": "x-9"}, "pong")
    assert (ref_error["code"], ref_error["ref"]) == ("unknown_type", "x-9")
    too_long = await anna.request(send_frame(conversation, "x" * 4001, "long"), "ack")
    assert too_long["code"] == "too_large"
    exactly = await anna.request(send_frame(conversation, "ü" * 4000, "exact"), "ack")
    assert exactly["type"] == "ack"
    await anna.communicator.send_to(bytes_data=b'{"type": "ping"}')
    assert (await anna.receive())["code"] == "bad_request"
    # Still usable after all of it, and none of it was stored.
    assert (await anna.request({"type": "ping"}, "pong"))["type"] == "pong"
    assert await db(Message.objects.filter(conversation=conversation).count)() == 1
    await anna.close()


async def test_a_valid_emoji_pair_is_not_mistaken_for_a_lone_surrogate(people, conversation):
    anna = await connect(people["anna"])
    await anna.send_text(
        json.dumps(
            send_frame(conversation, "Glück auf \U0001f600", "emoji") | {"ref": "e"},
            ensure_ascii=True,
        )
    )
    ack = await anna.receive_type("ack")
    assert ack["ref"] == "e"
    stored = await db(Message.objects.get)(pk=ack["id"])
    assert stored.body == "Glück auf \U0001f600"
    await anna.close()


def padded_ping(size: int) -> str:
    frame = '{"type": "ping", "ref": "p", "pad": ""}'
    text = frame.replace('""', '"' + "x" * (size - len(frame)) + '"')
    assert len(text.encode()) == size
    return text


async def test_a_frame_of_exactly_64_kib_is_answered(people):
    anna = await connect(people["anna"])
    await anna.send_text(padded_ping(64 * 1024))
    assert (await anna.receive())["type"] == "pong"
    await anna.close()


async def test_a_frame_over_64_kib_closes_with_4009(people):
    anna = await connect(people["anna"])
    await anna.send_text(padded_ping(64 * 1024 + 1))
    closed = await anna.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4009}


async def test_missing_and_forbidden_ids_get_the_same_answer(people, conversation, make_user):
    carla = await connect(people["carla"])
    missing_id = conversation.pk + 1000
    answers = []
    for target in (conversation.pk, missing_id):
        answers.append(
            await carla.request({"type": "subscribe", "conversation": target}, "subscribed")
        )
        answers.append(
            await carla.request(
                {"type": "send", "conversation": target, "body": "x", "client_id": f"f{target}"},
                "ack",
            )
        )
        answers.append(
            await carla.request({"type": "read", "conversation": target, "seq": 1}, "read")
        )
    for answer in answers:
        assert answer["code"] == "forbidden"
        assert answer["detail"] == answers[0]["detail"]
    message, _ = await db(do_send_message)(
        actor=people["anna"], conversation_id=conversation.pk, body="geheim", client_id="g1"
    )
    for target in (message.pk, message.pk + 1000):
        edit = await carla.request({"type": "edit", "message": target, "body": "x"}, "ack")
        delete = await carla.request({"type": "delete", "message": target}, "ack")
        assert edit["code"] == delete["code"] == "forbidden"
    assert await db(Message.objects.filter(conversation=conversation).count)() == 1
    await carla.close()


async def test_open_group_readable_by_everyone_writable_by_members(people):
    open_conversation = await db(group_with)(people["anna"], open_group=True, title="Offen")
    carla = await connect(people["carla"])
    frames = await carla.subscribe(open_conversation.pk, after=0)
    assert frames[-1]["type"] == "subscribed"
    refused = await carla.request(send_frame(open_conversation, "Hallo", "o1"), "ack")
    assert refused["code"] == "forbidden"
    await db(do_send_message)(
        actor=people["anna"],
        conversation_id=open_conversation.pk,
        body="Willkommen",
        client_id="o2",
    )
    assert (await carla.receive_type("message"))["body"] == "Willkommen"
    await carla.close()
