"""Shared setup for the groups tests: people in every role of one group."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from groups.actions import do_create_group
from groups.models import Group, JoinRequest, Membership


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
