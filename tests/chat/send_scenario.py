"""One scenario of the send path that tests/chat/test_send_sqlite.py runs on both
databases (here in the suite on PostgreSQL, and in `manage.py shell` on SQLite) to
show that `do_send_messages` answers the same on each."""

from __future__ import annotations

from typing import Any

from accounts.models import Block, User
from chat.actions import (
    SendRequest,
    SendResult,
    do_add_participant,
    do_create_group_conversation,
    do_get_or_create_direct_conversation,
    do_send_message,
    do_send_messages,
    do_update_group_conversation,
)
from chat.models import Message, Participant
from notifications.models import Notification
from realtime.errors import ClientError


def answers(results: list[SendResult]) -> list[Any]:
    return [r.code if isinstance(r, ClientError) else [r[0].seq, r[1]] for r in results]


def run(tag: str) -> dict[str, Any]:
    anna, ben, carla = (
        User.objects.create_user(email=f"{n}-{tag}@example.de", display_name=name)
        for n, name in (("anna", "Anna Becker"), ("ben", "Ben Öztürk"), ("carla", "Carla Schmitz"))
    )
    group = do_create_group_conversation(title="Handwerk", readable_by_all=False)
    for person in (anna, ben):
        do_add_participant(conversation=group, user=person)
    do_send_message(actor=ben, conversation_id=group.pk, body="alt", client_id="b0")
    mixed = do_send_messages(
        conversation_id=group.pk,
        sends=[
            SendRequest(actor=carla, body="fremd", client_id="c1"),
            SendRequest(actor=ben, body="alt", client_id="b0"),
            SendRequest(actor=anna, body="@Ben Öztürk neu", client_id="a1"),
            SendRequest(actor=anna, body="\ud800", client_id="a2"),
            SendRequest(actor=anna, body="noch mal", client_id="a1"),
            SendRequest(actor=ben, body="100 % 'sicher' %s", client_id="b1"),
        ],
    )
    markers = sorted(
        Participant.objects.filter(conversation=group).values_list("last_read_seq", flat=True)
    )
    direct, _ = do_get_or_create_direct_conversation(actor=anna, other_user_id=ben.pk)
    pair = do_send_messages(
        conversation_id=direct.pk,
        sends=[
            SendRequest(actor=anna, body="Hallo", client_id="d1"),
            SendRequest(actor=ben, body="Hallo zurück", client_id="d2"),
        ],
    )
    Block.objects.create(blocker=ben, blocked=anna)
    blocked = do_send_messages(
        conversation_id=direct.pk,
        sends=[SendRequest(actor=anna, body="Noch da?", client_id="d3")],
    )
    do_update_group_conversation(
        conversation=group, title="Handwerk", readable_by_all=False, read_only=True
    )
    archived = do_send_messages(
        conversation_id=group.pk,
        sends=[SendRequest(actor=anna, body="zu spät", client_id="a9")],
    )
    conflict = do_send_messages(
        conversation_id=group.pk,
        sends=[SendRequest(actor=anna, body="Hallo", client_id="d1")],
    )
    return {
        "mixed": answers(mixed),
        "markers": markers,
        "pair": answers(pair),
        "blocked": answers(blocked),
        "archived": answers(archived),
        "conflict": answers(conflict),
        "bodies": list(
            Message.objects.filter(conversation=group)
            .order_by("seq")
            .values_list("body", flat=True)
        ),
        "mentions": Notification.objects.filter(recipient=ben, kind="mention").count(),
        "direct_notifications": Notification.objects.filter(kind="direct_message").count(),
    }
