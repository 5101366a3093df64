"""Shared setup for the groups tests: people in every role of one group."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from chat.models import Conversation, Message, Participant
from groups.actions import do_create_group
from groups.models import Group, Invitation, JoinRequest, Membership
from notifications.models import Notification
from realtime.publish import frame_text

Published = list[tuple[str, dict[str, Any]]]


class Api:
    """A JSON client for /api/v1/ as one person (or anonymous)."""

    def __init__(self, user: Any | None) -> None:
        self.client = Client()
        if user is not None:
            self.client.force_login(user)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {}
        if method != "GET":
            raw = "" if body is None else json.dumps(body)
            kwargs = {"data": raw, "content_type": "application/json"}
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.call("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


@dataclass
class Cast:
    """One group with a person in every role of the permission table."""

    group: Group
    owner: Any
    admin: Any
    member: Any
    requester: Any
    other: Any
    request: JoinRequest

    def person(self, role: str) -> Any | None:
        return None if role == "anonymous" else getattr(self, role)


def make_cast(make_user: Callable[..., Any], visibility: str) -> Cast:
    owner = make_user("Olga Inhaber", company_name="Stahlbau Witten", job_title="Geschäftsführerin")
    admin = make_user("Arne Admin", company_name="Logistik Herne")
    member = make_user("Mia Mitglied", company_name="Bäckerei Bochum")
    requester = make_user("Rolf Anfrage", company_name="Druckerei Hattingen", job_title="Inhaber")
    other = make_user("Otto Außen")
    group = do_create_group(
        actor=owner,
        name=f"Testgruppe {visibility}",
        description="Worum es geht",
        visibility=visibility,
    )
    for person, role in ((admin, Membership.Role.ADMIN), (member, Membership.Role.MEMBER)):
        Membership.objects.create(group=group, user=person, role=role)
        group.conversation.participants.create(user=person, can_moderate=role == "admin")
    request = JoinRequest.objects.create(group=group, user=requester, message="Darf ich?")
    return Cast(group, owner, admin, member, requester, other, request)


@pytest.fixture
def closed_cast(make_user: Callable[..., Any]) -> Cast:
    return make_cast(make_user, "closed")


@pytest.fixture
def open_cast(make_user: Callable[..., Any]) -> Cast:
    return make_cast(make_user, "open")


@pytest.fixture
def published() -> Iterator[Published]:
    """Every frame handed to the fan-out, as (topic, frame). Every publish goes through
    `realtime.publish.send_now` (single frames and batches alike), so nothing sent
    escapes this list."""
    sent: Published = []

    def record(messages: list[tuple[str, dict[str, Any]]]) -> None:
        sent.extend((topic, json.loads(frame_text(message))) for topic, message in messages)

    with mock.patch("realtime.publish.send_now", side_effect=record):
        yield sent


def event_names(published: Published) -> list[tuple[str, str]]:
    """(topic, frame type) per frame, notifications as `notification:<kind>`, sorted."""
    return sorted(
        (
            topic,
            f"notification:{frame['kind']}" if frame["type"] == "notification" else frame["type"],
        )
        for topic, frame in published
    )


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot() -> Snapshot:
    """Everything a groups or chat action may change, table by table, as sorted rows."""
    tables: dict[str, Any] = {
        "groups": Group.objects.values_list(
            "pk", "name", "description", "visibility", "archived_at", "city"
        ),
        "memberships": Membership.objects.values_list("group_id", "user_id", "role"),
        "join_requests": JoinRequest.objects.values_list(
            "pk", "group_id", "user_id", "status", "reason", "decided_by_id"
        ),
        "invitations": Invitation.objects.values_list("pk", "group_id", "user_id", "status"),
        "conversations": Conversation.objects.values_list(
            "pk", "title", "readable_by_all", "read_only", "last_seq"
        ),
        "participants": Participant.objects.values_list(
            "conversation_id", "user_id", "can_moderate", "notification_level", "last_read_seq"
        ),
        "messages": Message.objects.values_list("conversation_id", "author_id", "seq", "body"),
        "notifications": Notification.objects.values_list("recipient_id", "kind"),
    }
    return {name: sorted(rows, key=repr) for name, rows in tables.items()}


def changed_tables(before: Snapshot, after: Snapshot) -> set[str]:
    return {name for name in before if before[name] != after[name]}
