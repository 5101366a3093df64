"""Shared setup for the notifications tests: groups with conversations, messages."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Message, Participant
from groups.models import Group, JoinRequest, Membership

_numbers = itertools.count(1)


class Api:
    """A JSON client for /api/v1/ as one person (or anonymous)."""

    def __init__(self, user: Any | None) -> None:
        self.client = Client()
        if user is not None:
            self.client.force_login(user)

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", data=json.dumps(body), content_type="application/json"
        )


def make_group(name: str, owner: Any, *members: Any, visibility: str = "open") -> Group:
    """A group with its conversation; `owner` owns it, `members` are members."""
    conversation = Conversation.objects.create(
        kind=Conversation.Kind.GROUP, title=name, readable_by_all=visibility == "open"
    )
    group = Group.objects.create(
        name=name,
        slug=f"gruppe-{next(_numbers)}",
        visibility=visibility,
        conversation=conversation,
        created_by=owner,
    )
    add_member(group, owner, role=Membership.Role.OWNER)
    for member in members:
        add_member(group, member)
    return group


def add_member(
    group: Group, user: Any, *, role: str = Membership.Role.MEMBER, at: datetime | None = None
) -> Membership:
    when = at or timezone.now()
    Participant.objects.create(
        conversation=group.conversation,
        user=user,
        last_read_seq=group.conversation.last_seq,
        joined_at=when,
    )
    return Membership.objects.create(group=group, user=user, role=role, joined_at=when)


def post_message(conversation: Conversation, author: Any, body: str, at: datetime) -> Message:
    conversation.refresh_from_db()
    seq = conversation.last_seq + 1
    message = Message.objects.create(
        conversation=conversation,
        seq=seq,
        author=author,
        body=body,
        client_id=f"c-{next(_numbers)}",
        created_at=at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=seq, last_message_at=at)
    Participant.objects.filter(conversation=conversation, user=author).update(last_read_seq=seq)
    return message


def direct_conversation(a: Any, b: Any) -> Conversation:
    low, high = sorted([a.pk, b.pk])
    conversation = Conversation.objects.create(
        kind=Conversation.Kind.DIRECT, direct_key=f"{low}:{high}"
    )
    Participant.objects.create(conversation=conversation, user=a)
    Participant.objects.create(conversation=conversation, user=b)
    return conversation


def join_request(group: Group, user: Any, message: str = "", at: datetime | None = None) -> Any:
    return JoinRequest.objects.create(
        group=group, user=user, message=message, created_at=at or timezone.now()
    )
