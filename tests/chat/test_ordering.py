"""Order comes from the database's seq, never from the clock (docs/architecture.md, rule 5):
a sender takes its timestamp before it gets the conversation's lock, so a message
with a later seq may carry an earlier `created_at`. The catch-up after a disconnect
and every page of history still follow seq."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client as HttpClient
from django.utils import timezone

from chat.actions import do_send_message
from chat.models import Message
from tests.chat.helpers import connect, group_with

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def messages_with_clock_against_seq(make_user: Any) -> tuple[Any, Any]:
    """Five messages whose timestamps run backwards against their seqs."""
    anna, ben = make_user("Anna Becker"), make_user("Ben Öztürk")
    conversation = group_with(anna, ben)
    for number in range(1, 6):
        do_send_message(
            actor=anna,
            conversation_id=conversation.pk,
            body=f"Nr. {number}",
            client_id=f"o{number}",
        )
    start = timezone.now()
    for seq in range(1, 6):
        Message.objects.filter(conversation=conversation, seq=seq).update(
            created_at=start - timedelta(seconds=seq)
        )
    return conversation, ben


async def test_catch_up_follows_seq_when_timestamps_disagree(make_user):
    conversation, ben = await db(messages_with_clock_against_seq)(make_user)
    socket = await connect(ben)
    frames = await socket.subscribe(conversation.pk, after=1)
    assert [(f["seq"], f["body"]) for f in frames[:-1]] == [
        (2, "Nr. 2"),
        (3, "Nr. 3"),
        (4, "Nr. 4"),
        (5, "Nr. 5"),
    ]
    await socket.close()


def test_history_pages_follow_seq_when_timestamps_disagree(make_user):
    conversation, ben = messages_with_clock_against_seq(make_user)
    http = HttpClient()
    http.force_login(ben)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    for query, seqs in (
        ("", [1, 2, 3, 4, 5]),
        ("?after=0&limit=2", [1, 2]),
        ("?after=2", [3, 4, 5]),
        ("?before=5&limit=2", [3, 4]),
    ):
        body = http.get(url + query).json()
        assert [m["seq"] for m in body["results"]] == seqs, query
