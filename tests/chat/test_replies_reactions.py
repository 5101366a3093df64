"""Replies and reactions (PROTOCOL.md 1.1, docs/replies-reactions.md) over the WebSocket
(the real ASGI application) and HTTP: shapes, notifications, bad input, permissions
from one setup, and query counts that do not grow with the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.actions import do_block_person
from chat.actions import (
    do_delete_message,
    do_send_message,
    do_set_notification_level,
    do_set_reaction,
)
from chat.models import Message, Reaction
from chat.reactions import ALLOWED_EMOJI
from notifications.models import Notification
from tests.chat.helpers import connect, group_with, publish_marker, token_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async
HEART = "\u2764\ufe0f"


class Api:
    def __init__(self, user: Any) -> None:
        self.client = HttpClient(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/api/v1{path}", body, content_type="application/json")

    def put(self, path: str) -> Any:
        return self.client.put(f"/api/v1{path}")

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1{path}")


def get_as(user: Any, path: str) -> Any:
    return Api(user).get(path)


def reaction_path(conversation_id: int, message_id: int, emoji: str) -> str:
    return f"/conversations/{conversation_id}/messages/{message_id}/reactions/{quote(emoji)}"


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {
        "anna": make_user("Anna Becker", company_name="Stahlbau Witten"),
        "ben": make_user("Ben Öztürk"),
        "carla": make_user("Carla Schmitz"),
    }


def post(user: Any, conversation: Any, body: str, client_id: str, **extra: Any) -> Message:
    message, _ = do_send_message(
        actor=user, conversation_id=conversation.pk, body=body, client_id=client_id, **extra
    )
    return message


# --- replies -------------------------------------------------------------------------


async def test_a_reply_over_the_socket_carries_its_original_and_notifies_its_author(people):
    conversation = await db(group_with)(people["anna"], people["ben"])
    long_text = "Wer liefert Stahlträger nach Herne? " * 10
    original = await db(post)(people["anna"], conversation, long_text, "o-1")
    ben = await connect(people["ben"])
    anna = await connect(people["anna"])
    await anna.subscribe(conversation.pk)
    await ben.subscribe(conversation.pk)

    ack = await ben.request(
        {
            "type": "send",
            "conversation": conversation.pk,
            "body": "Wir, ab Montag.",
            "client_id": "r-1",
            "reply_to": original.pk,
        },
        "ack",
        allow=("message",),
    )
    assert ack["type"] == "ack", ack
    excerpt = " ".join(long_text.split())[:139] + "…"
    expected_reply_to = {
        "id": original.pk,
        "seq": 1,
        "author": {"id": people["anna"].pk, "display_name": "Anna Becker"},
        "excerpt": excerpt,
    }
    frame = await anna.receive_type("message")
    assert frame["reply_to"] == expected_reply_to
    assert len(frame["reply_to"]["excerpt"]) == 140
    assert frame["reactions"] == []
    notification = await anna.receive_type("notification")
    assert notification["kind"] == "reply"
    assert notification["data"]["message"] == ack["id"]
    assert notification["data"]["reply_to"] == {"id": original.pk, "seq": 1}
    assert notification["data"]["author"] == {"id": people["ben"].pk, "display_name": "Ben Öztürk"}

    # A retry with the same client_id is the same message, with the same reply_to.
    retry = await ben.request(
        {
            "type": "send",
            "conversation": conversation.pk,
            "body": "Wir, ab Montag.",
            "client_id": "r-1",
            "reply_to": original.pk,
        },
        "ack",
        allow=("message",),
    )
    assert (retry["type"], retry["id"]) == ("ack", ack["id"])
    assert await db(Message.objects.count)() == 2
    assert await db(Notification.objects.filter(kind="reply").count)() == 1

    # History carries it; once the original is deleted its excerpt is empty.
    history = (await db(get_as)(people["ben"], f"/conversations/{conversation.pk}/messages")).json()
    assert history["results"][1]["reply_to"] == expected_reply_to
    await db(do_delete_message)(actor=people["anna"], message_id=original.pk)
    history = (await db(get_as)(people["ben"], f"/conversations/{conversation.pk}/messages")).json()
    assert history["results"][1]["reply_to"] == {**expected_reply_to, "excerpt": ""}
    await anna.close()
    await ben.close()


@pytest.mark.parametrize(
    ("reply_to", "why"),
    [
        ("7", "a string"),
        (True, "a boolean"),
        (-1, "a negative number"),
        ({"id": 1}, "an object"),
        (999_999_999, "a missing message"),
        ("other", "a message of another conversation"),
        ("deleted", "a deleted message"),
    ],
)
async def test_a_bad_reply_to_over_the_socket_stores_nothing(people, reply_to, why):
    conversation = await db(group_with)(people["anna"], people["ben"])
    elsewhere = await db(group_with)(people["carla"], title="Geheim", open_group=False)
    secret = await db(post)(people["carla"], elsewhere, "Nur für uns", "s-1")
    gone = await db(post)(people["anna"], conversation, "Weg damit", "g-1")
    await db(do_delete_message)(actor=people["anna"], message_id=gone.pk)
    named = {"other": secret.pk, "deleted": gone.pk}
    target = named.get(reply_to, reply_to) if isinstance(reply_to, str) else reply_to
    ben = await connect(people["ben"])
    error = await ben.request(
        {
            "type": "send",
            "conversation": conversation.pk,
            "body": "Antwort",
            "client_id": "x-1",
            "reply_to": target,
        },
        "ack",
    )
    assert (error["type"], error["code"]) == ("error", "bad_request"), why
    assert "Nur für uns" not in error["detail"]
    assert not await db(Message.objects.filter(client_id="x-1").exists)()
    # The connection stays usable, and the same client_id can still be used.
    ack = await ben.request(
        {"type": "send", "conversation": conversation.pk, "body": "Antwort", "client_id": "x-1"},
        "ack",
    )
    assert ack["type"] == "ack"
    await ben.close()


def test_replies_over_http(people: dict[str, Any]) -> None:
    conversation = group_with(people["anna"], people["ben"])
    other = group_with(people["anna"], people["ben"], title="Andere Gruppe")
    original = post(people["anna"], conversation, "Wer hat einen Gabelstapler?", "o-1")
    foreign = post(people["anna"], other, "Anderswo", "f-1")
    api = Api(people["ben"])
    path = f"/conversations/{conversation.pk}/messages"
    created = api.post(path, {"body": "Ich!", "client_id": "h-1", "reply_to": original.pk})
    assert created.status_code == 201, created.content
    assert created.json()["reply_to"] == {
        "id": original.pk,
        "seq": 1,
        "author": {"id": people["anna"].pk, "display_name": "Anna Becker"},
        "excerpt": "Wer hat einen Gabelstapler?",
    }
    again = api.post(path, {"body": "Ich!", "client_id": "h-1", "reply_to": original.pk})
    assert (again.status_code, again.json()["id"]) == (200, created.json()["id"])

    for bad in (foreign.pk, 999_999_999, "1", 1.5, [original.pk]):
        refused = api.post(path, {"body": "Ich!", "client_id": f"bad-{bad}", "reply_to": bad})
        assert refused.status_code == 400, (bad, refused.content)
        assert refused.json()["error"]["code"] == "bad_request"
        assert "reply_to" in refused.json()["error"]["fields"]
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert Notification.objects.filter(kind="reply", recipient=people["anna"]).count() == 1


def test_who_hears_of_a_reply(people: dict[str, Any], make_user: Any) -> None:
    """Not oneself, not a muted conversation, not across a block, not twice with a
    mention; "Nur Erwähnungen" still hears of replies; in a direct conversation the
    direct-message notification says it."""
    anna, ben, carla = people["anna"], people["ben"], people["carla"]
    dora = make_user("Dora Weber")
    conversation = group_with(anna, ben, carla, dora)
    by_anna = post(anna, conversation, "Frage von Anna", "a-1")
    by_carla = post(carla, conversation, "Frage von Carla", "c-1")
    by_dora = post(dora, conversation, "Frage von Dora", "d-1")

    post(anna, conversation, "Ich antworte mir selbst", "a-2", reply_to=by_anna.pk)
    assert not Notification.objects.filter(kind="reply", recipient=anna).exists()

    do_set_notification_level(conversation=conversation, user=carla, level="muted")
    post(ben, conversation, "An Carla", "b-1", reply_to=by_carla.pk)
    assert not Notification.objects.filter(kind="reply", recipient=carla).exists()

    do_set_notification_level(conversation=conversation, user=dora, level="mentions")
    post(ben, conversation, "An Dora", "b-2", reply_to=by_dora.pk)
    assert Notification.objects.filter(kind="reply", recipient=dora).count() == 1

    post(ben, conversation, "@Anna Becker genau", "b-3", reply_to=by_anna.pk)
    assert [n.kind for n in Notification.objects.filter(recipient=anna)] == ["mention"]

    do_block_person(actor=anna, person=ben)
    post(ben, conversation, "Trotzdem", "b-4", reply_to=by_anna.pk)
    assert [n.kind for n in Notification.objects.filter(recipient=anna)] == ["mention"]

    from chat.actions import do_get_or_create_direct_conversation

    direct, _ = do_get_or_create_direct_conversation(actor=carla, other_user_id=dora.pk)
    first = post(carla, direct, "Hallo Dora", "dm-1")
    post(dora, direct, "Hallo Carla", "dm-2", reply_to=first.pk)
    assert not Notification.objects.filter(kind="reply", recipient=carla).exists()
    assert Notification.objects.filter(kind="direct_message", recipient=carla).count() == 1


# --- reactions ------------------------------------------------------------------------


async def test_a_reaction_reaches_every_subscriber_and_the_reactors_other_tab(people):
    conversation = await db(group_with)(people["anna"], people["ben"])
    message = await db(post)(people["anna"], conversation, "Neue Halle eröffnet!", "m-1")
    ben = await connect(people["ben"])
    ben_tab = await connect(people["ben"])
    anna = await connect(people["anna"])
    for client in (ben, ben_tab, anna):
        await client.subscribe(conversation.pk)

    react = {"type": "react", "message": message.pk, "emoji": HEART, "on": True}
    ack = await ben.request(dict(react), "ack", allow=("reaction",))
    assert ack == {
        "type": "ack",
        "ref": ack["ref"],
        "conversation": conversation.pk,
        "message": message.pk,
        "seq": 1,
        "emoji": HEART,
        "on": True,
        "changed": True,
        "reactions": [
            {
                "emoji": HEART,
                "count": 1,
                "mine": True,
                "users": [{"id": people["ben"].pk, "display_name": "Ben Öztürk"}],
            }
        ],
    }
    expected = {
        "type": "reaction",
        "conversation": conversation.pk,
        "message": message.pk,
        "seq": 1,
        "emoji": HEART,
        "user": {"id": people["ben"].pk, "display_name": "Ben Öztürk"},
        "on": True,
    }
    for client in (ben, ben_tab, anna):
        assert await client.receive_type("reaction") == expected

    # Setting it again is still one reaction, and nobody is told anything new.
    again = await ben.request(dict(react), "ack")
    assert (again["changed"], again["reactions"][0]["count"]) == (False, 1)
    await db(publish_marker)(f"conv:{conversation.pk}")
    for client in (ben, ben_tab, anna):
        await client.quiet_until("marker")
    assert await db(Reaction.objects.count)() == 1

    # History is per viewer: Ben's own, not Anna's.
    history_ben = await db(get_as)(people["ben"], f"/conversations/{conversation.pk}/messages")
    history_anna = await db(get_as)(people["anna"], f"/conversations/{conversation.pk}/messages")
    assert history_ben.json()["results"][0]["reactions"][0]["mine"] is True
    assert history_anna.json()["results"][0]["reactions"][0]["mine"] is False
    # So is a backlog.
    late = await connect(people["anna"])
    backlog = await late.subscribe(conversation.pk, after=0)
    assert backlog[0]["reactions"] == [
        {
            "emoji": HEART,
            "count": 1,
            "mine": False,
            "users": [{"id": people["ben"].pk, "display_name": "Ben Öztürk"}],
        }
    ]

    off = await ben.request({**react, "on": False}, "ack", allow=("reaction",))
    assert (off["changed"], off["reactions"]) == (True, [])
    for client in (ben, ben_tab, anna, late):
        assert await client.receive_type("reaction") == {**expected, "on": False}
    assert await db(Reaction.objects.count)() == 0
    for client in (ben, ben_tab, anna, late):
        await client.close()


BAD_REACTS = [
    ({"message": "1", "emoji": HEART, "on": True}, "message as a string"),
    ({"emoji": HEART, "on": True}, "no message"),
    ({"message": 0, "emoji": 5, "on": True}, "emoji a number"),
    ({"message": 0, "emoji": HEART, "on": "yes"}, "on a string"),
    ({"message": 0, "emoji": HEART}, "no on"),
    ({"message": 0, "emoji": "🤡", "on": True}, "an emoji outside the set"),
    ({"message": 0, "emoji": "\u2764", "on": True}, "the heart without U+FE0F"),
    ({"message": 0, "emoji": "\U0001f44d\U0001f3fd", "on": True}, "a skin tone"),
    ({"message": 0, "emoji": "<b>x</b>", "on": True}, "markup"),
    ({"message": 0, "emoji": "", "on": True}, "empty"),
]


@pytest.mark.parametrize(("fields", "why"), BAD_REACTS, ids=[why for _, why in BAD_REACTS])
async def test_bad_reactions_are_refused_and_the_socket_stays_usable(people, fields, why):
    conversation = await db(group_with)(people["anna"], people["ben"])
    message = await db(post)(people["anna"], conversation, "Hallo", "m-1")
    frame = {"type": "react", **fields}
    if frame.get("message") == 0:
        frame["message"] = message.pk
    ben = await connect(people["ben"])
    error = await ben.request(frame, "ack")
    assert (error["type"], error["code"]) == ("error", "bad_request"), (why, error)
    assert await db(Reaction.objects.count)() == 0
    ok = await ben.request(
        {"type": "react", "message": message.pk, "emoji": "\u2705", "on": True}, "ack"
    )
    assert (ok["type"], ok["changed"]) == ("ack", True)
    await ben.close()


async def test_every_documented_emoji_is_accepted_in_its_documented_form(people):
    conversation = await db(group_with)(people["anna"], people["ben"])
    message = await db(post)(people["anna"], conversation, "Hallo", "m-1")
    ben = await connect(people["ben"])
    for emoji in ALLOWED_EMOJI:
        ack = await ben.request(
            {"type": "react", "message": message.pk, "emoji": emoji, "on": True}, "ack"
        )
        assert ack["type"] == "ack", (emoji, ack)
    assert [r["emoji"] for r in ack["reactions"]] == list(ALLOWED_EMOJI)
    assert "\u2764\ufe0f" in ALLOWED_EMOJI and "\u2764" not in ALLOWED_EMOJI
    assert {"👍", "❤️", "😄", "🎉", "👀", "🙏", "✅"} <= set(ALLOWED_EMOJI)
    await ben.close()


def test_reactions_over_http_with_url_encoded_emoji(people: dict[str, Any]) -> None:
    conversation = group_with(people["anna"], people["ben"])
    message = post(people["anna"], conversation, "Danke für die Hilfe", "m-1")
    api = Api(people["ben"])
    path = reaction_path(conversation.pk, message.pk, HEART)
    assert "%E2%9D%A4%EF%B8%8F" in path
    first = api.put(path)
    assert first.status_code == 200, first.content
    assert first.json() == {
        "conversation": conversation.pk,
        "message": message.pk,
        "emoji": HEART,
        "on": True,
        "changed": True,
        "reactions": [
            {
                "emoji": HEART,
                "count": 1,
                "mine": True,
                "users": [{"id": people["ben"].pk, "display_name": "Ben Öztürk"}],
            }
        ],
    }
    assert api.put(path).json()["changed"] is False
    assert Reaction.objects.count() == 1
    Api(people["anna"]).put(path)
    seen_by_anna = Api(people["anna"]).get(f"/conversations/{conversation.pk}/messages")
    assert seen_by_anna.json()["results"][0]["reactions"][0]["count"] == 2
    removed = api.delete(path)
    assert removed.status_code == 200
    assert removed.json()["reactions"][0] == {
        "emoji": HEART,
        "count": 1,
        "mine": False,
        "users": [{"id": people["anna"].pk, "display_name": "Anna Becker"}],
    }
    assert api.delete(path).json()["changed"] is False

    for bad in ("🤡", "\u2764", "x", "%F0"):
        refused = api.put(reaction_path(conversation.pk, message.pk, bad))
        assert refused.status_code == 400, (bad, refused.content)
        assert refused.json()["error"]["code"] == "bad_request"
    # The message must belong to the conversation of the URL.
    other = group_with(people["ben"], title="Andere")
    wrong = api.put(reaction_path(other.pk, message.pk, HEART))
    assert wrong.status_code == 403
    assert Reaction.objects.count() == 1
    schema = api.get("/openapi.json").json()
    assert (
        "/api/v1/conversations/{conversation_id}/messages/{message_id}/reactions/{emoji}"
        in schema["paths"]
    )


def test_reacting_to_a_deleted_message_is_a_conflict_and_deleting_removes_reactions(
    people: dict[str, Any],
) -> None:
    conversation = group_with(people["anna"], people["ben"])
    message = post(people["anna"], conversation, "Gleich weg", "m-1")
    do_set_reaction(actor=people["ben"], message_id=message.pk, emoji="👍", on=True)
    do_delete_message(actor=people["anna"], message_id=message.pk)
    assert Reaction.objects.count() == 0
    refused = Api(people["ben"]).put(reaction_path(conversation.pk, message.pk, "👍"))
    assert refused.status_code == 409
    assert Reaction.objects.count() == 0


@pytest.mark.parametrize("who", ["member", "outsider", "reader of an open group", "missing"])
def test_who_may_react_over_http(people: dict[str, Any], who: str) -> None:
    """One setup, allowed and forbidden: members react; an outsider of a closed group
    gets the same answer as for a message that does not exist; a reader of an open
    group who did not join may read but not react (who may write)."""
    closed = group_with(people["anna"], people["ben"], title="Vorstand", open_group=False)
    open_group = group_with(people["anna"], title="Offen", open_group=True)
    in_closed = post(people["anna"], closed, "Interna", "m-1")
    in_open = post(people["anna"], open_group, "Für alle", "m-2")
    missing = {"error": {"code": "forbidden", "detail": "Kein Zugriff oder nicht vorhanden."}}
    user, conversation, message_id = {
        "member": (people["ben"], closed, in_closed.pk),
        "outsider": (people["carla"], closed, in_closed.pk),
        "reader of an open group": (people["carla"], open_group, in_open.pk),
        "missing": (people["carla"], closed, 999_999_999),
    }[who]
    answer = Api(user).put(reaction_path(conversation.pk, message_id, "👍"))
    if who == "member":
        assert answer.status_code == 200
        assert Reaction.objects.count() == 1
        return
    assert answer.status_code == 403
    assert answer.json() == missing
    assert "Interna" not in answer.content.decode()
    assert Reaction.objects.count() == 0


async def test_an_outsider_of_a_closed_group_cannot_react_over_the_socket(people):
    closed = await db(group_with)(people["anna"], title="Vorstand", open_group=False)
    message = await db(post)(people["anna"], closed, "Interna", "m-1")
    carla = await connect(people["carla"])
    react = {"type": "react", "emoji": "👍", "on": True}
    forbidden = await carla.request({**react, "message": message.pk}, "ack")
    missing = await carla.request({**react, "message": 999_999_999}, "ack")
    assert forbidden["code"] == missing["code"] == "forbidden"
    assert forbidden["detail"] == missing["detail"]
    assert await db(Reaction.objects.count)() == 0
    assert await carla.nothing()
    await carla.close()


@override_settings(NETZN_ACTION_LIMITS={"reaction": (3, 3600)})
async def test_reacting_is_rate_limited(people):
    conversation = await db(group_with)(people["anna"], people["ben"])
    message = await db(post)(people["anna"], conversation, "Hallo", "m-1")
    ben = await connect(people["ben"])
    for n, on in enumerate((True, False, True)):
        ack = await ben.request(
            {"type": "react", "message": message.pk, "emoji": "👍", "on": on}, "ack"
        )
        assert ack["type"] == "ack", (n, ack)
    limited = await ben.request(
        {"type": "react", "message": message.pk, "emoji": "🎉", "on": True}, "ack"
    )
    assert limited["code"] == "rate_limited"
    assert limited["retry_after"] > 0
    assert await db(Reaction.objects.filter(emoji="🎉").exists)() is False
    assert await ben.nothing()
    await ben.close()


def test_a_history_page_costs_the_same_queries_for_few_and_many(
    people: dict[str, Any], make_user: Any
) -> None:
    """Replies and reactions of a page are loaded with the page, not per message."""
    crowd = [make_user(f"Person {n}") for n in range(6)]

    def page_queries(count: int) -> int:
        conversation = group_with(people["anna"], people["ben"], *crowd, title=f"G{count}")
        previous = None
        for n in range(count):
            message = post(
                crowd[n % 6],
                conversation,
                f"Nachricht {n}",
                f"q{count}-{n}",
                reply_to=previous.pk if previous else None,
            )
            for person in crowd[: 1 + n % 6]:
                for emoji in ("👍", "🎉"):
                    do_set_reaction(actor=person, message_id=message.pk, emoji=emoji, on=True)
            previous = message
        api = Api(people["anna"])
        api.get(f"/conversations/{conversation.pk}/messages")  # warm: token, session
        with CaptureQueriesContext(connection) as queries:
            answer = api.get(f"/conversations/{conversation.pk}/messages?limit=200")
        assert answer.status_code == 200
        results = answer.json()["results"]
        assert len(results) == count
        assert results[-1]["reply_to"]["seq"] == count - 1
        assert results[-1]["reactions"][0]["count"] == 1 + (count - 1) % 6
        return len(queries)

    with override_settings(NETZN_ACTION_LIMITS={"reaction": (10_000, 3600)}):
        few, many = page_queries(3), page_queries(30)
    assert few == many


def test_the_export_holds_my_reactions_and_deletion_removes_them(people: dict[str, Any]) -> None:
    from accounts.privacy import do_delete_person

    conversation = group_with(people["anna"], people["ben"])
    message = post(people["anna"], conversation, "Hallo", "m-1")
    do_set_reaction(actor=people["ben"], message_id=message.pk, emoji="🙏", on=True)
    do_set_reaction(actor=people["anna"], message_id=message.pk, emoji="👍", on=True)
    export = Api(people["ben"]).get("/me/export").json()
    assert export["chat"]["reactions"] == [
        {
            "conversation": conversation.pk,
            "message": message.pk,
            "emoji": "🙏",
            "created_at": Reaction.objects.get(user=people["ben"]).created_at.isoformat(),
        }
    ]
    do_delete_person(actor=people["ben"], person=people["ben"], password=PASSWORD)
    assert list(Reaction.objects.values_list("emoji", flat=True)) == ["👍"]


def test_no_reactions_in_an_archived_group_or_a_direct_conversation_with_a_block(
    people: dict[str, Any],
) -> None:
    """Who may write may react: not in an archived group, not where either person of a
    direct conversation blocked the other; a reaction set twice or removed twice
    changes nothing the second time."""
    from chat.actions import do_get_or_create_direct_conversation
    from realtime.errors import ClientError

    anna, ben = people["anna"], people["ben"]
    group = group_with(anna, ben, title="Archiv", open_group=False)
    message = post(anna, group, "Alt", "m-archived")
    assert do_set_reaction(actor=ben, message_id=message.pk, emoji="👍", on=True)[1] is True
    assert do_set_reaction(actor=ben, message_id=message.pk, emoji="👍", on=True)[1] is False
    assert do_set_reaction(actor=ben, message_id=message.pk, emoji="👍", on=False)[1] is True
    assert do_set_reaction(actor=ben, message_id=message.pk, emoji="👍", on=False)[1] is False
    group.read_only = True
    group.save(update_fields=["read_only"])
    with pytest.raises(ClientError) as archived:
        do_set_reaction(actor=ben, message_id=message.pk, emoji="👍", on=True)
    assert archived.value.code == "forbidden"

    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    hello = post(anna, direct, "Hallo Ben", "m-direct")
    do_block_person(actor=ben, person=anna)
    for reactor in (anna, ben):
        with pytest.raises(ClientError) as blocked:
            do_set_reaction(actor=reactor, message_id=hello.pk, emoji="👍", on=True)
        assert blocked.value.code == "forbidden"
    assert Reaction.objects.count() == 0
