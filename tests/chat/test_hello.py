"""The conversations of the WebSocket `hello` frame (`chat.access.hello_conversations`,
read as rows on every handshake): the same list, order, titles and read markers as the
conversation list (`conversations_of`), in at most two queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.access import conversations_of, hello_conversations
from chat.actions import (
    do_get_or_create_direct_conversation,
    do_get_or_create_group_direct_conversation,
    do_mark_read,
    do_send_message,
)
from chat.models import Participant
from tests.chat.helpers import group_with

pytestmark = pytest.mark.django_db

HELLO_KEYS = ("id", "kind", "title", "last_seq", "last_read_seq")


def test_hello_lists_what_the_conversation_list_lists(make_user: Any) -> None:
    anna = make_user("Anna Becker")
    ben = make_user("Ben Öztürk")
    carla = make_user("Carla Schmitz")
    quiet = group_with(anna, ben, title="Ruhige Gruppe")
    busy = group_with(anna, carla, title="Handwerk Bochum")
    group_with(ben, carla, title="Offen, ohne Anna", open_group=True)
    pair, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    three, _ = do_get_or_create_group_direct_conversation(actor=anna, user_ids=[ben.pk, carla.pk])
    for number, conversation in enumerate([busy, pair, busy, three, busy]):
        do_send_message(
            actor=carla if conversation.pk != pair.pk else ben,
            conversation_id=conversation.pk,
            body=f"Nachricht {number}",
            client_id=f"c{number}",
        )
    busy.refresh_from_db()
    do_mark_read(actor=anna, conversation=busy, seq=1)
    # A read marker past the end (a conversation's messages purged) shows the end.
    Participant.objects.filter(conversation=quiet, user=anna).update(last_read_seq=99)

    with CaptureQueriesContext(connection) as queries:
        hello = hello_conversations(anna)
    assert len(queries) == 2
    listed = [{key: item[key] for key in HELLO_KEYS} for item in conversations_of(anna)]
    assert hello == listed
    assert [item["title"] for item in hello] == [
        "Handwerk Bochum",
        "Ben Öztürk und Carla Schmitz",
        "Ben Öztürk",
        "Ruhige Gruppe",
    ]
    by_id = {item["id"]: item for item in hello}
    assert (by_id[busy.pk]["last_seq"], by_id[busy.pk]["last_read_seq"]) == (3, 1)
    assert by_id[quiet.pk]["last_read_seq"] == 0


def test_hello_of_someone_in_groups_only_is_one_query(make_user: Any) -> None:
    anna = make_user()
    group_with(anna)
    with CaptureQueriesContext(connection) as queries:
        hello = hello_conversations(anna)
    assert len(queries) == 1
    assert [item["kind"] for item in hello] == ["group"]
    assert hello_conversations(make_user()) == []
