"""Direct conversations, blocking, and the notifications a message causes
(issue 5, chat side): direct-message notifications and @mentions."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from accounts.models import Block
from chat.actions import (
    do_get_or_create_direct_conversation,
    do_mark_read,
    do_send_message,
    do_set_notification_level,
    find_mentions,
)
from chat.models import Conversation, Message
from notifications.models import Notification
from realtime.errors import ClientError
from tests.chat.helpers import connect, group_with
from tests.chat.test_api import Api


def test_direct_conversation_is_one_per_pair_even_when_opened_at_once(
    transactional_db: Any, make_user: Any
) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    barrier = threading.Barrier(6)
    results: list[tuple[int, bool]] = []

    def open_it(actor: Any, other: Any) -> None:
        try:
            barrier.wait()
            conversation, created = do_get_or_create_direct_conversation(
                actor=actor, other_user_id=other.pk
            )
            results.append((conversation.pk, created))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=open_it, args=(anna, ben) if i % 2 else (ben, anna))
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    conversation = Conversation.objects.get()
    assert conversation.kind == "direct"
    assert set(conversation.participants.values_list("user_id", flat=True)) == {anna.pk, ben.pk}


def test_direct_api_titles_and_access(db: Any, make_user: Any) -> None:
    anna, ben, carla = make_user("Anna Becker"), make_user("Ben Öztürk"), make_user("Carla Schmitz")
    opened = Api(anna).post("/conversations/direct", {"user_id": ben.pk})
    assert opened.status_code == 201
    conversation = opened.json()
    assert (conversation["kind"], conversation["title"]) == ("direct", "Ben Öztürk")
    again = Api(ben).post("/conversations/direct", {"user_id": anna.pk})
    assert again.status_code == 200
    assert again.json()["id"] == conversation["id"]
    assert again.json()["title"] == "Anna Becker"
    path = f"/conversations/{conversation['id']}/messages"
    assert Api(anna).post(path, {"body": "Hallo Ben", "client_id": "d1"}).status_code == 201
    assert [m["body"] for m in Api(ben).get(path).json()["results"]] == ["Hallo Ben"]
    # A third person neither reads nor writes, and gets the answer of a missing id.
    missing = Api(carla).get(f"/conversations/{conversation['id'] + 999}/messages")
    assert Api(carla).get(path).status_code == 403
    assert Api(carla).get(path).json() == missing.json()
    assert Api(carla).post(path, {"body": "x", "client_id": "c"}).status_code == 403
    assert Api(anna).post("/conversations/direct", {"user_id": anna.pk}).status_code == 400
    unknown = Api(anna).post("/conversations/direct", {"user_id": 10**9})
    assert unknown.status_code == 403
    # A wrong type is bad input (400): it names no id, so it reveals nothing.
    assert Api(anna).post("/conversations/direct", {"user_id": "x"}).status_code == 400


def test_blocking_stops_starting_and_continuing_and_unblock_restores(
    db: Any, make_user: Any
) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    do_send_message(actor=anna, conversation_id=conversation.pk, body="Hallo", client_id="b1")
    block = Block.objects.create(blocker=ben, blocked=anna)
    for actor, other in ((anna, ben), (ben, anna)):
        with pytest.raises(ClientError) as error:
            do_send_message(
                actor=actor, conversation_id=conversation.pk, body="x", client_id=f"x{actor.pk}"
            )
        assert error.value.code == "forbidden"
        with pytest.raises(ClientError) as error:
            do_get_or_create_direct_conversation(actor=actor, other_user_id=other.pk)
        assert error.value.code == "forbidden"
    # The blocked one gets exactly the answer for a conversation that does not exist.
    blocked = Api(anna).post(
        f"/conversations/{conversation.pk}/messages", {"body": "x", "client_id": "y"}
    )
    missing = Api(anna).post(
        f"/conversations/{conversation.pk + 999}/messages", {"body": "x", "client_id": "z"}
    )
    assert blocked.status_code == missing.status_code == 403
    assert blocked.json() == missing.json()
    # Group conversations are unaffected.
    group = group_with(anna, ben)
    do_send_message(actor=anna, conversation_id=group.pk, body="in der Gruppe", client_id="g1")
    block.delete()
    message, created = do_send_message(
        actor=anna, conversation_id=conversation.pk, body="wieder da", client_id="b2"
    )
    assert (created, message.seq) == (True, 2)


def test_direct_message_notifies_once_per_unread_stretch(db: Any, make_user: Any) -> None:
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    for n in range(3):
        do_send_message(
            actor=anna, conversation_id=conversation.pk, body=f"Nachricht {n}", client_id=f"n{n}"
        )
    [notification] = Notification.objects.filter(recipient=ben)
    assert notification.kind == "direct_message"
    assert notification.data["conversation"] == conversation.pk
    assert notification.data["author"] == {"id": anna.pk, "display_name": "Anna Becker"}
    assert notification.data["preview"] == "Nachricht 0"
    assert not Notification.objects.filter(recipient=anna).exists()
    do_mark_read(actor=ben, conversation=conversation, seq=3)
    notification.refresh_from_db()
    assert notification.read_at is not None
    do_send_message(actor=anna, conversation_id=conversation.pk, body="Noch was", client_id="n9")
    assert Notification.objects.filter(recipient=ben, kind="direct_message").count() == 2
    assert Notification.objects.filter(recipient=ben, read_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
async def test_notifications_reach_every_open_socket_of_the_recipient_only(make_user):
    db = database_sync_to_async
    anna, ben = await db(make_user)("Anna Becker"), await db(make_user)("Ben Öztürk")
    conversation, _ = await db(do_get_or_create_direct_conversation)(
        actor=anna, other_user_id=ben.pk
    )
    ben_tabs = [await connect(ben), await connect(ben)]
    anna_socket = await connect(anna)
    await db(do_send_message)(
        actor=anna, conversation_id=conversation.pk, body="Haben Sie Zeit?", client_id="live"
    )
    for tab in ben_tabs:
        frame = await tab.receive_type("notification")
        assert frame["kind"] == "direct_message"
        assert frame["data"]["preview"] == "Haben Sie Zeit?"
    # Anna's first notification is Ben's answer: none came for her own message.
    await db(do_send_message)(
        actor=ben, conversation_id=conversation.pk, body="Ja, gern.", client_id="answer"
    )
    first = await anna_socket.quiet_until("notification", kind="direct_message")
    assert first["data"]["preview"] == "Ja, gern."
    for client in [*ben_tabs, anna_socket]:
        await client.close()


def test_mentions_longest_match_umlauts_and_boundaries() -> None:
    names = {1: "Anna Becker", 2: "Anna Becker-Schulz", 3: "Jörg Müller", 4: "Anna"}
    assert find_mentions("Hallo @Anna Becker-Schulz!", names) == {2}
    assert find_mentions("@anna becker, @jörg müller: bitte ansehen", names) == {1, 3}
    assert find_mentions("@Annabel kommt nicht", names) == set()
    assert find_mentions("@Anna, schau mal", names) == {4}
    assert find_mentions("mail an anna@example.de", names) == set()
    assert find_mentions("@Unbekannte Person", names) == set()


def test_mention_notifies_members_unless_muted(db: Any, make_user: Any) -> None:
    anna = make_user("Anna Becker")
    joerg = make_user("Jörg Müller")
    muted = make_user("Özlem Şahin")
    outsider = make_user("Carla Schmitz")
    group = group_with(anna, joerg, muted)
    do_set_notification_level(conversation=group, user=muted, level="muted")
    do_send_message(
        actor=anna,
        conversation_id=group.pk,
        body="@Jörg Müller und @Özlem Şahin, @Carla Schmitz und @Niemand: Treffen am Montag?",
        client_id="m1",
    )
    message = Message.objects.get()
    [mention] = Notification.objects.filter(kind="mention")
    assert mention.recipient == joerg
    assert mention.data["message"] == message.pk
    assert mention.data["conversation"] == group.pk
    assert not Notification.objects.filter(recipient__in=[muted, outsider, anna]).exists()
    # Mentioning oneself notifies nobody.
    do_send_message(
        actor=joerg, conversation_id=group.pk, body="@Jörg Müller notiz", client_id="m2"
    )
    assert Notification.objects.filter(kind="mention").count() == 1
